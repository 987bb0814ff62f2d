//! The guardrail: no action may leave a tier without a path that serves,
//! unless it was confirmed by someone entitled to stop the site.
//!
//! A path is a node its load balancer reports in service *and* that hawaf
//! has not taken down itself (its WAF switched off, httpd stopped, its
//! instance stopped or isolated). hawaf knows what it did the moment it does
//! it, so it counts its own holds at once instead of waiting for the load
//! balancer's detection window (interval × unhealthy threshold) to notice:
//! two clicks a second apart see the first one. Actions on one stack's nodes
//! are serialised, check and action under one lock, so two requests at the
//! same moment cannot both pass.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use super::{Fault, Node, NodeError};
use crate::SharedApp;
use crate::cloud::{HealthState, InstanceHealth};
use crate::stack::{InstanceRole, LbRole, StackDefinition};
use crate::store::{HoldRow, NewHold, ResourceRow};

/// Something hawaf did that keeps a node from serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hold {
    WafOff,
    HttpdStopped,
    InstanceStopped,
    Isolated,
}

impl Hold {
    pub const ALL: [Hold; 4] = [Hold::WafOff, Hold::HttpdStopped, Hold::InstanceStopped, Hold::Isolated];

    pub fn as_str(self) -> &'static str {
        match self {
            Hold::WafOff => "waf-off",
            Hold::HttpdStopped => "httpd-stopped",
            Hold::InstanceStopped => "instance-stopped",
            Hold::Isolated => "isolated",
        }
    }

    pub fn parse(s: &str) -> Option<Hold> {
        Hold::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// How the stack page and the refusals say it.
    pub fn describe(self) -> &'static str {
        match self {
            Hold::WafOff => "WAF switched off",
            Hold::HttpdStopped => "httpd stopped",
            Hold::InstanceStopped => "instance stopped",
            Hold::Isolated => "isolated",
        }
    }
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action does to a node's holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Takes the node out of service: guarded.
    Takes(Hold),
    /// Brings it back: never guarded.
    Lifts(Hold),
}

impl Change {
    pub fn of_fault(fault: Fault) -> Change {
        match fault {
            Fault::StopHttpd => Change::Takes(Hold::HttpdStopped),
            Fault::StartHttpd => Change::Lifts(Hold::HttpdStopped),
            Fault::StopInstance => Change::Takes(Hold::InstanceStopped),
            Fault::StartInstance => Change::Lifts(Hold::InstanceStopped),
            Fault::Isolate => Change::Takes(Hold::Isolated),
            Fault::Unisolate => Change::Lifts(Hold::Isolated),
        }
    }

    pub fn of_waf(enabled: bool) -> Change {
        if enabled { Change::Lifts(Hold::WafOff) } else { Change::Takes(Hold::WafOff) }
    }

    pub fn hold(self) -> Hold {
        match self {
            Change::Takes(h) | Change::Lifts(h) => h,
        }
    }
}

/// On whose say-so a node is acted on; it decides what the guardrail allows
/// when no other path would be left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority<'a> {
    /// An operator (page, API, CLI), with what they typed to confirm.
    Operator { confirm: Option<&'a str> },
    /// A step of a running drill. `outage` when its scenario declares an
    /// outage (D4) and was confirmed when it started.
    Drill { id: i64, outage: bool },
    /// Undoing what a drill did, at its end or at start-up: it brings nodes
    /// back, and a restore must never be refused.
    Restore,
}

impl<'a> Authority<'a> {
    pub fn operator(confirm: Option<&'a str>) -> Self {
        Authority::Operator { confirm: confirm.map(str::trim).filter(|c| !c.is_empty()) }
    }

    /// An owned copy, for work that must outlive the request that asked for it.
    pub fn owned(self) -> OwnedAuthority {
        match self {
            Authority::Operator { confirm } => OwnedAuthority::Operator { confirm: confirm.map(str::to_owned) },
            Authority::Drill { id, outage } => OwnedAuthority::Drill { id, outage },
            Authority::Restore => OwnedAuthority::Restore,
        }
    }

