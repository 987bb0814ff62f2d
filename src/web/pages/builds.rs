//! The wizard: the eight steps with their plan, status, progress, errors and
//! cloud calls, live over SSE; buttons to build all, run one step, resume,
//! and tear down.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::SharedApp;
use crate::build::{self, BuildError, Kind};
use crate::i18n;
use crate::stack::{self, StackDefinition};
use crate::store::{BuildRow, CallRow, StepRow};
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::session::{Operator, Viewer};
use crate::web::{Layout, format_ms};

pub struct CallView {
    pub at: String,
    pub operation: String,
    pub target: String,
    pub outcome: String,
    pub ok: bool,
    pub duration_ms: i64,
}

impl From<&CallRow> for CallView {
    fn from(c: &CallRow) -> Self {
        CallView {
            at: format_ms(c.at),
            operation: c.operation.clone(),
            target: c.target.clone(),
            outcome: c.outcome.clone(),
            ok: c.outcome == "ok",
            duration_ms: c.duration_ms,
        }
    }
}

/// How step 8 reaches one WAF node (AWS: the operator supplies it).
pub struct AccessView {
    pub node: String,
    pub console_url: String,
    pub configured: bool,
    pub fingerprint: String,
}

pub struct StepView {
    pub access: Vec<AccessView>,
    /// The WAF nodes run Sophos Firewall (step 8 asks for an administrator, not a token).
    pub sfos: bool,
    /// What the step does in the console's words, and the vendor's page on it.
    pub doc: (String, &'static str),
    pub number: u8,
    pub title: String,
    pub status: String,
    pub progress: String,
    pub error: Option<String>,
    pub plan: Vec<String>,
    pub calls: Vec<CallView>,
}

impl StepView {
    /// The status as a CSS class ("not run" -> "not-run").
    pub fn status_class(&self) -> String {
        self.status.replace(' ', "-")
    }
}

pub struct BuildView {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    pub resumable: bool,
}

impl From<&BuildRow> for BuildView {
    fn from(b: &BuildRow) -> Self {
        BuildView {
            id: b.id,
            kind: b.kind.clone(),
            status: b.status.clone(),
            started_by: b.started_by.clone(),
            started_at: format_ms(b.started_at),
            finished_at: b.finished_at.map(format_ms),
            error: b.error.clone(),
            resumable: b.is_resumable(),
        }
    }
}

#[derive(Template)]
#[template(path = "stacks/wizard_body.html")]
pub struct WizardBody {
    pub stack: String,
    pub build: Option<BuildView>,
    pub steps: Vec<StepView>,
    pub can_operate: bool,
    pub csrf: String,
    pub running: bool,
    pub live_resources: i64,
}

/// The wizard's header alone, for a live update.
#[derive(Template)]
#[template(path = "stacks/wizard_head.html")]
pub struct WizardHead<'a> {
    pub stack: &'a str,
    pub build: &'a Option<BuildView>,
    pub can_operate: bool,
    pub csrf: &'a str,
    pub running: bool,
    pub live_resources: i64,
}

impl WizardBody {
    pub fn head_html(&self) -> Result<String, askama::Error> {
        WizardHead {
            stack: &self.stack,
            build: &self.build,
            can_operate: self.can_operate,
            csrf: &self.csrf,
            running: self.running,
            live_resources: self.live_resources,
        }
        .render()
    }

    pub fn step_html(&self, step: &StepView) -> Result<String, askama::Error> {
        StepCard { stack: &self.stack, step, can_operate: self.can_operate, csrf: &self.csrf, running: self.running }
            .render()
    }
}

#[derive(Template)]
#[template(path = "stacks/step_one.html")]
pub struct StepCard<'a> {
    pub stack: &'a str,
    pub step: &'a StepView,
    pub can_operate: bool,
    pub csrf: &'a str,
    pub running: bool,
}

#[derive(Template)]
#[template(path = "stacks/call_row.html")]
pub struct CallRowView<'a> {
    pub call: &'a CallView,
}

