//! Drift: whether what the provider reports still matches the stack's
//! definition and what its builds recorded. A check reads every resource
//! the stack owns (and anything else carrying its tag), compares property by
//! property, stores the report, and tells the stack page, the audit log and
//! /metrics when the status changes. It runs on demand, before every drill,
//! and every `--drift-every` minutes for each built stack.

pub mod compare;
pub mod plan;

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::cloud::{Cloud, CloudError, Filter, TAG_STACK, Tags};
use crate::contract::{Difference, DifferenceType, DriftReport, DriftStatus, ResourceDrift, ResourceState};
use crate::events::{Bus, Event};
use crate::providers::Providers;
use crate::stack::{self, InstanceRole, LbRole, Stack, StackError};
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

/// What a check needs: the store, the providers, the bus, and the key that
/// opens the WAF nodes' API tokens. No more.
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub store: &'a Store,
    pub providers: &'a Providers,
    pub bus: &'a Bus,
    pub secrets: &'a crate::secret::SecretBox,
}

impl<'a> Deps<'a> {
    pub fn of(app: &'a crate::App) -> Self {
        Deps { store: &app.store, providers: &app.providers, bus: &app.bus, secrets: &app.secrets }
    }
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

/// Step 8's objects on each reachable WAF node, compared with what step 8
/// would set now. A node is read where hawaf can reach it: running, not
/// held down by a drill or fault, and (on AWS) with its API token entered.
async fn utm_objects(
    deps: Deps<'_>,
    stack: &Stack,
    rows: &[crate::store::ResourceRow],
    live: &Live,
    held: &Held,
    b: &mut Bounded,
) -> Vec<ResourceDrift> {
    use crate::waf::LbTarget;
    let d = &stack.definition;
    let dns = |role: LbRole| -> Option<LbTarget> {
        let row = rows.iter().find(|r| r.logical_id == format!("lb/{}", crate::build::lb_key(role)))?;
        let attrs: serde_json::Value = serde_json::from_str(&row.attributes).ok()?;
        Some(LbTarget::new(d.load_balancer(role).as_str(), attrs["dns_name"].as_str()?))
    };
    let (Some(internal), Some(external)) = (dns(LbRole::Internal), dns(LbRole::External)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for role in [InstanceRole::WafLeft, InstanceRole::WafRight] {
        let logical = format!("instance/{}", role.as_str());
        let Some(id) = rows.iter().find(|r| r.logical_id == logical).map(|r| r.physical_id.as_str()) else { continue };
        let running = live.instances.iter().any(|i| i.id == id && i.state == crate::cloud::InstanceState::Running);
        if !running || held.stopped.contains(id) || held.isolated.contains(id) {
            continue;
        }
        let node = d.instance(role).name().to_string();
        if d.provider() != stack::Provider::Lab
            && deps.store.waf_node(stack.row.id, &node).await.ok().flatten().is_none()
        {
            continue;
        }
        let (store, secrets, providers, kind) = (deps.store, deps.secrets, deps.providers, d.waf_kind());
        let client =
            match crate::node::waf_client_from(store, secrets, providers, stack.row.id, d, &node, id, kind).await {
                Ok(c) => c,
                Err(e) => {
                    b.errors.push(format!("UTM objects on {node}: {e}"));
                    continue;
                }
            };
        let objects = match tokio::time::timeout_at(b.deadline, client.inspect(&internal, &external)).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                b.errors.push(format!("UTM objects on {node}: {e}"));
                continue;
            }
            Err(_) => {
                b.errors.push(format!("UTM objects on {node}: no answer within {} s", CHECK_LIMIT.as_secs()));
                continue;
            }
        };
        for o in objects {
            let differences: Vec<Difference> = o
                .differences
                .into_iter()
                .map(|(path, expected, actual)| Difference {
                    path,
                    expected: Some(expected),
                    actual: Some(actual),
                    kind: DifferenceType::NotEqual,
                })
                .collect();
            let state = match (&o.reference, differences.is_empty()) {
                (None, _) => ResourceState::Deleted,
                (Some(_), true) => ResourceState::InSync,
                (Some(_), false) => ResourceState::Modified,
            };
            out.push(ResourceDrift {
                resource: format!("utm/{}/{}", role.as_str(), o.label.replace(' ', "-")),
                kind: format!("UTM {} on {node}", o.label),
                name: o.name,
                physical_id: o.reference,
                state,
                differences,
            });
        }
    }
    out
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
    let rows = deps.store.live_resources(stack.row.id).await?;
    let ids: HashMap<String, String> = rows.iter().map(|r| (r.logical_id.clone(), r.physical_id.clone())).collect();
    let mut held = Held::default();
    for h in deps.store.holds(stack.row.id).await? {
        match h.hold.as_str() {
            "instance-stopped" => held.stopped.insert(h.instance_id),
            "isolated" => held.isolated.insert(h.instance_id),
            _ => false,
        };
    }
    // When the observation began: what `save_drift` orders overlapping checks by.
    let checked_at = crate::store::now_ms();
    let mut bounded = Bounded { deadline: Instant::now() + CHECK_LIMIT, errors: Vec::new() };
    let live = gather(cloud.as_ref(), &stack, &ids, &mut bounded).await;
    let mut resources = compare::compare(&stack.definition, &ids, &live, &held);
    resources.extend(utm_objects(deps, &stack, &rows, &live, &held, &mut bounded).await);
    // Drifted first, in the order checked.
    resources.sort_by_key(|r| r.state == ResourceState::InSync);
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
        if report.status == DriftStatus::Drifted {
            crate::webhook::emit_later(
                deps.store,
                "stack.drifted",
                serde_json::json!({"stack": name, "differences": summary(&report)}),
                format!("{name} has drifted from its definition: {}", summary(&report)),
            );
        }
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

/// What a reconcile of `name` would do, from its last check.
pub async fn preview(store: &Store, name: &str) -> Result<crate::contract::ReconcilePlan, DriftError> {
    let report = last(store, name).await?;
    let p = plan::plan(&report);
    Ok(crate::contract::ReconcilePlan {
        stack: report.stack.clone(),
        status: report.status,
        checked_at: report.checked_at.clone(),
        steps: p.steps.into_iter().collect(),
        calls: p.calls,
        cannot_reconcile: p.cannot,
    })
}

/// Puts back what the definition says: a fresh check, then a build of only
/// the steps that own drifted resources (step 3 also removes rules added to
/// hawaf's groups). Answers the build id and what no step can put back.
pub async fn reconcile(app: &crate::SharedApp, name: &str, actor: &str) -> Result<(i64, Vec<String>), ReconcileError> {
    let deps = Deps::of(app);
    let report = check(deps, name, actor).await?;
    let plan = plan::plan(&report);
    if plan.steps.is_empty() && plan.retag.is_empty() {
        return Err(ReconcileError::Nothing { stack: name.to_owned(), status: report.status, cannot: plan.cannot });
    }
    // Tags first: the steps find what they own by its Name and stack tags,
    // and would make a second one of anything whose tag was taken away.
    if !plan.retag.is_empty() {
        let stack = stack::load(&app.store, name).await.map_err(DriftError::from)?;
        let cloud = app.providers.cloud_for(&stack.definition).map_err(DriftError::Provider)?;
        let mut done = Vec::new();
        for t in &plan.retag {
            cloud
                .create_tags(t.kind, &t.id, &t.tags)
                .await
                .map_err(|e| DriftError::Provider(format!("re-tagging {} ({}) failed: {e}", t.resource, t.id)))?;
            done.push(format!("{} ({})", t.resource, t.id));
        }
        let detail = format!("re-tagged {}", done.join(", "));
        app.store
            .audit(NewAudit { actor, action: "stack.reconcile", target: name, outcome: "ok", detail })
            .await
            .map_err(DriftError::from)?;
    }
    let id = crate::build::start_steps(app, name, plan.steps, actor).await?;
    Ok((id, plan.cannot))
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

/// The modified resources whose live values the definition can take (at
/// least one of their differences), for the panel's "take live values".
pub fn acceptable(report: &DriftReport) -> Vec<String> {
    report
        .resources
        .iter()
        .filter(|r| r.state == ResourceState::Modified)
        .filter(|r| r.differences.iter().any(|d| field_for(&r.resource, &d.path).is_some()))
        .map(|r| r.resource.clone())
        .collect()
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
                        let deps = Deps::of(&app);
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
            let deps = Deps::of(&app);
            match check(deps, &s.name, "hawaf").await {
                Ok(_) | Err(DriftError::BuildRunning(_)) => {}
                Err(e) => tracing::warn!(stack = %s.name, error = %e, "drift check failed"),
            }
        }
    }
}
