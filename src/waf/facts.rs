//! What hawaf reads about a node before it relies on it: the firmware (for
//! the end-of-life badge) and the high-availability setting. This pattern
//! puts two independent nodes behind the ELB; a pair set up as a UTM HA
//! cluster (hot standby or active-active) shares one configuration and one
//! switch, so step 8 and the drills would act on a cluster thinking it is
//! two nodes.

use chrono::NaiveDate;
use serde::Serialize;

use super::{UtmClient, WafError};

/// Sophos UTM 9's end of life: no updates, patches or support after it.
/// The one place the date is kept (README links the vendor's lifecycle page).
pub const UTM9_END_OF_LIFE: &str = "2026-06-30";
/// Sophos's lifecycle policy and retirement calendar.
pub const LIFECYCLE_URL: &str = "https://docs.sophos.com/support/help/en-us/lifecycle/index.html";

/// `ha.mode` of a node that stands alone.
const HA_OFF: &str = "off";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeFacts {
    pub appliance: super::WafKind,
    /// As the node reports it: UTM 9's `GET /api/status/version`, e.g.
    /// `9.719-3`; SFOS's API version, e.g. `SFOS 21.0 (API 2100.1)`.
    pub firmware: String,
    /// UTM 9's `ha.mode` and `ha.status`; empty on SFOS (not read).
    pub ha_mode: String,
    pub ha_status: String,
}

impl NodeFacts {
    /// The end of life of the node's product line, when hawaf knows one:
    /// every UTM 9 firmware is `9.<build>`.
    pub fn end_of_life(&self) -> Option<NaiveDate> {
        (self.appliance == super::WafKind::Utm9 && self.firmware.starts_with("9.")).then(utm9_end_of_life)
    }

    /// Whether the node is part of a UTM high-availability pair.
    pub fn in_ha_cluster(&self) -> bool {
        self.appliance == super::WafKind::Utm9 && !self.ha_mode.trim().eq_ignore_ascii_case(HA_OFF)
    }

    /// The firmware as the ops view shows it: "UTM 9.719-3", "SFOS 21.0 (API 2100.1)".
    pub fn label(&self) -> String {
        match self.appliance {
            super::WafKind::Utm9 => format!("UTM {}", self.firmware),
            super::WafKind::Sfos => self.firmware.clone(),
        }
    }
}

pub fn utm9_end_of_life() -> NaiveDate {
    // A constant written above: parsing it cannot fail (a unit test checks).
    NaiveDate::parse_from_str(UTM9_END_OF_LIFE, "%Y-%m-%d").unwrap_or_default()
}

/// "end of life on 30 June 2026" or "past end of life (30 June 2026)".
pub fn end_of_life_label(eol: NaiveDate, today: NaiveDate) -> String {
    let date = eol.format("%-d %B %Y");
    if today > eol { format!("past end of life ({date})") } else { format!("end of life on {date}") }
}

impl UtmClient {
    /// Reads the firmware and the HA setting. Only the third call ends the
    /// session, and only on a client made with `last()`.
    pub async fn facts(&self) -> Result<NodeFacts, WafError> {
        let open = self.keeping_session();
        let version = open.version().await?;
        let ha_mode: String = open.node("ha.mode").await?;
        let ha_status: String = self.node("ha.status").await?;
        Ok(NodeFacts { appliance: super::WafKind::Utm9, firmware: version.utm, ha_mode, ha_status })
    }

    /// Refuses a node that is part of a UTM HA cluster, with what to do.
    pub async fn require_standalone(&self, node: &str) -> Result<NodeFacts, WafError> {
        let facts = self.facts().await?;
        if facts.in_ha_cluster() {
            return Err(WafError::HaCluster {
                node: node.to_owned(),
                mode: facts.ha_mode.clone(),
                status: facts.ha_status.clone(),
            });
        }
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(firmware: &str, mode: &str) -> NodeFacts {
        NodeFacts {
            appliance: crate::waf::WafKind::Utm9,
            firmware: firmware.into(),
            ha_mode: mode.into(),
            ha_status: "off".into(),
        }
    }

    #[test]
    fn the_end_of_life_date_parses_and_labels_before_and_after() {
        let eol = utm9_end_of_life();
        assert_eq!(eol, NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
        assert_eq!(facts("9.719-3", "off").end_of_life(), Some(eol));
        assert_eq!(facts("21.0.0", "off").end_of_life(), None, "not a UTM 9 firmware");
        let before = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let after = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(end_of_life_label(eol, before), "end of life on 30 June 2026");
        assert_eq!(end_of_life_label(eol, after), "past end of life (30 June 2026)");
    }

    #[test]
    fn only_a_node_with_ha_off_stands_alone() {
        assert!(!facts("9.719-3", "off").in_ha_cluster());
        assert!(!facts("9.719-3", " OFF ").in_ha_cluster());
        assert!(facts("9.719-3", "hot_standby").in_ha_cluster());
        assert!(facts("9.719-3", "cluster").in_ha_cluster());
    }
}
