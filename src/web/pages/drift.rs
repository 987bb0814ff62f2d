//! The drift panel of the stack page: status, last check, and each
//! difference as expected against actual, in the manner of
//! `terraform plan -refresh-only`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::SharedApp;
use crate::auth::Role;
use crate::contract::{DifferenceType, DriftReport, DriftStatus, ResourceState};
use crate::drift::{self, Deps};
use crate::i18n;
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::format_ms;
use crate::web::session::Operator;

pub struct Line {
    pub sign: &'static str,
    pub path: String,
    pub expected: String,
    pub actual: String,
}

pub struct Changed {
    pub resource: String,
    pub name: String,
    pub state: &'static str,
    pub lines: Vec<Line>,
    /// Some of its live values can be taken into the definition.
    pub acceptable: bool,
}

#[derive(Template)]
#[template(path = "stacks/drift.html")]
struct Panel {
    stack: String,
    status: &'static str,
    status_text: String,
    checked_at: Option<String>,
    errors: Vec<String>,
    changed: Vec<Changed>,
    checked: usize,
    /// What a reconcile would do, and what it cannot.
    calls: Vec<String>,
    cannot: Vec<String>,
    can_operate: bool,
    /// For the form without JavaScript; htmx sends the page's token as a header.
    csrf: String,
}

fn panel(report: &DriftReport, can_operate: bool, csrf: &str) -> Panel {
    let acceptable = drift::acceptable(report);
    let plan = drift::plan::plan(report);
    let changed = report
        .resources
        .iter()
        .filter(|r| r.state != ResourceState::InSync)
        .map(|r| Changed {
            resource: r.resource.clone(),
            name: r.name.clone(),
            state: r.state.as_str(),
            lines: r
                .differences
                .iter()
                .map(|d| Line {
                    sign: match d.kind {
                        DifferenceType::Add => "+",
                        DifferenceType::Remove => "-",
                        DifferenceType::NotEqual => "~",
                    },
                    path: d.path.clone(),
                    expected: d.expected.clone().unwrap_or_else(|| "–".into()),
                    actual: d.actual.clone().unwrap_or_else(|| "–".into()),
                })
                .collect(),
            acceptable: acceptable.contains(&r.resource),
        })
        .collect();
    Panel {
        stack: report.stack.clone(),
        status: report.status.as_str(),
        status_text: match report.status {
            DriftStatus::InSync => i18n::text("stacks-drift-status-in-sync"),
            DriftStatus::Drifted => i18n::text("stacks-drift-status-drifted"),
            DriftStatus::Unknown => i18n::text("stacks-drift-status-unknown"),
        },
        checked_at: report.checked_at.as_deref().map(checked_at),
        errors: report.errors.clone(),
        changed,
        checked: report.resources.len(),
        calls: plan.calls,
        cannot: plan.cannot,
        can_operate,
        csrf: csrf.to_owned(),
    }
}

/// When the check ran, in the reader's zone (as it was stored, to the
/// second, should it not parse as RFC 3339).
fn checked_at(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => format_ms(t.timestamp_millis()),
        Err(_) => rfc3339.replace('T', " ").chars().take(19).collect(),
    }
}

/// The panel as the stack's last check left it.
pub async fn panel_html(app: &SharedApp, name: &str, can_operate: bool, csrf: &str) -> Result<String, Error> {
    let report = drift::last(&app.store, name).await?;
    panel(&report, can_operate, csrf).render().map_err(Error::internal)
}

/// "Reconcile": starts the build that puts back what drifted, and shows it.
pub async fn reconcile(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    drift::reconcile(&app, &name, &user.username).await.map_err(Error::from)?;
    Ok(Redirect::to(&format!("/stacks/{name}/build")).into_response())
}

/// The stack as a CloudFormation template, to download.
pub async fn cloudformation(
    State(app): State<SharedApp>,
    crate::web::session::Viewer(_): crate::web::session::Viewer,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let stack = crate::stack::load(&app.store, &name).await.map_err(Error::from)?;
    let yaml = crate::export::cloudformation_yaml(&stack.definition).map_err(Error::internal)?;
    Ok(crate::web::yaml_download(&format!("{name}.cloudformation.yaml"), yaml))
}

/// "Check now": runs a check; htmx gets the new panel, a plain form the page.
pub async fn check(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let deps = Deps::of(&app);
    let report = drift::check(deps, &name, &user.username).await.map_err(Error::from)?;
    if headers.contains_key("hx-request") {
        let html = panel(&report, user.role >= Role::Operator, &user.csrf).render().map_err(Error::internal)?;
        return Ok(Html(html).into_response());
    }
    Ok(Redirect::to(&format!("/stacks/{name}")).into_response())
}

/// "Take live values": a new version of the definition with what the
/// provider has now for one drifted resource, where the definition can say it.
pub async fn accept(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    axum::extract::Form(form): axum::extract::Form<AcceptForm>,
) -> Result<Response, PageError> {
    let author = user.author(&app.config.outbound);
    let done =
        drift::accept(&app.store, author, &name, std::slice::from_ref(&form.resource)).await.map_err(Error::from)?;
    let to = if done.version.is_some() { "accepted" } else { "unchanged" };
    Ok(Redirect::to(&format!("/stacks/{name}?done={to}")).into_response())
}

#[derive(serde::Deserialize)]
pub struct AcceptForm {
    resource: String,
}