/// Each step in the AWS console's words (or the appliance's, for step 8),
/// with the documentation page that explains it.
fn step_doc(def: &StackDefinition, number: u8) -> (String, &'static str) {
    use crate::cloud::LbKind;
    use crate::stack::LbRole;
    let lb = |role: LbRole| -> (String, &'static str) {
        let scheme = match role {
            LbRole::Internal => i18n::text("wizard-scheme-internal"),
            LbRole::External => i18n::text("wizard-scheme-internet-facing"),
        };
        match def.lb_kind(role) {
            LbKind::Classic => (
                i18n::text_with("wizard-doc-lb-classic", &[("scheme", &scheme)]),
                if role == LbRole::Internal {
                    "https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-internal-load-balancers.html"
                } else {
                    "https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-getting-started.html"
                },
            ),
            LbKind::Application => (
                i18n::text_with("wizard-doc-lb-application", &[("scheme", &scheme)]),
                "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/create-application-load-balancer.html",
            ),
            LbKind::Network => (
                i18n::text_with("wizard-doc-lb-network", &[("scheme", &scheme)]),
                "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/create-network-load-balancer.html",
            ),
        }
    };
    match number {
        1 => (i18n::text("wizard-doc-1"), "https://docs.aws.amazon.com/vpc/latest/userguide/create-vpc.html"),
        2 => (i18n::text("wizard-doc-2"), "https://docs.aws.amazon.com/vpc/latest/userguide/create-subnets.html"),
        3 => (
            i18n::text("wizard-doc-3"),
            "https://docs.aws.amazon.com/vpc/latest/userguide/creating-security-groups.html",
        ),
        4 => (
            i18n::text("wizard-doc-4"),
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-launch-instance-wizard.html",
        ),
        5 => lb(LbRole::Internal),
        6 => (i18n::text("wizard-doc-6"), "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/working-with-eips.html"),
        7 => lb(LbRole::External),
        _ => match def.waf_kind() {
            crate::waf::WafKind::Utm9 => (
                i18n::text("wizard-doc-8-utm"),
                "https://docs.sophos.com/nsg/sophos-utm/utm/9.708/help/en-us/Content/utm/utmAdminGuide/MgmtWebAdminRESTAPI.htm",
            ),
            crate::waf::WafKind::Sfos => (
                i18n::text("wizard-doc-8-sfos"),
                "https://docs.sophos.com/nsg/sophos-firewall/18.5/Help/en-us/webhelp/onlinehelp/AdministratorHelp/BackupAndFirmware/API/index.html",
            ),
        },
    }
}

/// A step's title in the reader's language, by its number and the kind of
/// build (the library's title, in English, is the fallback).
/// Which set of step titles a stored build kind reads with: an adoption
/// runs the apply steps but creates nothing, and Japanese says so.
pub fn title_kind(stored: &str) -> &'static str {
    match stored {
        "destroy" => "destroy",
        "adopt" => "adopt",
        _ => "apply",
    }
}

/// A step's title in the reader's language, `titles` from `title_kind`.
pub fn step_title(titles: &str, number: u8, fallback: &str) -> String {
    if !(1..=8).contains(&number) {
        return fallback.to_owned();
    }
    i18n::text(&format!("wizard-step-{titles}-{number}"))
}

fn step_view(
    def: &StackDefinition,
    (kind, titles): (Kind, &str),
    row: Option<&StepRow>,
    calls: &[CallRow],
    number: u8,
    title: &str,
) -> StepView {
    StepView {
        access: Vec::new(),
        sfos: def.waf_kind() == crate::waf::WafKind::Sfos,
        doc: step_doc(def, number),
        number,
        title: step_title(titles, number, title),
        status: row.map(|r| r.status.clone()).unwrap_or_else(|| "not run".into()),
        progress: row.map(|r| r.progress.clone()).unwrap_or_default(),
        error: row.and_then(|r| r.error.clone()),
        plan: build::plan::plan(def, kind, number),
        calls: calls.iter().filter(|c| c.step == i64::from(number)).map(CallView::from).collect(),
    }
}

