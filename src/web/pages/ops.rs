//! The operations view on the stack page: topology picture, a panel per
//! load-balancer tier in the AWS console's words, the per-node WAF switch,
//! fault buttons for lab stacks and the transitions timeline. Each is a
//! fixed SSE target that the health monitor's events refresh.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, Response};
use serde::Deserialize;

use crate::SharedApp;
use crate::cloud::{HealthState, InstanceHealth};
use crate::health::{Snapshot, Tier};
use crate::i18n;
use crate::node::{self, Authority, Fault, NodeError, guard};
use crate::stack::{self, InstanceRole, LbRole, Provider, Stack};
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::format_ms;
use crate::web::session::{Operator, Viewer};

use super::topology::{Topology, topology};

pub struct InstanceView {
    pub name: String,
    pub id: String,
    pub state: String,
    pub class: &'static str,
    pub reason: String,
    pub since: String,
}

pub struct TierView {
    pub key: &'static str,
    pub title: String,
    pub lb: String,
    pub summary: String,
    pub class: &'static str,
    pub instances: Vec<InstanceView>,
    /// While a build runs and the tier shows nothing yet: what it waits
    /// for, and the wizard's address.
    pub waiting: Option<(String, String)>,
}

pub struct NodeView {
    pub name: String,
    pub role: &'static str,
    pub is_waf: bool,
    pub private_ip: String,
    pub waf: String,
    pub waf_class: &'static str,
    pub waf_since: String,
    pub waf_error: String,
    /// "UTM 9.719-3", once read from the node.
    pub firmware: String,
    /// "past end of life (30 June 2026)" for a firmware hawaf knows the end of.
    pub end_of_life: String,
    /// Why the node is not one of two independent nodes (a UTM HA pair).
    pub ha_warning: String,
    pub faults: Vec<&'static str>,
}

/// How many paths a tier still has, next to the switches: what the load
/// balancer reports and what hawaf has taken down itself.
pub struct MarginView {
    pub title: String,
    pub summary: String,
    /// `ok` (every path serves), `warn` (one left) or `down` (none).
    pub class: &'static str,
    /// Each node that is not a path, and why.
    pub notes: Vec<String>,
}

impl MarginView {
    fn of(m: &guard::Margin) -> MarginView {
        let serving = m.serving();
        MarginView {
            title: match m.tier {
                LbRole::External => i18n::text("ops-margin-waf"),
                LbRole::Internal => i18n::text("ops-margin-web"),
            },
            summary: i18n::text_with("ops-margin-summary", &[("serving", &serving), ("total", &m.total())]),
            class: if serving == 0 {
                "down"
            } else if serving <= 1 && m.total() > 1 {
                "warn"
            } else {
                "ok"
            },
            notes: m
                .nodes
                .iter()
                .filter(|n| !n.serves())
                .map(|n| i18n::text_with("ops-margin-note", &[("node", &n.node), ("why", &why_not(n))]))
                .collect(),
        }
    }
}

/// Why a node is not a path, in the reader's words (`PathState::why_not`).
fn why_not(n: &guard::PathState) -> String {
    let mut why: Vec<String> = n
        .holds
        .iter()
        .map(|h| match h {
            guard::Hold::WafOff => i18n::text("ops-hold-waf-off"),
            guard::Hold::HttpdStopped => i18n::text("ops-hold-httpd-stopped"),
            guard::Hold::InstanceStopped => i18n::text("ops-hold-instance-stopped"),
            guard::Hold::Isolated => i18n::text("ops-hold-isolated"),
        })
        .collect();
    if n.lb_state != HealthState::InService.as_str() {
        why.push(if n.lb_state == HealthState::OutOfService.as_str() {
            i18n::text("ops-path-out-of-service")
        } else {
            i18n::text("ops-path-not-reported")
        });
    }
    why.join(&i18n::text("ops-margin-separator"))
}

/// A state as the panels show it: the load balancer's (AWS API values,
/// next to the reader's word for them) or a WAF switch's; anything else as is.
pub(super) fn state_label(state: &str) -> String {
    match state {
        "InService" => i18n::text("ops-state-in-service"),
        "OutOfService" => i18n::text("ops-state-out-of-service"),
        "Unknown" => i18n::text("ops-state-unknown"),
        "enabled" => i18n::text("ops-waf-enabled"),
        "disabled" => i18n::text("ops-waf-disabled"),
        "unknown" => i18n::text("ops-waf-unknown"),
        other => other.to_owned(),
    }
}

