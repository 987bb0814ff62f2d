use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};
use tokio::sync::watch;

use super::{InstanceRow, Snapshot, Tier, Transition, WafState};
use crate::SharedApp;
use crate::cloud::{Cloud, HealthState};
use crate::events::Event;
use crate::stack::{self, InstanceRole, LbRole, Provider, Stack, StackError};
use crate::store::{NewHealthEvent, Store, now_ms};
use crate::waf::WafDriver;

/// One limiter per AWS account and region (approximated by profile, region
/// and endpoint), shared by every monitor polling there, so many stacks in
/// one region cannot throttle the account.
#[derive(Default)]
pub(super) struct Limiters {
    map: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

impl Limiters {
    fn get(&self, key: &str) -> Arc<DefaultDirectRateLimiter> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_owned())
            .or_insert_with(|| {
                // DescribeInstanceHealth is cheap for AWS but shares the account's
                // API rate; a few calls per second leaves room for builds.
                let quota = Quota::per_second(NonZeroU32::new(4).unwrap_or(NonZeroU32::MIN));
                Arc::new(DefaultDirectRateLimiter::direct(quota))
            })
            .clone()
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// After the lab signals a health change, wait this long for the rest of a
/// burst (the other load balancer's checks of the same fault) before polling.
const LAB_SETTLE: Duration = Duration::from_millis(2);
const WAF_READ_LIMIT: Duration = Duration::from_secs(3);

pub(super) async fn run(app: SharedApp, name: String, tx: watch::Sender<Option<Arc<Snapshot>>>) {
    let mut previous: Option<Arc<Snapshot>> = None;
    let mut clients: HashMap<String, NodeConn> = HashMap::new();
    let mut failures: u32 = 0;
    let mut lab_changes = app.providers.lab().subscribe_health();
    loop {
        let stack = match stack::load(&app.store, &name).await {
            Ok(s) => s,
            Err(StackError::NotFound(_)) => return,
            Err(e) => {
                tracing::warn!(stack = %name, error = %e, "health monitor cannot load its stack");
                tokio::time::sleep(MAX_BACKOFF).await;
                continue;
            }
        };
        if !stack.is_built() {
            // Torn down: nothing left to watch.
            return;
        }
        let d = &stack.definition;
        let interval = match d.provider() {
            Provider::Lab => app.health.intervals.lab,
            Provider::Aws => {
                let aws = d.aws();
                let key = format!(
                    "{}|{}|{}",
                    aws.region(),
                    aws.profile().map(|p| p.as_str()).unwrap_or(""),
                    aws.endpoint_url().map(|u| u.as_str()).unwrap_or("")
                );
                app.health.limiters.get(&key).until_ready().await;
                app.health.intervals.aws
            }
        };
        // Whatever changes in the lab from here on wakes the next poll.
        lab_changes.borrow_and_update();
        let snap = poll(&app, &stack, previous.as_deref(), &mut clients).await;
        let transitions = previous.as_deref().map(|p| diff(p, &snap)).unwrap_or_default();
        for t in &transitions {
            let row =
                NewHealthEvent { tier: &t.tier, node: &t.node, from: &t.from, to: &t.to, reason: &t.reason, at: t.at };
            if let Err(e) = app.store.record_health_event(stack.row.id, &row).await {
                tracing::error!(stack = %name, error = %e, "cannot record a health transition");
            }
            app.bus.publish(Event::HealthTransition { stack: name.clone(), transition: t.clone() });
        }
        let changed = previous.as_deref().is_none_or(|p| !transitions.is_empty() || p.error != snap.error);
        failures = if snap.error.is_some() { failures.saturating_add(1) } else { 0 };
        let snap = Arc::new(snap);
        tx.send_replace(Some(snap.clone()));
        previous = Some(snap);
        if changed {
            app.bus.publish(Event::HealthChanged { stack: name.clone() });
        }
        // After failures, back off exponentially: a region in trouble is not
        // helped by being asked more often.
        let delay = interval.saturating_mul(2u32.saturating_pow(failures.min(8))).min(MAX_BACKOFF.max(interval));
        if stack.definition.provider() == Provider::Lab && failures == 0 {
            // The lab says when a load balancer changes an instance's state:
            // polling then, not up to an interval later, keeps the monitor's share
            // of the detection time near zero (scripts/bench, measure 1). Other lab
            // changes (a build's calls) do not wake it.
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                changed = lab_changes.changed() => {
                    // A closed channel (the lab is gone) must not turn this into a busy loop.
                    tokio::time::sleep(if changed.is_ok() { LAB_SETTLE } else { delay }).await
                }
            }
        } else {
            tokio::time::sleep(delay).await;
        }
    }
}

/// Instance id -> Name, from what the build recorded.
async fn names(store: &Store, stack: &Stack) -> HashMap<String, String> {
    let rows = store.live_resources(stack.row.id).await.unwrap_or_default();
    InstanceRole::ALL
        .iter()
        .filter_map(|role| {
            let logical = format!("instance/{}", role.as_str());
            let id = rows.iter().find(|r| r.logical_id == logical)?.physical_id.clone();
            Some((id, stack.definition.instance(*role).name().to_string()))
        })
        .collect()
}

