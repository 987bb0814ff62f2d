//! An adoption as a build: the resources a stack built by hand is made of,
//! tagged and recorded step by step, with every call in the build's log, so
//! the wizard, the call log and everything that reads "what the builds
//! recorded" (health, drift, teardown) see it like a stack hawaf built.

use std::collections::BTreeSet;

use serde_json::Value;

use super::ctx::Ctx;
use super::{APPLY_STEPS, BuildError, StepError, set_status};
use crate::SharedApp;
use crate::cloud::{ResourceKind, Tags};
use crate::contract::{BuildStatus, StepStatus};
use crate::events::Event;
use crate::stack;
use crate::store::NewAudit;

/// One resource to take over: where it is recorded and what to tag it with.
#[derive(Debug, Clone)]
pub struct Take {
    pub step: u8,
    pub logical: String,
    pub kind: ResourceKind,
    pub id: String,
    pub tags: Tags,
    pub attributes: Value,
}

/// Records `takes` as a build of kind `adopt` of the stack's current
/// version and answers its id once it has ended. It runs in its own task, so
/// a request that goes away does not leave it half-recorded.
pub async fn adopt(app: &SharedApp, stack_name: &str, takes: Vec<Take>, actor: &str) -> Result<i64, BuildError> {
    let stack = stack::load(&app.store, stack_name).await?;
    let cloud = app.providers.cloud_for(&stack.definition).map_err(BuildError::Provider)?;
    let specs: Vec<(u8, &str)> = APPLY_STEPS.iter().map(|s| (s.number, s.title)).collect();
    let build_id =
        match app.store.create_build(stack.row.id, stack.row.current_version, "adopt", actor, &specs, None).await? {
            Ok(id) => id,
            Err(running) => return Err(BuildError::AlreadyRunning { stack: stack_name.to_owned(), build_id: running }),
        };
    // Marked before the first resource is recorded: whatever a failed
    // adoption took over was still built by hand, and its teardown must ask.
    app.store.set_adopted(stack.row.id, Some(crate::store::now_ms())).await?;
    app.bus.publish(Event::BuildStarted { stack: stack_name.to_owned(), build_id, kind: "adopt".to_owned() });
    let ctx = Ctx::new(app, stack, build_id, cloud, true);
    let actor = actor.to_owned();
    let task = tokio::spawn(async move { run(ctx, takes, actor).await });
    match task.await {
        Ok(Ok(())) => Ok(build_id),
        Ok(Err(message)) => Err(BuildError::AdoptionFailed { build_id, message }),
        Err(e) => Err(BuildError::AdoptionFailed { build_id, message: format!("it stopped unexpectedly: {e}") }),
    }
}

async fn run(ctx: Ctx, takes: Vec<Take>, actor: String) -> Result<(), String> {
    let steps: BTreeSet<u8> = APPLY_STEPS.iter().map(|s| s.number).collect();
    let mut failure: Option<(u8, String)> = None;
    for number in steps {
        if failure.is_some() {
            set_status(&ctx, number, StepStatus::Skipped, None).await;
            continue;
        }
        set_status(&ctx, number, StepStatus::Running, None).await;
        let step = ctx.for_step(number);
        match take_step(&step, takes.iter().filter(|t| t.step == number)).await {
            Ok(()) => set_status(&ctx, number, StepStatus::Succeeded, None).await,
            Err(e) => {
                let message = e.to_string();
                set_status(&ctx, number, StepStatus::Failed, Some(&message)).await;
                failure = Some((number, message));
            }
        }
    }
    let store = &ctx.app.store;
    let (status, error) = match &failure {
        None => (BuildStatus::Succeeded, None),
        Some((n, m)) => (BuildStatus::Failed, Some(format!("step {n}: {m}"))),
    };
    if let Err(e) = store.finish_build(ctx.build_id, status, error.as_deref()).await {
        tracing::error!(build = ctx.build_id, error = %e, "cannot record the end of an adoption");
    }
    let detail = error.clone().unwrap_or_else(|| format!("build {}: {} resources", ctx.build_id, takes.len()));
    let outcome = if status == BuildStatus::Succeeded { "ok" } else { "failed" };
    let entry = NewAudit { actor: &actor, action: "stack.adopt", target: &ctx.stack, outcome, detail };
    if let Err(e) = store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
    // What was recorded is watched, whether or not every step got through.
    crate::health::ensure(&ctx.app, &ctx.stack);
    ctx.app.bus.publish(Event::BuildFinished {
        stack: ctx.stack.to_string(),
        build_id: ctx.build_id,
        status: status.as_str().to_owned(),
        error: error.clone(),
    });
    error.map_or(Ok(()), Err)
}

async fn take_step<'a>(ctx: &Ctx, takes: impl Iterator<Item = &'a Take>) -> Result<(), StepError> {
    let mut names = Vec::new();
    for t in takes {
        if !t.tags.is_empty() {
            let label =
                format!("{} {}", t.id, t.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
            let operation = if t.kind == ResourceKind::LoadBalancer { "AddTags" } else { "CreateTags" };
            ctx.call(operation, label, ctx.cloud.create_tags(t.kind, &t.id, &t.tags)).await?;
        }
        ctx.record(&t.logical, &t.id, t.attributes.clone()).await?;
        names.push(t.logical.clone());
    }
    let text = match (ctx.step, names.is_empty()) {
        (8, _) => "the WAF nodes' UTM configuration is kept as found (step 8 configures it anew)".to_owned(),
        (_, true) => "nothing to take over".to_owned(),
        (_, false) => format!("took over {}", names.join(", ")),
    };
    ctx.progress(text).await
}