/// A load balancer's reason in the reader's words, for the descriptions
/// DescribeInstanceHealth / DescribeTargetHealth give (and the monitor's own);
/// any other text (a WAF node's error) as it came.
fn reason_text(reason: &str) -> String {
    let state_in = |prefix: &str, suffix: &str| {
        reason.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)).filter(|s| !s.contains(' ')).map(str::to_owned)
    };
    match reason {
        "" => String::new(),
        "Instance registration is still in progress." => i18n::text("ops-reason-registering"),
        "Instance has failed at least the UnhealthyThreshold number of health checks consecutively." => {
            i18n::text("ops-reason-unhealthy")
        }
        "A transient error occurred. Please try again later." => i18n::text("ops-reason-transient"),
        "Initial health checks in progress" => i18n::text("ops-reason-initial-checks"),
        "Health checks failed" => i18n::text("ops-reason-checks-failed"),
        "Request timed out" => i18n::text("ops-reason-timed-out"),
        "the load balancer could not be read" => i18n::text("ops-reason-lb-unreadable"),
        _ => {
            if let Some(state) = state_in("Instance is in ", " state.") {
                i18n::text_with("ops-reason-instance-state", &[("state", &state)])
            } else if let Some(state) = state_in("Target is in the ", " state.") {
                i18n::text_with("ops-reason-target-state", &[("state", &state)])
            } else if let Some(codes) = state_in("Health checks failed with these codes: [", "]") {
                i18n::text_with("ops-reason-codes", &[("codes", &codes)])
            } else {
                reason.to_owned()
            }
        }
    }
}

/// A transitions timeline's tier name.
fn tier_label(tier: &str) -> String {
    match tier {
        "external" => i18n::text("ops-timeline-tier-external"),
        "internal" => i18n::text("ops-timeline-tier-internal"),
        "waf" => i18n::text("ops-timeline-tier-waf"),
        other => other.to_owned(),
    }
}

pub struct EventView {
    /// The transition's row id: newer transitions have larger ids.
    pub id: i64,
    pub at: String,
    pub tier: String,
    pub node: String,
    pub from: String,
    pub to: String,
    pub to_class: &'static str,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "stacks/ops_tier.html")]
pub struct TierPanel<'a> {
    pub tier: &'a TierView,
}

#[derive(Template)]
#[template(path = "stacks/ops_nodes.html")]
pub struct NodesPanel<'a> {
    pub stack: &'a str,
    pub nodes: &'a [NodeView],
    pub margins: &'a [MarginView],
    pub can_operate: bool,
    pub csrf: &'a str,
    pub lab: bool,
    pub error: Option<&'a str>,
}

/// How many transitions the timeline shows (static/app.css hides any more
/// that live updates have added above them).
pub const TIMELINE_LEN: usize = 25;

#[derive(Template)]
#[template(path = "stacks/ops_timeline.html")]
pub struct Timeline<'a> {
    pub events: &'a [EventView],
}

#[derive(Template)]
#[template(path = "stacks/ops_timeline_entry.html")]
pub struct TimelineEntry<'a> {
    pub e: &'a EventView,
}

/// Everything the operations view shows, from the monitor's latest snapshot.
pub struct Ops {
    pub stack: String,
    pub built: bool,
    pub topology: Topology,
    pub tiers: [TierView; 2],
    pub nodes: Vec<NodeView>,
    pub margins: Vec<MarginView>,
    pub events: Vec<EventView>,
    pub can_operate: bool,
    pub csrf: String,
    pub lab: bool,
    pub error: Option<String>,
}

pub(super) fn state_class(state: &str) -> &'static str {
    match state {
        "InService" | "enabled" => "ok",
        "OutOfService" | "disabled" => "down",
        _ => "unknown",
    }
}

fn tier_view(key: &'static str, title: String, tier: Option<&Tier>, lb: &str) -> TierView {
    match tier {
        Some(t) => TierView {
            key,
            title,
            lb: t.lb.clone(),
            summary: i18n::text_with("ops-tier-summary", &[("in_service", &t.in_service), ("total", &t.total)]),
            class: if t.total > 0 && t.in_service == t.total {
                "ok"
            } else if t.in_service == 0 {
                "down"
            } else {
                "degraded"
            },
            instances: t
                .instances
                .iter()
                .map(|i| InstanceView {
                    name: i.name.clone(),
                    id: i.id.clone(),
                    state: state_label(&i.state),
                    class: state_class(&i.state),
                    reason: reason_text(&i.reason),
                    since: format_ms(i.since),
                })
                .collect(),
            waiting: None,
        },
        None => TierView {
            key,
            title,
            lb: lb.to_owned(),
            summary: i18n::text("ops-tier-no-data"),
            class: "unknown",
            instances: Vec::new(),
            waiting: None,
        },
    }
}