/// Step 8's node access panel: only AWS stacks need the operator's token
/// (the lab knows its nodes'), and only once the nodes exist.
async fn access_views(app: &SharedApp, s: &stack::Stack) -> Result<Vec<AccessView>, Error> {
    use crate::stack::{InstanceRole, Provider};
    if s.definition.provider() != Provider::Aws {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for role in [InstanceRole::WafLeft, InstanceRole::WafRight] {
        let Some(console_url) = crate::node::console_url(&app.store, &app.providers, s, role).await else { continue };
        let node = s.definition.instance(role).name().to_string();
        let stored = app.store.waf_node(s.row.id, &node).await?;
        out.push(AccessView {
            configured: stored.is_some(),
            fingerprint: stored
                .and_then(|r| r.fingerprint.parse::<crate::waf::Fingerprint>().ok())
                .map(|f| f.to_string())
                .unwrap_or_default(),
            node,
            console_url,
        });
    }
    Ok(out)
}

/// The wizard's state for a stack: its latest build's steps and calls, or
/// the plan of an apply when nothing has run yet.
/// `csrf` is empty for viewers, who get no buttons.
pub async fn wizard_body(app: &SharedApp, name: &str, can_operate: bool, csrf: &str) -> Result<WizardBody, Error> {
    let s = stack::load(&app.store, name).await?;
    let latest = app.store.latest_build(s.row.id).await?;
    let (kind, rows, calls) = match &latest {
        Some(b) => {
            let kind = if b.kind == "destroy" { Kind::Destroy } else { Kind::Apply };
            (kind, app.store.build_steps(b.id).await?, app.store.build_calls(b.id).await?)
        }
        None => (Kind::Apply, Vec::new(), Vec::new()),
    };
    let titles = latest.as_ref().map_or("apply", |b| title_kind(&b.kind));
    // Numeric order whatever the kind: each step's element is a live SSE target
    // and must not move; CSS shows a teardown's steps 8 → 1.
    let mut specs: Vec<_> = build::steps(kind).iter().collect();
    specs.sort_by_key(|s| s.number);
    let mut steps: Vec<StepView> = specs
        .into_iter()
        .map(|spec| {
            let row = rows.iter().find(|r| r.number == i64::from(spec.number));
            step_view(&s.definition, (kind, titles), row, &calls, spec.number, spec.title)
        })
        .collect();
    if kind == Kind::Apply
        && let Some(step8) = steps.iter_mut().find(|v| v.number == 8)
    {
        step8.access = access_views(app, &s).await?;
    }
    Ok(WizardBody {
        stack: name.to_owned(),
        running: latest.as_ref().is_some_and(|b| b.is_running()),
        build: latest.as_ref().map(BuildView::from),
        steps,
        can_operate,
        csrf: csrf.to_owned(),
        live_resources: s.row.live_resources,
    })
}

/// One step's card, rendered for an SSE update.
pub async fn step_card_html(
    app: &SharedApp,
    name: &str,
    build_id: i64,
    number: u8,
    can_operate: bool,
    csrf: &str,
) -> Result<String, Error> {
    let s = stack::load(&app.store, name).await?;
    let Some(b) = app.store.build(build_id).await? else { return Ok(String::new()) };
    let kind = if b.kind == "destroy" { Kind::Destroy } else { Kind::Apply };
    let rows = app.store.build_steps(build_id).await?;
    let calls = app.store.build_calls(build_id).await?;
    let title = build::steps(kind).iter().find(|s| s.number == number).map(|s| s.title).unwrap_or("");
    let view = step_view(
        &s.definition,
        (kind, title_kind(&b.kind)),
        rows.iter().find(|r| r.number == i64::from(number)),
        &calls,
        number,
        title,
    );
    let card = StepCard { stack: name, step: &view, can_operate, csrf, running: b.is_running() };
    card.render().map_err(Error::internal)
}

#[derive(Template, WebTemplate)]
#[template(path = "stacks/build.html")]
pub struct BuildPage {
    layout: Layout,
    stack: String,
    version: i64,
    provider: String,
    body: String,
}

pub async fn page(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Path(name): Path<String>,
) -> Result<BuildPage, PageError> {
    let s = stack::load(&app.store, &name).await?;
    let can_operate = user.role >= crate::auth::Role::Operator;
    let body = wizard_body(&app, &name, can_operate, &user.csrf).await?.render().map_err(Error::internal)?;
    Ok(BuildPage {
        layout: Layout::new(i18n::text_with("wizard-page-title", &[("name", &name)]), "stacks", Some(user)),
        version: s.row.current_version,
        provider: s.definition.provider().as_str().to_owned(),
        stack: name,
        body,
    })
}

/// What a button started, in words: `started(id)` says it with the build's id.
fn answer(
    headers: &HeaderMap,
    name: &str,
    result: Result<i64, BuildError>,
    started: impl Fn(i64) -> String,
) -> Response {
    let result = result.map(started).map_err(Error::from);
    super::action_answer(headers, &format!("/stacks/{name}/build"), StatusCode::ACCEPTED, result)
}

pub async fn apply(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(&headers, &name, build::start(&app, &name, Kind::Apply, &user.username).await, |id| {
        i18n::text_with("wizard-started-build", &[("id", &id)])
    })
}

pub async fn run_step(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, step)): Path<(String, u8)>,
    headers: HeaderMap,
) -> Response {
    answer(&headers, &name, build::start_step(&app, &name, step, &user.username).await, |id| {
        i18n::text_with("wizard-started-step", &[("step", &step), ("id", &id)])
    })
}

pub async fn resume(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, build_id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    answer(&headers, &name, build::resume(&app, build_id, &user.username).await, |id| {
        i18n::text_with("wizard-started-resume", &[("id", &id)])
    })
}

#[derive(Deserialize)]
pub struct Confirm {
    #[serde(default)]
    confirm: String,
}

pub async fn destroy(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Confirm>,
) -> Response {
    let result = if form.confirm.trim() != name {
        Err(BuildError::Refused(i18n::text_with("wizard-teardown-confirm", &[("name", &name)])))
    } else {
        build::destroy(&app, &name, Some(form.confirm.trim()), &user.username).await
    };
    answer(&headers, &name, result, |id| i18n::text_with("wizard-started-teardown", &[("id", &id)]))
}
