//! Server settings. Flags and environment variables are read by clap in
//! `cli`; this is the parsed result the rest of the program uses.

use std::net::SocketAddr;
use std::time::Duration;

use crate::cloud::aws::AwsTuning;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub db: crate::store::Location,
    /// Only used when the database has no user yet.
    pub admin_password: Option<String>,
    /// Set when the dashboard is reached through a URL other than `bind`
    /// (e.g. https behind a proxy): cookies then get the Secure flag.
    pub public_url: Option<String>,
    pub session_ttl: Duration,
    pub login_attempts_per_minute: u32,
    /// Divides the lab's health-check timings (1 = AWS timing).
    pub lab_speedup: u32,
    /// Builds make one cloud call at a time (steps one by one, instances one
    /// after the other): the baseline `scripts/bench` compares the parallel
    /// plan against. Never faster; only for measuring.
    pub build_serial: bool,
    /// Retry and timeout bounds for every AWS call.
    pub aws: AwsTuning,
    /// When set, `/metrics` answers only `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
    /// Audit entries older than this many days are deleted (hourly).
    pub audit_days: u32,
    /// Live streams (SSE) one user may hold open at once, and all users together.
    pub max_streams_per_user: usize,
    pub max_streams: usize,
    /// Where stacks may aim AWS calls beyond https anywhere and http to this host.
    pub outbound: crate::stack::Outbound,
    /// Proxies whose `X-Forwarded-For`/`-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often every built stack is checked for drift (zero: never on its own).
    pub drift_every: Duration,
    /// The URL other replicas forward requests to (default: http:// and the bound address).
    pub advertise_url: Option<String>,
}

impl Config {
    pub fn new(bind: SocketAddr, db: impl Into<crate::store::Location>) -> Self {
        Config {
            bind,
            db: db.into(),
            admin_password: None,
            public_url: None,
            session_ttl: Duration::from_secs(12 * 3600),
            login_attempts_per_minute: 5,
            lab_speedup: 1,
            build_serial: false,
            metrics_token: None,
            audit_days: 365,
            max_streams_per_user: 8,
            max_streams: 2048,
            outbound: crate::stack::Outbound::default(),
            trusted_proxies: Vec::new(),
            drift_every: Duration::from_secs(15 * 60),
            aws: AwsTuning::default(),
            advertise_url: None,
        }
    }
}
