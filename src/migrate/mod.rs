//! Moving a built stack's classic tiers to application or network load
//! balancers, blue/green: the new tier is created beside the old one (a new
//! definition version and an apply build: the old load balancer keeps
//! serving its DNS name meanwhile, and step 8 points the WAF nodes at the new
//! internal tier and adds a virtual webserver for the new external one),
//! D1 then proves the new path serves, and the old tier is removed only when
//! the operator confirms, once clients follow the new DNS name.
//!
//! The old load balancer is kept as the resource `lb/<tier>-previous` until
//! then: teardown removes it too, and its presence is what "a migration
//! awaits its finish" means.
//!
//! `to: sfos` is the other migration on the same endpoint: the WAF nodes
//! replaced by Sophos Firewall ones, one at a time (`appliance`).

pub mod appliance;

use std::time::Duration;

use serde_json::json;

use crate::SharedApp;
use crate::build::{self, BuildError, lb_key, previous_lb_id as previous_id};
use crate::cloud::LbKind;
use crate::contract::{
    BuildStatus, DrillStatus, DrillTrigger, MigrationAccepted, MigrationFinished, MigrationPlan, MigrationRequest,
    PendingTier, TierMigration,
};
use crate::stack::{self, Author, Draft, FieldError, LbRole, StackError};
use crate::store::{NewAudit, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("{0}")]
    Provider(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn tier_role(text: &str) -> Option<LbRole> {
    match text.trim() {
        "external" => Some(LbRole::External),
        "internal" => Some(LbRole::Internal),
        _ => None,
    }
}

/// `ha-lbext` -> `ha-lbext-alb` (ELB names are at most 32 characters).
fn new_name(old: &str, kind: LbKind) -> String {
    let suffix = if kind == LbKind::Network { "-nlb" } else { "-alb" };
    let keep = old.len().min(32 - suffix.len());
    format!("{}{suffix}", old[..keep].trim_end_matches('-'))
}

struct Parsed {
    to: LbKind,
    tiers: Vec<LbRole>,
}

fn parse(to: &str, tiers: &[String]) -> Result<Parsed, MigrateError> {
    let mut errors = Vec::new();
    let to = match LbKind::parse(to) {
        Ok(k) if k.is_v2() => Some(k),
        Ok(_) => {
            errors
                .push(FieldError::new("to", "migrate to application or network (load balancers) or sfos (WAF nodes)"));
            None
        }
        Err(e) => {
            errors.push(FieldError::new("to", e));
            None
        }
    };
    let mut roles = Vec::new();
    for (i, t) in tiers.iter().enumerate() {
        match tier_role(t) {
            Some(r) if !roles.contains(&r) => roles.push(r),
            Some(_) => {}
            None => errors.push(FieldError::new(format!("tiers[{i}]"), format!("`{t}` is not external or internal"))),
        }
    }
    if roles.is_empty() {
        roles = vec![LbRole::External, LbRole::Internal];
    }
    match to {
        Some(to) if errors.is_empty() => Ok(Parsed { to, tiers: roles }),
        _ => Err(MigrateError::Invalid(errors)),
    }
}

/// The tiers of a migration that awaits its finish: their old load
/// balancers are still recorded as `lb/<tier>-previous`.
pub async fn pending(app: &SharedApp, s: &stack::Stack) -> Result<Vec<PendingTier>, StoreError> {
    let live = app.store.live_resources(s.row.id).await?;
    let d = &s.definition;
    Ok(LbRole::ALL
        .iter()
        .filter_map(|r| {
            let row = live.iter().find(|x| x.logical_id == previous_id(*r))?;
            Some(PendingTier {
                tier: lb_key(*r).to_owned(),
                previous: row.physical_id.clone(),
                current: d.load_balancer(*r).to_string(),
                current_kind: d.lb_kind(*r).as_str().to_owned(),
            })
        })
        .collect())
}

/// What a migration of `tiers` to `to` would do, and why it cannot run now.
pub async fn plan(app: &SharedApp, name: &str, to: &str, tiers: &[String]) -> Result<MigrationPlan, MigrateError> {
    if appliance::is_appliance(to) {
        return appliance::plan(app, name, to, None).await;
    }
    let p = parse(to, tiers)?;
    let s = stack::load(&app.store, name).await?;
    let d = &s.definition;
    let pending = pending(app, &s).await?;
    let mut refusals = Vec::new();
    if !s.is_built() {
        refusals.push(format!("stack {name} is not built: define it with the kind you want and build it instead"));
    }
    if !pending.is_empty() {
        refusals.push(
            "a migration awaits its finish: point clients at the new DNS name, then finish it (the old tier is removed)"
                .into(),
        );
    }
    if app.store.latest_build(s.row.id).await?.is_some_and(|b| b.is_running()) {
        refusals.push(format!("a build of {name} is running: wait for it to end"));
    }
    if app.store.appliance_run_running(s.row.id).await? {
        refusals.push(format!("{name}'s WAF nodes are being replaced: wait for the run to end"));
    }
    if let Some(drill) = app.store.drills_of(s.row.id, 1).await?.into_iter().find(|d| d.is_running()) {
        refusals.push(format!("drill {} is running on {name}: wait for it to end", drill.id));
    }
    let hc = d.health_check();
    let mut out = Vec::new();
    for role in &p.tiers {
        let from = d.lb_kind(*role);
        if from != LbKind::Classic {
            refusals.push(format!("the {} tier is already an {}", lb_key(*role), from.title()));
            continue;
        }
        let old = d.load_balancer(*role).to_string();
        let new = new_name(&old, p.to);
        let listener = p.to.listener();
        let mut health_check = vec![format!(
            "the target group checks {} every {} s (timeout {} s, healthy after {}, unhealthy after {}), as the classic ELB did",
            hc.target(),
            hc.interval(),
            hc.timeout(),
            hc.healthy_threshold(),
            hc.unhealthy_threshold()
        )];
        health_check.push(
            "targets start in `initial` until they pass the healthy threshold; health reasons read Target.* and Elb.* instead of Instance and ELB".into(),
        );
        if matches!(hc.target(), stack::HealthCheckTarget::Tcp { .. } | stack::HealthCheckTarget::Ssl { .. })
            && p.to == LbKind::Application
        {
            refusals.push(format!(
                "an Application Load Balancer cannot check {}: change the health check to HTTP first",
                hc.target()
            ));
        }
        let client_changes = match role {
            LbRole::External => vec![
                format!("the DNS name changes: {old}'s name keeps answering until the finish; point your DNS record (CNAME or alias) at {new}'s name"),
                match p.to {
                    LbKind::Network => "a network load balancer passes TCP: the WAF nodes see the clients' own addresses instead of X-Forwarded-For".into(),
                    _ => "an application load balancer speaks HTTP/1.1 and HTTP/2 to clients and adds X-Forwarded-For, as the classic ELB did".into(),
                },
            ],
            LbRole::Internal => vec![format!(
                "no client change: step 8 points each WAF node's real webserver at {new}'s DNS name in one update"
            )],
        };
        let cost = match p.to {
            LbKind::Network => {
                vec!["billed per hour and per NLB capacity unit (NLCU) instead of per hour and per GB processed".into()]
            }
            _ => vec![
                "billed per hour and per load balancer capacity unit (LCU) instead of per hour and per GB processed"
                    .into(),
            ],
        };
        out.push(TierMigration {
            tier: lb_key(*role).to_owned(),
            from_kind: from.as_str().to_owned(),
            from_name: old.clone(),
            to_kind: p.to.as_str().to_owned(),
            to_name: new.clone(),
            creates: vec![
                format!("target group {new}: {} port 80, the two instances as targets", listener.instance_protocol),
                format!("{} {new} in the same subnets and security group", p.to.title()),
                format!("listener {}:80 forwarding to the target group", listener.protocol),
            ],
            client_changes,
            health_check,
            cost,
        });
    }
    Ok(MigrationPlan {
        stack: name.to_owned(),
        to: p.to.as_str().to_owned(),
        tiers: out,
        nodes: Vec::new(),
        last_run: None,
        steps: vec![
            "save a new definition version with the new tiers".into(),
            "build it: the new load balancers are created beside the old ones, which keep serving".into(),
            "wait until every target of the new tiers is healthy (steps 5 and 7)".into(),
            "point the WAF nodes at the new internal tier and add a virtual webserver for the new external name (step 8)".into(),
            "run D1 through the new external load balancer".into(),
            "finish (confirmed): remove the old load balancers and the WAF objects that served them".into(),
        ],
        refusals,
        pending,
    })
}

/// Starts a migration: saves the new version, records the old tiers as
/// previous, and starts the build; D1 follows it in the background.
pub async fn start(
    app: &SharedApp,
    name: &str,
    req: MigrationRequest,
    author: Author<'_>,
) -> Result<MigrationAccepted, MigrateError> {
    if appliance::is_appliance(&req.to) {
        return appliance::start(app, name, &req.to, req.image.as_deref(), author).await;
    }
    let plan = plan(app, name, &req.to, &req.tiers).await?;
    if let Some(first) = plan.refusals.first() {
        return Err(MigrateError::Conflict(first.clone()));
    }
    let s = stack::load(&app.store, name).await?;
    let mut lbs = s.definition.to_json()["load_balancers"].clone();
    for t in &plan.tiers {
        lbs[&t.tier] = json!({"name": t.to_name, "kind": t.to_kind});
    }
    let draft =
        Draft::from_json(json!({"name": name, "load_balancers": lbs}), &s.definition).map_err(MigrateError::Invalid)?;
    let live = app.store.live_resources(s.row.id).await?;
    let actor = author.username.to_owned();
    let old_lbs = s.definition.to_json()["load_balancers"].clone();
    // The version first: if it cannot be saved (an edit meanwhile), nothing
    // else has changed.
    let version = match stack::update(&app.store, author, name, s.row.current_version, &draft).await? {
        stack::Updated::NewVersion(s) | stack::Updated::Unchanged(s) => s.row.current_version,
    };
    let mut recorded = Vec::new();
    let result = async {
        // A teardown from here on removes the old load balancers too.
        for t in &plan.tiers {
            let logical = format!("lb/{}", t.tier);
            let row = live.iter().find(|r| r.logical_id == logical).ok_or_else(|| {
                MigrateError::Conflict(format!(
                    "{logical} is not recorded as built: build the stack before migrating it"
                ))
            })?;
            let role = tier_role(&t.tier).unwrap_or(LbRole::External);
            let step = u8::try_from(row.step).unwrap_or(7);
            app.store.record_resource(s.row.id, &previous_id(role), &row.physical_id, &row.attributes, step).await?;
            recorded.push(role);
        }
        Ok::<i64, MigrateError>(build::start(app, name, build::Kind::Apply, &actor).await?)
    }
    .await;
    let build_id = match result {
        Ok(id) => id,
        Err(e) => {
            // Undone, so the stack is as it was: the old tiers in the
            // definition, and no migration awaiting a finish.
            for role in recorded {
                if let Err(err) = app.store.mark_resource_deleted(s.row.id, &previous_id(role)).await {
                    tracing::error!(stack = name, error = %err, "cannot undo a migration's record");
                }
            }
            revert(app, name, old_lbs, &actor).await;
            audit(app, &actor, name, "refused", e.to_string()).await;
            return Err(e);
        }
    };
    audit(app, &actor, name, "ok", format!("to {} ({}): build {build_id}", plan.to, tiers_text(&plan))).await;
    tokio::spawn(verify(app.clone(), name.to_owned(), build_id, actor));
    Ok(MigrationAccepted { build_id, run_id: None, version, plan })
}

/// Saves a version with the load balancers as they were before a
/// migration that could not start.
async fn revert(app: &SharedApp, name: &str, load_balancers: serde_json::Value, actor: &str) {
    let Ok(s) = stack::load(&app.store, name).await else { return };
    let Ok(draft) = Draft::from_json(json!({"name": name, "load_balancers": load_balancers}), &s.definition) else {
        return;
    };
    let author = Author { username: actor, may_aim: false, outbound: &app.config.outbound };
    if let Err(e) = stack::update(&app.store, author, name, s.row.current_version, &draft).await {
        tracing::error!(stack = name, error = %e, "cannot put back the definition of a migration that did not start");
    }
}

fn tiers_text(plan: &MigrationPlan) -> String {
    plan.tiers.iter().map(|t| format!("{} {} -> {}", t.tier, t.from_name, t.to_name)).collect::<Vec<_>>().join(", ")
}

async fn audit(app: &SharedApp, actor: &str, stack: &str, outcome: &str, detail: String) {
    let entry = NewAudit { actor, action: "stack.migrate", target: stack, outcome, detail };
    if let Err(e) = app.store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
}

/// After the build: D1 through the new external tier, recorded in the
/// audit log (the drill itself is on the drills page).
async fn verify(app: SharedApp, name: String, build_id: i64, actor: String) {
    let status = loop {
        match app.store.build(build_id).await {
            Ok(Some(b)) if !b.is_running() => break b.status,
            Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(250)).await,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(build = build_id, error = %e, "cannot follow a migration's build");
                return;
            }
        }
    };
    if status != BuildStatus::Succeeded.as_str() {
        audit(&app, &actor, &name, "failed", format!("build {build_id} {status}: the old tiers still serve")).await;
        return;
    }
    let req = crate::contract::DrillRequest { scenario: "D1".into(), ..Default::default() };
    let by = format!("migration by {actor}");
    let id = match crate::drill::start(&app, &name, req, &by, DrillTrigger::Api).await {
        Ok(id) => id,
        Err(e) => {
            audit(&app, &actor, &name, "failed", format!("D1 could not start: {e}")).await;
            return;
        }
    };
    let verdict = loop {
        match app.store.drill(id).await {
            Ok(Some(d)) if d.status != DrillStatus::Running.as_str() => break d.verdict,
            Ok(Some(_)) => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(drill = id, error = %e, "cannot follow a migration's drill");
                return;
            }
        }
    };
    let pass = verdict.as_deref() == Some("pass");
    let detail = format!(
        "D1 (drill {id}) through the new tiers: {}; {}",
        verdict.as_deref().unwrap_or("no verdict"),
        if pass { "point clients at the new DNS name, then finish" } else { "the old tiers still serve" }
    );
    audit(&app, &actor, &name, if pass { "ok" } else { "failed" }, detail).await;
}

