//! Drills as data: what each scenario does to which node, round by round,
//! and what it expects. D1–D4 are the seed's checks; a custom drill is one
//! more value of the same shape.

use serde::{Deserialize, Serialize};

use crate::node::Fault;
use crate::stack::{InstanceRole, Provider};

/// What the verdict checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expectation {
    /// No fault: every probe answered, each web server within
    /// `tolerance_points` of an even split.
    Balanced { tolerance_points: f64 },
    /// Service continues through each fault (within the failure budget of
    /// the ELB's detection window) and only the survivors serve after detection.
    Continuity,
    /// Service is down while the fault holds, and fully back after restore.
    Outage,
}

/// What to do to a node, in terms of the topology rather than the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Take a web server out: stop httpd on the lab; stop the instance on
    /// AWS (no agent is needed for that).
    WebDown,
    /// The UTM's Disable switch (through its REST API, on both providers).
    WafOff,
    /// Take the node out as losing its availability zone would: on the lab
    /// a WAF node's WAF is switched off and a web server's httpd stopped;
    /// on AWS the instance is stopped.
    ZoneOut,
    /// A specific fault, for custom drills.
    Fault(Fault),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    #[serde(with = "role_key")]
    pub target: InstanceRole,
    pub action: Action,
}

/// Faults injected together, held, then undone together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    pub steps: Vec<Step>,
    /// How long this round holds (custom drills); None: the drill's hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub expect: Expectation,
    pub rounds: Vec<Round>,
}

/// What is really done to a node, and persisted as a pending restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injection {
    Fault(Fault),
    Waf { enabled: bool },
}

impl Injection {
    pub fn inverse(self) -> Injection {
        match self {
            Injection::Fault(f) => Injection::Fault(f.inverse()),
            Injection::Waf { enabled } => Injection::Waf { enabled: !enabled },
        }
    }

    pub fn as_string(self) -> String {
        match self {
            Injection::Fault(f) => f.as_str().to_owned(),
            Injection::Waf { enabled: true } => "waf-enable".into(),
            Injection::Waf { enabled: false } => "waf-disable".into(),
        }
    }

    pub fn parse(s: &str) -> Option<Injection> {
        match s {
            "waf-enable" => Some(Injection::Waf { enabled: true }),
            "waf-disable" => Some(Injection::Waf { enabled: false }),
            other => other.parse().ok().map(Injection::Fault),
        }
    }

    /// Whether this takes a node out of service.
    pub fn takes_down(self) -> bool {
        match self {
            Injection::Fault(f) => f.takes_down(),
            Injection::Waf { enabled } => !enabled,
        }
    }
}

impl Step {
    /// The concrete injection on a provider.
    pub fn injection(&self, provider: Provider) -> Injection {
        match (self.action, provider) {
            (Action::WebDown, Provider::Lab) => Injection::Fault(Fault::StopHttpd),
            (Action::WebDown, Provider::Aws) => Injection::Fault(Fault::StopInstance),
            (Action::ZoneOut, Provider::Lab) if self.target.is_waf() => Injection::Waf { enabled: false },
            (Action::ZoneOut, Provider::Lab) => Injection::Fault(Fault::StopHttpd),
            (Action::ZoneOut, Provider::Aws) => Injection::Fault(Fault::StopInstance),
            (Action::WafOff, _) => Injection::Waf { enabled: false },
            (Action::Fault(f), _) => Injection::Fault(f),
        }
    }
}

/// A role as its JSON key (`web-left`), so scenarios read as the
/// definition does.
mod role_key {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::stack::InstanceRole;

    pub fn serialize<S: Serializer>(role: &InstanceRole, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(role.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<InstanceRole, D::Error> {
        let key = String::deserialize(d)?;
        InstanceRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == key)
            .ok_or_else(|| D::Error::custom(format!("unknown node role `{key}`")))
    }
}

pub const BUILTIN: [&str; 5] = ["D1", "D2", "D3", "D4", "D5"];

impl Scenario {
    pub fn builtin(id: &str) -> Option<Scenario> {
        let step = |target, action| Step { target, action };
        let (title, summary, expect, rounds) = match id.trim().to_ascii_uppercase().as_str() {
            "D1" => (
                "Balance",
                "No fault: every response comes through the external LB, left and right each serve about half.",
                Expectation::Balanced { tolerance_points: 10.0 },
                vec![],
            ),
            "D2" => (
                "Web node down",
                "Take ha-web-left down: service continues and only the other web server answers.",
                Expectation::Continuity,
                vec![Round { hold_ms: None, steps: vec![step(InstanceRole::WebLeft, Action::WebDown)] }],
            ),
            "D3" => (
                "WAF node down",
                "Disable the WAF on one node, restore, then the other: service continues each time.",
                Expectation::Continuity,
                vec![
                    Round { hold_ms: None, steps: vec![step(InstanceRole::WafLeft, Action::WafOff)] },
                    Round { hold_ms: None, steps: vec![step(InstanceRole::WafRight, Action::WafOff)] },
                ],
            ),
            "D4" => (
                "Both WAFs down",
                "Disable the WAF on both nodes: an expected outage, and full recovery on restore. Needs the typed confirmation.",
                Expectation::Outage,
                vec![Round {
                    hold_ms: None,
                    steps: vec![
                        step(InstanceRole::WafLeft, Action::WafOff),
                        step(InstanceRole::WafRight, Action::WafOff),
                    ],
                }],
            ),
            "D5" => (
                "AZ evacuation",
                "Take availability zone a out of both tiers at once (ha-utm-left and ha-web-left): zone b alone serves.",
                Expectation::Continuity,
                vec![Round {
                    hold_ms: None,
                    steps: vec![
                        step(InstanceRole::WafLeft, Action::ZoneOut),
                        step(InstanceRole::WebLeft, Action::ZoneOut),
                    ],
                }],
            ),
            _ => return None,
        };
        Some(Scenario {
            id: id.trim().to_ascii_uppercase(),
            title: title.into(),
            summary: summary.into(),
            expect,
            rounds,
        })
    }

