//! Where the database is: an SQLite file (the embedded default) or a
//! PostgreSQL server that several replicas share.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// A `postgres://` URL, password included: shown only through `Display`,
    /// which leaves the password out.
    Postgres(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LocationError {
    #[error("the database location is empty: give an SQLite file name or a postgres:// URL")]
    Empty,
    #[error("the PostgreSQL URL {shown} is not valid: {reason}")]
    BadUrl { shown: String, reason: String },
    #[error("the PostgreSQL URL {shown} names no database: add it after the host, as in postgres://host/hawaf")]
    NoDatabase { shown: String },
}

impl Location {
    pub fn engine(&self) -> Engine {
        match self {
            Location::File(_) => Engine::Sqlite,
            Location::Postgres(_) => Engine::Postgres,
        }
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location::File(path)
    }
}

impl FromStr for Location {
    type Err = LocationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(LocationError::Empty);
        }
        let Some(rest) = s.strip_prefix("postgres://").or_else(|| s.strip_prefix("postgresql://")) else {
            return Ok(Location::File(PathBuf::from(s)));
        };
        let url = url::Url::parse(s).map_err(|e| LocationError::BadUrl { shown: redact(s), reason: e.to_string() })?;
        // A socket directory may stand in for the host (postgres:///db?host=/run/…).
        if url.path().trim_start_matches('/').is_empty() && !rest.contains("dbname=") {
            return Err(LocationError::NoDatabase { shown: redact(s) });
        }
        Ok(Location::Postgres(s.to_owned()))
    }
}

/// The URL with any password (in the user part or as `?password=`)
/// replaced by `***`, for messages and logs.
fn redact(s: &str) -> String {
    match url::Url::parse(s) {
        Ok(mut url) => {
            if url.password().is_some() {
                // Cannot fail: the URL has a host, since it has a password.
                let _ = url.set_password(Some("***"));
            }
            if url.query_pairs().any(|(k, _)| k == "password") {
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(k, v)| (k.to_string(), if k == "password" { "***".to_owned() } else { v.to_string() }))
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            url.to_string()
        }
        // Unparseable: keep the scheme and whatever follows the last '@'.
        Err(_) => match s.rsplit_once('@') {
            Some((head, tail)) => format!("{}***@{tail}", &head[..head.find("://").map_or(0, |i| i + 3)]),
            None => s.to_owned(),
        },
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_urls() {
        assert_eq!("hawaf.db".parse::<Location>().unwrap(), Location::File("hawaf.db".into()));
        let pg: Location = "postgres://hawaf:s3cret@db.internal:5432/hawaf".parse().unwrap();
        assert_eq!(pg.engine(), Engine::Postgres);
        assert_eq!(pg.to_string(), "postgres://hawaf:***@db.internal:5432/hawaf");
        assert!(!format!("{pg:?}").contains("s3cret"));
        assert_eq!("postgresql://h/db".parse::<Location>().unwrap().to_string(), "postgresql://h/db");
        let query: Location = "postgres://u@h/db?sslmode=require&password=s3cret".parse().unwrap();
        assert_eq!(query.to_string(), "postgres://u@h/db?sslmode=require&password=***");
    }

    #[test]
    fn bad_locations_say_what_is_wrong_without_the_password() {
        assert_eq!("  ".parse::<Location>(), Err(LocationError::Empty));
        let err = "postgres://u:pw@host".parse::<Location>().unwrap_err();
        assert_eq!(err, LocationError::NoDatabase { shown: "postgres://u:***@host".into() });
        let err = "postgres://u:pw@[::1/x".parse::<Location>().unwrap_err().to_string();
        assert!(err.contains("not valid") && !err.contains("pw@"), "{err}");
    }
}
