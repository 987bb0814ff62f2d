//! Drill pages: a stack's drills with their verdicts and the start form;
//! one drill's page, live over SSE while it runs, then its report; exports.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use futures::stream::{self, StreamExt};
use serde::Deserialize;
use tokio::sync::OnceCell;
use tokio::sync::broadcast::error::RecvError;

use crate::SharedApp;
use crate::auth::Role;
use crate::drill::report::Stats;
use crate::drill::{self, DrillRequest, Loaded, Scenario};
use crate::events::Event;
use crate::i18n;
use crate::stack;
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::session::{Operator, Principal, Viewer};
use crate::web::sse::{Guard, Streams, event_stream, frame};
use crate::web::{Layout, format_ms, report};

pub struct ScenarioLine {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub confirm: bool,
    /// One of the stack's custom drills rather than D1–D5.
    pub custom: bool,
}

pub struct DrillLine {
    pub id: i64,
    pub scenario: String,
    pub status: String,
    pub verdict: String,
    pub started_by: String,
    pub started_at: String,
    pub trigger: String,
}

/// The start form as typed, so a refused start shows it again.
#[derive(Debug, Default, Deserialize)]
pub struct StartForm {
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub confirm: String,
    #[serde(default)]
    pub rate: String,
    #[serde(default)]
    pub baseline_ms: String,
    #[serde(default)]
    pub hold_ms: String,
    #[serde(default)]
    pub verify_ms: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub allow_drift: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "drills/list.html")]
pub struct ListPage {
    layout: Layout,
    stack: String,
    built: bool,
    scenarios: Vec<ScenarioLine>,
    drills: Vec<DrillLine>,
    form: StartForm,
    problem: Option<String>,
    field_errors: BTreeMap<String, String>,
    schedules: Vec<crate::contract::Schedule>,
    /// Per scenario: its runs' MTTD, MTTR and failed requests as small charts.
    history: Vec<(String, usize, String)>,
    /// The add-a-schedule form as typed, and its errors by field.
    schedule_form: super::practice::ScheduleForm,
    schedule_errors: BTreeMap<String, String>,
    /// The add-a-custom-drill form as typed, and its errors by field.
    custom_form: super::practice::CustomForm,
    custom_errors: BTreeMap<String, String>,
}

pub struct SettingField {
    pub name: &'static str,
    pub label: String,
    pub hint: String,
    pub value: String,
    pub error: String,
}

impl ListPage {
    fn error_for(&self, field: &str) -> String {
        self.field_errors.get(field).cloned().unwrap_or_default()
    }

    fn setting_fields(&self) -> Vec<SettingField> {
        let f = &self.form;
        [
            ("rate", i18n::text("drills-field-rate"), i18n::text("drills-field-rate-hint"), &f.rate),
            (
                "baseline_ms",
                i18n::text("drills-field-baseline"),
                i18n::text("drills-field-baseline-hint"),
                &f.baseline_ms,
            ),
            ("hold_ms", i18n::text("drills-field-hold"), i18n::text("drills-field-hold-hint"), &f.hold_ms),
            ("verify_ms", i18n::text("drills-field-verify"), i18n::text("drills-field-verify-hint"), &f.verify_ms),
        ]
        .into_iter()
        .map(|(name, label, hint, value)| SettingField {
            name,
            label,
            hint,
            value: value.clone(),
            error: self.error_for(name),
        })
        .collect()
    }
}

async fn list_page(
    app: &SharedApp,
    user: Principal,
    name: &str,
    form: StartForm,
    problem: Option<Error>,
) -> Result<ListPage, PageError> {
    schedules_page(app, user, name, form, problem, super::practice::Forms::default()).await
}

