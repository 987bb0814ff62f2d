//! Replacing a stack's Sophos UTM 9 nodes with Sophos Firewall ones, one
//! node at a time, so the other node serves throughout (D3's guarantee):
//! for each node, the other must be in service on the external load
//! balancer; the node is deregistered, terminated, launched again from the
//! SFOS image with the same subnet, private IP, security group, tags and
//! Elastic IP, configured through the XML API (step 8's entities), and
//! registered; the next node waits until it is in service. A prober
//! requests the external load balancer all the while, and the report says
//! how many requests each node's absence cost.
//!
//! A run can stop part-way (a failure, a restart, or on AWS a node waiting
//! for its API credentials); the next run skips a node that already runs
//! the image and carries on from there. When both nodes are done, a new
//! definition version names the appliance and the image.

use std::time::{Duration, Instant};

use serde_json::json;
use sha2::Digest as _;

use super::MigrateError;
use crate::SharedApp;
use crate::build::Timing;
use crate::cloud::{
    Cloud, Filter, HealthState, InstanceState, RunInstanceRequest, TAG_NAME, TAG_ROLE, TAG_STACK, Tags,
};
use crate::contract::{ApplianceRun, MigrationAccepted, MigrationPlan, NodeReplacement};
use crate::stack::{self, Author, Draft, FieldError, InstanceRole, LbRole, Provider};
use crate::store::NewAudit;
use crate::waf::{LbTarget, WafKind};

/// Whether `to` names an appliance rather than a load balancer kind.
pub fn is_appliance(to: &str) -> bool {
    WafKind::parse(to).is_ok()
}

const NODES: [InstanceRole; 2] = [InstanceRole::WafLeft, InstanceRole::WafRight];

fn other(role: InstanceRole) -> InstanceRole {
    if role == InstanceRole::WafLeft { InstanceRole::WafRight } else { InstanceRole::WafLeft }
}

fn iso(ms: i64) -> String {
    crate::clock::rfc3339(ms)
}

/// What replacing the nodes would do, why it cannot start now, and the last run.
pub async fn plan(app: &SharedApp, name: &str, to: &str, image: Option<&str>) -> Result<MigrationPlan, MigrateError> {
    let s = stack::load(&app.store, name).await?;
    let d = &s.definition;
    let mut refusals = Vec::new();
    if WafKind::parse(to) != Ok(WafKind::Sfos) {
        refusals.push("hawaf replaces UTM 9 nodes with Sophos Firewall ones (to: sfos), not the other way".into());
    }
    if !s.is_built() {
        refusals.push(format!("stack {name} is not built: define it with waf.kind sfos and build it instead"));
    }
    if d.waf_kind() == WafKind::Sfos {
        refusals.push(format!("the WAF nodes of {name} already run Sophos Firewall"));
    }
    if !super::pending(app, &s).await?.is_empty() {
        refusals.push("a load balancer migration awaits its finish: finish it first".into());
    }
    if app.store.latest_build(s.row.id).await?.is_some_and(|b| b.is_running()) {
        refusals.push(format!("a build of {name} is running: wait for it to end"));
    }
    if let Some(drill) = app.store.drills_of(s.row.id, 1).await?.into_iter().find(|d| d.is_running()) {
        refusals.push(format!("drill {} is running on {name}: wait for it to end", drill.id));
    }
    let last = last_run(app, s.row.id).await?;
    if last.as_ref().is_some_and(|r| r.status == "running") {
        refusals.push("a replacement of the WAF nodes is running: follow it here".into());
    }
    let image = image.map(str::to_owned).unwrap_or_else(|| default_image(d.provider()));
    let nodes = NODES.iter().map(|r| d.instance(*r).name().to_string()).collect::<Vec<_>>();
    let steps = vec![
        format!("for {} then {}, one at a time:", nodes[0], nodes[1]),
        "check that the other node is in service on the external load balancer (it serves alone meanwhile)".into(),
        format!(
            "deregister the node from the external load balancer, give requests in flight {} s, and terminate its instance",
            Timing::of(d.provider()).drain.as_secs()
        ),
        format!(
            "launch {} from the Sophos Firewall image {} in the same subnet, with the same private IP, security group, tags and Elastic IP",
            "it again",
            if image.is_empty() { "you give (image)" } else { &image }
        ),
        "configure it through the XML API: FQDN host, web server, protection policy and the web server protection rule (step 8)".into(),
        "register it with the external load balancer and wait until it is in service".into(),
        "save a definition version with waf.kind sfos and the new image".into(),
    ];
    let mut warnings = Vec::new();
    if d.provider() == Provider::Aws {
        warnings.push(
            "on AWS a new Sophos Firewall needs its first-time set-up and API access (Backup & firmware > API, \
             hawaf's address allowed) before hawaf can configure it: the run waits there; enter the administrator's \
             credentials in step 8 and start it again"
                .to_owned(),
        );
    }
    Ok(MigrationPlan {
        stack: name.to_owned(),
        to: WafKind::Sfos.as_str().to_owned(),
        tiers: Vec::new(),
        nodes,
        last_run: last,
        steps: steps.into_iter().chain(warnings).collect(),
        refusals,
        pending: Vec::new(),
    })
}

