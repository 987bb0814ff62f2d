//! Drift: whether what the provider reports still matches the stack's
//! definition and what its builds recorded. A check reads every resource
//! the stack owns (and anything else carrying its tag), compares property by
//! property, stores the report, and tells the stack page, the audit log and
//! /metrics when the status changes. It runs on demand, before every drill,
//! and every `--drift-every` minutes for each built stack.

pub mod compare;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::cloud::{Cloud, CloudError, Filter, TAG_STACK, Tags};
use crate::contract::{DriftReport, DriftStatus, ResourceState};
use crate::events::{Bus, Event};
use crate::providers::Providers;
use crate::stack::{self, LbRole, Stack, StackError};
use crate::store::{NewAudit, Store, StoreError};
use compare::{Held, Live};

/// A check answers within this long, saying which calls did not.
pub const CHECK_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("stack {0} is not built, so nothing can have drifted")]
    NotBuilt(String),
    #[error("a build of {0} is running: what it has not made yet would look like drift; check once it ends")]
    BuildRunning(String),
    #[error("{0}")]
    Provider(String),
    #[error("the stored drift report of {stack} cannot be read: {reason}")]
    Corrupt { stack: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a check needs: the store, the providers, the bus. No more.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub store: &'a Store,
    pub providers: &'a Providers,
    pub bus: &'a Bus,
}

/// Calls made under one deadline; a failure or a timeout is noted, not fatal.
struct Bounded {
    deadline: Instant,
    errors: Vec<String>,
}

impl Bounded {
    async fn call<T>(&mut self, what: &str, fut: impl Future<Output = Result<T, CloudError>>) -> Option<T> {
        match tokio::time::timeout_at(self.deadline, fut).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) if e.is_not_found() => None,
            Ok(Err(e)) => {
                self.errors.push(format!("{what}: {e}"));
                None
            }
            Err(_) => {
                self.errors.push(format!("{what}: no answer within {} s", CHECK_LIMIT.as_secs()));
                None
            }
        }
    }
}

/// Everything tagged as the stack's, then by id what a record names but the
/// tag search did not find (its tag may be what drifted).
async fn gather(cloud: &dyn Cloud, stack: &Stack, ids: &HashMap<String, String>, b: &mut Bounded) -> Live {
    let ours = Filter::tags(Tags::from([(TAG_STACK.to_owned(), stack.row.name.clone())]));
    let recorded = |prefix: &str| -> Vec<String> {
        ids.iter().filter(|(l, _)| l.starts_with(prefix)).map(|(_, p)| p.clone()).collect()
    };
    macro_rules! both {
        ($what:literal, $describe:ident, $prefix:literal, $id:ident) => {{
            let mut found = b.call($what, cloud.$describe(&ours)).await.unwrap_or_default();
            let missing: Vec<String> =
                recorded($prefix).into_iter().filter(|r| !found.iter().any(|x| &x.$id == r)).collect();
            for missing in missing {
                if let Some(more) = b.call($what, cloud.$describe(&Filter::ids([missing]))).await {
                    found.extend(more);
                }
            }
            found
        }};
    }
    let mut live = Live {
        vpcs: both!("DescribeVpcs", describe_vpcs, "vpc", id),
        subnets: both!("DescribeSubnets", describe_subnets, "subnet/", id),
        route_tables: both!("DescribeRouteTables", describe_route_tables, "rtb/", id),
        groups: both!("DescribeSecurityGroups", describe_security_groups, "sg/", id),
        instances: both!("DescribeInstances", describe_instances, "instance/", id),
        addresses: both!("DescribeAddresses", describe_addresses, "eip/", allocation_id),
        load_balancers: Vec::new(),
    };
    // One name at a time: a missing one fails the whole call on AWS.
    for role in LbRole::ALL {
        let name = stack.definition.load_balancer(*role).as_str().to_owned();
        if let Some(found) = b.call("DescribeLoadBalancers", cloud.describe_load_balancers(&[name])).await {
            live.load_balancers.extend(found);
        }
    }
    live
}

