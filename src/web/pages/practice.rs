//! The safety lever in the page header (loaded into every page by htmx, so
//! each page's own handler need not read it) and its form.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::SharedApp;
use crate::auth::Role;
use crate::contract::SafetyLever;
use crate::drill;
use crate::web::error::{Error, PageError};
use crate::web::session::{Operator, Viewer};

#[derive(Template)]
#[template(path = "partials/lever.html")]
struct LeverSwitch {
    lever: SafetyLever,
    can_operate: bool,
    csrf: String,
}

/// The header's switch.
pub async fn lever(State(app): State<SharedApp>, Viewer(user): Viewer) -> Result<Html<String>, PageError> {
    let lever = drill::lever::state(&app.store).await.map_err(Error::from)?;
    let html = LeverSwitch { lever, can_operate: user.role >= Role::Operator, csrf: user.csrf.clone() }
        .render()
        .map_err(Error::internal)?;
    Ok(Html(html))
}

#[derive(Deserialize)]
pub struct LeverForm {
    engaged: String,
    #[serde(default)]
    reason: String,
}

/// Engage or release, then back to the page it was pulled from.
pub async fn set_lever(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    headers: HeaderMap,
    Form(form): Form<LeverForm>,
) -> Result<Response, PageError> {
    let engaged = form.engaged == "true";
    drill::lever::set(&app, engaged, &form.reason, &user.username).await.map_err(Error::from)?;
    // Back where the operator was, if that was one of our pages.
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("://").and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_owned())))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/stacks".to_owned());
    Ok(Redirect::to(&back).into_response())
}

/// The add-a-schedule form as typed. Blackouts are one per line:
/// `sat,sun 00:00-23:59`.
#[derive(Debug, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub cron: String,
    #[serde(default)]
    pub blackouts: String,
}

/// Adds a schedule; a refusal shows the drills page again with the form as typed.
pub async fn add_schedule(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    axum::extract::Path(name): axum::extract::Path<String>,
    Form(form): Form<ScheduleForm>,
) -> Result<Response, PageError> {
    let mut errors = Vec::new();
    let mut blackouts = Vec::new();
    for (i, line) in form.blackouts.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        match line.parse::<crate::contract::Blackout>() {
            Ok(b) => blackouts.push(b),
            Err(e) => errors.push(crate::stack::FieldError::new(format!("blackouts[{i}]"), e)),
        }
    }
    if errors.is_empty() {
        let req = crate::contract::ScheduleRequest {
            scenario: form.scenario.clone(),
            cron: form.cron.clone(),
            blackouts,
            suspended: false,
        };
        match drill::schedule::create(&app.store, &name, req, &user.username).await {
            Ok(_) => return Ok(Redirect::to(&format!("/stacks/{name}/drills#schedules")).into_response()),
            Err(drill::schedule::ScheduleError::Invalid(fields)) => errors = fields,
            Err(e) => return Err(Error::from(e).into()),
        }
    }
    let start = super::drills::StartForm { scenario: "D1".into(), ..Default::default() };
    let page = super::drills::schedules_page(&app, user, &name, start, None, form, errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Suspend, resume or delete, then back to the drills page.
pub async fn change_schedule(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    axum::extract::Path((id, action)): axum::extract::Path<(i64, String)>,
) -> Result<Response, PageError> {
    let row = app
        .store
        .schedule(id)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::NotFound(format!("there is no schedule {id}")))?;
    let patch = |suspended| crate::contract::SchedulePatch { suspended: Some(suspended), ..Default::default() };
    match action.as_str() {
        "suspend" => drill::schedule::update(&app.store, id, patch(true), &user.username).await.map(|_| ()),
        "resume" => drill::schedule::update(&app.store, id, patch(false), &user.username).await.map(|_| ()),
        "delete" => drill::schedule::delete(&app.store, id, &user.username).await,
        other => return Err(Error::NotFound(format!("there is no schedule action {other}")).into()),
    }
    .map_err(Error::from)?;
    Ok(Redirect::to(&format!("/stacks/{}/drills#schedules", row.stack)).into_response())
}
