//! The stack page's load-balancer migration forms: start one (classic
//! tiers to ELBv2, blue/green) and finish it with the stack's name typed.

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::SharedApp;
use crate::web::error::{Error, PageError};
use crate::web::session::Operator;

#[derive(serde::Deserialize)]
pub struct MigrateForm {
    to: String,
}

/// Starts a blue/green migration of the classic tiers; the build wizard
/// shows it.
pub async fn start_migration(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    Form(form): Form<MigrateForm>,
) -> Result<Response, PageError> {
    let req = crate::contract::MigrationRequest { to: form.to, tiers: Vec::new() };
    crate::migrate::start(&app, &name, req, user.author(&app.config.outbound)).await.map_err(Error::from)?;
    Ok(Redirect::to(&format!("/stacks/{name}?done=migrating")).into_response())
}

#[derive(serde::Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    confirm: String,
}

pub async fn finish_migration(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    Form(form): Form<FinishForm>,
) -> Result<Response, PageError> {
    crate::migrate::finish(&app, &name, Some(&form.confirm), &user.username).await.map_err(Error::from)?;
    Ok(Redirect::to(&format!("/stacks/{name}?done=migrated")).into_response())
}
