//! The build engine: the seed's eight console steps as code. A build applies
//! one version of a stack's definition (or destroys it); steps run as soon
//! as what they need is done, so independent work proceeds in parallel.

mod adopt;
pub use adopt::{Take, adopt};
mod apply;
pub use apply::{lb_key, previous_lb_id, seed_rules, web_user_data};
mod ctx;
pub mod plan;
mod teardown;
mod waf_config;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use ctx::Ctx;
pub use ctx::Timing;

use crate::SharedApp;
use crate::cloud::CloudError;
use crate::contract::{BuildKind, BuildStatus, StepStatus};
use crate::events::Event;
use crate::stack::{self, LbRole, Provider};
use crate::store::{NewAudit, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Apply,
    Destroy,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Apply => "apply",
            Kind::Destroy => "destroy",
        }
    }
}

/// A step of a build: its number and title, the steps it needs first, and
/// what it will create (the plan shown before any call).
pub struct StepSpec {
    pub number: u8,
    pub title: &'static str,
    pub needs: &'static [u8],
}

/// Security groups need only the VPC, and the WAF nodes need not wait for
/// the internal LB's health: the graph lets both run alongside.
pub const APPLY_STEPS: [StepSpec; 8] = [
    StepSpec { number: 1, title: "VPC", needs: &[] },
    StepSpec { number: 2, title: "Subnets", needs: &[1] },
    StepSpec { number: 3, title: "Security groups", needs: &[1] },
    StepSpec { number: 4, title: "Web content servers", needs: &[2, 3] },
    StepSpec { number: 5, title: "Internal load balancer", needs: &[4] },
    StepSpec { number: 6, title: "WAF nodes", needs: &[2, 3] },
    StepSpec { number: 7, title: "External load balancer", needs: &[6] },
    StepSpec { number: 8, title: "WAF configuration", needs: &[5, 7] },
];

/// Teardown runs the same steps backwards; each undoes what its number made.
pub const DESTROY_STEPS: [StepSpec; 8] = [
    StepSpec { number: 8, title: "WAF configuration", needs: &[] },
    StepSpec { number: 7, title: "External load balancer", needs: &[8] },
    StepSpec { number: 6, title: "WAF nodes", needs: &[7] },
    StepSpec { number: 5, title: "Internal load balancer", needs: &[8] },
    StepSpec { number: 4, title: "Web content servers", needs: &[5] },
    StepSpec { number: 3, title: "Security groups", needs: &[4, 6] },
    StepSpec { number: 2, title: "Subnets", needs: &[3] },
    StepSpec { number: 1, title: "VPC", needs: &[2] },
];