async fn poll(
    app: &SharedApp,
    stack: &Stack,
    previous: Option<&Snapshot>,
    clients: &mut HashMap<String, NodeConn>,
) -> Snapshot {
    let d = &stack.definition;
    let now = now_ms();
    let names = names(&app.store, stack).await;
    let mut errors: Vec<String> = Vec::new();
    let cloud = app.providers.cloud_for(d);
    let mut tiers = Vec::new();
    for role in [LbRole::External, LbRole::Internal] {
        let lb = d.load_balancer(role).as_str().to_owned();
        let before = previous.map(|p| if role == LbRole::External { &p.external } else { &p.internal });
        let tier = match &cloud {
            Ok(cloud) => read_tier(cloud.as_ref(), &lb, &names, before, now).await,
            Err(e) => Err(e.clone()),
        };
        tiers.push(tier.unwrap_or_else(|e| {
            errors.push(format!("{lb}: {e}"));
            unknown_tier(&lb, d.lb_members(role).iter().map(|r| d.instance(*r).name().to_string()), before, now)
        }));
    }
    let mut waf = BTreeMap::new();
    for role in [InstanceRole::WafLeft, InstanceRole::WafRight] {
        let node = d.instance(role).name().to_string();
        let id = names.iter().find(|(_, n)| **n == node).map(|(id, _)| id.clone());
        let read = match id {
            Some(id) => read_waf(app, stack, &node, &id, clients).await,
            None => Err("not built".to_owned()),
        };
        let (enabled, error) = match read {
            Ok(on) => (Some(on), None),
            Err(e) => (None, Some(e)),
        };
        let since =
            previous.and_then(|p| p.waf.get(&node)).filter(|w| w.enabled == enabled).map(|w| w.since).unwrap_or(now);
        let facts = clients.get(&node).and_then(|c| c.facts.clone());
        waf.insert(node, WafState { enabled, error, since, facts });
    }
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    let error_since = match (&error, previous) {
        (None, _) => None,
        (Some(_), Some(p)) if p.error.is_some() => p.error_since,
        (Some(_), _) => Some(now),
    };
    let internal = tiers.pop().unwrap_or_else(|| unknown_tier("", std::iter::empty(), None, now));
    let external = tiers.pop().unwrap_or_else(|| unknown_tier("", std::iter::empty(), None, now));
    Snapshot { stack: stack.row.name.clone(), external, internal, waf, polled_at: now, error, error_since }
}

async fn read_tier(
    cloud: &dyn Cloud,
    lb: &str,
    names: &HashMap<String, String>,
    before: Option<&Tier>,
    now: i64,
) -> Result<Tier, String> {
    let health = cloud.describe_instance_health(lb, &[]).await.map_err(|e| e.to_string())?;
    let instances: Vec<InstanceRow> = health
        .into_iter()
        .map(|h| {
            let state = h.state.as_str().to_owned();
            let since = before
                .and_then(|t| t.instances.iter().find(|i| i.id == h.instance_id))
                .filter(|i| i.state == state)
                .map(|i| i.since)
                .unwrap_or(now);
            let reason = if h.state == HealthState::InService { String::new() } else { h.description };
            InstanceRow {
                name: names.get(&h.instance_id).cloned().unwrap_or_else(|| h.instance_id.clone()),
                id: h.instance_id,
                state,
                reason,
                since,
            }
        })
        .collect();
    let in_service = instances.iter().filter(|i| i.state == "InService").count();
    Ok(Tier { lb: lb.to_owned(), in_service, total: instances.len(), instances })
}

/// When a load balancer cannot be read, its instances are "Unknown since …",
/// keeping their names so the page still shows who is behind it.
fn unknown_tier(lb: &str, members: impl Iterator<Item = String>, before: Option<&Tier>, now: i64) -> Tier {
    let instances: Vec<InstanceRow> = match before {
        Some(t) if !t.instances.is_empty() => t
            .instances
            .iter()
            .map(|i| InstanceRow {
                state: "Unknown".into(),
                since: if i.state == "Unknown" { i.since } else { now },
                reason: "the load balancer could not be read".into(),
                ..i.clone()
            })
            .collect(),
        _ => members
            .map(|name| InstanceRow {
                id: String::new(),
                name,
                state: "Unknown".into(),
                reason: "the load balancer could not be read".into(),
                since: now,
            })
            .collect(),
    };
    Tier { lb: lb.to_owned(), in_service: 0, total: instances.len(), instances }
}

/// A connection to a WAF node, with what was read when it was made.
pub(super) struct NodeConn {
    client: WafDriver,
    facts: Option<crate::waf::NodeFacts>,
    /// When the facts were last asked for: unread ones are asked again
    /// after `FACTS_RETRY`, not on every poll.
    facts_asked: std::time::Instant,
}

const FACTS_RETRY: Duration = Duration::from_secs(30);