fn status_of(report: &DriftReport) -> DriftStatus {
    if report.resources.iter().any(|r| r.state != ResourceState::InSync) {
        DriftStatus::Drifted
    } else if report.errors.is_empty() {
        DriftStatus::InSync
    } else {
        DriftStatus::Unknown
    }
}

/// Runs a check of `name` now, stores its report and answers it. A change
/// of status is audited (as `actor`) and published.
pub async fn check(deps: Deps<'_>, name: &str, actor: &str) -> Result<DriftReport, DriftError> {
    let stack = stack::load(deps.store, name).await?;
    if !stack.is_built() {
        return Err(DriftError::NotBuilt(name.to_owned()));
    }
    if deps.store.latest_build(stack.row.id).await?.is_some_and(|b| b.is_running()) {
        return Err(DriftError::BuildRunning(name.to_owned()));
    }
    let cloud = deps.providers.cloud_for(&stack.definition).map_err(DriftError::Provider)?;
    let ids: HashMap<String, String> =
        deps.store.live_resources(stack.row.id).await?.into_iter().map(|r| (r.logical_id, r.physical_id)).collect();
    let mut held = Held::default();
    for h in deps.store.holds(stack.row.id).await? {
        match h.hold.as_str() {
            "instance-stopped" => held.stopped.insert(h.instance_id),
            "isolated" => held.isolated.insert(h.instance_id),
            _ => false,
        };
    }
    let mut bounded = Bounded { deadline: Instant::now() + CHECK_LIMIT, errors: Vec::new() };
    let live = gather(cloud.as_ref(), &stack, &ids, &mut bounded).await;
    let mut resources = compare::compare(&stack.definition, &ids, &live, &held);
    // Drifted first, in the order checked.
    resources.sort_by_key(|r| r.state == ResourceState::InSync);
    let checked_at = crate::store::now_ms();
    let mut report = DriftReport {
        stack: name.to_owned(),
        status: DriftStatus::Unknown,
        checked_at: Some(crate::clock::rfc3339(checked_at)),
        resources,
        errors: bounded.errors,
    };
    report.status = status_of(&report);
    let json = serde_json::to_string(&report)
        .map_err(|e| DriftError::Corrupt { stack: name.into(), reason: e.to_string() })?;
    let previous = deps.store.save_drift(stack.row.id, checked_at, report.status.as_str(), &json).await?;
    if previous.as_deref() != Some(report.status.as_str()) {
        let drifted: BTreeSet<&str> =
            report.resources.iter().filter(|r| r.state != ResourceState::InSync).map(|r| r.resource.as_str()).collect();
        let detail = match report.status {
            DriftStatus::Drifted => format!("drifted: {}", drifted.into_iter().collect::<Vec<_>>().join(", ")),
            DriftStatus::Unknown => format!("unknown: {}", report.errors.join("; ")),
            DriftStatus::InSync => "in sync".to_owned(),
        };
        let entry = NewAudit { actor, action: "stack.drift", target: name, outcome: "ok", detail };
        deps.store.audit(entry).await?;
    }
    deps.bus.publish(Event::DriftChecked { stack: name.to_owned(), status: report.status.as_str().to_owned() });
    Ok(report)
}

/// The differences in one line: `sg/web: + ingress tcp/22 from 0.0.0.0/0; …`.
pub fn summary(report: &DriftReport) -> String {
    use crate::contract::DifferenceType as T;
    let mut parts = Vec::new();
    for r in report.resources.iter().filter(|r| r.state != ResourceState::InSync) {
        if r.differences.is_empty() {
            parts.push(format!("{} {}", r.resource, r.state));
        }
        for d in &r.differences {
            let what = match d.kind {
                T::Add => format!("+ {} {}", d.path, d.actual.as_deref().unwrap_or("")),
                T::Remove => format!("- {} {}", d.path, d.expected.as_deref().unwrap_or("")),
                T::NotEqual => format!(
                    "~ {} {} -> {}",
                    d.path,
                    d.expected.as_deref().unwrap_or(""),
                    d.actual.as_deref().unwrap_or("")
                ),
            };
            parts.push(format!("{}: {what}", r.resource));
        }
    }
    parts.join("; ")
}