/// The drills page, with the add-a-schedule form as typed and its errors.
pub(super) async fn schedules_page(
    app: &SharedApp,
    user: Principal,
    name: &str,
    form: StartForm,
    problem: Option<Error>,
    forms: super::practice::Forms,
) -> Result<ListPage, PageError> {
    let s = stack::load(&app.store, name).await?;
    let schedules = drill::schedule::list(&app.store, name).await.map_err(Error::from)?;
    let mut history: Vec<(String, usize, String)> = Vec::new();
    let rows = app.store.drill_summaries(s.row.id, 30).await?;
    for scenario in rows.iter().map(|r| r.1.clone()).collect::<std::collections::BTreeSet<_>>() {
        let runs: Vec<serde_json::Value> =
            rows.iter().filter(|r| r.1 == scenario).filter_map(|r| serde_json::from_str(&r.3).ok()).collect();
        let series = |key: &str| runs.iter().map(|v| v[key].as_f64()).collect::<Vec<_>>();
        let charts = [
            ("MTTD".to_owned(), " ms", "mttd_ms"),
            ("MTTR".to_owned(), " ms", "mttr_ms"),
            (i18n::text("drills-chart-failed"), "", "failed"),
        ]
        .iter()
        .map(|(title, unit, key)| crate::web::report::sparkline(title, unit, &series(key)))
        .collect::<String>();
        history.push((scenario, runs.len(), charts));
    }
    let provider = s.definition.provider();
    let drills = app
        .store
        .drills_of(s.row.id, 100)
        .await?
        .into_iter()
        .map(|d| DrillLine {
            id: d.id,
            scenario: d.scenario,
            status: d.status,
            verdict: d.verdict.unwrap_or_else(|| "–".into()),
            started_by: d.started_by,
            started_at: format_ms(d.started_at),
            trigger: d.trigger,
        })
        .collect();
    let mut scenarios: Vec<ScenarioLine> = Scenario::all_builtin()
        .into_iter()
        .map(|sc| ScenarioLine {
            confirm: sc.needs_confirmation(provider),
            title: scenario_text(&sc.id, "title"),
            summary: scenario_text(&sc.id, "summary"),
            id: sc.id,
            custom: false,
        })
        .collect();
    // The stack's custom drills, started the same way.
    for c in drill::custom::list(&app.store, name).await.map_err(Error::from)? {
        let mut method = String::new();
        for (i, m) in c.method.iter().enumerate() {
            let step = format!("{} {}", m.node, m.action);
            method = match (i, m.with_previous) {
                (0, _) => step,
                (_, true) => i18n::text_with("drills-custom-with", &[("before", &method), ("step", &step)]),
                (_, false) => i18n::text_with("drills-custom-then", &[("before", &method), ("step", &step)]),
            };
        }
        scenarios.push(ScenarioLine {
            confirm: c.needs_confirmation,
            id: c.name,
            title: c.title,
            summary: i18n::text_with("drills-custom-summary", &[("method", &method)]),
            custom: true,
        });
    }
    let mut field_errors = BTreeMap::new();
    let problem = match problem {
        Some(Error::Invalid(fields)) => {
            for f in fields {
                field_errors.insert(f.field, f.message);
            }
            Some(i18n::text("drills-not-started"))
        }
        Some(other) => Some(other.to_string()),
        None => None,
    };
    Ok(ListPage {
        layout: Layout::new(i18n::text_with("drills-list-page-title", &[("stack", &name)]), "stacks", Some(user)),
        stack: name.to_owned(),
        built: s.is_built(),
        scenarios,
        drills,
        form,
        problem,
        field_errors,
        schedules,
        history,
        schedule_form: forms.schedule,
        schedule_errors: forms.schedule_errors.into_iter().map(|e| (e.field, e.message)).collect(),
        custom_form: forms.custom,
        custom_errors: forms.custom_errors.into_iter().map(|e| (e.field, e.message)).collect(),
    })
}

pub async fn list(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Path(name): Path<String>,
) -> Result<ListPage, PageError> {
    let form = StartForm { scenario: "D1".into(), ..StartForm::default() };
    list_page(&app, user, &name, form, None).await
}

/// A built-in scenario's title or summary (`part`) in the reader's language.
fn scenario_text(id: &str, part: &str) -> String {
    i18n::text(&format!("drills-scenario-{}-{part}", id.to_ascii_lowercase()))
}

