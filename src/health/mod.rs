//! The health monitor: one task per built stack polls both load balancers'
//! instance health and each WAF node's switch, keeps the latest snapshot in
//! memory, records every transition and publishes it on the event bus.

mod monitor;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::SharedApp;

pub use monitor::diff;

/// One row of a load balancer's instance list, as the AWS console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceRow {
    pub name: String,
    pub id: String,
    /// `InService`, `OutOfService` or `Unknown`.
    pub state: String,
    pub reason: String,
    /// Unix ms of the last change of `state`.
    pub since: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tier {
    pub lb: String,
    pub in_service: usize,
    pub total: usize,
    pub instances: Vec<InstanceRow>,
}

impl Tier {
    /// "2 of 2 instances in service", the AWS console's words.
    pub fn summary(&self) -> String {
        format!("{} of {} instances in service", self.in_service, self.total)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WafState {
    /// As read back from the node; None when it could not be read.
    pub enabled: Option<bool>,
    pub error: Option<String>,
    pub since: i64,
    /// Read once per connection to the node: firmware and HA setting.
    pub facts: Option<crate::waf::NodeFacts>,
}

impl WafState {
    pub fn label(&self) -> &'static str {
        match self.enabled {
            Some(true) => "enabled",
            Some(false) => "disabled",
            None => "unknown",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub stack: String,
    pub external: Tier,
    pub internal: Tier,
    pub waf: BTreeMap<String, WafState>,
    pub polled_at: i64,
    /// The last poll's failure, and since when polls have been failing.
    pub error: Option<String>,
    pub error_since: Option<i64>,
}

pub use crate::clock::rfc3339 as iso;

impl Snapshot {
    /// The health answer of SPEC's interfaces.
    pub fn to_contract(&self) -> crate::contract::Health {
        use crate::contract::{InstanceHealthView, TierHealth, Tiers, WafSwitch};
        let tier = |t: &Tier| TierHealth {
            lb: t.lb.clone(),
            in_service: t.in_service,
            total: t.total,
            instances: t
                .instances
                .iter()
                .map(|i| InstanceHealthView {
                    name: i.name.clone(),
                    id: i.id.clone(),
                    state: i.state.clone(),
                    reason: i.reason.clone(),
                    since: iso(i.since),
                })
                .collect(),
        };
        crate::contract::Health {
            stack: self.stack.clone(),
            tiers: Tiers { external: tier(&self.external), internal: tier(&self.internal) },
            waf: self
                .waf
                .iter()
                .map(|(node, w)| {
                    let facts = w.facts.as_ref();
                    let switch = WafSwitch {
                        enabled: w.enabled,
                        since: iso(w.since),
                        error: w.error.clone(),
                        firmware: facts.map(|f| f.firmware.clone()),
                        end_of_life: facts.and_then(|f| f.end_of_life()).map(|d| d.to_string()),
                        // SFOS's HA state is not read: absent, not "".
                        ha_mode: facts.filter(|f| f.appliance == crate::waf::WafKind::Utm9).map(|f| f.ha_mode.clone()),
                    };
                    (node.clone(), switch)
                })
                .collect(),
            polled_at: iso(self.polled_at),
            error: self.error.clone(),
            error_since: self.error_since.map(iso),
        }
    }
}

pub use crate::events::Transition;

/// How often monitors poll.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub aws: Duration,
    pub lab: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        // The lab answers from memory, so it can be watched closely enough
        // that the monitor adds little to the load balancer's own detection time.
        Intervals { aws: Duration::from_secs(2), lab: Duration::from_millis(100) }
    }
}

struct Running {
    snapshot: watch::Receiver<Option<Arc<Snapshot>>>,
    task: JoinHandle<()>,
}

/// The monitors of this server, by stack name.
#[derive(Default)]
pub struct Monitors {
    running: Mutex<HashMap<String, Running>>,
    pub intervals: Intervals,
    limiters: monitor::Limiters,
}

impl Monitors {
    pub fn new(intervals: Intervals) -> Self {
        Monitors { intervals, ..Monitors::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        // The map holds plain handles; one poisoned by a panic is still usable.
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn snapshot(&self, stack: &str) -> Option<Arc<Snapshot>> {
        self.lock().get(stack).and_then(|r| r.snapshot.borrow().clone())
    }

    /// Waits (bounded) for the first snapshot of a monitor that just started.
    pub async fn first_snapshot(&self, stack: &str, limit: Duration) -> Option<Arc<Snapshot>> {
        let mut rx = self.lock().get(stack)?.snapshot.clone();
        tokio::time::timeout(limit, rx.wait_for(|s| s.is_some())).await.ok()?.ok()?;
        rx.borrow().clone()
    }

    /// The monitor's snapshots as they come, for the drill runner: a drill
    /// sees a node leave service when the dashboard does, not on its own poll.
    pub fn subscribe(&self, stack: &str) -> Option<watch::Receiver<Option<Arc<Snapshot>>>> {
        self.lock().get(stack).filter(|r| !r.task.is_finished()).map(|r| r.snapshot.clone())
    }

    pub fn is_running(&self, stack: &str) -> bool {
        self.lock().get(stack).is_some_and(|r| !r.task.is_finished())
    }

    pub fn stop(&self, stack: &str) {
        if let Some(r) = self.lock().remove(stack) {
            r.task.abort();
        }
    }

    pub fn stacks(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

/// Starts the stack's monitor unless it runs already.
pub fn ensure(app: &SharedApp, stack: &str) {
    let mut running = app.health.lock();
    if running.get(stack).is_some_and(|r| !r.task.is_finished()) {
        return;
    }
    let (tx, rx) = watch::channel(None);
    let task = tokio::spawn(monitor::run(app.clone(), stack.to_owned(), tx));
    running.insert(stack.to_owned(), Running { snapshot: rx, task });
}

/// At server start: a monitor for every stack that has something built.
pub async fn start_all(app: &SharedApp) -> Result<(), crate::store::StoreError> {
    for s in app.store.stacks().await? {
        if s.live_resources > 0 {
            ensure(app, &s.name);
        }
    }
    Ok(())
}