/// The last check of `name`, or an `unknown` report if it was never checked.
pub async fn last(store: &Store, name: &str) -> Result<DriftReport, DriftError> {
    let stack = stack::load(store, name).await?;
    match store.drift(stack.row.id).await? {
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| DriftError::Corrupt { stack: name.into(), reason: e.to_string() })
        }
        None => Ok(DriftReport {
            stack: name.to_owned(),
            status: DriftStatus::Unknown,
            checked_at: None,
            resources: Vec::new(),
            errors: Vec::new(),
        }),
    }
}

/// The apply step that creates and owns a resource (by hawaf's name for it).
fn owning_step(resource: &str) -> Option<u8> {
    let kind = resource.split('/').next().unwrap_or(resource);
    match (kind, resource) {
        ("vpc" | "igw", _) | (_, "rtb/public") => Some(1),
        ("subnet" | "nat", _) | (_, "rtb/private") => Some(2),
        ("sg", _) => Some(3),
        ("instance" | "eip", r) if r.contains("web-") => Some(4),
        ("instance" | "eip", _) => Some(6),
        (_, "lb/internal") => Some(5),
        (_, "lb/external") => Some(7),
        _ => None,
    }
}

/// What a reconcile would do, from a report: the steps that own drifted
/// resources, and the differences no step puts back (an instance's type or
/// AMI: hawaf adopts a running instance rather than replace it; resources
/// tagged as the stack's that no build made).
pub fn plan(report: &DriftReport) -> (std::collections::BTreeSet<u8>, Vec<String>) {
    let mut steps = std::collections::BTreeSet::new();
    let mut cannot = Vec::new();
    for r in report.resources.iter().filter(|r| r.state != ResourceState::InSync) {
        match owning_step(&r.resource) {
            Some(step) => {
                steps.insert(step);
                for d in r.differences.iter().filter(|d| {
                    matches!(
                        d.path.as_str(),
                        "instance_type" | "image_id" | "private_ip" | "subnet" | "security_groups"
                    ) && r.resource.starts_with("instance/")
                }) {
                    cannot.push(format!(
                        "{} {}: replace the instance to change it (teardown and build)",
                        r.resource, d.path
                    ));
                }
            }
            None => cannot.push(format!("{} ({}): not made by hawaf; remove it by hand", r.name, r.resource)),
        }
    }
    (steps, cannot)
}