fn tier_title(role: LbRole) -> String {
    match role {
        LbRole::External => i18n::text("ops-tier-external"),
        LbRole::Internal => i18n::text("ops-tier-internal"),
    }
}

/// What a running build of the stack is doing: "build 3 is at step 5,
/// Internal load balancer (…)", for panels that have nothing to show yet.
async fn build_wait(app: &SharedApp, stack: &Stack) -> Result<Option<String>, Error> {
    let Some(b) = app.store.latest_build(stack.row.id).await?.filter(|b| b.is_running()) else { return Ok(None) };
    let steps = app.store.build_steps(b.id).await?;
    let titles = super::builds::title_kind(&b.kind);
    let title = |s: &crate::store::StepRow| {
        super::builds::step_title(titles, u8::try_from(s.number).unwrap_or_default(), &s.title)
    };
    Ok(Some(match steps.iter().find(|s| s.status == "running") {
        Some(s) if !s.progress.is_empty() => i18n::text_with(
            "ops-build-at-step-progress",
            &[("build", &b.id), ("step", &s.number), ("title", &title(s)), ("progress", &s.progress)],
        ),
        Some(s) => i18n::text_with("ops-build-at-step", &[("build", &b.id), ("step", &s.number), ("title", &title(s))]),
        None => i18n::text_with("ops-build-starting", &[("build", &b.id)]),
    }))
}

/// A tier's panel as both the page and the live stream show it.
fn tier_of(stack: &Stack, snap: Option<&Snapshot>, role: LbRole) -> TierView {
    let lb = stack.definition.load_balancer(role).to_string();
    match role {
        LbRole::External => tier_view("external", tier_title(role), snap.map(|s| &s.external), &lb),
        LbRole::Internal => tier_view("internal", tier_title(role), snap.map(|s| &s.internal), &lb),
    }
}

pub async fn ops(app: &SharedApp, stack: &Stack, can_operate: bool, csrf: &str) -> Result<Ops, Error> {
    let d = &stack.definition;
    let name = stack.row.name.clone();
    let snap: Option<std::sync::Arc<Snapshot>> = app.health.snapshot(&name);
    let snap = snap.as_deref();
    let resources = app.store.live_resources(stack.row.id).await?;
    let ips: HashMap<String, String> = resources
        .iter()
        .filter(|r| r.logical_id.starts_with("instance/"))
        .filter_map(|r| {
            let attrs: serde_json::Value = serde_json::from_str(&r.attributes).ok()?;
            Some((attrs["name"].as_str()?.to_owned(), attrs["private_ip"].as_str()?.to_owned()))
        })
        .collect();
    let mut tiers = [tier_of(stack, snap, LbRole::External), tier_of(stack, snap, LbRole::Internal)];
    if tiers.iter().any(|t| t.instances.is_empty())
        && let Some(wait) = build_wait(app, stack).await?
    {
        for t in tiers.iter_mut().filter(|t| t.instances.is_empty()) {
            t.waiting = Some((wait.clone(), format!("/stacks/{name}/build")));
        }
    }
    let lab = d.provider() == Provider::Lab;
    let nodes: Vec<NodeView> = InstanceRole::ALL
        .iter()
        .map(|role| {
            let name = d.instance(*role).name().to_string();
            let waf = snap.and_then(|s| s.waf.get(&name));
            let facts = waf.and_then(|w| w.facts.as_ref());
            let faults = Fault::ALL
                .iter()
                .filter(|f| lab || !matches!(f, Fault::StopHttpd | Fault::StartHttpd))
                .filter(|f| role.is_web() || !matches!(f, Fault::StopHttpd | Fault::StartHttpd))
                .map(|f| f.as_str())
                .collect();
            NodeView {
                private_ip: ips
                    .get(&name)
                    .cloned()
                    .or_else(|| d.instance(*role).private_ip().map(|ip| ip.to_string()))
                    .unwrap_or_default(),
                role: role.as_str(),
                is_waf: role.is_waf(),
                waf: waf.map(|w| w.label().to_owned()).unwrap_or_else(|| "unknown".into()),
                waf_class: waf.map(|w| state_class(w.label())).unwrap_or("unknown"),
                waf_since: waf.map(|w| format_ms(w.since)).unwrap_or_default(),
                waf_error: waf.and_then(|w| w.error.clone()).unwrap_or_default(),
                firmware: facts.map(crate::waf::NodeFacts::label).unwrap_or_default(),
                end_of_life: facts
                    .and_then(|f| f.end_of_life())
                    .map(|eol| end_of_life_label(eol, crate::clock::today()))
                    .unwrap_or_default(),
                ha_warning: facts
                    .filter(|f| f.in_ha_cluster())
                    .map(|f| i18n::text_with("ops-ha-warning", &[("mode", &f.ha_mode)]))
                    .unwrap_or_default(),
                faults,
                name,
            }
        })
        .collect();
    let events = app
        .store
        .health_events(stack.row.id, TIMELINE_LEN as i64)
        .await?
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            at: format_ms(e.at),
            to_class: state_class(&e.to_state),
            tier: tier_label(&e.tier),
            node: e.node,
            from: state_label(&e.from_state),
            to: state_label(&e.to_state),
            reason: reason_text(&e.reason),
        })
        .collect();
    let topology = topology(stack, snap, &ips);
    let margins = margins(app, stack, snap, &resources).await?;
    Ok(Ops {
        stack: name,
        built: stack.is_built(),
        topology,
        tiers,
        nodes,
        margins,
        events,
        can_operate,
        csrf: csrf.to_owned(),
        lab,
        error: snap.and_then(|s| {
            s.error.as_ref().map(|e| {
                let time = s.error_since.map(format_ms).unwrap_or_default();
                i18n::text_with("ops-error-since", &[("time", &time), ("error", e)])
            })
        }),
    })
}

