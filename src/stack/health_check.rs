//! The classic ELB health check, with AWS's bounds.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Serialize, Serializer};

/// What the load balancer probes: `HTTP:80/index.html`, `TCP:80`, ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthCheckTarget {
    Http { port: u16, path: String },
    Https { port: u16, path: String },
    Tcp { port: u16 },
    Ssl { port: u16 },
}

impl HealthCheckTarget {
    pub fn parse(value: &str) -> Result<Self, String> {
        let (protocol, rest) = value
            .split_once(':')
            .ok_or_else(|| format!("`{value}` is not a health-check target such as HTTP:80/index.html or TCP:80"))?;
        let protocol = protocol.to_ascii_uppercase();
        if !matches!(protocol.as_str(), "HTTP" | "HTTPS" | "TCP" | "SSL") {
            return Err(format!("`{protocol}` is not a health-check protocol (HTTP, HTTPS, TCP or SSL)"));
        }
        let (port, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], Some(&rest[slash..])),
            None => (rest, None),
        };
        let port = parse_port(port)?;
        match (protocol.as_str(), path) {
            ("HTTP", Some(path)) => Ok(HealthCheckTarget::Http { port, path: check_path(path)? }),
            ("HTTPS", Some(path)) => Ok(HealthCheckTarget::Https { port, path: check_path(path)? }),
            ("HTTP" | "HTTPS", None) => {
                Err(format!("{protocol} checks need a path starting with /, e.g. {protocol}:{port}/index.html"))
            }
            ("TCP", None) => Ok(HealthCheckTarget::Tcp { port }),
            ("SSL", None) => Ok(HealthCheckTarget::Ssl { port }),
            _ => Err(format!("{protocol} checks take no path; use {protocol}:{port}")),
        }
    }

    pub fn port(&self) -> u16 {
        match self {
            HealthCheckTarget::Http { port, .. }
            | HealthCheckTarget::Https { port, .. }
            | HealthCheckTarget::Tcp { port }
            | HealthCheckTarget::Ssl { port } => *port,
        }
    }
}

fn parse_port(value: &str) -> Result<u16, String> {
    let bad = || format!("the port must be a whole number from 1 to 65535, not `{value}`");
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    match value.parse::<u16>() {
        Ok(port) if port >= 1 => Ok(port),
        _ => Err(bad()),
    }
}

fn check_path(path: &str) -> Result<String, String> {
    // The target is sent as one string to AWS and into HTTP request lines.
    if path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the health-check path cannot contain spaces".into());
    }
    if path.len() > 1024 {
        return Err("the health-check path must be at most 1024 characters".into());
    }
    Ok(path.to_owned())
}

impl fmt::Display for HealthCheckTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HealthCheckTarget::Http { port, path } => write!(f, "HTTP:{port}{path}"),
            HealthCheckTarget::Https { port, path } => write!(f, "HTTPS:{port}{path}"),
            HealthCheckTarget::Tcp { port } => write!(f, "TCP:{port}"),
            HealthCheckTarget::Ssl { port } => write!(f, "SSL:{port}"),
        }
    }
}

impl Serialize for HealthCheckTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A health check within AWS's limits, with the timeout below the interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    target: HealthCheckTarget,
    interval: u32,
    timeout: u32,
    healthy_threshold: u32,
    unhealthy_threshold: u32,
}

pub const INTERVAL_SECS: RangeInclusive<u32> = 5..=300;
pub const TIMEOUT_SECS: RangeInclusive<u32> = 2..=60;
pub const THRESHOLD: RangeInclusive<u32> = 2..=10;

/// The raw parts of a health check, each already a whole number.
pub(crate) struct HealthCheckParts {
    pub target: HealthCheckTarget,
    pub interval: u32,
    pub timeout: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl HealthCheck {
    /// Checks the relation between fields; the caller has range-checked each one.
    pub(crate) fn from_parts(parts: HealthCheckParts) -> Result<Self, String> {
        if parts.timeout >= parts.interval {
            return Err(format!(
                "the timeout ({} s) must be less than the interval ({} s)",
                parts.timeout, parts.interval
            ));
        }
        Ok(HealthCheck {
            target: parts.target,
            interval: parts.interval,
            timeout: parts.timeout,
            healthy_threshold: parts.healthy_threshold,
            unhealthy_threshold: parts.unhealthy_threshold,
        })
    }

    pub fn target(&self) -> &HealthCheckTarget {
        &self.target
    }

    /// Seconds between checks.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// Seconds before a check counts as failed.
    pub fn timeout(&self) -> u32 {
        self.timeout
    }

    pub fn healthy_threshold(&self) -> u32 {
        self.healthy_threshold
    }

    pub fn unhealthy_threshold(&self) -> u32 {
        self.unhealthy_threshold
    }
}