/// Puts back what the definition says: a fresh check, then a build of only
/// the steps that own drifted resources (step 3 also removes rules added to
/// hawaf's groups). Answers the build id and what no step can put back.
pub async fn reconcile(app: &crate::SharedApp, name: &str, actor: &str) -> Result<(i64, Vec<String>), ReconcileError> {
    let deps = Deps { store: &app.store, providers: &app.providers, bus: &app.bus };
    let report = check(deps, name, actor).await?;
    let (steps, cannot) = plan(&report);
    if steps.is_empty() {
        return Err(ReconcileError::Nothing { stack: name.to_owned(), status: report.status, cannot });
    }
    let id = crate::build::start_steps(app, name, steps, actor).await?;
    Ok((id, cannot))
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Drift(#[from] DriftError),
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
    #[error("stack {stack} is {status}: no build step has anything to put back{}", if cannot.is_empty() { String::new() } else { format!(" ({})", cannot.join("; ")) })]
    Nothing { stack: String, status: DriftStatus, cannot: Vec<String> },
}

/// The definition field a live value can be taken into, if any.
fn field_for(resource: &str, path: &str) -> Option<String> {
    if let Some(role) = resource.strip_prefix("instance/") {
        let field = match path {
            "instance_type" => "instance_type",
            "image_id" => "ami",
            "private_ip" => "private_ip",
            _ => return None,
        };
        return Some(format!("instances.{role}.{field}"));
    }
    if resource.starts_with("lb/") && path.starts_with("health_check.") {
        return Some(path.to_owned());
    }
    None
}

/// What accepting did: the new version (None if nothing could be taken)
/// and the differences left, with why.
pub struct Accepted {
    pub version: Option<i64>,
    pub accepted: Vec<String>,
    pub cannot: Vec<String>,
}

/// Takes the live values of the listed drifted resources into a new
/// version of the definition, where the definition can say them (an
/// instance's type, AMI or private IP; the health check). The rest is
/// listed with the reason; reconcile puts those back instead.
pub async fn accept(
    store: &Store,
    author: stack::Author<'_>,
    name: &str,
    resources: &[String],
) -> Result<Accepted, AcceptError> {
    let report = last(store, name).await?;
    let current = stack::load(store, name).await?;
    let mut draft = current.definition.to_draft();
    let (mut accepted, mut cannot) = (Vec::new(), Vec::new());
    for wanted in resources {
        let Some(r) = report.resources.iter().find(|r| &r.resource == wanted) else {
            return Err(AcceptError::UnknownResource(wanted.clone()));
        };
        if r.state != ResourceState::Modified {
            cannot.push(format!("{wanted} is {}: only a modified resource's values can be taken", r.state));
            continue;
        }
        for d in &r.differences {
            match (field_for(wanted, &d.path), &d.actual) {
                (Some(field), Some(actual)) => {
                    draft.set(&field, actual.clone());
                    accepted.push(format!("{field} = {actual}"));
                }
                _ => cannot.push(format!("{wanted} {}: the definition cannot say this; reconcile instead", d.path)),
            }
        }
    }
    if accepted.is_empty() {
        return Ok(Accepted { version: None, accepted, cannot });
    }
    let saved = stack::update(store, author, name, current.row.current_version, &draft).await?;
    let version = match saved {
        stack::Updated::NewVersion(s) | stack::Updated::Unchanged(s) => s.row.current_version,
    };
    Ok(Accepted { version: Some(version), accepted, cannot })
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Drift(#[from] DriftError),
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("the last drift check has no resource {0}: check again, then name one it lists")]
    UnknownResource(String),
}

/// After every apply build that ends, a check: the stack page and /metrics
/// say at once whether the build (a reconcile above all) left it in sync.
pub async fn after_builds(app: crate::SharedApp) {
    let mut rx = app.bus.subscribe();
    loop {
        match rx.recv().await {
            Ok(e) => {
                if let Event::BuildFinished { stack, .. } = e.as_ref() {
                    let built = stack::load(&app.store, stack).await.is_ok_and(|s| s.is_built());
                    if built {
                        let deps = Deps { store: &app.store, providers: &app.providers, bus: &app.bus };
                        if let Err(err) = check(deps, stack, "hawaf").await {
                            tracing::warn!(stack = %stack, error = %err, "drift check after a build failed");
                        }
                    }
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Checks every built stack every `every` (none when zero), the first time
/// one period after start.
pub async fn sweep(app: crate::SharedApp, every: Duration) {
    if every.is_zero() {
        return;
    }
    let mut tick = tokio::time::interval_at(Instant::now() + every, every);
    loop {
        tick.tick().await;
        let stacks = match app.store.stacks().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "drift sweep cannot list stacks");
                continue;
            }
        };
        for s in stacks.into_iter().filter(|s| s.live_resources > 0) {
            let deps = Deps { store: &app.store, providers: &app.providers, bus: &app.bus };
            match check(deps, &s.name, "hawaf").await {
                Ok(_) | Err(DriftError::BuildRunning(_)) => {}
                Err(e) => tracing::warn!(stack = %s.name, error = %e, "drift check failed"),
            }
        }
    }
}