fn number<T: std::str::FromStr>(field: &str, text: &str) -> Result<Option<T>, Error> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| Error::Invalid(vec![stack::FieldError::new(field, i18n::text("drills-whole-number"))]))
}

fn request(form: &StartForm) -> Result<DrillRequest, Error> {
    Ok(DrillRequest {
        scenario: form.scenario.clone(),
        confirm: Some(form.confirm.clone()).filter(|c| !c.trim().is_empty()),
        rate: number("rate", &form.rate)?,
        baseline_ms: number("baseline_ms", &form.baseline_ms)?,
        hold_ms: number("hold_ms", &form.hold_ms)?,
        verify_ms: number("verify_ms", &form.verify_ms)?,
        phase_timeout_ms: None,
        allow_drift: form.allow_drift.is_some(),
    })
}

/// Starts a drill and goes to its page; a refusal shows the form again,
/// as typed, with the reason.
pub async fn start(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    Form(form): Form<StartForm>,
) -> Result<Response, PageError> {
    let result = match request(&form) {
        Ok(req) => drill::start(&app, &name, req, &user.username, crate::contract::DrillTrigger::Manual)
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/drills/{id}")).into_response()),
        Err(e) => {
            let status = e.status();
            if matches!(e, Error::NotFound(_) | Error::Internal(_)) {
                return Err(PageError(e));
            }
            let page = list_page(&app, user, &name, form, Some(e)).await?;
            Ok((status, page).into_response())
        }
    }
}

pub struct PhaseLine {
    pub name: String,
    pub kind: String,
    pub requests: u64,
    pub availability: f64,
    pub left: u64,
    pub right: u64,
    pub errors: String,
    pub p50: String,
    pub p99: String,
}

fn phase_line(name: &str, kind: &str, s: &Stats, servers: &[String; 2]) -> PhaseLine {
    let ms = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into());
    PhaseLine {
        name: name.to_owned(),
        kind: kind.to_owned(),
        requests: s.requests,
        availability: s.availability,
        left: s.split.get(&servers[0]).copied().unwrap_or(0),
        right: s.split.get(&servers[1]).copied().unwrap_or(0),
        errors: if s.errors.is_empty() {
            "–".into()
        } else {
            s.errors.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        },
        p50: ms(s.p50_ms),
        p99: ms(s.p99_ms),
    }
}

pub struct RoundLine {
    pub nodes: String,
    pub mttd: String,
    pub mttr: String,
    pub failures: u64,
    pub allowed: u64,
}

#[derive(Template)]
#[template(path = "drills/live.html")]
pub struct Live {
    pub id: i64,
    pub status: String,
    pub verdict: String,
    pub running: bool,
    pub can_operate: bool,
    pub csrf: String,
    pub current: String,
    pub svg: String,
    pub servers: [String; 2],
    pub phases: Vec<PhaseLine>,
    pub total: PhaseLine,
    pub rounds: Vec<RoundLine>,
    pub checks: Vec<(bool, String)>,
    pub note: String,
    pub restored: bool,
    pub floor: String,
    pub budget: String,
    pub rate: u32,
    pub url: String,
    /// Against the previous run of the scenario, in words; empty when none.
    pub comparison: String,
    pub regression: bool,
}

