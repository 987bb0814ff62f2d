//! Wizard step 8 on a Sophos Firewall node, the per-node switch and the
//! drift check's view, in SFOS's terms: an FQDN host for the internal LB,
//! a web server on it, a protection policy, and a firewall rule of the
//! web-server-protection kind (`PolicyType` `HTTPBased`) that hosts the
//! external LB's name on port 80 and routes `/` to the web server through
//! the policy. The rule's `Status` is the node's WAF switch.
//!
//! Each entity is kept by name: created when missing, updated (the whole
//! record, as read, with hawaf's fields set) when one of hawaf's fields
//! differs, else left alone. Fields hawaf does not own stay as the node has
//! them.

use super::{SfosClient, firmware_of};
use crate::waf::configure::{Applied, Change, LbTarget, ObjectOutcome, frontend_name};
use crate::waf::error::WafError;
use crate::waf::facts::NodeFacts;
use crate::waf::inspect::ObjectState;
use crate::xml::Element;

const COMMENT: &str = "managed by hawaf";
/// The interface the rule hosts the site on: the node's first port, the
/// one in its subnet behind the external load balancer (SFOS on AWS names
/// its interfaces PortA, PortB, …; `#` marks an interface's address).
pub const SFOS_HOSTED_ADDRESS: &str = "#PortA";
/// The threat categories the protection policy turns on: what the seed's
/// UTM profile blocked (SQL injection, cross-site scripting, and the
/// application attacks that include path traversal).
const THREAT_FILTERS: [&str; 3] = ["Application attacks", "SQL injection attacks", "XSS attacks"];

pub(crate) const FQDN_HOST: &str = "FQDNHost";
pub(crate) const WEB_SERVER: &str = "RealServers";
pub(crate) const POLICY: &str = "ProtocolSecurity";
pub(crate) const RULE: &str = "FirewallRule";

/// The names hawaf gives its entities on a node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SfosNames {
    pub fqdn_host: String,
    pub web_server: String,
    pub policy: String,
    pub rule: String,
}

impl SfosNames {
    pub fn new(internal_lb_name: &str, external_lb_name: &str) -> Self {
        Self {
            fqdn_host: format!("hawaf {internal_lb_name}"),
            web_server: format!("hawaf real {internal_lb_name}"),
            policy: "hawaf default".into(),
            rule: frontend_name(external_lb_name),
        }
    }
}

/// One field hawaf owns, by its path under the entity.
enum Field {
    Leaf(&'static [&'static str], String),
    /// `<list><item>…</item>…</list>`, compared as a set.
    List(&'static [&'static str], &'static str, Vec<String>),
    /// `HTTPBasedPolicy/AccessPaths`: each access path's `path` and `backend`s.
    AccessPaths(Vec<(String, Vec<String>)>),
}

const HTTP: &str = "HTTPBasedPolicy";

impl Field {
    fn name(&self) -> String {
        match self {
            Field::Leaf(p, _) | Field::List(p, _, _) => p.join("/"),
            Field::AccessPaths(_) => format!("{HTTP}/AccessPaths"),
        }
    }

    fn expected(&self) -> String {
        match self {
            Field::Leaf(_, v) => v.clone(),
            Field::List(_, _, v) => sorted(v.clone()),
            Field::AccessPaths(paths) => access_text(paths.iter().map(|(p, b)| (p.clone(), b.clone()))),
        }
    }

