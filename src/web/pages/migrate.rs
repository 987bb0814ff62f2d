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
    /// `to=sfos`: the Sophos Firewall AMI (the lab's own when empty).
    #[serde(default)]
    image: String,
}

/// Starts a blue/green migration of the classic tiers; the build wizard
/// shows it.
pub async fn start_migration(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    Form(form): Form<MigrateForm>,
) -> Result<Response, PageError> {
    let image = Some(form.image.trim().to_owned()).filter(|i| !i.is_empty());
    let appliance = crate::migrate::appliance::is_appliance(&form.to);
    let req = crate::contract::MigrationRequest { to: form.to, tiers: Vec::new(), image };
    crate::migrate::start(&app, &name, req, user.author(&app.config.outbound)).await.map_err(Error::from)?;
    let done = if appliance { "replacing" } else { "migrating" };
    Ok(Redirect::to(&format!("/stacks/{name}?done={done}#appliance")).into_response())
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
