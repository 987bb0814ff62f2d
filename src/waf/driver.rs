//! The WAF driver port: what step 8, the switch, the health monitor, the
//! drift check, the drills and the migration ask of a WAF node, with one
//! adapter per appliance a stack's definition may name (`waf.kind`).
//! A closed enum rather than a trait object: two appliances, known here.

use serde::{Deserialize, Serialize};

use super::configure::{Applied, LbTarget, ObjectNames};
use super::error::WafError;
use super::facts::NodeFacts;
use super::inspect::ObjectState;
use super::objects::{Backend, DnsHost, Frontend, UtmObject};
use super::sfos::{SfosClient, SfosNames};
use super::{Pin, UtmClient};

/// The appliance on a stack's WAF nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WafKind {
    /// Sophos UTM 9 and its REST API (the tutorial's).
    #[default]
    Utm9,
    /// Sophos Firewall (SFOS) and its XML API.
    Sfos,
}

impl WafKind {
    pub const ALL: [WafKind; 2] = [WafKind::Utm9, WafKind::Sfos];

    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "utm9" => Ok(WafKind::Utm9),
            "sfos" => Ok(WafKind::Sfos),
            _ => Err(format!("the WAF kind must be utm9 (Sophos UTM 9) or sfos (Sophos Firewall), not `{value}`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WafKind::Utm9 => "utm9",
            WafKind::Sfos => "sfos",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            WafKind::Utm9 => "Sophos UTM 9",
            WafKind::Sfos => "Sophos Firewall",
        }
    }

    /// The image the lab boots as this appliance: its stand-in for the
    /// AWS Marketplace listing.
    pub const fn lab_image(self) -> &'static str {
        match self {
            WafKind::Utm9 => "ami-0123456789abcdef0",
            WafKind::Sfos => "ami-05f05f05f05f05f05",
        }
    }

    /// The appliance the lab boots from `image`, if it is one of its images.
    pub fn of_lab_image(image: &str) -> Option<WafKind> {
        WafKind::ALL.into_iter().find(|k| k.lab_image() == image)
    }
}

/// One WAF node through its appliance's API.
#[derive(Debug, Clone)]
pub enum WafDriver {
    Utm(UtmClient),
    /// SFOS's switch is hawaf's firewall rule for the stack's external load
    /// balancer, so the driver carries that rule's name.
    Sfos {
        client: SfosClient,
        rule: String,
    },
}

impl WafDriver {
    pub fn kind(&self) -> WafKind {
        match self {
            WafDriver::Utm(_) => WafKind::Utm9,
            WafDriver::Sfos { .. } => WafKind::Sfos,
        }
    }

    pub fn pin(&self) -> Pin {
        match self {
            WafDriver::Utm(c) => c.pin(),
            WafDriver::Sfos { client, .. } => client.pin(),
        }
    }

    /// The same driver for a series' last call (UTM 9 closes its session).
    pub fn last(&self) -> Self {
        match self {
            WafDriver::Utm(c) => WafDriver::Utm(c.last()),
            other => other.clone(),
        }
    }

    pub async fn facts(&self) -> Result<NodeFacts, WafError> {
        match self {
            WafDriver::Utm(c) => c.facts().await,
            WafDriver::Sfos { client, .. } => client.facts().await,
        }
    }

    /// The node's facts, refusing one that is part of an HA cluster
    /// (read on UTM 9; SFOS's API offers no reading of it).
    pub async fn require_standalone(&self, node: &str) -> Result<NodeFacts, WafError> {
        match self {
            WafDriver::Utm(c) => c.require_standalone(node).await,
            WafDriver::Sfos { client, .. } => client.facts().await,
        }
    }

    /// Step 8 on this node.
    pub async fn configure(&self, internal: &LbTarget, external: &LbTarget) -> Result<Applied, WafError> {
        match self {
            WafDriver::Utm(c) => c.configure(internal, external).await,
            WafDriver::Sfos { client, .. } => client.configure(internal, external).await,
        }
    }

    /// The node's WAF switch, read from the node.
    pub async fn enabled(&self) -> Result<bool, WafError> {
        match self {
            WafDriver::Utm(c) => c.enabled().await,
            WafDriver::Sfos { client, rule } => client.rule_enabled(rule).await,
        }
    }

    /// Turns the switch and returns the state read back from the node.
    pub async fn set_enabled(&self, on: bool) -> Result<bool, WafError> {
        match self {
            WafDriver::Utm(c) => c.set_enabled(on).await,
            WafDriver::Sfos { client, rule } => client.set_rule_enabled(rule, on).await,
        }
    }

    /// Step 8's objects as the node has them, compared with what it sets.
    pub async fn inspect(&self, internal: &LbTarget, external: &LbTarget) -> Result<Vec<ObjectState>, WafError> {
        match self {
            WafDriver::Utm(c) => c.inspect(internal, external).await,
            WafDriver::Sfos { client, .. } => client.inspect(internal, external).await,
        }
    }

    /// Deletes what step 8 made for an old external tier (`external`) or
    /// an old internal one (`internal`): each object's name and whether it
    /// was there.
    pub async fn remove_tier(
        &self,
        external: Option<&str>,
        internal: Option<&str>,
    ) -> Vec<(String, Result<bool, WafError>)> {
        match self {
            WafDriver::Sfos { client, .. } => client.remove_tier(external, internal).await,
            WafDriver::Utm(c) => {
                async fn remove<T: UtmObject>(client: &UtmClient, name: &str) -> Result<bool, WafError> {
                    match client.find_by_name::<T>(name).await? {
                        Some(o) => client.delete::<T>(o.reference()).await.map(|()| true),
                        None => Ok(false),
                    }
                }
                let mut out = Vec::new();
                if let Some(ext) = external {
                    let n = ObjectNames::new("", ext);
                    out.push((n.frontend.clone(), remove::<Frontend>(c, &n.frontend).await));
                }
                if let Some(int) = internal {
                    let n = ObjectNames::new(int, "");
                    out.push((n.backend.clone(), remove::<Backend>(c, &n.backend).await));
                    out.push((n.dns_host.clone(), remove::<DnsHost>(c, &n.dns_host).await));
                }
                out
            }
        }
    }
}

/// The name of the switch's rule on an SFOS node for this external LB.
pub fn sfos_rule(external_lb_name: &str) -> String {
    SfosNames::new("", external_lb_name).rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_case_blind_and_name_their_lab_images() {
        assert_eq!(WafKind::parse("SFOS"), Ok(WafKind::Sfos));
        assert_eq!(WafKind::parse("utm9"), Ok(WafKind::Utm9));
        assert!(WafKind::parse("utm").unwrap_err().contains("utm9 (Sophos UTM 9) or sfos"));
        for k in WafKind::ALL {
            assert_eq!(WafKind::of_lab_image(k.lab_image()), Some(k));
        }
        assert_eq!(WafKind::of_lab_image("ami-1"), None);
        assert_eq!(WafKind::default(), WafKind::Utm9);
    }
}