/// The latest run on a stack, as its report says, with the row's status
/// (a restart marks a running one interrupted).
pub async fn last_run(app: &SharedApp, stack_id: i64) -> Result<Option<ApplianceRun>, crate::store::StoreError> {
    let row = app.store.last_appliance_run(stack_id).await?;
    Ok(row.and_then(|r| {
        serde_json::from_str::<ApplianceRun>(&r.report).ok().map(|run| ApplianceRun { status: r.status, ..run })
    }))
}

fn default_image(provider: Provider) -> String {
    match provider {
        Provider::Lab => WafKind::Sfos.lab_image().to_owned(),
        Provider::Aws => String::new(),
    }
}

/// Starts replacing the nodes; the run goes on in its own task.
pub async fn start(
    app: &SharedApp,
    name: &str,
    to: &str,
    image: Option<&str>,
    author: Author<'_>,
) -> Result<MigrationAccepted, MigrateError> {
    let plan = plan(app, name, to, image).await?;
    if let Some(first) = plan.refusals.first() {
        return Err(MigrateError::Conflict(first.clone()));
    }
    let s = stack::load(&app.store, name).await?;
    let d = &s.definition;
    let image = image
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| default_image(d.provider()));
    let bad_image = |m: String| MigrateError::Invalid(vec![FieldError::new("image", m)]);
    if image.is_empty() {
        return Err(bad_image("give the Sophos Firewall AMI of the stack's region (AWS Marketplace)".into()));
    }
    stack::AmiId::parse(&image).map_err(bad_image)?;
    if d.provider() == Provider::Lab && WafKind::of_lab_image(&image) != Some(WafKind::Sfos) {
        return Err(bad_image(format!("on the lab, Sophos Firewall boots from {}", WafKind::Sfos.lab_image())));
    }
    let actor = author.username.to_owned();
    let mut report = ApplianceRun {
        id: 0,
        stack: name.to_owned(),
        status: "running".into(),
        to: WafKind::Sfos.as_str().to_owned(),
        image: image.clone(),
        started_by: actor.clone(),
        started_at: iso(crate::clock::now_ms()),
        finished_at: None,
        nodes: NODES
            .iter()
            .map(|r| NodeReplacement {
                node: d.instance(*r).name().to_string(),
                status: "pending".into(),
                from_instance: String::new(),
                to_instance: None,
                served_by: d.instance(other(*r)).name().to_string(),
                requests: 0,
                failed_requests: 0,
                duration_ms: 0,
                log: Vec::new(),
            })
            .collect(),
        error: None,
        version: None,
    };
    let text = serde_json::to_string(&report).map_err(|e| MigrateError::Provider(e.to_string()))?;
    let id = app
        .store
        .start_appliance_run(s.row.id, &actor, &text)
        .await?
        .ok_or_else(|| MigrateError::Conflict("a replacement of the WAF nodes is running: follow it".into()))?;
    report.id = id;
    audit(app, &actor, name, "ok", format!("replacing the WAF nodes with Sophos Firewall ({image}): run {id}")).await;
    let version = s.row.current_version;
    let task = tokio::spawn(run(app.clone(), name.to_owned(), report, actor));
    let store = app.store.clone();
    tokio::spawn(async move {
        if let Err(e) = task.await {
            tracing::error!(run = id, error = %e, "the WAF node replacement task failed");
        }
        match store.settle_appliance_run(id).await {
            Ok(true) => tracing::error!(run = id, "a WAF node replacement ended without its report: marked failed"),
            Ok(false) => {}
            Err(e) => tracing::error!(run = id, error = %e, "cannot settle a WAF node replacement"),
        }
    });
    let mut plan = plan;
    plan.last_run = None;
    Ok(MigrationAccepted { build_id: 0, run_id: Some(id), version, plan })
}