/// Removes the old load balancers of a migration and the WAF objects that
/// only they used. Needs the stack's name typed, as a teardown would.
pub async fn finish(
    app: &SharedApp,
    name: &str,
    confirm: Option<&str>,
    actor: &str,
) -> Result<MigrationFinished, MigrateError> {
    let s = stack::load(&app.store, name).await?;
    let live = app.store.live_resources(s.row.id).await?;
    let previous: Vec<(LbRole, String)> = LbRole::ALL
        .iter()
        .filter_map(|r| live.iter().find(|x| x.logical_id == previous_id(*r)).map(|x| (*r, x.physical_id.clone())))
        .collect();
    if previous.is_empty() {
        return Err(MigrateError::Conflict(format!("stack {name} has no migration to finish")));
    }
    if confirm.map(str::trim) != Some(name) {
        return Err(MigrateError::Conflict(format!(
            "finishing removes {}: clients still using their DNS names lose the site; send confirm = \"{name}\"",
            previous.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(" and ")
        )));
    }
    match app.store.latest_build(s.row.id).await? {
        Some(b) if b.is_running() => {
            return Err(MigrateError::Conflict(format!("a build of {name} is running: wait for it to end")));
        }
        Some(b) if b.status != BuildStatus::Succeeded.as_str() => {
            return Err(MigrateError::Conflict(format!(
                "the last build of {name} ({}) did not succeed, so the new tiers may not serve: the old ones stay; \
                 build again, or tear down",
                b.id
            )));
        }
        _ => {}
    }
    // Only once the new tier is what the stack records and serves with every
    // target: the old one is then no longer the only path.
    let cloud = app.providers.cloud_for(&s.definition).map_err(MigrateError::Provider)?;
    for (role, old) in &previous {
        let current = s.definition.load_balancer(*role).to_string();
        let recorded = live.iter().find(|r| r.logical_id == format!("lb/{}", lb_key(*role))).map(|r| &r.physical_id);
        if recorded != Some(&current) {
            return Err(MigrateError::Conflict(format!(
                "{current} is not built yet ({old} is what the stack records): build {name}, then finish"
            )));
        }
        let health = cloud
            .describe_instance_health(&current, &[])
            .await
            .map_err(|e| MigrateError::Provider(format!("{current}: {e}")))?;
        let serving = health.iter().filter(|h| h.state == crate::cloud::HealthState::InService).count();
        if health.is_empty() || serving < health.len() {
            return Err(MigrateError::Conflict(format!(
                "{current} has {serving} of {} targets in service: the old {old} stays until it has all",
                health.len()
            )));
        }
    }
    let mut removed = Vec::new();
    let mut waf_objects = Vec::new();
    // Tier by tier: a failure leaves the rest recorded, so finishing again
    // picks up where this stopped.
    for (role, old) in &previous {
        cloud.delete_load_balancer(old).await.map_err(|e| MigrateError::Provider(format!("{old}: {e}")))?;
        waf_objects.extend(waf_cleanup(app, &s, *role, old).await);
        app.store.mark_resource_deleted(s.row.id, &previous_id(*role)).await?;
        removed.push(old.clone());
    }
    audit(app, actor, name, "ok", format!("finished: removed {}", removed.join(", "))).await;
    Ok(MigrationFinished { removed, waf_objects })
}