async fn read_facts(stack: &str, node: &str, client: &WafDriver) -> Option<crate::waf::NodeFacts> {
    match tokio::time::timeout(WAF_READ_LIMIT, client.facts()).await {
        Ok(Ok(f)) => Some(f),
        Ok(Err(e)) => {
            tracing::debug!(stack, node, error = %e, "cannot read the node's firmware and HA");
            None
        }
        Err(_) => None,
    }
}

async fn read_waf(
    app: &SharedApp,
    stack: &Stack,
    node: &str,
    instance_id: &str,
    clients: &mut HashMap<String, NodeConn>,
) -> Result<bool, String> {
    if !clients.contains_key(node) {
        let client = crate::node::waf_client(app, stack.row.id, &stack.definition, node, instance_id).await.map_err(
            |e| match e {
                crate::node::NodeError::NoAccess { message, .. } => message,
                other => other.to_string(),
            },
        )?;
        // Firmware and HA change only with an upgrade or a re-setup, which
        // also ends the connection: read once per connection, not per poll.
        let facts = read_facts(&stack.row.name, node, &client).await;
        clients.insert(node.to_owned(), NodeConn { client, facts, facts_asked: std::time::Instant::now() });
    }
    if let Some(conn) = clients.get_mut(node)
        && conn.facts.is_none()
        && conn.facts_asked.elapsed() >= FACTS_RETRY
    {
        conn.facts_asked = std::time::Instant::now();
        conn.facts = read_facts(&stack.row.name, node, &conn.client).await;
    }
    let Some(conn) = clients.get(node) else { return Err("no client".into()) };
    // The monitor reads the switch again and again: it keeps its session open.
    match tokio::time::timeout(WAF_READ_LIMIT, conn.client.enabled()).await {
        Ok(Ok(on)) => Ok(on),
        Ok(Err(e)) => {
            // A new token or certificate may have been stored: build the client afresh next time.
            clients.remove(node);
            Err(e.to_string())
        }
        Err(_) => Err(format!("no answer within {} s", WAF_READ_LIMIT.as_secs())),
    }
}

/// What changed between two snapshots, instance by instance and node by node.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<Transition> {
    let mut out = Vec::new();
    for (tier, b, a) in
        [("external", &before.external, &after.external), ("internal", &before.internal, &after.internal)]
    {
        for now in &a.instances {
            let was = b.instances.iter().find(|i| i.name == now.name).map(|i| i.state.as_str()).unwrap_or("Unknown");
            if was != now.state {
                out.push(Transition {
                    tier: tier.into(),
                    node: now.name.clone(),
                    from: was.to_owned(),
                    to: now.state.clone(),
                    reason: now.reason.clone(),
                    at: after.polled_at,
                });
            }
        }
    }
    for (node, now) in &after.waf {
        let was = before.waf.get(node).map(WafState::label).unwrap_or("unknown");
        if was != now.label() {
            out.push(Transition {
                tier: "waf".into(),
                node: node.clone(),
                from: was.to_owned(),
                to: now.label().to_owned(),
                reason: now.error.clone().unwrap_or_default(),
                at: after.polled_at,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, state: &str) -> InstanceRow {
        InstanceRow { name: name.into(), id: format!("i-{name}"), state: state.into(), reason: String::new(), since: 0 }
    }

    fn snap(ext: [&str; 2], waf_left: Option<bool>, at: i64) -> Snapshot {
        let tier = |lb: &str, states: [&str; 2]| Tier {
            lb: lb.into(),
            in_service: states.iter().filter(|s| **s == "InService").count(),
            total: 2,
            instances: vec![row("left", states[0]), row("right", states[1])],
        };
        Snapshot {
            stack: "s".into(),
            external: tier("ext", ext),
            internal: tier("int", ["InService", "InService"]),
            waf: BTreeMap::from([(
                "left".to_owned(),
                WafState { enabled: waf_left, error: None, since: 0, facts: None },
            )]),
            polled_at: at,
            error: None,
            error_since: None,
        }
    }

    #[test]
    fn an_instance_leaving_service_is_one_transition_with_its_time() {
        let before = snap(["InService", "InService"], Some(true), 1);
        let after = snap(["OutOfService", "InService"], Some(true), 2);
        let t = diff(&before, &after);
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].tier.as_str(), t[0].node.as_str(), t[0].from.as_str(), t[0].to.as_str(), t[0].at),
            ("external", "left", "InService", "OutOfService", 2)
        );
    }

    #[test]
    fn a_waf_switch_change_and_an_unreadable_node_are_transitions() {
        let on = snap(["InService", "InService"], Some(true), 1);
        let off = snap(["InService", "InService"], Some(false), 2);
        let unknown = snap(["InService", "InService"], None, 3);
        assert_eq!(diff(&on, &off)[0].to, "disabled");
        assert_eq!(diff(&off, &unknown)[0].to, "unknown");
        assert!(diff(&on, &on).is_empty(), "no change, no transition");
    }

    #[test]
    fn the_console_summary_counts_instances_in_service() {
        let s = snap(["OutOfService", "InService"], Some(true), 1);
        assert_eq!(s.external.summary(), "1 of 2 instances in service");
    }
}
