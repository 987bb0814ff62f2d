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
use crate::i18n;
use crate::web::error::{Error, PageError};
use crate::web::filters;
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
/// `sat,sun 00:00-24:00`.
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
    let forms = Forms { schedule: form, schedule_errors: errors, ..Forms::default() };
    let page = super::drills::schedules_page(&app, user, &name, start, None, forms).await?;
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

#[derive(Template, askama_web::WebTemplate)]
#[template(path = "webhooks.html")]
pub struct WebhooksPage {
    layout: crate::web::Layout,
    hooks: Vec<crate::contract::Webhook>,
    events: Vec<String>,
    form: WebhookForm,
    problem: Option<String>,
}

/// The add-a-webhook form as typed (the secret is never sent back).
#[derive(Debug, Default)]
pub struct WebhookForm {
    url: String,
    events: Vec<String>,
}

async fn webhooks_page(
    app: &SharedApp,
    user: crate::web::session::Principal,
    form: WebhookForm,
    problem: Option<String>,
) -> Result<WebhooksPage, PageError> {
    Ok(WebhooksPage {
        layout: crate::web::Layout::new(i18n::text("drills-webhooks-title"), "webhooks", Some(user)),
        hooks: crate::webhook::list(&app.store).await.map_err(Error::from)?,
        events: crate::webhook::EVENTS.iter().map(|e| (*e).to_owned()).collect(),
        form,
        problem,
    })
}

pub async fn webhooks(
    State(app): State<SharedApp>,
    crate::web::session::Admin(user): crate::web::session::Admin,
) -> Result<WebhooksPage, PageError> {
    webhooks_page(&app, user, WebhookForm::default(), None).await
}

/// Repeated `events` fields: a form sends one per ticked box.
pub async fn add_webhook(
    State(app): State<SharedApp>,
    crate::web::session::Admin(user): crate::web::session::Admin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let value = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let events: Vec<String> = pairs.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect();
    let req = crate::contract::WebhookRequest { url: value("url"), secret: value("secret"), events: events.clone() };
    match crate::webhook::create(&app, req, &user.username).await {
        Ok(_) => Ok(Redirect::to("/webhooks").into_response()),
        Err(crate::webhook::WebhookError::Invalid(fields)) => {
            let problem = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
            let page = webhooks_page(&app, user, WebhookForm { url: value("url"), events }, Some(problem)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(Error::from(e).into()),
    }
}

pub async fn delete_webhook(
    State(app): State<SharedApp>,
    crate::web::session::Admin(user): crate::web::session::Admin,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, PageError> {
    crate::webhook::delete(&app.store, id, &user.username).await.map_err(Error::from)?;
    Ok(Redirect::to("/webhooks").into_response())
}

/// The drills page's two add forms as typed, with their errors.
#[derive(Default)]
pub struct Forms {
    pub schedule: ScheduleForm,
    pub schedule_errors: Vec<crate::stack::FieldError>,
    pub custom: CustomForm,
    pub custom_errors: Vec<crate::stack::FieldError>,
}

/// The add-a-custom-drill form. The method is one step per line:
/// `ha-web-right isolate [HOLD_MS]`, a leading `+` joining the line before.
#[derive(Debug, Default, Deserialize)]
pub struct CustomForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub floor: String,
    #[serde(default)]
    pub method: String,
}

fn parse_custom(form: &CustomForm) -> Result<crate::contract::DrillDefinitionRequest, Vec<crate::stack::FieldError>> {
    use crate::stack::FieldError;
    let mut errors = Vec::new();
    let floor = match form.floor.trim() {
        "" => None,
        f => match f.trim_end_matches('%').parse::<f64>() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(FieldError::new("hypothesis.availability_floor", i18n::text("drills-custom-bad-floor")));
                None
            }
        },
    };
    let mut method = Vec::new();
    for (i, line) in form.method.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let (with_previous, rest) = match line.strip_prefix('+') {
            Some(r) => (true, r.trim()),
            None => (false, line),
        };
        let parts: Vec<&str> = rest.split_whitespace().collect();
        match parts.as_slice() {
            [node, action] => method.push(drill::custom::step(node, action, None, with_previous)),
            [node, action, hold] => match hold.parse::<u64>() {
                Ok(h) => method.push(drill::custom::step(node, action, Some(h), with_previous)),
                Err(_) => {
                    errors.push(FieldError::new(format!("method[{i}].hold_ms"), i18n::text("drills-custom-bad-hold")))
                }
            },
            _ => errors.push(FieldError::new(format!("method[{i}]"), i18n::text("drills-custom-bad-step"))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(crate::contract::DrillDefinitionRequest {
        name: form.name.trim().to_owned(),
        title: form.title.trim().to_owned(),
        hypothesis: crate::contract::Hypothesis { availability_floor: floor },
        method,
    })
}

/// Adds a custom drill; a refusal shows the drills page with the form as typed.
pub async fn add_custom(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    axum::extract::Path(name): axum::extract::Path<String>,
    Form(form): Form<CustomForm>,
) -> Result<Response, PageError> {
    let errors = match parse_custom(&form) {
        Ok(req) => match drill::custom::create(&app.store, &name, req, &user.username).await {
            Ok(_) => return Ok(Redirect::to(&format!("/stacks/{name}/drills#custom")).into_response()),
            Err(drill::custom::CustomError::Invalid(fields)) => fields,
            Err(e @ drill::custom::CustomError::Duplicate { .. }) => {
                vec![crate::stack::FieldError::new("name", e.to_string())]
            }
            Err(e) => return Err(Error::from(e).into()),
        },
        Err(fields) => fields,
    };
    let start = super::drills::StartForm { scenario: "D1".into(), ..Default::default() };
    let forms = Forms { custom: form, custom_errors: errors, ..Forms::default() };
    let page = super::drills::schedules_page(&app, user, &name, start, None, forms).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

pub async fn delete_custom(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    axum::extract::Path((name, definition)): axum::extract::Path<(String, String)>,
) -> Result<Response, PageError> {
    drill::custom::delete(&app.store, &name, &definition, &user.username).await.map_err(Error::from)?;
    Ok(Redirect::to(&format!("/stacks/{name}/drills#custom")).into_response())
}