async fn audit(app: &SharedApp, actor: &str, stack: &str, outcome: &str, detail: String) {
    let entry = NewAudit { actor, action: "stack.migrate", target: stack, outcome, detail };
    if let Err(e) = app.store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
}

async fn save(app: &SharedApp, report: &ApplianceRun) {
    let text = match serde_json::to_string(report) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "cannot encode an appliance migration's report");
            return;
        }
    };
    if let Err(e) = app.store.update_appliance_run(report.id, &report.status, &text).await {
        tracing::error!(run = report.id, error = %e, "cannot save an appliance migration's report");
    }
}

/// How a node's replacement ended without an error.
enum Outcome {
    Done,
    /// The new node waits for its API credentials (AWS).
    Waiting(String),
}

async fn run(app: SharedApp, name: String, mut report: ApplianceRun, actor: String) {
    let mut waiting = None;
    let mut failed = None;
    for i in 0..NODES.len() {
        match replace(&app, &name, i, &mut report).await {
            Ok(Outcome::Done) => {}
            Ok(Outcome::Waiting(why)) => {
                waiting = Some(why);
                break;
            }
            Err(e) => {
                report.nodes[i].status = "failed".into();
                report.nodes[i].log.push(format!("failed: {e}"));
                failed = Some(e);
                break;
            }
        }
    }
    if failed.is_none() && waiting.is_none() {
        match save_version(&app, &name, &report.image, &actor).await {
            Ok(v) => report.version = Some(v),
            Err(e) => {
                failed = Some(format!("both nodes run Sophos Firewall, but the definition could not be saved: {e}"))
            }
        }
    }
    report.status = match (&failed, &waiting) {
        (Some(_), _) => "failed",
        (None, Some(_)) => "waiting",
        (None, None) => "succeeded",
    }
    .into();
    report.error = failed.clone().or(waiting.clone());
    report.finished_at = Some(iso(crate::clock::now_ms()));
    save(&app, &report).await;
    let summary = report
        .nodes
        .iter()
        .map(|n| format!("{} {} ({} of {} requests failed)", n.node, n.status, n.failed_requests, n.requests))
        .collect::<Vec<_>>()
        .join(", ");
    let outcome = if failed.is_some() { "failed" } else { "ok" };
    audit(&app, &actor, &name, outcome, format!("run {}: {}: {summary}", report.id, report.status)).await;
}

/// A definition version with the new appliance and image.
async fn save_version(app: &SharedApp, name: &str, image: &str, actor: &str) -> Result<i64, String> {
    let s = stack::load(&app.store, name).await.map_err(|e| e.to_string())?;
    let draft = Draft::from_json(
        json!({"name": name, "waf": {"kind": "sfos"}, "instances": {"waf-left": {"ami": image}, "waf-right": {"ami": image}}}),
        &s.definition,
    )
    .map_err(|e| e.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))?;
    let author = Author { username: actor, may_aim: false, outbound: &app.config.outbound };
    match stack::update(&app.store, author, name, s.row.current_version, &draft).await.map_err(|e| e.to_string())? {
        stack::Updated::NewVersion(s) | stack::Updated::Unchanged(s) => Ok(s.row.current_version),
    }
}

/// Requests the external load balancer until stopped; counts the answers
/// and the failures (anything but a 200).
struct Prober {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<(u64, u64)>,
}

impl Prober {
    fn start(url: String) -> Option<Prober> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let (mut sent, mut failed) = (0u64, 0u64);
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            // Bounded whatever happens: at most an hour of probes.
            for _ in 0..72_000 {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                sent += 1;
                let ok = matches!(http.get(&url).send().await, Ok(r) if r.status() == 200);
                failed += u64::from(!ok);
            }
            (sent, failed)
        });
        Some(Prober { stop, task })
    }

    async fn finish(self) -> (u64, u64) {
        let _ = self.stop.send(());
        self.task.await.unwrap_or((0, 0))
    }
}

async fn probe_url(app: &SharedApp, cloud: &dyn Cloud, d: &stack::StackDefinition) -> Option<String> {
    let ext = d.load_balancer(LbRole::External).to_string();
    match d.provider() {
        Provider::Lab => app.providers.lab().lb_url(&ext),
        Provider::Aws => {
            let lbs = cloud.describe_load_balancers(std::slice::from_ref(&ext)).await.ok()?;
            lbs.first().map(|l| format!("http://{}/", l.dns_name))
        }
    }
}

