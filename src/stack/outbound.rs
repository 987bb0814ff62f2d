//! Where a stack may aim the server's AWS calls. A definition's
//! `aws.endpoint_url` makes hawaf send SigV4-signed requests (an access key
//! id, a session token) to that address: never to a link-local or cloud
//! metadata address, in plain http only to this host (an emulator such as
//! moto) unless the server was started with that URL allowed, and set only
//! by an admin, as is `aws.profile`, which picks credentials on the server.

use std::net::{IpAddr, Ipv6Addr};

use super::{FieldError, StackDefinition};

/// The server's outbound rule: URL prefixes allowed beyond the defaults
/// (`--allow-endpoint`, repeatable).
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    pub allow: Vec<String>,
}

/// Names that reach a cloud's instance metadata service.
pub const METADATA_NAMES: &[&str] =
    &["metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal", "metadata.azure.com"];

/// Addresses no outbound call of the server may reach: link-local (the
/// cloud metadata service), unspecified, broadcast, multicast.
pub fn never(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast(),
        IpAddr::V6(v6) => {
            // fe80::/10, and AWS's IPv6 metadata address fd00:ec2::254.
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || v6.is_unspecified()
                || v6.is_multicast()
        }
    }
}

fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(v4) => v4.is_loopback(),
        url::Host::Ipv6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

impl Outbound {
    /// Whether the server may send AWS calls to `url`; the reason if not.
    pub fn check(&self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let host = parsed.host().ok_or("the URL has no host")?;
        let literal = match host {
            url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
            url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if METADATA_NAMES.contains(&d.as_str()) {
                    return Err(format!("{d} is a cloud metadata service: hawaf never sends AWS calls there"));
                }
                None
            }
        };
        if literal.is_some_and(never) {
            return Err("link-local, metadata and broadcast addresses are never allowed".into());
        }
        if self.allow.iter().any(|prefix| url.starts_with(prefix.as_str())) {
            return Ok(());
        }
        if parsed.scheme() == "http" && !loopback(&host) {
            return Err("plain http carries signed AWS requests in clear: use https, or http only to this host \
                        (an emulator), or start the server with --allow-endpoint for this URL"
                .into());
        }
        Ok(())
    }

    /// What in `definition` the policy refuses, as field errors.
    pub fn errors(&self, definition: &StackDefinition) -> Vec<FieldError> {
        match definition.aws().endpoint_url() {
            Some(url) => match self.check(url.as_str()) {
                Ok(()) => Vec::new(),
                Err(reason) => vec![FieldError::new("aws.endpoint_url", reason)],
            },
            None => Vec::new(),
        }
    }
}

/// The fields that aim the server (where its calls go, whose credentials
/// they carry) and that only an admin may set or change.
pub fn aiming_fields_changed(before: Option<&StackDefinition>, after: &StackDefinition) -> Vec<&'static str> {
    let endpoint = |d: &StackDefinition| d.aws().endpoint_url().map(|u| u.as_str().to_owned());
    let profile = |d: &StackDefinition| d.aws().profile().map(|p| p.as_str().to_owned());
    let mut changed = Vec::new();
    if before.map_or(endpoint(after).is_some(), |b| endpoint(b) != endpoint(after)) {
        changed.push("aws.endpoint_url");
    }
    if before.map_or(profile(after).is_some(), |b| profile(b) != profile(after)) {
        changed.push("aws.profile");
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_link_local_addresses_are_always_refused() {
        let policy = Outbound { allow: vec!["http://169.254.".into()] };
        for url in [
            "http://169.254.169.254/",
            "https://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]:8080/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "https://metadata.google.internal/",
            "http://instance-data./",
            "http://0.0.0.0:5000/",
        ] {
            assert!(policy.check(url).is_err(), "{url} must be refused, allow-list or not");
        }
    }

    #[test]
    fn plain_http_goes_only_to_this_host_unless_allowed() {
        let none = Outbound::default();
        for ok in ["http://127.0.0.1:5000", "http://localhost:4566/", "http://[::1]:5000", "https://ec2.example.com"] {
            assert!(none.check(ok).is_ok(), "{ok}");
        }
        let err = none.check("http://10.0.0.5:5000").unwrap_err();
        assert!(err.contains("--allow-endpoint"), "{err}");
        let allowed = Outbound { allow: vec!["http://10.0.0.5:5000".into()] };
        assert!(allowed.check("http://10.0.0.5:5000/").is_ok());
        assert!(allowed.check("http://10.0.0.6:5000/").is_err());
    }
}