    fn actual(&self, el: &Element) -> String {
        match self {
            Field::Leaf(p, _) => at(el, p).map(|e| e.text.clone()).unwrap_or_default(),
            Field::List(p, item, _) => {
                sorted(at(el, p).map(|l| l.children_named(item).map(|i| i.text.clone()).collect()).unwrap_or_default())
            }
            Field::AccessPaths(_) => {
                let paths = at(el, &[HTTP, "AccessPaths"])
                    .map(|a| {
                        a.children_named("AccessPath")
                            .map(|p| {
                                let backends = p.children_named("backend").map(|b| b.text.clone()).collect();
                                (p.text_of("path").unwrap_or_default().to_owned(), backends)
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                access_text(paths.into_iter())
            }
        }
    }

    fn apply(&self, el: &mut Element) {
        match self {
            Field::Leaf(p, v) => at_mut(el, p).text.clone_from(v),
            Field::List(p, item, v) => {
                at_mut(el, p).children = v.iter().map(|x| Element::leaf(*item, x.as_str())).collect();
            }
            Field::AccessPaths(paths) => {
                at_mut(el, &[HTTP, "AccessPaths"]).children = paths
                    .iter()
                    .map(|(path, backends)| {
                        let mut ap = Element::new("AccessPath").with_leaf("path", path.as_str());
                        ap.children.extend(backends.iter().map(|b| Element::leaf("backend", b.as_str())));
                        ap
                    })
                    .collect();
            }
        }
    }
}

fn sorted(mut v: Vec<String>) -> String {
    v.sort();
    v.join(",")
}

fn access_text(paths: impl Iterator<Item = (String, Vec<String>)>) -> String {
    paths.map(|(p, b)| format!("{p} -> {}", b.join("+"))).collect::<Vec<_>>().join(", ")
}

fn at<'a>(el: &'a Element, path: &[&str]) -> Option<&'a Element> {
    path.iter().try_fold(el, |cur, name| cur.child(name))
}

fn at_mut<'a>(el: &'a mut Element, path: &[&str]) -> &'a mut Element {
    let mut cur = el;
    for name in path {
        let i = match cur.children.iter().position(|c| c.name == *name) {
            Some(i) => i,
            None => {
                cur.children.push(Element::new(*name));
                cur.children.len() - 1
            }
        };
        cur = &mut cur.children[i];
    }
    cur
}

/// One entity step 8 keeps: what a new one starts as and what hawaf owns.
struct Spec {
    entity: &'static str,
    label: &'static str,
    name: String,
    fresh: Vec<Element>,
    owned: Vec<Field>,
}

impl Spec {
    fn wanted_from(&self, existing: Option<&Element>) -> Element {
        let mut el = match existing {
            // The record as read, without the reply's bookkeeping attributes.
            Some(e) => Element { attrs: Vec::new(), ..e.clone() },
            None => {
                let mut e = Element::new(self.entity).with_leaf("Name", self.name.as_str());
                e.children.extend(self.fresh.iter().cloned());
                e
            }
        };
        for f in &self.owned {
            f.apply(&mut el);
        }
        el
    }

    fn differences(&self, el: &Element) -> Vec<(String, String, String)> {
        self.owned
            .iter()
            .filter_map(|f| {
                let (e, a) = (f.expected(), f.actual(el));
                (e != a).then(|| (f.name(), e, a))
            })
            .collect()
    }
}

