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