fn live(d: &Loaded, can_operate: bool, csrf: &str) -> Live {
    let f = &d.figures;
    let servers = d.settings.servers.clone();
    let ms = |v: Option<i64>| v.map(|x| format!("{x} ms")).unwrap_or_else(|| "–".into());
    let comparison = crate::drill::policy::compare(d.previous, f);
    Live {
        id: d.row.id,
        status: d.row.status.clone(),
        verdict: d.row.verdict.clone().unwrap_or_default(),
        running: d.row.is_running(),
        can_operate,
        csrf: csrf.to_owned(),
        current: d
            .timeline
            .phases
            .last()
            .map(|p| report::phase_name(p.kind, &p.name))
            .unwrap_or_else(|| i18n::text("drills-phase-starting")),
        svg: crate::web::report::timeline_svg(d),
        phases: f
            .phases
            .iter()
            .map(|p| phase_line(&report::phase_name(p.kind, &p.name), p.kind.as_str(), &p.stats, &servers))
            .collect(),
        total: phase_line(&i18n::text("drills-phase-total"), "total", &f.total, &servers),
        rounds: f
            .rounds
            .iter()
            .map(|r| RoundLine {
                nodes: r.nodes.join(" + "),
                mttd: ms(r.mttd_ms),
                mttr: ms(r.mttr_ms),
                failures: r.failures,
                allowed: r.allowed_failures,
            })
            .collect(),
        checks: d.checks(),
        note: d.row.note.clone(),
        restored: d.restored,
        floor: f.floor.map(|x| format!("{x}%")).unwrap_or_default(),
        budget: i18n::text_with(
            "drills-budget-text",
            &[
                ("allowed", &d.settings.budget.allowed_failures),
                ("window", &d.settings.budget.window_ms),
                ("rate", &d.settings.rate),
            ],
        ),
        rate: d.settings.rate,
        url: d.settings.target_url.clone(),
        servers,
        comparison: comparison.as_ref().map_or(String::new(), |c| {
            i18n::text_with(
                "drills-comparison",
                &[
                    ("id", &c.previous_drill_id),
                    ("mttr", &ms(c.mttr_ms)),
                    ("previous_mttr", &ms(c.previous_mttr_ms)),
                    ("failed", &c.failed),
                    ("previous_failed", &c.previous_failed),
                ],
            )
        }),
        regression: comparison.is_some_and(|c| c.regression),
    }
}

fn live_html(d: &Loaded, can_operate: bool, csrf: &str) -> Result<String, Error> {
    live(d, can_operate, csrf).render().map_err(Error::internal)
}

#[derive(Template, WebTemplate)]
#[template(path = "drills/show.html")]
pub struct ShowPage {
    layout: Layout,
    id: i64,
    stack: String,
    scenario: String,
    title: String,
    started: String,
    started_by: String,
    body: String,
}

pub async fn show(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
) -> Result<ShowPage, PageError> {
    let d = drill::load(&app.store, id).await?;
    let can_operate = user.role >= Role::Operator;
    let body = live_html(&d, can_operate, &user.csrf)?;
    let title = Scenario::builtin(&d.row.scenario).map(|s| scenario_text(&s.id, "title")).unwrap_or_default();
    Ok(ShowPage {
        layout: Layout::new(
            i18n::text_with("drills-show-page-title", &[("id", &id), ("stack", &d.row.stack)]),
            "stacks",
            Some(user),
        ),
        id,
        stack: d.row.stack.clone(),
        scenario: d.row.scenario.clone(),
        title,
        started: format_ms(d.row.started_at),
        started_by: d.row.started_by.clone(),
        body,
    })
}

type Rendered = Arc<[String; 2]>;
/// The latest event of a drill, and its rendering once someone made it.
type Latest = (Arc<Event>, std::collections::HashMap<i18n::Locale, Arc<OnceCell<Rendered>>>);

/// One drill event reaches every subscriber of that drill at once: the first
/// to handle it loads the drill (up to tens of thousands of probes and their
/// figures) and renders it, once as a viewer and once as an operator sees
/// it; the others reuse that. The operator's version carries no CSRF token:
/// its Halt button posts through htmx, which sends the page's token as a
/// header. Renderings are kept per locale: each reader gets their language.
#[derive(Default)]
pub struct DrillRenders {
    /// Per drill, its latest event and that event's rendering per locale:
    /// a new event replaces them all, so a locale nobody reads any more is
    /// not kept (a reader could otherwise step through every time zone).
    latest: std::sync::Mutex<std::collections::HashMap<i64, Latest>>,
}