fn specs(internal: &LbTarget, external: &LbTarget, status: &str) -> Vec<Spec> {
    let names = SfosNames::new(&internal.name, &external.name);
    let leaf = |p: &'static [&'static str], v: &str| Field::Leaf(p, v.to_owned());
    vec![
        Spec {
            entity: FQDN_HOST,
            label: "FQDN host",
            name: names.fqdn_host.clone(),
            fresh: vec![Element::leaf("Description", COMMENT), Element::leaf("IPFamily", "IPv4")],
            owned: vec![leaf(&["FQDN"], &internal.dns_name)],
        },
        Spec {
            entity: WEB_SERVER,
            label: "web server",
            name: names.web_server.clone(),
            // Keep-alive to the internal LB with SFOS's own 300 s timeout.
            fresh: vec![
                Element::leaf("Description", COMMENT),
                Element::leaf("KeepAlive", "Enable"),
                Element::leaf("TimeOut", "300"),
            ],
            owned: vec![leaf(&["Host"], &names.fqdn_host), leaf(&["Type"], "Plaintext (HTTP)"), leaf(&["Port"], "80")],
        },
        Spec {
            entity: POLICY,
            label: "protection policy",
            name: names.policy.clone(),
            fresh: vec![Element::leaf("Description", COMMENT), Element::leaf("ParanoiaLevel", "1")],
            owned: vec![
                leaf(&["Mode"], "Reject"),
                leaf(&["ThreatsFilter"], "Enable"),
                Field::List(&["ThreatFilters"], "Filter", THREAT_FILTERS.iter().map(|s| (*s).to_owned()).collect()),
            ],
        },
        Spec {
            entity: RULE,
            label: "firewall rule (web server protection)",
            name: names.rule.clone(),
            fresh: vec![
                Element::leaf("Description", COMMENT),
                Element::leaf("IPFamily", "IPv4"),
                Element::leaf("Position", "Bottom"),
            ],
            owned: vec![
                leaf(&["Status"], status),
                leaf(&["PolicyType"], "HTTPBased"),
                leaf(&[HTTP, "HostedAddress"], SFOS_HOSTED_ADDRESS),
                leaf(&[HTTP, "HTTPS"], "Disable"),
                leaf(&[HTTP, "ListenPort"], "80"),
                Field::List(&[HTTP, "Domains"], "Domain", vec![external.dns_name.clone()]),
                Field::AccessPaths(vec![("/".into(), vec![names.web_server.clone()])]),
                leaf(&[HTTP, "ProtocolSecurity"], &names.policy),
            ],
        },
    ]
}

impl SfosClient {
    /// Step 8 on this node; the rule ends enabled, read back.
    pub async fn configure(&self, internal: &LbTarget, external: &LbTarget) -> Result<Applied, WafError> {
        internal.validate("internal")?;
        external.validate("external")?;
        let mut objects = Vec::with_capacity(4);
        for spec in specs(internal, external, "Enable") {
            let existing = self.get_named(spec.entity, &spec.name).await?;
            let change = match &existing {
                Some(e) if spec.differences(e).is_empty() => Change::Unchanged,
                Some(e) => {
                    self.set("update", spec.wanted_from(Some(e))).await?;
                    Change::Updated
                }
                None => {
                    self.set("add", spec.wanted_from(None)).await?;
                    Change::Created
                }
            };
            objects.push(ObjectOutcome {
                object_type: spec.entity,
                label: spec.label,
                name: spec.name.clone(),
                reference: spec.name.clone(),
                change,
            });
        }
        let rule = SfosNames::new(&internal.name, &external.name).rule;
        let enabled = self.rule_enabled(&rule).await?;
        Ok(Applied { objects, enabled })
    }

