//! hawaf: a web control plane for the highly-available WAF pattern on AWS.

#![forbid(unsafe_code)]

pub mod adopt;
pub mod auth;
pub mod build;
pub mod cli;
pub mod clock;
pub mod cloud;
pub mod config;
pub mod contract;
pub mod drift;
pub mod drill;
pub mod events;
pub mod export;
pub mod health;
pub mod i18n;
pub mod lab;
pub mod limits;
pub mod migrate;
pub mod node;
pub mod providers;
pub mod replica;
pub mod secret;
pub mod stack;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod waf;
pub mod web;
pub mod webhook;
pub mod xml;

use std::sync::Arc;

/// The domain core every handler and background task shares: the store,
/// the bus, the providers, the monitors and drills. It holds nothing of the
/// web (the sign-in throttle and live renders are `web::WebState`'s).
pub struct App {
    pub store: store::Store,
    pub config: config::Config,
    pub bus: events::Bus,
    pub providers: providers::Providers,
    pub health: health::Monitors,
    /// Seals WAF node API tokens at rest.
    pub secrets: secret::SecretBox,
    /// Running drills, so Halt reaches them.
    pub drills: drill::Registry,
    /// One lock per stack around every node action (guardrail check + action).
    pub node_locks: node::guard::Locks,
    /// This process among the replicas sharing the database.
    pub replica: replica::Replica,
}

pub type SharedApp = Arc<App>;
