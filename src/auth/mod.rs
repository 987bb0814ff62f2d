//! Users, roles, passwords and tokens: the parts of sign-in that are not HTTP.

pub mod accounts;

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::{NewAudit, Store, StoreError};

pub use crate::contract::Role;

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(AuthError::UnknownRole(other.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("unknown role `{0}`: use viewer, operator or admin")]
    UnknownRole(String),
    #[error("user names are 1 to 64 characters of a-z, 0-9, '.', '_' and '-'")]
    BadUsername,
    #[error("passwords need at least {MIN_PASSWORD} characters")]
    WeakPassword,
    #[error("no user named {0}")]
    NoSuchUser(String),
    #[error("{0} is the last enabled admin: make another user admin first")]
    LastAdmin(String),
    #[error("no token {0} of yours")]
    NoSuchToken(i64),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new password must differ from the current one")]
    SamePassword,
    #[error("a token lasts 1 to {MAX_TOKEN_DAYS} days")]
    BadExpiry,
    #[error("token names are 1 to 64 printable characters")]
    BadTokenName,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// OWASP ASVS level 2 asks for at least 12.
pub const MIN_PASSWORD: usize = 12;

pub fn check_username(name: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok { Ok(()) } else { Err(AuthError::BadUsername) }
}

/// Argon2id with the crate's default (OWASP-recommended) parameters. Slow on
/// purpose, so async callers run it on the blocking pool.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Verifies against a stored hash; with no stored hash it still spends the
/// same time on a dummy one, so response times do not reveal which user names exist.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash_password("hawaf-timing-equaliser").unwrap_or_default());
    let candidate = stored.unwrap_or(DUMMY.as_str());
    let Ok(parsed) = PasswordHash::new(candidate) else { return false };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && stored.is_some()
}

/// 256 random bits, URL-safe, with a prefix that says what the secret is for
/// (so a leaked one is recognisable in logs and secret scanners).
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Tokens carry 256 bits of entropy, so a plain SHA-256 is enough to store
/// them safely; a slow hash would only slow every API call down.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn generate_password() -> String {
    let mut bytes = [0u8; 15];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The longest an API token may be made to last.
pub const MAX_TOKEN_DAYS: u32 = 365;
/// What `POST /tokens` and `hawaf token create` give without `expires_in_days`.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;

pub fn check_password(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD { Err(AuthError::WeakPassword) } else { Ok(()) }
}

/// Hashes on the blocking pool: argon2 takes tens of milliseconds of CPU.
pub async fn hash_password_async(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| AuthError::Hash(e.to_string()))?
}

/// Creates a user (the bootstrap path shared by first start and `hawaf user add`).
pub async fn add_user(store: &Store, actor: &str, username: &str, password: &str, role: Role) -> Result<(), AuthError> {
    create_user(store, actor, username, password, role, false).await
}

/// Creates a user; with `must_change` their first sign-in leads to the
/// password form (a password someone else chose or generated).
pub async fn create_user(
    store: &Store,
    actor: &str,
    username: &str,
    password: &str,
    role: Role,
    must_change: bool,
) -> Result<(), AuthError> {
    check_username(username)?;
    check_password(password)?;
    let hash = hash_password_async(password).await?;
    let result = store.create_user(username, &hash, role.as_str(), must_change).await;
    let outcome = if result.is_ok() { "ok" } else { "refused" };
    store
        .audit(NewAudit { actor, action: "user.add", target: username, outcome, detail: format!("role {role}") })
        .await?;
    result?;
    Ok(())
}

/// Creates an API token for a user, lasting the default
/// [`DEFAULT_TOKEN_DAYS`], and returns it; only its hash is kept.
pub async fn create_api_token(store: &Store, actor: &str, username: &str, name: &str) -> Result<String, AuthError> {
    Ok(accounts::create_token(store, actor, username, name, Some(DEFAULT_TOKEN_DAYS)).await?.token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(verify_password(Some(&hash), "correct horse battery"));
        assert!(!verify_password(Some(&hash), "wrong horse battery"));
        assert!(!verify_password(None, "correct horse battery"));
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert_eq!("operator".parse::<Role>().unwrap(), Role::Operator);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn tokens_are_unique_and_stored_only_as_hashes() {
        let (a, b) = (new_token("hawaf_"), new_token("hawaf_"));
        assert_ne!(a, b);
        assert!(a.starts_with("hawaf_") && a.len() > 40);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
