//! `/stacks/{name}/migration`: move classic tiers to application or network
//! load balancers, blue/green, and finish once clients follow.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::ApiJson;
use crate::SharedApp;
use crate::contract::{
    ErrorBody, MigrationAccepted, MigrationFinish, MigrationFinished, MigrationPlan, MigrationRequest,
};
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PlanQuery {
    /// `application` or `network`.
    to: String,
    /// `external`, `internal` or both, comma-separated (default both).
    #[serde(default)]
    tiers: Option<String>,
}

fn tiers(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

#[utoipa::path(get, path = "/stacks/{name}/migration", tag = "stacks", params(("name" = String, Path, description = "The stack's name"), PlanQuery), responses((status = 200, description = "What a migration would create and change, and why it cannot run now", body = MigrationPlan), (status = 404, description = "No such stack", body = ErrorBody), (status = 422, description = "Unknown target kind or tier", body = ErrorBody), (status = 400, description = "Missing `to`", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody)))]
/// The plan of moving the stack's classic tiers to `to`.
pub async fn plan(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
    Query(q): Query<PlanQuery>,
) -> Result<Json<MigrationPlan>, ApiError> {
    Ok(Json(crate::migrate::plan(&app, &name, &q.to, &tiers(q.tiers.as_deref())).await.map_err(Error::from)?))
}

#[utoipa::path(post, path = "/stacks/{name}/migration", tag = "stacks", params(("name" = String, Path, description = "The stack's name")), request_body = MigrationRequest, responses((status = 202, description = "Started: the new tiers are built beside the old ones, then D1 runs", body = MigrationAccepted), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Not built, already migrating, a build running, or a tier that is not classic", body = ErrorBody), (status = 422, description = "Unknown target kind or tier", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Starts a blue/green migration of the stack's classic tiers.
pub async fn start(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<MigrationRequest>,
) -> Result<(StatusCode, Json<MigrationAccepted>), ApiError> {
    let accepted =
        crate::migrate::start(&app, &name, req, user.author(&app.config.outbound)).await.map_err(Error::from)?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

#[utoipa::path(post, path = "/stacks/{name}/migration/finish", tag = "stacks", params(("name" = String, Path, description = "The stack's name")), request_body = MigrationFinish, responses((status = 200, description = "The old load balancers and their WAF objects are removed", body = MigrationFinished), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Nothing to finish, no confirmation, or a build running", body = ErrorBody), (status = 502, description = "The provider refused the delete", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Removes the old tiers of a migration, with the stack's name typed.
pub async fn finish(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<MigrationFinish>,
) -> Result<Json<MigrationFinished>, ApiError> {
    let done =
        crate::migrate::finish(&app, &name, req.confirm.as_deref(), &user.username).await.map_err(Error::from)?;
    Ok(Json(done))
}