pub fn steps(kind: Kind) -> &'static [StepSpec; 8] {
    match kind {
        Kind::Apply => &APPLY_STEPS,
        Kind::Destroy => &DESTROY_STEPS,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("{operation} {target} failed: {error}")]
    Cloud { operation: &'static str, target: String, error: CloudError },
    #[error("gave up waiting for {what} after {} s (last seen: {last})", after.as_secs())]
    Timeout { what: String, after: Duration, last: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0} has not been created yet: run the step that creates it first")]
    Missing(String),
    #[error("WAF node {node}: {message}")]
    Waf { node: String, message: String },
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    #[error("the step stopped unexpectedly: {0}")]
    Crashed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Stack(#[from] stack::StackError),
    #[error("stack {stack} already has build {build_id} running")]
    AlreadyRunning { stack: String, build_id: i64 },
    #[error("{0}")]
    Provider(String),
    #[error("{0}")]
    Refused(String),
    #[error("drill {drill_id} is running on {stack}: halt it or wait for it to end")]
    DrillRunning { stack: String, drill_id: i64 },
    #[error("{0}'s WAF nodes are being replaced one at a time: wait for the run to end")]
    MigrationRunning(String),
    #[error(
        "load balancer name {lb} is already used by stack {other}, which is built in the same {place}: \
         names are unique there (as on AWS), so rename this stack's load balancer or tear {other} down first"
    )]
    NameTaken { lb: String, other: String, place: String },
    /// What would happen needs the stack's name typed to go ahead.
    #[error("{0}")]
    NeedsConfirm(String),
    #[error("adoption build {build_id} failed: {message}")]
    AdoptionFailed { build_id: i64, message: String },
    #[error("there is no step {0}: steps are numbered 1 to 8")]
    NoSuchStep(u8),
    #[error("there is no build {0}")]
    NoSuchBuild(i64),
    #[error("build {0} is not interrupted or failed, so there is nothing to resume")]
    NotResumable(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts a build of `kind` for a stack's current version, in the background;
/// returns its id at once.
pub async fn start(app: &SharedApp, stack_name: &str, kind: Kind, actor: &str) -> Result<i64, BuildError> {
    begin(app, stack_name, kind, actor, None, None).await
}

/// Starts a teardown. An adopted stack's deletes what hawaf did not create,
/// so it needs the stack's name typed as `confirm`, as the console asks
/// before deleting a VPC.
pub async fn destroy(app: &SharedApp, stack_name: &str, confirm: Option<&str>, actor: &str) -> Result<i64, BuildError> {
    let stack = stack::load(&app.store, stack_name).await?;
    if stack.row.adopted_at.is_some() && confirm != Some(stack_name) {
        return Err(BuildError::NeedsConfirm(format!(
            "stack {stack_name} was adopted: its teardown deletes resources that were built by hand, \
             not by hawaf; send confirm = \"{stack_name}\" to go ahead"
        )));
    }
    start(app, stack_name, Kind::Destroy, actor).await
}

/// Runs one apply step alone (the wizard's per-step button). What it needs
/// must already exist; if not, the step says which resource is missing.
pub async fn start_step(app: &SharedApp, stack_name: &str, step: u8, actor: &str) -> Result<i64, BuildError> {
    if !(1..=8).contains(&step) {
        return Err(BuildError::NoSuchStep(step));
    }
    begin(app, stack_name, Kind::Apply, actor, None, Some(BTreeSet::from([step]))).await
}

/// Runs some apply steps (a reconcile: the steps that own drifted
/// resources), each once its needs among them are done; what they need
/// outside the set must exist.
pub async fn start_steps(
    app: &SharedApp,
    stack_name: &str,
    only: BTreeSet<u8>,
    actor: &str,
) -> Result<i64, BuildError> {
    if let Some(bad) = only.iter().find(|s| !(1..=8).contains(*s)) {
        return Err(BuildError::NoSuchStep(*bad));
    }
    begin(app, stack_name, Kind::Apply, actor, None, Some(only)).await
}

/// Continues an interrupted or failed build: a new build of the same kind
/// that adopts whatever the earlier one created.
pub async fn resume(app: &SharedApp, build_id: i64, actor: &str) -> Result<i64, BuildError> {
    let old = app.store.build(build_id).await?.ok_or(BuildError::NoSuchBuild(build_id))?;
    if !old.is_resumable() {
        return Err(BuildError::NotResumable(build_id));
    }
    // Resumed as an apply it would create and change what was built by hand.
    if BuildKind::parse(&old.kind) == Some(BuildKind::Adopt) {
        return Err(BuildError::NeedsConfirm(format!(
            "build {build_id} is an adoption: adopt the stack again (POST /api/v1/stacks/{}/adopt) to finish it",
            old.stack
        )));
    }
    let kind = if BuildKind::parse(&old.kind) == Some(BuildKind::Destroy) { Kind::Destroy } else { Kind::Apply };
    begin(app, &old.stack, kind, actor, Some(build_id), None).await
}

async fn begin(
    app: &SharedApp,
    stack_name: &str,
    kind: Kind,
    actor: &str,
    resumed_from: Option<i64>,
    only: Option<BTreeSet<u8>>,
) -> Result<i64, BuildError> {
    let stack = stack::load(&app.store, stack_name).await?;
    // A build (above all a teardown) would pull nodes out from under a drill's faults and restores.
    if let Some(d) = app.store.drills_of(stack.row.id, 1).await?.into_iter().find(|d| d.is_running()) {
        return Err(BuildError::DrillRunning { stack: stack_name.to_owned(), drill_id: d.id });
    }
    // The run launches, registers and records WAF nodes itself.
    if app.store.appliance_run_running(stack.row.id).await? {
        return Err(BuildError::MigrationRunning(stack_name.to_owned()));
    }
    if kind == Kind::Apply {
        names_are_free(app, &stack).await?;
    }
    let cloud = app.providers.cloud_for(&stack.definition).map_err(BuildError::Provider)?;
    let specs: Vec<(u8, &str)> = steps(kind).iter().map(|s| (s.number, s.title)).collect();
    let build_id = match app
        .store
        .create_build(stack.row.id, stack.row.current_version, kind.as_str(), actor, &specs, resumed_from)
        .await?
    {
        Ok(id) => id,
        Err(running) => {
            return Err(BuildError::AlreadyRunning { stack: stack_name.to_owned(), build_id: running });
        }
    };
    let mut detail = format!("build {build_id} of version {}", stack.row.current_version);
    if let Some(from) = resumed_from {
        detail.push_str(&format!(", resuming build {from}"));
    }
    match only.as_ref().map(|s| s.iter().map(u8::to_string).collect::<Vec<_>>()) {
        Some(one) if one.len() == 1 => detail.push_str(&format!(", step {} only", one[0])),
        Some(some) => detail.push_str(&format!(", steps {} only", some.join(", "))),
        None => {}
    }
    app.store
        .audit(NewAudit {
            actor,
            action: &format!("build.{}", kind.as_str()),
            target: stack_name,
            outcome: "started",
            detail,
        })
        .await?;
    app.bus.publish(Event::BuildStarted { stack: stack_name.to_owned(), build_id, kind: kind.as_str().to_owned() });
    let ctx = Ctx::new(app, stack, build_id, cloud, app.config.build_serial);
    let actor = actor.to_owned();
    tokio::spawn(async move { run(ctx, kind, only, actor).await });
    Ok(build_id)
}

/// Load-balancer names are unique per account and region, so a stack whose
/// names another stack with live resources already holds there would fail
/// at step 5 or 7, after minutes of work, with the cloud's terse
/// DuplicateLoadBalancerName. Refusing before the first call says which
/// stack holds the name.
async fn names_are_free(app: &SharedApp, stack: &stack::Stack) -> Result<(), BuildError> {
    let d = &stack.definition;
    let same_place = |o: &stack::StackDefinition| {
        o.provider() == d.provider() && (d.provider() == Provider::Lab || o.aws() == d.aws())
    };
    for other in stack::list(&app.store).await? {
        if other.row.id == stack.row.id || !other.is_built() || !same_place(&other.definition) {
            continue;
        }
        for mine in [LbRole::External, LbRole::Internal].map(|r| d.load_balancer(r)) {
            if [LbRole::External, LbRole::Internal].iter().any(|r| other.definition.load_balancer(*r) == mine) {
                return Err(BuildError::NameTaken {
                    lb: mine.to_string(),
                    other: other.row.name.clone(),
                    place: match d.provider() {
                        Provider::Lab => "lab".to_owned(),
                        Provider::Aws => format!("AWS region {}", d.region()),
                    },
                });
            }
        }
    }
    Ok(())
}

fn step_future(ctx: Ctx, kind: Kind, number: u8) -> BoxFuture<'static, (u8, Result<(), StepError>)> {
    async move {
        let result = match (kind, number) {
            (Kind::Apply, 1) => apply::vpc(&ctx).await,
            (Kind::Apply, 2) => apply::subnets(&ctx).await,
            (Kind::Apply, 3) => apply::security_groups(&ctx).await,
            (Kind::Apply, 4) => apply::web_servers(&ctx).await,
            (Kind::Apply, 5) => apply::internal_lb(&ctx).await,
            (Kind::Apply, 6) => apply::waf_nodes(&ctx).await,
            (Kind::Apply, 7) => apply::external_lb(&ctx).await,
            (Kind::Apply, _) => waf_config::configure(&ctx).await,
            (Kind::Destroy, 8) => teardown::waf_configuration(&ctx).await,
            (Kind::Destroy, 7) => teardown::load_balancer(&ctx, LbRole::External).await,
            (Kind::Destroy, 6) => teardown::instances(&ctx, "waf").await,
            (Kind::Destroy, 5) => teardown::load_balancer(&ctx, LbRole::Internal).await,
            (Kind::Destroy, 4) => teardown::instances(&ctx, "web").await,
            (Kind::Destroy, 3) => teardown::security_groups(&ctx).await,
            (Kind::Destroy, 2) => teardown::subnets(&ctx).await,
            (Kind::Destroy, _) => teardown::vpc(&ctx).await,
        };
        (number, result)
    }
    .boxed()
}