/// Deletes, on each WAF node, the virtual webserver of an old external tier
/// or the real webserver and DNS host of an old internal one, and says what
/// could not be deleted: the objects serve nothing now, so a failure is
/// reported, not fatal.
async fn waf_cleanup(app: &SharedApp, s: &stack::Stack, role: LbRole, old: &str) -> Vec<String> {
    let d = &s.definition;
    let mut out = Vec::new();
    for waf in [stack::InstanceRole::WafLeft, stack::InstanceRole::WafRight] {
        let node = d.instance(waf).name().to_string();
        let client = match crate::node::find(app, &s.row.name, &node).await {
            Ok(n) => crate::node::waf_client(app, s.row.id, d, &node, &n.instance_id).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                out.push(format!("{node}: not cleaned ({e})"));
                continue;
            }
        };
        let results = match role {
            LbRole::External => client.remove_tier(Some(old), None).await,
            LbRole::Internal => client.remove_tier(None, Some(old)).await,
        };
        for (object, result) in results {
            out.push(match result {
                Ok(true) => format!("{node}: deleted {object}"),
                Ok(false) => format!("{node}: {object} was already gone"),
                Err(e) => format!("{node}: could not delete {object} ({e})"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_fit_elb_limits() {
        assert_eq!(new_name("ha-lbext", LbKind::Application), "ha-lbext-alb");
        assert_eq!(new_name("ha-lbint", LbKind::Network), "ha-lbint-nlb");
        let long = "a".repeat(32);
        assert_eq!(new_name(&long, LbKind::Application).len(), 32);
    }

    #[test]
    fn only_v2_kinds_and_known_tiers_are_accepted() {
        assert!(matches!(parse("classic", &[]), Err(MigrateError::Invalid(_))));
        assert!(matches!(parse("application", &["sideways".into()]), Err(MigrateError::Invalid(_))));
        let p = parse("network", &[]).ok().unwrap();
        assert_eq!((p.to, p.tiers.len()), (LbKind::Network, 2));
    }
}