/// Replaces node `i` of the report (skipping the launch when it already
/// runs the image), with the prober running while it is out of service.
async fn replace(app: &SharedApp, name: &str, i: usize, report: &mut ApplianceRun) -> Result<Outcome, String> {
    let role = NODES[i];
    let s = stack::load(&app.store, name).await.map_err(|e| e.to_string())?;
    let d = &s.definition;
    let cloud = app.providers.cloud_for(d)?;
    let timing = Timing::of(d.provider());
    let node = d.instance(role).name().to_string();
    let live = app.store.live_resources(s.row.id).await.map_err(|e| e.to_string())?;
    let id_of = |logical: &str| {
        live.iter()
            .find(|r| r.logical_id == logical)
            .map(|r| r.physical_id.clone())
            .ok_or_else(|| format!("{logical} is not recorded as built"))
    };
    let mut instance_id = id_of(&format!("instance/{}", role.as_str()))?;
    let other_id = id_of(&format!("instance/{}", other(role).as_str()))?;
    let ext = d.load_balancer(LbRole::External).to_string();
    let started = Instant::now();
    report.nodes[i].from_instance.clone_from(&instance_id);
    report.nodes[i].status = "replacing".into();
    save(app, report).await;
    let note = |report: &mut ApplianceRun, text: String| {
        report.nodes[i].log.push(format!("{:>6} ms  {text}", started.elapsed().as_millis()));
    };

    let current = cloud.describe_instances(&Filter::ids([instance_id.clone()])).await.map_err(|e| e.to_string())?;
    let current = current.first();
    let runs_image = current.is_some_and(|c| c.image_id == report.image && c.state == InstanceState::Running);
    // Gone already: a run that stopped between the terminate and the launch.
    let gone = current.is_none_or(|c| matches!(c.state, InstanceState::Terminated | InstanceState::ShuttingDown));
    if !runs_image && !gone {
        // The other node must serve alone while this one is out.
        let health = cloud.describe_instance_health(&ext, &[]).await.map_err(|e| format!("{ext}: {e}"))?;
        if !health.iter().any(|h| h.instance_id == other_id && h.state == HealthState::InService) {
            return Err(format!(
                "{} is not in service on {ext}: replacing {node} now would stop the site",
                report.nodes[i].served_by
            ));
        }
    }
    let prober = probe_url(app, cloud.as_ref(), d).await.and_then(Prober::start);
    let result = async {
        if runs_image {
            note(report, format!("{instance_id} already runs {}: configuring it", report.image));
        } else {
            if !gone {
                cloud
                    .deregister_instances(&ext, std::slice::from_ref(&instance_id))
                    .await
                    .map_err(|e| e.to_string())?;
                note(report, format!("deregistered {instance_id} from {ext}"));
                // Requests already sent to it finish before it goes away.
                tokio::time::sleep(timing.drain).await;
                note(report, format!("waited {} s for requests in flight", timing.drain.as_secs()));
                cloud.terminate_instance(&instance_id).await.map_err(|e| e.to_string())?;
                wait_state(cloud.as_ref(), &instance_id, InstanceState::Terminated, timing).await?;
                note(report, format!("terminated {instance_id}"));
            }
            app.store.delete_waf_node(s.row.id, &node).await.map_err(|e| e.to_string())?;
            let placed = d.placed(role);
            let mut tags = Tags::from([(TAG_NAME.to_owned(), node.clone()), (TAG_STACK.to_owned(), name.to_owned())]);
            tags.insert(TAG_ROLE.to_owned(), "waf".to_owned());
            // Keyed on the instance it replaces: a run that stopped after the
            // launch gets the same instance back from AWS, not a second one.
            let from = report.nodes[i].from_instance.clone();
            let token = sha2::Sha256::digest(format!("{name}/{}/{from}/{}", s.row.id, role.as_str()).as_bytes());
            let launched = cloud
                .describe_instances(&Filter::tags(tags.clone()))
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .find(|x| {
                    x.image_id == report.image
                        && !matches!(x.state, InstanceState::Terminated | InstanceState::ShuttingDown)
                });
            let new = match launched {
                Some(x) => x,
                None => {
                    let request = RunInstanceRequest {
                        subnet_id: id_of(&format!("subnet/{}", placed.subnet_key.as_str()))?,
                        image_id: report.image.clone(),
                        instance_type: placed.instance.instance_type().as_str().to_owned(),
                        private_ip: placed.instance.private_ip(),
                        security_groups: vec![id_of(&format!("sg/{}", stack::SgRole::Utm.as_str()))?],
                        user_data: None,
                        client_token: Some(hex::encode(&token[..16])),
                        tags,
                    };
                    cloud.run_instance(request).await.map_err(|e| e.to_string())?
                }
            };
            // Recorded before the wait: a restart meanwhile still knows it (and teardown removes it).
            let attrs = json!({"name": node, "private_ip": new.private_ip.to_string()}).to_string();
            app.store
                .record_resource(s.row.id, &format!("instance/{}", role.as_str()), &new.id, &attrs, 6)
                .await
                .map_err(|e| e.to_string())?;
            wait_state(cloud.as_ref(), &new.id, InstanceState::Running, timing).await?;
            note(report, format!("launched {} from {}", new.id, report.image));
            if let Ok(allocation) = id_of(&format!("eip/{}", role.as_str())) {
                cloud.associate_address(&allocation, &new.id).await.map_err(|e| e.to_string())?;
                note(report, format!("moved its Elastic IP {allocation} to {}", new.id));
            }
            instance_id = new.id;
        }
        report.nodes[i].to_instance = Some(instance_id.clone());
        save(app, report).await;

        let driver = match crate::node::waf_client_as(app, s.row.id, d, &node, &instance_id, WafKind::Sfos).await {
            Ok(driver) => driver,
            Err(crate::node::NodeError::NoAccess { message, .. }) => {
                note(report, format!("waiting: {message}"));
                report.nodes[i].status = "waiting".into();
                return Ok(Outcome::Waiting(format!("{node}: {message}")));
            }
            Err(e) => return Err(e.to_string()),
        };
        let target = |role: LbRole, key: &str| -> Result<LbTarget, String> {
            let row =
                live.iter().find(|r| r.logical_id == format!("lb/{key}")).ok_or(format!("lb/{key} is not built"))?;
            let attrs: serde_json::Value = serde_json::from_str(&row.attributes).unwrap_or_default();
            let dns = attrs["dns_name"].as_str().ok_or(format!("lb/{key} has no DNS name recorded"))?;
            Ok(LbTarget::new(d.load_balancer(role).as_str(), dns))
        };
        let applied = driver
            .configure(&target(LbRole::Internal, "internal")?, &target(LbRole::External, "external")?)
            .await
            .map_err(|e| format!("{node}: {e}"))?;
        note(
            report,
            format!(
                "configured {} entities through the XML API; the rule is {}",
                applied.objects.len(),
                if applied.enabled { "enabled" } else { "disabled" }
            ),
        );
        cloud.register_instances(&ext, std::slice::from_ref(&instance_id)).await.map_err(|e| e.to_string())?;
        note(report, format!("registered {instance_id} with {ext}"));
        let hc = d.health_check();
        let limit = Duration::from_secs(u64::from(hc.interval()) * u64::from(hc.healthy_threshold() + 1))
            + timing.in_service_slack;
        wait_in_service(cloud.as_ref(), &ext, &instance_id, limit, timing.poll).await?;
        note(report, format!("{instance_id} is in service on {ext}"));
        Ok(Outcome::Done)
    }
    .await;
    if let Some(p) = prober {
        let (sent, failed) = p.finish().await;
        report.nodes[i].requests = sent;
        report.nodes[i].failed_requests = failed;
    }
    report.nodes[i].duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if matches!(result, Ok(Outcome::Done)) {
        report.nodes[i].status = "done".into();
    }
    save(app, report).await;
    result
}