/// Runs the step graph: every step whose needs are met starts at once; after
/// a failure nothing new starts, what runs finishes, the rest is skipped.
async fn run(ctx: Ctx, kind: Kind, only: Option<BTreeSet<u8>>, actor: String) {
    let specs = steps(kind);
    let mut done: BTreeSet<u8> = BTreeSet::new();
    let mut started: BTreeSet<u8> = BTreeSet::new();
    let mut failures: BTreeMap<u8, String> = BTreeMap::new();
    let mut running = FuturesUnordered::new();
    loop {
        if failures.is_empty() {
            for spec in specs.iter() {
                // A serial build starts the next step only when nothing runs.
                if ctx.serial && !running.is_empty() {
                    break;
                }
                let ready = match &only {
                    Some(set) => {
                        set.contains(&spec.number)
                            && spec.needs.iter().filter(|n| set.contains(n)).all(|n| done.contains(n))
                    }
                    None => spec.needs.iter().all(|n| done.contains(n)),
                };
                if !started.contains(&spec.number) && ready {
                    started.insert(spec.number);
                    set_status(&ctx, spec.number, StepStatus::Running, None).await;
                    // Each step is its own task: the loop below awaits database writes,
                    // and a step polled only by this loop would stall meanwhile, holding
                    // whatever it had (a write transaction, say) and deadlocking both.
                    let number = spec.number;
                    let task = tokio::spawn(step_future(ctx.for_step(number), kind, number));
                    running.push(async move {
                        task.await.unwrap_or_else(|e| (number, Err(StepError::Crashed(e.to_string()))))
                    });
                }
            }
        }
        let Some((number, result)) = running.next().await else { break };
        match result {
            Ok(()) => {
                done.insert(number);
                set_status(&ctx, number, StepStatus::Succeeded, None).await;
            }
            Err(e) => {
                let message = e.to_string();
                tracing::warn!(stack = %ctx.stack, build = ctx.build_id, step = number, error = %message, "build step failed");
                set_status(&ctx, number, StepStatus::Failed, Some(&message)).await;
                failures.insert(number, message);
            }
        }
    }
    for spec in specs.iter().filter(|s| !started.contains(&s.number)) {
        set_status(&ctx, spec.number, StepStatus::Skipped, None).await;
    }
    let (status, error) = match failures.iter().next() {
        None => (BuildStatus::Succeeded, None),
        Some((number, message)) => (BuildStatus::Failed, Some(format!("step {number}: {message}"))),
    };
    let store = &ctx.app.store;
    if let Err(e) = store.finish_build(ctx.build_id, status, error.as_deref()).await {
        tracing::error!(build = ctx.build_id, error = %e, "cannot record the end of a build");
    }
    let _ = store
        .audit(NewAudit {
            actor: &actor,
            action: &format!("build.{}", kind.as_str()),
            target: &ctx.stack,
            outcome: if status == BuildStatus::Succeeded { "ok" } else { "failed" },
            detail: error.clone().unwrap_or_else(|| format!("build {}", ctx.build_id)),
        })
        .await;
    // A built stack is watched from now on; a torn-down one no longer.
    match (kind, status) {
        (Kind::Apply, _) => crate::health::ensure(&ctx.app, &ctx.stack),
        (Kind::Destroy, BuildStatus::Succeeded) => {
            ctx.app.health.stop(&ctx.stack);
            // Nothing adopted is left: a rebuild is hawaf's own.
            if let Err(e) = store.set_adopted(ctx.stack_id, None).await {
                tracing::error!(stack = %ctx.stack, error = %e, "cannot clear a stack's adoption mark");
            }
        }
        _ => {}
    }
    ctx.app.bus.publish(Event::BuildFinished {
        stack: ctx.stack.to_string(),
        build_id: ctx.build_id,
        status: status.as_str().to_owned(),
        error,
    });
}

async fn set_status(ctx: &Ctx, number: u8, status: StepStatus, error: Option<&str>) {
    if let Err(e) = ctx.app.store.set_step_status(ctx.build_id, number, status, error).await {
        tracing::error!(build = ctx.build_id, step = number, error = %e, "cannot record a step's status");
    }
    ctx.app.bus.publish(Event::StepChanged {
        stack: ctx.stack.to_string(),
        build_id: ctx.build_id,
        step: number,
        status: status.as_str().to_owned(),
        progress: String::new(),
        error: error.map(str::to_owned),
    });
}