/// "end of life on 30 June 2026" or "past end of life (30 June 2026)", in
/// the reader's words (`waf::end_of_life_label`).
fn end_of_life_label(eol: chrono::NaiveDate, today: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let month_name = eol.format("%B").to_string();
    let args: [(&str, &dyn std::fmt::Display); 4] =
        [("day", &eol.day()), ("month", &eol.month()), ("month_name", &month_name), ("year", &eol.year())];
    if today > eol { i18n::text_with("ops-eol-past", &args) } else { i18n::text_with("ops-eol-on", &args) }
}

/// Each tier's margin from the monitor's snapshot and hawaf's holds.
async fn margins(
    app: &SharedApp,
    stack: &Stack,
    snap: Option<&Snapshot>,
    resources: &[crate::store::ResourceRow],
) -> Result<Vec<MarginView>, Error> {
    let holds = app.store.holds(stack.row.id).await?;
    let ids = guard::instance_ids(resources);
    Ok([LbRole::External, LbRole::Internal]
        .into_iter()
        .map(|role| {
            let tier = snap.map(|s| if role == LbRole::External { &s.external } else { &s.internal });
            let health: Vec<InstanceHealth> = tier
                .map(|t| {
                    t.instances
                        .iter()
                        .map(|i| InstanceHealth {
                            instance_id: i.id.clone(),
                            state: HealthState::parse(&i.state),
                            reason_code: String::new(),
                            description: i.reason.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            MarginView::of(&guard::margin(role, &guard::tier_instances(&stack.definition, role, &ids), &health, &holds))
        })
        .collect())
}

impl Ops {
    pub fn topology_html(&self) -> Result<String, askama::Error> {
        self.topology.render()
    }
    pub fn tier_html(&self, i: usize) -> Result<String, askama::Error> {
        TierPanel { tier: &self.tiers[i] }.render()
    }
    pub fn nodes_html(&self) -> Result<String, askama::Error> {
        self.nodes_html_as(self.can_operate, &self.csrf)
    }
    /// The nodes panel for one user: its buttons carry that user's CSRF token.
    pub fn nodes_html_as(&self, can_operate: bool, csrf: &str) -> Result<String, askama::Error> {
        NodesPanel {
            stack: &self.stack,
            nodes: &self.nodes,
            margins: &self.margins,
            can_operate,
            csrf,
            lab: self.lab,
            error: self.error.as_deref(),
        }
        .render()
    }
    /// The timeline's list items, newest first.
    pub fn timeline_html(&self) -> Result<String, askama::Error> {
        Timeline { events: &self.events }.render()
    }
    /// Each transition's list item with its id, newest first.
    pub fn timeline_entries(&self) -> Result<Vec<(i64, String)>, askama::Error> {
        self.events.iter().map(|e| Ok((e.id, TimelineEntry { e }.render()?))).collect()
    }
}

// ---------- actions ----------

pub(super) fn answer(headers: &HeaderMap, name: &str, result: Result<String, NodeError>) -> Response {
    super::action_answer(headers, &format!("/stacks/{name}"), StatusCode::OK, result.map_err(Error::from))
}

#[derive(Deserialize)]
pub struct WafForm {
    enabled: String,
    #[serde(default)]
    confirm: String,
}

pub async fn toggle_waf(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, node_name)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<WafForm>,
) -> Response {
    let enabled = form.enabled == "true";
    let confirm = Some(form.confirm.as_str()).filter(|c| !c.trim().is_empty());
    let result = node::set_waf(&app, &name, &node_name, enabled, Authority::operator(confirm), &user.username)
        .await
        .map(|now| {
            let key = if now { "ops-waf-now-enabled" } else { "ops-waf-now-disabled" };
            i18n::text_with(key, &[("node", &node_name)])
        });
    answer(&headers, &name, result)
}

#[derive(Deserialize)]
pub struct FaultForm {
    node: String,
    fault: String,
    #[serde(default)]
    confirm: String,
}

pub async fn fault(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<FaultForm>,
) -> Response {
    let confirm = Some(form.confirm.as_str()).filter(|c| !c.trim().is_empty());
    let result = match form.fault.parse::<Fault>() {
        Ok(fault) => node::inject(&app, &name, &form.node, fault, Authority::operator(confirm), &user.username)
            .await
            .map(|()| i18n::text_with("ops-fault-done", &[("node", &form.node), ("fault", &fault)])),
        Err(e) => Err(e),
    };
    answer(&headers, &name, result)
}

/// One load-balancer tier's panel on its own, the same HTML the live stream
/// sends as `tier-external` / `tier-internal`: for clients that fetch rather
/// than subscribe (and what `scripts/bench` loads the server with). It reads
/// only the stack and the monitor's in-memory snapshot, so it stays cheap.
pub async fn tier_fragment(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path((name, which)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    let role = match which.as_str() {
        "tier-external" => LbRole::External,
        "tier-internal" => LbRole::Internal,
        _ => return Err(Error::NotFound(i18n::text_with("ops-no-fragment", &[("which", &which)])).into()),
    };
    // A running monitor's snapshot names the load balancer too, so the hot
    // path needs no database read (scripts/bench, measure 2); only a stack
    // without one (not built, or just started) is looked up.
    let view = match app.health.snapshot(&name) {
        Some(snap) => {
            let (key, tier) = match role {
                LbRole::External => ("external", &snap.external),
                LbRole::Internal => ("internal", &snap.internal),
            };
            tier_view(key, tier_title(role), Some(tier), &tier.lb)
        }
        None => tier_of(&stack::load(&app.store, &name).await?, None, role),
    };
    let html = TierPanel { tier: &view }.render().map_err(Error::internal)?;
    Ok(Html(html))
}

pub async fn load_ops(app: &SharedApp, name: &str, can_operate: bool, csrf: &str) -> Result<Ops, Error> {
    let s = stack::load(&app.store, name).await?;
    ops(app, &s, can_operate, csrf).await
}

/// Where a built stack can be reached: each load balancer's DNS name (and,
/// on the lab, the URL this host can open), and each WAF node's console.
pub(super) async fn endpoints(app: &SharedApp, s: &stack::Stack) -> Result<Vec<(String, String, bool)>, Error> {
    use stack::{InstanceRole, LbRole, Provider};
    let mut out = Vec::new();
    if !s.is_built() {
        return Ok(out);
    }
    let rows = app.store.live_resources(s.row.id).await?;
    for (role, key) in [(LbRole::External, "external"), (LbRole::Internal, "internal")] {
        let name = s.definition.load_balancer(role).to_string();
        if let Some(r) = rows.iter().find(|r| r.logical_id == format!("lb/{key}")) {
            let attrs: serde_json::Value = serde_json::from_str(&r.attributes).unwrap_or_default();
            if let Some(dns) = attrs["dns_name"].as_str() {
                out.push((i18n::text_with("ops-endpoint-dns", &[("name", &name)]), dns.to_owned(), false));
            }
        }
        if role == LbRole::External
            && s.definition.provider() == Provider::Lab
            && let Some(url) = app.providers.lab().lb_url(&name)
        {
            out.push((i18n::text_with("ops-endpoint-from-host", &[("name", &name)]), url, true));
        }
    }
    for role in [InstanceRole::WafLeft, InstanceRole::WafRight] {
        if let Some(url) = crate::node::console_url(&app.store, &app.providers, s, role).await {
            let node = s.definition.instance(role).name().to_string();
            out.push((i18n::text_with("ops-endpoint-console", &[("node", &node)]), url, true));
        }
    }
    Ok(out)
}