    /// The entities as the node has them, compared with what step 8 sets.
    pub async fn inspect(&self, internal: &LbTarget, external: &LbTarget) -> Result<Vec<ObjectState>, WafError> {
        let mut out = Vec::with_capacity(4);
        for spec in specs(internal, external, "Enable") {
            let existing = self.get_named(spec.entity, &spec.name).await?;
            out.push(ObjectState {
                label: spec.label,
                name: spec.name.clone(),
                reference: existing.as_ref().map(|_| spec.name.clone()),
                // The rule's Status is the switch, an operator's to turn: not drift.
                differences: existing
                    .as_ref()
                    .map(|e| spec.differences(e).into_iter().filter(|(f, _, _)| f != "Status").collect())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Whether hawaf's firewall rule `rule` is enabled on the node.
    pub async fn rule_enabled(&self, rule: &str) -> Result<bool, WafError> {
        let r = self.get_named(RULE, rule).await?.ok_or_else(|| WafError::NotFound {
            what: format!("the firewall rule {rule:?} (run step 8)"),
            messages: Vec::new(),
        })?;
        match r.text_of("Status") {
            Some("Enable") => Ok(true),
            Some("Disable") => Ok(false),
            other => Err(WafError::Protocol {
                action: format!("reading the firewall rule {rule:?}"),
                reason: format!("its Status is {:?}, not Enable or Disable", other.unwrap_or("missing")),
            }),
        }
    }

    /// Turns the rule on or off (the whole record, as SFOS updates) and
    /// returns the Status read back from the node.
    pub async fn set_rule_enabled(&self, rule: &str, on: bool) -> Result<bool, WafError> {
        let mut r = self.get_named(RULE, rule).await?.ok_or_else(|| WafError::NotFound {
            what: format!("the firewall rule {rule:?} (run step 8)"),
            messages: Vec::new(),
        })?;
        r.attrs.clear();
        at_mut(&mut r, &["Status"]).text = if on { "Enable" } else { "Disable" }.into();
        self.set("update", r).await?;
        self.rule_enabled(rule).await
    }

    /// Firmware from the reply's API version; SFOS's HA state is not read
    /// (its API documents HA as settings to change, not a state to read).
    pub async fn facts(&self) -> Result<NodeFacts, WafError> {
        let reply = self.call(Vec::new(), "signing in").await?;
        Ok(NodeFacts {
            appliance: crate::waf::WafKind::Sfos,
            firmware: firmware_of(&reply.api_version),
            ha_mode: String::new(),
            ha_status: String::new(),
        })
    }

    /// Removes the entities of an old tier: the rule for an external one,
    /// the web server and FQDN host for an internal one. Says per entity
    /// whether it was there.
    pub async fn remove_tier(
        &self,
        external: Option<&str>,
        internal: Option<&str>,
    ) -> Vec<(String, Result<bool, WafError>)> {
        let mut out = Vec::new();
        if let Some(ext) = external {
            let names = SfosNames::new("", ext);
            out.push((names.rule.clone(), self.remove(RULE, &names.rule).await));
        }
        if let Some(int) = internal {
            let names = SfosNames::new(int, "");
            out.push((names.web_server.clone(), self.remove(WEB_SERVER, &names.web_server).await));
            out.push((names.fqdn_host.clone(), self.remove(FQDN_HOST, &names.fqdn_host).await));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> (LbTarget, LbTarget) {
        (LbTarget::new("ha-lbint", "internal-ha-lbint.lab"), LbTarget::new("ha-lbext", "ha-lbext.lab"))
    }

    #[test]
    fn a_fresh_rule_carries_every_owned_field_and_no_differences() {
        let (i, e) = targets();
        let specs = specs(&i, &e, "Enable");
        let rule = specs.iter().find(|s| s.entity == RULE).expect("rule");
        let el = rule.wanted_from(None);
        assert_eq!(el.text_of("Name"), Some("hawaf ha-lbext"));
        let http = el.child(HTTP).expect("policy");
        assert_eq!(http.text_of("HostedAddress"), Some(SFOS_HOSTED_ADDRESS));
        assert_eq!(http.list("Domains", "Domain"), vec!["ha-lbext.lab"]);
        let ap = http.child("AccessPaths").and_then(|a| a.child("AccessPath")).expect("path");
        assert_eq!(ap.text_of("path"), Some("/"));
        assert_eq!(ap.text_of("backend"), Some("hawaf real ha-lbint"));
        assert!(rule.differences(&el).is_empty());
    }

    #[test]
    fn differences_name_the_field_and_ignore_list_order_and_unowned_fields() {
        let (i, e) = targets();
        let specs = specs(&i, &e, "Enable");
        let policy = specs.iter().find(|s| s.entity == POLICY).expect("policy");
        let mut el = policy.wanted_from(None);
        at_mut(&mut el, &["ThreatFilters"]).children.reverse();
        at_mut(&mut el, &["ParanoiaLevel"]).text = "3".into();
        assert!(policy.differences(&el).is_empty());
        at_mut(&mut el, &["Mode"]).text = "Monitor".into();
        assert_eq!(policy.differences(&el), vec![("Mode".into(), "Reject".into(), "Monitor".into())]);
        // An update keeps what hawaf does not own and sets what it does.
        let updated = policy.wanted_from(Some(&el.clone().attr("transactionid", "")));
        assert_eq!(updated.text_of("ParanoiaLevel"), Some("3"));
        assert_eq!(updated.text_of("Mode"), Some("Reject"));
        assert!(updated.attrs.is_empty());
    }
}
