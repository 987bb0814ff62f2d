//! hawaf: a web control plane for the highly-available WAF pattern on AWS.

pub mod auth;
pub mod cli;
pub mod config;
pub mod stack;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;

use std::sync::Arc;

/// Everything a request handler or background task shares.
pub struct App {
    pub store: store::Store,
    pub config: config::Config,
    pub login_throttle: web::throttle::LoginThrottle,
}

pub type SharedApp = Arc<App>;