async fn wait_state(cloud: &dyn Cloud, id: &str, want: InstanceState, timing: Timing) -> Result<(), String> {
    let deadline = Instant::now() + timing.instance_running;
    loop {
        let found = cloud.describe_instances(&Filter::ids([id.to_owned()])).await.map_err(|e| e.to_string())?;
        let state = found.first().map(|i| i.state);
        // An instance AWS no longer lists is as terminated as it gets.
        if state == Some(want) || (want == InstanceState::Terminated && state.is_none()) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("{id} is not {} after {} s", want.as_str(), timing.instance_running.as_secs()));
        }
        tokio::time::sleep(timing.poll).await;
    }
}

async fn wait_in_service(cloud: &dyn Cloud, lb: &str, id: &str, limit: Duration, poll: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let health = cloud.describe_instance_health(lb, &[id.to_owned()]).await.map_err(|e| format!("{lb}: {e}"))?;
        match health.iter().find(|h| h.instance_id == id) {
            Some(h) if h.state == HealthState::InService => return Ok(()),
            other if Instant::now() >= deadline => {
                let why = other.map(|h| h.description.clone()).unwrap_or_else(|| "not registered".into());
                return Err(format!("{id} is not in service on {lb} after {} s: {why}", limit.as_secs()));
            }
            _ => tokio::time::sleep(poll).await,
        }
    }
}