    pub fn all_builtin() -> Vec<Scenario> {
        BUILTIN.iter().filter_map(|id| Scenario::builtin(id)).collect()
    }

    /// The largest share of requests a round's faults break before the load
    /// balancers notice: the requests that meet a faulty node in either tier
    /// (one of two WAF nodes: half; one WAF node and one web server: three
    /// quarters).
    pub fn failing_share(&self, provider: Provider) -> f64 {
        let tier_share = |r: &Round, in_tier: fn(InstanceRole) -> bool| {
            let down = r.steps.iter().filter(|s| in_tier(s.target) && s.injection(provider).takes_down()).count();
            (down as f64 / 2.0).min(1.0)
        };
        self.rounds
            .iter()
            .map(|r| 1.0 - (1.0 - tier_share(r, InstanceRole::is_waf)) * (1.0 - tier_share(r, InstanceRole::is_web)))
            .fold(0.5, f64::max)
    }

    /// A round that takes every node of a tier down (both WAF nodes, or
    /// both web servers) stops the site: it needs the operator to type the
    /// stack's name, and only such a scenario may take a tier's last path down.
    pub fn needs_confirmation(&self, provider: Provider) -> bool {
        self.rounds.iter().any(|r| {
            [InstanceRole::is_waf as fn(InstanceRole) -> bool, InstanceRole::is_web].iter().any(|in_tier| {
                InstanceRole::ALL
                    .iter()
                    .filter(|role| in_tier(**role))
                    .all(|node| r.steps.iter().any(|s| s.target == *node && s.injection(provider).takes_down()))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_d4_needs_confirmation() {
        let needs: Vec<_> = Scenario::all_builtin()
            .iter()
            .filter(|s| s.needs_confirmation(Provider::Lab))
            .map(|s| s.id.clone())
            .collect();
        assert_eq!(needs, ["D4"]);
    }

    #[test]
    fn a_round_that_stops_both_web_servers_needs_confirmation_too() {
        let both = Scenario {
            id: "web-out".into(),
            title: String::new(),
            summary: String::new(),
            expect: Expectation::Outage,
            rounds: vec![Round {
                hold_ms: None,
                steps: vec![
                    Step { target: InstanceRole::WebLeft, action: Action::WebDown },
                    Step { target: InstanceRole::WebRight, action: Action::Fault(Fault::Isolate) },
                ],
            }],
        };
        assert!(both.needs_confirmation(Provider::Lab));
        assert!(both.needs_confirmation(Provider::Aws));
    }

    #[test]
    fn injections_round_trip_through_their_stored_spelling() {
        for i in [
            Injection::Waf { enabled: false },
            Injection::Waf { enabled: true },
            Injection::Fault(Fault::StopHttpd),
            Injection::Fault(Fault::Isolate),
        ] {
            assert_eq!(Injection::parse(&i.as_string()), Some(i));
            assert_eq!(i.inverse().inverse(), i);
        }
        assert_eq!(Injection::parse("nonsense"), None);
    }

    #[test]
    fn a_web_node_goes_down_by_httpd_on_the_lab_and_by_instance_on_aws() {
        let s = Step { target: InstanceRole::WebLeft, action: Action::WebDown };
        assert_eq!(s.injection(Provider::Lab), Injection::Fault(Fault::StopHttpd));
        assert_eq!(s.injection(Provider::Aws), Injection::Fault(Fault::StopInstance));
    }

    #[test]
    fn d5_takes_zone_a_out_of_both_tiers_without_confirmation() {
        let d5 = Scenario::builtin("D5").unwrap();
        assert!(!d5.needs_confirmation(Provider::Lab));
        let lab: Vec<Injection> = d5.rounds[0].steps.iter().map(|s| s.injection(Provider::Lab)).collect();
        assert_eq!(lab, [Injection::Waf { enabled: false }, Injection::Fault(Fault::StopHttpd)]);
        let aws: Vec<Injection> = d5.rounds[0].steps.iter().map(|s| s.injection(Provider::Aws)).collect();
        assert_eq!(aws, [Injection::Fault(Fault::StopInstance); 2]);
        assert_eq!(d5.failing_share(Provider::Lab), 0.75);
        assert_eq!(Scenario::builtin("D3").unwrap().failing_share(Provider::Lab), 0.5);
    }

    #[test]
    fn scenario_names_are_case_insensitive_and_unknown_ones_are_none() {
        assert_eq!(Scenario::builtin("d3").map(|s| s.rounds.len()), Some(2));
        assert!(Scenario::builtin("D9").is_none());
    }
}
