//! Starting, running and halting a drill: the steady-state check, then
//! baseline, and per round inject -> detect -> hold -> restore -> recover,
//! then verify; stop conditions (time limit per phase, availability floor);
//! restore on every way out.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::prober::{Prober, ProberConfig};
use super::report::{self, Check};
use super::restore;
use super::scenario::{Injection, Scenario};
use super::{Budget, Expectation, MarkKind, PhaseKind, PhaseSpan, RoundInfo, Settings, Timeline};
use crate::SharedApp;
use crate::cloud::HealthState;
use crate::contract::{DrillStatus, DrillTrigger, Verdict};
use crate::events::Event;
use crate::health::Snapshot;
use crate::node::{self, NodeError};
use crate::stack::{self, InstanceRole, LbRole, Provider, StackError};
use crate::store::{NewAudit, NewDrill, StoreError, now_ms};

pub use crate::contract::DrillRequest;

pub const DEFAULT_RATE: u32 = 20;
const DEFAULT_PHASE_MS: u64 = 5_000;
const DEFAULT_TIMEOUT_MS: u64 = 120_000;

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("unknown scenario `{0}`: use D1, D2, D3, D4, D5 or a custom drill of the stack")]
    UnknownScenario(String),
    #[error("{field}: {message}")]
    InvalidSetting { field: &'static str, message: String },
    #[error("stack {0} is not built: build it before running a drill")]
    NotBuilt(String),
    #[error("stack {stack} is not healthy, so a drill would measure the wrong thing: {reason}")]
    Unhealthy { stack: String, reason: String },
    #[error("stack {stack} already has drill {id} running")]
    AlreadyRunning { stack: String, id: i64 },
    #[error("a build of {0} is running: wait for it to end")]
    BuildRunning(String),
    #[error("{0}'s WAF nodes are being replaced one at a time (one serves alone): wait for the run to end")]
    MigrationRunning(String),
    #[error(
        "stack {stack} has drifted from its definition, so a drill would prove little: {differences}; \
         reconcile it, or start the drill with allow_drift"
    )]
    Drifted { stack: String, differences: String },
    #[error(transparent)]
    Drift(#[from] crate::drift::DriftError),
    #[error("{scenario} takes every WAF node of {stack} down and stops the site: type the stack's name to confirm")]
    NeedsConfirmation { scenario: String, stack: String },
    #[error("{0}")]
    HaCluster(String),
    #[error("the safety lever is engaged (by {actor}: {reason}): no drill runs until it is released")]
    LeverEngaged { reason: String, actor: String },
    #[error("there is no drill {0}")]
    NoSuchDrill(i64),
    #[error("drill {id} is not running (it is {status})")]
    NotRunning { id: i64, status: String },
    #[error("{0}")]
    Provider(String),
    #[error("drill {id} cannot be read: {reason}")]
    Corrupt { id: i64, reason: String },
    #[error(transparent)]
    Node(#[from] NodeError),
    #[error(transparent)]
    Custom(#[from] super::custom::CustomError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One node a round acts on.
#[derive(Debug, Clone)]
struct Target {
    name: String,
    instance_id: String,
    /// The LB that health-checks it.
    lb: String,
    injection: Injection,
    web: bool,
}

/// Checks, plans and starts a drill; returns its id. Refusals are audited too.
pub async fn start(
    app: &SharedApp,
    stack_name: &str,
    req: DrillRequest,
    actor: &str,
    trigger: DrillTrigger,
) -> Result<i64, DrillError> {
    let scenario = req.scenario.clone();
    let result = prepare(app, stack_name, req, actor, trigger).await;
    let (outcome, detail) = match &result {
        Ok(id) => ("ok", format!("drill {id} ({scenario}) started")),
        Err(e) => ("refused", format!("{scenario}: {e}")),
    };
    let entry = NewAudit { actor, action: "drill.start", target: stack_name, outcome, detail };
    if let Err(e) = app.store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
    result
}

async fn prepare(
    app: &SharedApp,
    stack_name: &str,
    req: DrillRequest,
    actor: &str,
    trigger: DrillTrigger,
) -> Result<i64, DrillError> {
    if let Some(lever) = app.store.lever().await?.filter(|l| l.engaged) {
        return Err(DrillError::LeverEngaged { reason: lever.reason, actor: lever.actor });
    }
    let rate = super::preflight::setting("rate", req.rate.map(u64::from), u64::from(DEFAULT_RATE), 1..=50)? as u32;
    let baseline_ms = super::preflight::setting("baseline_ms", req.baseline_ms, DEFAULT_PHASE_MS, 200..=600_000)?;
    let hold_ms = super::preflight::setting("hold_ms", req.hold_ms, DEFAULT_PHASE_MS, 200..=600_000)?;
    let verify_ms = super::preflight::setting("verify_ms", req.verify_ms, DEFAULT_PHASE_MS, 200..=600_000)?;
    let phase_timeout_ms =
        super::preflight::setting("phase_timeout_ms", req.phase_timeout_ms, DEFAULT_TIMEOUT_MS, 1_000..=600_000)?;

    let stack = stack::load(&app.store, stack_name).await?;
    if !stack.is_built() {
        return Err(DrillError::NotBuilt(stack_name.to_owned()));
    }
    let def = &stack.definition;
    let provider = def.provider();
    let (scenario, hypothesis) = match Scenario::builtin(&req.scenario) {
        Some(s) => (s, None),
        None => match super::custom::find(&app.store, stack.row.id, def, req.scenario.trim()).await? {
            Some((s, h)) => (s, Some(h)),
            None => return Err(DrillError::UnknownScenario(req.scenario.clone())),
        },
    };
    if scenario.needs_confirmation(provider) && req.confirm.as_deref().map(str::trim) != Some(stack_name) {
        return Err(DrillError::NeedsConfirmation { scenario: scenario.id.clone(), stack: stack_name.to_owned() });
    }
    if app.store.latest_build(stack.row.id).await?.is_some_and(|b| b.is_running()) {
        return Err(DrillError::BuildRunning(stack_name.to_owned()));
    }
    if app.store.appliance_run_running(stack.row.id).await? {
        return Err(DrillError::MigrationRunning(stack_name.to_owned()));
    }
    // Before every drill: what it would prove depends on the stack being what it says.
    let deps = crate::drift::Deps::of(app);
    let report = crate::drift::check(deps, stack_name, actor).await?;
    if report.status == crate::contract::DriftStatus::Drifted && !req.allow_drift {
        return Err(DrillError::Drifted { stack: stack_name.to_owned(), differences: crate::drift::summary(&report) });
    }
    let cloud = app.providers.cloud_for(def).map_err(DrillError::Provider)?;
    let mut ids = Vec::new();
    for role in InstanceRole::ALL {
        let name = def.instance(*role).name().to_string();
        let n = node::find(app, stack_name, &name).await.map_err(|e| match e {
            NodeError::NotBuilt(s) => DrillError::NotBuilt(s),
            other => other.into(),
        })?;
        ids.push((*role, n.instance_id, name));
    }
    let names: Vec<(String, String)> = ids.iter().map(|(_, id, n)| (id.clone(), n.clone())).collect();
    let ext = def.load_balancer(LbRole::External).to_string();
    let int = def.load_balancer(LbRole::Internal).to_string();
    super::preflight::standalone_pair(app, stack.row.id, def, &ids).await?;
    // Serialised with node actions: an operator's switch cannot land between
    // the steady-state check and the drill's start.
    let _serialised = app.node_locks.lock(stack_name).await;
    super::preflight::steady_state(cloud.as_ref(), stack_name, [&ext, &int], &names).await?;
    // What hawaf itself holds down counts at once, like the guardrail counts it:
    // the load balancer may not have noticed yet, and a drill would undo it.
    let held: Vec<String> = app
        .store
        .holds(stack.row.id)
        .await?
        .into_iter()
        .filter(|h| names.iter().any(|(id, name)| *name == h.node && *id == h.instance_id))
        .map(|h| format!("{} ({})", h.node, node::Hold::parse(&h.hold).map_or(h.hold.as_str(), |x| x.describe())))
        .collect();
    if !held.is_empty() {
        return Err(DrillError::Unhealthy {
            stack: stack_name.to_owned(),
            reason: format!("hawaf has taken {} down: bring it back first", held.join(", ")),
        });
    }

    let url = match provider {
        Provider::Lab => app.providers.lab().lb_url(&ext).ok_or_else(|| DrillError::Unhealthy {
            stack: stack_name.to_owned(),
            reason: format!("{ext} does not listen"),
        })?,
        Provider::Aws => {
            let lbs = cloud
                .describe_load_balancers(std::slice::from_ref(&ext))
                .await
                .map_err(|e| DrillError::Provider(format!("{ext}: {e}")))?;
            let dns =
                lbs.first().map(|l| l.dns_name.clone()).ok_or_else(|| DrillError::NotBuilt(stack_name.to_owned()))?;
            format!("http://{dns}/")
        }
    };
    let hc = def.health_check();
    let (interval_ms, timeout_ms) = match provider {
        Provider::Lab => {
            let lab = app.providers.lab().config();
            (lab.scaled(hc.interval()).as_millis() as u64, lab.scaled(hc.timeout()).as_millis() as u64)
        }
        Provider::Aws => (u64::from(hc.interval()) * 1000, u64::from(hc.timeout()) * 1000),
    };
    let share = scenario.failing_share(provider);
    let budget = Budget::for_check(rate, interval_ms, timeout_ms, hc.unhealthy_threshold(), share);
    let plan: Vec<Vec<Target>> = scenario
        .rounds
        .iter()
        .map(|round| {
            round
                .steps
                .iter()
                .filter_map(|s| ids.iter().find(|(r, _, _)| *r == s.target).map(|(_, id, name)| (s, id, name)))
                .map(|(s, id, name)| Target {
                    name: name.clone(),
                    instance_id: id.clone(),
                    lb: if s.target.is_waf() { ext.clone() } else { int.clone() },
                    injection: s.injection(provider),
                    web: s.target.is_web(),
                })
                .collect()
        })
        .collect();
    let servers = [
        def.instance(InstanceRole::WebLeft).name().to_string(),
        def.instance(InstanceRole::WebRight).name().to_string(),
    ];
    let settings = Settings {
        rate,
        baseline_ms,
        hold_ms,
        verify_ms,
        phase_timeout_ms,
        expect: scenario.expect,
        servers,
        rounds: plan
            .iter()
            // A round with a web server down is checked for strays (its
            // WAF nodes never appear in the answers, so they add nothing).
            .map(|r| RoundInfo { nodes: r.iter().map(|t| t.name.clone()).collect(), web: r.iter().any(|t| t.web) })
            .collect(),
        budget,
        target_url: url,
        // A custom drill's hypothesis sets the floor it is judged by.
        policy: match (
            super::policy::of(&app.store, stack.row.id).await?,
            hypothesis.and_then(|h| h.availability_floor),
        ) {
            (p, None) => p,
            (p, Some(floor)) => {
                Some(crate::contract::Policy { availability_floor: Some(floor), ..p.unwrap_or_default() })
            }
        },
        scenario: Some(scenario.clone()),
    };
    let settings_json = serde_json::to_string(&settings).map_err(|e| DrillError::Provider(e.to_string()))?;
    let id = match app.store.create_drill(stack.row.id, &scenario.id, actor, trigger.as_str(), &settings_json).await {
        Ok(NewDrill::Created(id)) => id,
        Ok(NewDrill::Running(id)) => return Err(DrillError::AlreadyRunning { stack: stack_name.to_owned(), id }),
        Ok(NewDrill::LeverEngaged { reason, actor }) => return Err(DrillError::LeverEngaged { reason, actor }),
        // Lost a race with another start: the unique index caught it.
        Err(StoreError::Duplicate(_)) => {
            return Err(DrillError::AlreadyRunning { stack: stack_name.to_owned(), id: 0 });
        }
        Err(e) => return Err(e.into()),
    };
    crate::webhook::emit_later(
        &app.store,
        "drill.started",
        json!({"stack": stack_name, "drill_id": id, "scenario": scenario.id, "trigger": trigger.as_str(), "started_by": actor}),
        format!("Drill #{id} ({} {}) started on {stack_name} by {actor}", scenario.id, scenario.title),
    );
    let halt = app.drills.register(id);
    let (phase_tx, _) = watch::channel(0usize);
    let run = Run {
        app: app.clone(),
        id,
        scenario: scenario.id.clone(),
        stack: stack_name.to_owned(),
        actor: format!("{actor} (drill {id})"),
        // Confirmation was checked above for every scenario that needs it.
        outage: scenario.expect == Expectation::Outage && scenario.needs_confirmation(provider),
        holds: scenario.rounds.iter().map(|r| r.hold_ms.unwrap_or(hold_ms)).collect(),
        settings,
        plan,
        poll: if provider == Provider::Lab { Duration::from_millis(50) } else { Duration::from_secs(1) },
        timeline: Timeline::default(),
        phase_tx,
        halt,
        health: None,
    };
    app.bus.publish(Event::DrillProgress { stack: stack_name.to_owned(), drill_id: id });
    let app = app.clone();
    // A supervisor: even a panicking runner leaves nothing broken behind.
    tokio::spawn(async move {
        if let Err(e) = tokio::spawn(run.execute()).await {
            tracing::error!(drill = id, error = %e, "drill runner failed; restoring");
            if let Err(e) = restore::undo_all(&app, id, "hawaf (drill supervisor)").await {
                tracing::error!(drill = id, error = %e, "cannot restore after a failed runner");
            }
            let reasons = json!([[false, format!("the drill runner failed: {e}")]]).to_string();
            if let Err(e) = app.store.finish_drill(id, DrillStatus::Aborted, Some(Verdict::Fail), &reasons).await {
                tracing::error!(drill = id, error = %e, "cannot record the failed drill");
            }
            app.drills.unregister(id);
        }
    });
    Ok(id)
}

/// Why a run stopped before its end.
enum Stop {
    Halted,
    Failed(String),
}

struct Run {
    app: SharedApp,
    id: i64,
    scenario: String,
    stack: String,
    actor: String,
    /// The scenario declares an outage and the operator confirmed it, so its
    /// steps may take a tier's last path down (the guardrail allows it).
    outage: bool,
    settings: Settings,
    plan: Vec<Vec<Target>>,
    /// Each round's hold (a custom drill's step may set its own).
    holds: Vec<u64>,
    poll: Duration,
    timeline: Timeline,
    phase_tx: watch::Sender<usize>,
    halt: watch::Receiver<bool>,
    /// The stack's health monitor: detection and recovery are read from its
    /// snapshots, so a drill's marks are the transitions the ops view shows.
    health: Option<watch::Receiver<Option<Arc<Snapshot>>>>,
}

impl Run {
    async fn save_timeline(&self) {
        match serde_json::to_string(&self.timeline) {
            Ok(text) => {
                if let Err(e) = self.app.store.set_drill_timeline(self.id, &text).await {
                    tracing::error!(drill = self.id, error = %e, "cannot save the drill timeline");
                }
            }
            Err(e) => tracing::error!(drill = self.id, error = %e, "cannot serialise the drill timeline"),
        }
        self.app.bus.publish(Event::DrillProgress { stack: self.stack.clone(), drill_id: self.id });
    }

    fn close_phase(&mut self) {
        let now = now_ms();
        if let Some(last) = self.timeline.phases.last_mut()
            && last.end.is_none()
        {
            last.end = Some(now);
        }
    }

    async fn begin_phase(&mut self, name: String, kind: PhaseKind, round: Option<usize>) {
        self.close_phase();
        crate::webhook::emit_later(
            &self.app.store,
            "drill.phase",
            json!({"stack": self.stack, "drill_id": self.id, "scenario": self.scenario, "phase": name}),
            format!("Drill #{} ({}) on {}: {name}", self.id, self.scenario, self.stack),
        );
        self.timeline.phases.push(PhaseSpan { name, kind, round, start: now_ms(), end: None });
        // The prober tags each probe with the phase it was sent in.
        let _ = self.phase_tx.send(self.timeline.phases.len() - 1);
        self.save_timeline().await;
    }

    async fn mark(&mut self, kind: MarkKind, round: usize) -> i64 {
        self.mark_at(kind, round, now_ms()).await
    }

    async fn mark_at(&mut self, kind: MarkKind, round: usize, at: i64) -> i64 {
        self.timeline.marks.push(super::Mark { kind, round, at });
        self.save_timeline().await;
        at
    }

    /// Waits one poll interval, returning at once when halted or when the
    /// health monitor publishes a new snapshot.
    async fn tick(&mut self) -> Result<(), Stop> {
        let health_changed = async {
            match self.health.as_mut() {
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        // The monitor was restarted (an edit, a rebuild), or it ended:
                        // subscribe again at the next read, and do not spin meanwhile.
                        self.health = None;
                        tokio::time::sleep(self.poll).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.halt.changed() => {}
            _ = health_changed => {}
            _ = tokio::time::sleep(self.poll) => {}
        }
        if *self.halt.borrow() { Err(Stop::Halted) } else { Ok(()) }
    }

    /// The availability floor: a continuity drill stops once a fault has
    /// cost more failed requests than its detection window allows.
    fn check_floor(&self, prober: &Prober, fault_phase_start: Option<i64>) -> Result<(), Stop> {
        let Some(since) = fault_phase_start else { return Ok(()) };
        if self.settings.expect != Expectation::Continuity {
            return Ok(());
        }
        let (failed, requests) = {
            let log = prober.log();
            (log.failures_since(since), log.requests_since(since))
        };
        // A policy's floor lets that share of requests fail beyond the budget.
        let allowed = self.settings.budget.allowed_failures + super::policy::floor_slack(&self.settings, requests);
        if failed > allowed {
            return Err(Stop::Failed(format!(
                "stop condition: {failed} failed requests since the fault, more than the {allowed} the detection window allows"
            )));
        }
        Ok(())
    }

    async fn pause(&mut self, ms: u64, prober: &Prober, floor_since: Option<i64>) -> Result<(), Stop> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while tokio::time::Instant::now() < deadline {
            self.tick().await?;
            self.check_floor(prober, floor_since)?;
        }
        Ok(())
    }

    /// The latest snapshot of the stack's health monitor, started if it is not
    /// running (it is for every built stack; a restart of it is followed).
    fn snapshot(&mut self) -> Option<Arc<Snapshot>> {
        if self.health.as_ref().is_none_or(|rx| rx.has_changed().is_err()) {
            crate::health::ensure(&self.app, &self.stack);
            self.health = self.app.health.subscribe(&self.stack);
        }
        self.health.as_mut().and_then(|rx| rx.borrow_and_update().clone())
    }

    /// Each target's state and since when, as the health monitor saw it in
    /// a poll that started at `fresh_since` or later (an older snapshot says
    /// nothing about a fault injected after it).
    fn states(&mut self, targets: &[Target], fresh_since: i64) -> Result<Vec<(HealthState, i64)>, String> {
        let snap = self.snapshot().ok_or("the health monitor has no reading yet")?;
        if snap.polled_at < fresh_since {
            return Err("the health monitor has not polled since the change".into());
        }
        targets
            .iter()
            .map(|t| {
                let tier = [&snap.external, &snap.internal]
                    .into_iter()
                    .find(|tier| tier.lb == t.lb)
                    .ok_or_else(|| format!("the health monitor does not watch {}", t.lb))?;
                let row = tier.instances.iter().find(|i| i.id == t.instance_id);
                Ok(row.map_or((HealthState::Unknown, snap.polled_at), |i| (HealthState::parse(&i.state), i.since)))
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| match &snap.error {
                Some(poll) => format!("{e} ({poll})"),
                None => e,
            })
    }

    /// Follows the health monitor until every target is `want` (and, coming
    /// back, serving again), within the phase time limit. Returns when the
    /// monitor saw the last target change: the transition's own time.
    async fn wait_for(
        &mut self,
        round: usize,
        want: HealthState,
        prober: &Prober,
        floor_since: Option<i64>,
        serving_since: Option<i64>,
    ) -> Result<i64, Stop> {
        let targets = self.plan[round].clone();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(self.settings.phase_timeout_ms);
        let fresh_since = floor_since.or(serving_since).unwrap_or(0);
        let mut in_service_at: Option<i64> = None;
        loop {
            // A monitor without a reading (or a load balancer it cannot read)
            // is waited for until the time limit.
            let states = self.states(&targets, fresh_since);
            if let Ok(states) = &states
                && states.iter().all(|(s, _)| *s == want)
            {
                let changed_at = states.iter().map(|(_, since)| *since).max().unwrap_or_else(now_ms);
                let Some(restored_at) = serving_since else { return Ok(changed_at) };
                let seen = *in_service_at.get_or_insert_with(now_ms);
                let log = prober.log();
                // Traffic on the node again: a web server is named in an answer; a
                // WAF node cannot be told apart, so any good answer after it is back.
                let serving = targets.iter().all(|t| {
                    if t.web { log.served_since(restored_at, Some(&t.name)) } else { log.served_since(seen, None) }
                });
                if serving {
                    return Ok(now_ms());
                }
            }
            if tokio::time::Instant::now() >= deadline {
                let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
                let last = match states {
                    Ok(s) => s.iter().map(|(x, _)| x.as_str()).collect::<Vec<_>>().join(", "),
                    Err(e) => e,
                };
                return Err(Stop::Failed(format!(
                    "time limit: {} not {} (and serving) within {} ms; last seen: {last}",
                    names.join(" + "),
                    want.as_str(),
                    self.settings.phase_timeout_ms
                )));
            }
            self.tick().await?;
            self.check_floor(prober, floor_since)?;
        }
    }

    async fn phases(&mut self, prober: &Prober) -> Result<(), Stop> {
        self.begin_phase("baseline".into(), PhaseKind::Baseline, None).await;
        self.pause(self.settings.baseline_ms, prober, None).await?;
        for round in 0..self.plan.len() {
            let names = self.plan[round].iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(" + ");
            self.begin_phase(format!("detect {names}"), PhaseKind::Detect, Some(round)).await;
            let fault_start = now_ms();
            for t in self.plan[round].clone() {
                restore::inject(&self.app, self.id, &self.stack, &t.name, t.injection, self.outage, &self.actor)
                    .await
                    .map_err(|e| {
                        Stop::Failed(format!("cannot inject {} on {}: {e}", t.injection.as_string(), t.name))
                    })?;
            }
            let fault_at = self.mark(MarkKind::Fault, round).await;
            let seen = self.wait_for(round, HealthState::OutOfService, prober, Some(fault_start), None).await?;
            // The monitor's transition time, which the ops view shows too.
            self.mark_at(MarkKind::Detected, round, seen.max(fault_at)).await;
            self.begin_phase(format!("hold {names}"), PhaseKind::Hold, Some(round)).await;
            let hold = self.holds.get(round).copied().unwrap_or(self.settings.hold_ms);
            self.pause(hold, prober, Some(fault_start)).await?;
            self.begin_phase(format!("recover {names}"), PhaseKind::Recover, Some(round)).await;
            let failures = restore::undo_all(&self.app, self.id, &self.actor)
                .await
                .map_err(|e| Stop::Failed(format!("cannot read the restore log: {e}")))?;
            if !failures.is_empty() {
                return Err(Stop::Failed(format!("restore failed: {}", failures.join("; "))));
            }
            let restored_at = self.mark(MarkKind::Restore, round).await;
            let back = self.wait_for(round, HealthState::InService, prober, None, Some(restored_at)).await?;
            self.mark_at(MarkKind::Recovered, round, back).await;
        }
        self.begin_phase("verify".into(), PhaseKind::Verify, None).await;
        self.pause(self.settings.verify_ms, prober, None).await
    }

    async fn execute(mut self) {
        let cfg = ProberConfig {
            drill_id: self.id,
            stack: self.stack.clone(),
            url: self.settings.target_url.clone(),
            rate: self.settings.rate,
            servers: self.settings.servers.clone(),
        };
        let outcome = match Prober::start(self.app.clone(), cfg, self.phase_tx.subscribe()) {
            Ok(prober) => {
                let outcome = self.phases(&prober).await;
                // Restore at once on every way out (a no-op after a clean run),
                // while still probing, so the report shows what the restore did.
                let failures = restore::undo_all(&self.app, self.id, &self.actor).await;
                self.close_phase();
                self.save_timeline().await;
                prober.stop().await;
                match failures {
                    Ok(f) if f.is_empty() => outcome,
                    Ok(f) => Err(Stop::Failed(format!("restore failed: {}", f.join("; ")))),
                    Err(e) => Err(Stop::Failed(format!("cannot read the restore log: {e}"))),
                }
            }
            Err(e) => Err(Stop::Failed(format!("cannot start the prober: {e}"))),
        };
        if let Err(e) = self.finish(outcome).await {
            tracing::error!(drill = self.id, error = %e, "cannot record the end of a drill");
        }
        self.app.drills.unregister(self.id);
    }

    async fn finish(&self, outcome: Result<(), Stop>) -> Result<(), StoreError> {
        let probes = self.app.store.drill_probes(self.id).await?;
        let figures = report::figures(&self.settings, &self.timeline, &probes);
        let restored = self.app.store.pending_restores(Some(self.id)).await?.is_empty();
        let (status, mut pass, mut checks) = match outcome {
            Ok(()) => {
                let (pass, checks) = report::verdict(&self.settings, &figures);
                (DrillStatus::Finished, Some(pass), checks)
            }
            Err(Stop::Halted) => {
                (DrillStatus::Halted, None, vec![Check { ok: false, text: "halted before the end: not judged".into() }])
            }
            Err(Stop::Failed(why)) => {
                crate::webhook::emit_later(
                    &self.app.store,
                    "drill.deviated",
                    json!({"stack": self.stack, "drill_id": self.id, "scenario": self.scenario, "reason": why}),
                    format!("Drill #{} ({}) on {} stopped: {why}", self.id, self.scenario, self.stack),
                );
                let (_, mut checks) = report::verdict(&self.settings, &figures);
                checks.insert(0, Check { ok: false, text: why });
                (DrillStatus::Aborted, Some(false), checks)
            }
        };
        if !restored {
            checks.insert(0, Check { ok: false, text: "some faults could not be restored: see the audit log".into() });
            pass = pass.map(|_| false);
        }
        let verdict = pass.map(|p| if p { Verdict::Pass } else { Verdict::Fail });
        let reasons: Vec<(bool, &str)> = checks.iter().map(|c| (c.ok, c.text.as_str())).collect();
        let reasons = serde_json::to_string(&reasons).unwrap_or_else(|_| "[]".into());
        self.app.store.finish_drill(self.id, status, verdict, &reasons).await?;
        let summary = json!({
            "mttd_ms": figures.mttd_ms, "mttr_ms": figures.mttr_ms,
            "failed": figures.total.requests - figures.total.ok, "availability": figures.total.availability,
        });
        self.app.store.set_drill_summary(self.id, &summary.to_string()).await?;
        let detail = format!(
            "drill {} ({}): {status}, verdict {}, availability {}%, mttd {:?} ms, mttr {:?} ms",
            self.id,
            self.scenario,
            verdict.map_or("none", Verdict::as_str),
            figures.total.availability,
            figures.mttd_ms,
            figures.mttr_ms
        );
        let outcome = verdict.map_or(status.as_str(), Verdict::as_str);
        self.app
            .store
            .audit(NewAudit { actor: &self.actor, action: "drill.finish", target: &self.stack, outcome, detail })
            .await?;
        let event = if status == DrillStatus::Halted { "drill.halted" } else { "drill.finished" };
        crate::webhook::emit_later(
            &self.app.store,
            event,
            json!({
                "stack": self.stack, "drill_id": self.id, "scenario": self.scenario, "status": status.as_str(),
                "verdict": verdict.map(Verdict::as_str), "availability": figures.total.availability,
                "mttd_ms": figures.mttd_ms, "mttr_ms": figures.mttr_ms, "restored": restored,
            }),
            format!(
                "Drill #{} ({}) on {}: {status}, verdict {}",
                self.id,
                self.scenario,
                self.stack,
                verdict.map_or("none", Verdict::as_str)
            ),
        );
        self.app.bus.publish(Event::DrillFinished { stack: self.stack.clone(), drill_id: self.id });
        Ok(())
    }
}

/// Stops a running drill at once; its runner restores what it changed.
pub async fn halt(app: &SharedApp, id: i64, actor: &str) -> Result<(), DrillError> {
    let row = app.store.drill(id).await?.ok_or(DrillError::NoSuchDrill(id))?;
    let result = if !row.is_running() {
        Err(DrillError::NotRunning { id, status: row.status.clone() })
    } else if app.drills.halt(id) {
        Ok(())
    } else {
        // Running in the database but not in this process: restore it here.
        let failures = restore::undo_all(app, id, actor).await?;
        let reasons = json!([[false, "halted; its runner was gone"]]).to_string();
        app.store.finish_drill(id, DrillStatus::Halted, None, &reasons).await?;
        if failures.is_empty() { Ok(()) } else { Err(DrillError::Provider(failures.join("; "))) }
    };
    let (outcome, detail) = match &result {
        Ok(()) => ("ok", format!("drill {id} ({}) halted", row.scenario)),
        Err(e) => ("refused", e.to_string()),
    };
    let entry = NewAudit { actor, action: "drill.halt", target: &row.stack, outcome, detail };
    if let Err(e) = app.store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
    result
}
