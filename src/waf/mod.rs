//! The WAF drivers: [`WafDriver`] in front of the UTM 9 REST client and
//! the Sophos Firewall XML client (`sfos`), chosen by `waf.kind`.
//!
//! - [`probe_fingerprint`] shows the operator a node's certificate; the
//!   confirmed [`Fingerprint`] becomes a [`Pin`].
//! - [`UtmClient`] talks to `/api/objects/…` trusting only that certificate.
//! - [`UtmClient::configure`] is wizard step 8; [`UtmClient::set_enabled`]
//!   and [`UtmClient::enabled`] are the per-node WAF switch, the node
//!   setting `reverse_proxy.status` (WebAdmin's Disable button).

mod client;
mod configure;
mod driver;
mod error;
mod facts;
mod inspect;
mod objects;
mod pin;
pub mod sfos;

pub use client::{BaseUrl, Timeouts, UtmClient, Version};
pub use configure::{Applied, Change, LbTarget, ObjectNames, ObjectOutcome, WAF_SWITCH, frontend_name};
pub use driver::{WafDriver, WafKind, sfos_rule};
pub use error::{UtmMessage, WafError};
pub use facts::{LIFECYCLE_URL, NodeFacts, UTM9_END_OF_LIFE, end_of_life_label, utm9_end_of_life};
pub use inspect::ObjectState;
pub use objects::{Backend, DnsHost, Frontend, Location, Profile, UsedBy, UtmObject, WAFMODE_BLOCK, WAFMODE_DETECT};
pub use pin::{BadFingerprint, Fingerprint, PROBE_TIMEOUT, Pin, probe_fingerprint, probe_fingerprint_within};

#[cfg(test)]
mod tests;