    fn drill_id(self) -> Option<i64> {
        match self {
            Authority::Drill { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// `Authority` without borrows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedAuthority {
    Operator { confirm: Option<String> },
    Drill { id: i64, outage: bool },
    Restore,
}

impl OwnedAuthority {
    pub fn as_ref(&self) -> Authority<'_> {
        match self {
            OwnedAuthority::Operator { confirm } => Authority::Operator { confirm: confirm.as_deref() },
            OwnedAuthority::Drill { id, outage } => Authority::Drill { id: *id, outage: *outage },
            OwnedAuthority::Restore => Authority::Restore,
        }
    }
}

/// One lock per stack, held across the guardrail's check and the action.
#[derive(Default)]
pub struct Locks {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Locks {
    pub async fn lock(&self, stack: &str) -> OwnedMutexGuard<()> {
        let lock = {
            // A poisoned map still holds valid mutexes: nothing is half-written in it.
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(stack.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

/// One node of a tier, as the guardrail sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathState {
    pub node: String,
    /// What the load balancer reports: `InService`, `OutOfService` or
    /// `Unknown` (not registered, or not read).
    pub lb_state: String,
    /// What hawaf has done to it and not undone.
    pub holds: Vec<Hold>,
}

impl PathState {
    pub fn serves(&self) -> bool {
        self.lb_state == HealthState::InService.as_str() && self.holds.is_empty()
    }

    /// Why it is not a path, in words.
    pub fn why_not(&self) -> String {
        let mut why: Vec<&str> = self.holds.iter().map(|h| h.describe()).collect();
        if self.lb_state != HealthState::InService.as_str() {
            why.push(if self.lb_state == HealthState::OutOfService.as_str() {
                "out of service on its load balancer"
            } else {
                "not reported in service by its load balancer"
            });
        }
        why.join(", ")
    }
}

/// How many paths a tier still has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Margin {
    pub tier: LbRole,
    pub nodes: Vec<PathState>,
}

impl Margin {
    pub fn serving(&self) -> usize {
        self.nodes.iter().filter(|n| n.serves()).count()
    }

    pub fn total(&self) -> usize {
        self.nodes.len()
    }

    /// "1 of 2 paths serving", in the words of the console's "2 of 2 instances in service".
    pub fn summary(&self) -> String {
        let paths = if self.total() == 1 { "path" } else { "paths" };
        format!("{} of {} {paths} serving", self.serving(), self.total())
    }

    pub fn noun(&self) -> &'static str {
        tier_noun(self.tier)
    }
}

pub fn tier_noun(tier: LbRole) -> &'static str {
    match tier {
        LbRole::External => "WAF node",
        LbRole::Internal => "web server",
    }
}

/// A tier's paths from its load balancer's report and hawaf's holds.
/// `instances` maps node names to instance ids; holds made on another
/// instance (a node since rebuilt) do not count.
pub fn margin(tier: LbRole, instances: &[(String, String)], health: &[InstanceHealth], holds: &[HoldRow]) -> Margin {
    let nodes = instances
        .iter()
        .map(|(name, id)| PathState {
            node: name.clone(),
            lb_state: health
                .iter()
                .find(|h| &h.instance_id == id)
                .map_or(HealthState::Unknown.as_str(), |h| h.state.as_str())
                .to_owned(),
            holds: holds
                .iter()
                .filter(|h| &h.node == name && &h.instance_id == id)
                .filter_map(|h| Hold::parse(&h.hold))
                .collect(),
        })
        .collect();
    Margin { tier, nodes }
}

/// Role key (`waf-left`, …) -> instance id, from what the build recorded.
pub fn instance_ids(resources: &[ResourceRow]) -> HashMap<String, String> {
    resources
        .iter()
        .filter_map(|r| r.logical_id.strip_prefix("instance/").map(|role| (role.to_owned(), r.physical_id.clone())))
        .collect()
}

/// The nodes of a tier by name, with their instance ids where built.
pub fn tier_instances(def: &StackDefinition, tier: LbRole, ids: &HashMap<String, String>) -> Vec<(String, String)> {
    InstanceRole::ALL
        .iter()
        .filter(|r| r.lb() == tier)
        .map(|r| {
            let name = def.instance(*r).name().to_string();
            let id = ids.get(r.as_str()).cloned().unwrap_or_default();
            (name, id)
        })
        .collect()
}

/// The tier's margin now, read from its load balancer and the store.
async fn read_margin(app: &SharedApp, node: &Node) -> Result<Margin, NodeError> {
    let d = &node.stack.definition;
    let tier = node.role.lb();
    let cloud = app.providers.cloud_for(d).map_err(NodeError::Provider)?;
    let lb = d.load_balancer(tier).as_str();
    let health = cloud
        .describe_instance_health(lb, &[])
        .await
        .map_err(|source| NodeError::Cloud { node: node.name.clone(), source })?;
    let holds = app.store.holds(node.stack.row.id).await?;
    let ids = instance_ids(&app.store.live_resources(node.stack.row.id).await?);
    Ok(margin(tier, &tier_instances(d, tier, &ids), &health, &holds))
}

/// Refuses an action that takes `node` out of service when no other node of
/// its tier would still serve, unless `authority` may stop the site.
pub(super) async fn check(
    app: &SharedApp,
    node: &Node,
    change: Change,
    authority: Authority<'_>,
) -> Result<(), NodeError> {
    if matches!(change, Change::Lifts(_)) || authority == Authority::Restore {
        return Ok(());
    }
    let margin = read_margin(app, node).await?;
    let others: Vec<&PathState> = margin.nodes.iter().filter(|n| n.node != node.name).collect();
    if others.iter().any(|n| n.serves()) {
        return Ok(());
    }
    let stack = node.stack.row.name.clone();
    let why = others.iter().map(|n| format!("{} is {}", n.node, n.why_not())).collect::<Vec<_>>().join("; ");
    let refusal = |drill: Option<i64>| NodeError::LastPath {
        stack: stack.clone(),
        node: node.name.clone(),
        tier: margin.noun(),
        why: why.clone(),
        drill,
    };
    match authority {
        Authority::Operator { confirm } => {
            // A drill measures what it injected: a manual outage on top would
            // make its figures lie, confirmed or not.
            if let Some(d) = app.store.running_drills().await?.into_iter().find(|d| d.stack == stack) {
                return Err(refusal(Some(d.id)));
            }
            if confirm == Some(stack.as_str()) { Ok(()) } else { Err(refusal(None)) }
        }
        Authority::Drill { outage: true, .. } => Ok(()),
        Authority::Drill { id, outage: false } => {
            Err(NodeError::DrillLastPath { drill: id, stack, node: node.name.clone(), tier: margin.noun(), why })
        }
        Authority::Restore => Ok(()),
    }
}

/// Before the action: a hold it will create is recorded first, so a crash
/// or a concurrent reader sees it as pending. Answers whether the hold is
/// new (false when the node was already held this way).
pub(super) async fn before(
    app: &SharedApp,
    node: &Node,
    change: Change,
    authority: Authority<'_>,
    actor: &str,
) -> Result<bool, NodeError> {
    let Change::Takes(hold) = change else { return Ok(false) };
    Ok(app
        .store
        .add_hold(NewHold {
            stack_id: node.stack.row.id,
            node: &node.name,
            hold: hold.as_str(),
            instance_id: &node.instance_id,
            actor,
            drill_id: authority.drill_id(),
        })
        .await?)
}

/// After the action: `held` says whether the node is now held by this
/// change's hold (for the WAF switch, what the node reads back). A failed
/// take-down removes only a hold it made itself (`fresh`): one that was
/// there before stands for an earlier action that did land.
pub(super) async fn after(app: &SharedApp, node: &Node, change: Change, held: bool, fresh: bool) {
    let keep = held || (matches!(change, Change::Takes(_)) && !fresh);
    let result =
        if keep { Ok(()) } else { app.store.remove_hold(node.stack.row.id, &node.name, change.hold().as_str()).await };
    if let Err(e) = result {
        // The hold stays: the guardrail then errs on the side of asking.
        tracing::error!(stack = %node.stack.row.name, node = %node.name, error = %e, "cannot update a node hold");
    }
    // The stack page shows the margin: let it redraw now, not at the next transition.
    app.bus.publish(crate::events::Event::HealthChanged { stack: node.stack.row.name.clone() });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy(id: &str, state: HealthState) -> InstanceHealth {
        InstanceHealth { instance_id: id.into(), state, reason_code: String::new(), description: String::new() }
    }

    fn hold(node: &str, id: &str, h: Hold) -> HoldRow {
        HoldRow {
            node: node.into(),
            hold: h.as_str().into(),
            instance_id: id.into(),
            actor: "t".into(),
            drill_id: None,
            at: 0,
        }
    }

    fn pair() -> Vec<(String, String)> {
        vec![("left".into(), "i-1".into()), ("right".into(), "i-2".into())]
    }

    #[test]
    fn a_node_in_service_that_hawaf_switched_off_is_not_a_path() {
        let health = [healthy("i-1", HealthState::InService), healthy("i-2", HealthState::InService)];
        let m = margin(LbRole::External, &pair(), &health, &[hold("left", "i-1", Hold::WafOff)]);
        assert_eq!(m.serving(), 1);
        assert_eq!(m.summary(), "1 of 2 paths serving");
        assert_eq!(m.nodes[0].why_not(), "WAF switched off");
    }

    #[test]
    fn a_node_the_load_balancer_reports_out_of_service_is_not_a_path() {
        let health = [healthy("i-1", HealthState::OutOfService), healthy("i-2", HealthState::InService)];
        let m = margin(LbRole::Internal, &pair(), &health, &[]);
        assert_eq!(m.serving(), 1);
        assert_eq!(m.nodes[0].why_not(), "out of service on its load balancer");
        assert_eq!(m.noun(), "web server");
    }

    #[test]
    fn a_hold_on_an_instance_since_replaced_does_not_count() {
        let health = [healthy("i-1", HealthState::InService), healthy("i-2", HealthState::InService)];
        let m = margin(LbRole::Internal, &pair(), &health, &[hold("left", "i-old", Hold::HttpdStopped)]);
        assert_eq!(m.serving(), 2);
        assert_eq!(m.summary(), "2 of 2 paths serving");
    }

    #[test]
    fn an_unregistered_node_is_not_a_path() {
        let m = margin(LbRole::External, &pair(), &[healthy("i-2", HealthState::InService)], &[]);
        assert_eq!(m.serving(), 1);
        assert_eq!(m.nodes[0].why_not(), "not reported in service by its load balancer");
    }

    #[test]
    fn every_fault_that_takes_a_node_down_creates_a_hold_and_its_inverse_lifts_it() {
        for f in Fault::ALL {
            let (c, inverse) = (Change::of_fault(f), Change::of_fault(f.inverse()));
            assert_eq!(c.hold(), inverse.hold(), "{f}");
            assert_eq!(matches!(c, Change::Takes(_)), f.takes_down(), "{f}");
            assert_ne!(matches!(c, Change::Takes(_)), matches!(inverse, Change::Takes(_)), "{f}");
        }
        assert_eq!(Change::of_waf(false), Change::Takes(Hold::WafOff));
        for h in Hold::ALL {
            assert_eq!(Hold::parse(h.as_str()), Some(h));
        }
    }

    #[test]
    fn an_operator_confirmation_is_trimmed_and_an_empty_one_is_none() {
        assert_eq!(Authority::operator(Some("  demo ")), Authority::Operator { confirm: Some("demo") });
        assert_eq!(Authority::operator(Some("   ")), Authority::Operator { confirm: None });
    }

    #[tokio::test]
    async fn the_stack_lock_serialises_two_holders() {
        let locks = Arc::new(Locks::default());
        let first = locks.lock("demo").await;
        let second = {
            let locks = locks.clone();
            tokio::spawn(async move {
                let _g = locks.lock("demo").await;
            })
        };
        // Another stack is not blocked by this one.
        drop(locks.lock("other").await);
        tokio::task::yield_now().await;
        assert!(!second.is_finished(), "the second holder waits for the first");
        drop(first);
        second.await.unwrap();
    }
}