impl DrillRenders {
    async fn get(&self, app: &SharedApp, id: i64, event: &Arc<Event>, locale: i18n::Locale) -> Result<Rendered, Error> {
        let cell = {
            // Plain map updates: a poisoned lock is still consistent.
            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
            let entry = latest.entry(id).or_insert_with(|| (event.clone(), Default::default()));
            if !Arc::ptr_eq(&entry.0, event) {
                *entry = (event.clone(), Default::default());
            }
            entry.1.entry(locale).or_insert_with(|| Arc::new(OnceCell::new())).clone()
        };
        cell.get_or_try_init(|| render_both(app, id, locale)).await.cloned()
    }
}

/// Both renderings in `locale`: the stream runs outside its request's scope.
async fn render_both(app: &SharedApp, id: i64, locale: i18n::Locale) -> Result<Rendered, Error> {
    let d = drill::load(&app.store, id).await?;
    i18n::sync_scope(locale, || Ok(Arc::new([live_html(&d, false, "")?, live_html(&d, true, "")?])))
}

/// Live updates of one drill: the whole fragment first, then again at each
/// change (phases, marks, probe batches at most twice a second).
pub async fn events(
    State(app): State<SharedApp>,
    State(renders): State<Arc<DrillRenders>>,
    State(streams): State<Arc<Streams>>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let guard = Guard::open(&app, &streams, &user)?;
    let can_operate = user.role >= Role::Operator;
    let csrf = if can_operate { user.csrf } else { String::new() };
    // Subscribe before the snapshot, so nothing falls between the two.
    let rx = app.bus.subscribe();
    let first = live_html(&drill::load(&app.store, id).await?, can_operate, &csrf)?;
    let variant = usize::from(can_operate);
    let locale = i18n::current();
    let updates = stream::unfold((app, renders, rx), move |(app, renders, mut rx)| async move {
        loop {
            let rendered = match rx.recv().await {
                Ok(e) => match &*e {
                    Event::DrillProgress { drill_id, .. } | Event::DrillFinished { drill_id, .. }
                        if *drill_id == id =>
                    {
                        renders.get(&app, id, &e, locale).await
                    }
                    _ => continue,
                },
                // Missed some: this subscriber loads the drill as it stands.
                Err(RecvError::Lagged(_)) => render_both(&app, id, locale).await,
                Err(RecvError::Closed) => return None,
            };
            match rendered {
                Ok(both) => return Some((both[variant].clone(), (app, renders, rx))),
                Err(e) => tracing::warn!(error = %e, "cannot render a drill update"),
            }
        }
    });
    Ok(event_stream(stream::once(async move { first }).chain(updates).map(|html| frame("drill", &html)), guard))
}

#[derive(Template)]
#[template(path = "partials/flash.html")]
struct Flash<'a> {
    class: &'a str,
    message: &'a str,
}

pub async fn halt(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let result = drill::halt(&app, id, &user.username).await;
    if headers.contains_key("hx-request") {
        // The page itself updates over SSE; htmx only needs the outcome.
        let (status, class, message) = match result {
            Ok(()) => (StatusCode::ACCEPTED, "notice", i18n::text("drills-halting")),
            Err(e) => {
                let e = Error::from(e);
                (e.status(), "alert", e.to_string())
            }
        };
        return match (Flash { class, message: &message }).render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => PageError(Error::internal(e)).into_response(),
        };
    }
    match result {
        Ok(()) => Redirect::to(&format!("/drills/{id}")).into_response(),
        Err(e) => PageError(e.into()).into_response(),
    }
}

pub async fn export_json(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let d = drill::load(&app.store, id).await?;
    let body = serde_json::to_string_pretty(&d.answer()).map_err(Error::internal)?;
    Ok(attachment(body, "application/json", &format!("drill-{id}.json")))
}

pub async fn export_markdown(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let d = drill::load(&app.store, id).await?;
    Ok(attachment(crate::web::report::report_markdown(&d), "text/markdown; charset=utf-8", &format!("drill-{id}.md")))
}

fn attachment(body: String, content_type: &'static str, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}
