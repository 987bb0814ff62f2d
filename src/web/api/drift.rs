//! `/stacks/{name}/drift`: the last check, or one run now.

use axum::Json;
use axum::extract::{Path, State};

use crate::SharedApp;
use axum::http::StatusCode;

use super::ApiJson;
use crate::contract::{
    AcceptAnswer, AcceptRequest, CloudFormationTemplate, DriftReport, ErrorBody, ReconcileAccepted, ReconcilePlan,
};
use crate::drift::{self, Deps};
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

#[utoipa::path(get, path = "/stacks/{name}/drift", tag = "drift", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "The last check (status unknown if never checked)", body = DriftReport), (status = 404, description = "No such stack", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn last(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<DriftReport>, ApiError> {
    Ok(Json(drift::last(&app.store, &name).await.map_err(Error::from)?))
}

#[utoipa::path(post, path = "/stacks/{name}/drift", tag = "drift", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "A check run now (within 60 s; calls that did not answer are listed in errors)", body = DriftReport), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Not built", body = ErrorBody), (status = 400, description = "The stack's provider cannot be used", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Compares what the provider reports with the definition and the builds'
/// records, stores the report and answers it.
pub async fn check(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<Json<DriftReport>, ApiError> {
    let deps = Deps::of(&app);
    Ok(Json(drift::check(deps, &name, &user.username).await.map_err(Error::from)?))
}

#[utoipa::path(get, path = "/stacks/{name}/reconcile", tag = "drift", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "What a reconcile would do, from the last check", body = ReconcilePlan), (status = 404, description = "No such stack", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// The steps, calls and leftovers of a reconcile, before starting one.
pub async fn preview(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<ReconcilePlan>, ApiError> {
    Ok(Json(drift::preview(&app.store, &name).await.map_err(Error::from)?))
}

#[utoipa::path(post, path = "/stacks/{name}/reconcile", tag = "drift", params(("name" = String, Path, description = "The stack's name")), responses((status = 202, description = "A build putting back what drifted has started", body = ReconcileAccepted), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Not built, nothing to put back, or a build or drill is running", body = ErrorBody), (status = 400, description = "The stack's provider cannot be used", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Checks, then builds only the steps that own drifted resources.
pub async fn reconcile(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<ReconcileAccepted>), ApiError> {
    let (build_id, cannot) = drift::reconcile(&app, &name, &user.username).await.map_err(Error::from)?;
    Ok((StatusCode::ACCEPTED, Json(ReconcileAccepted { build_id, cannot_reconcile: cannot })))
}

#[utoipa::path(get, path = "/stacks/{name}/export/cloudformation", tag = "drift", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "The stack as a CloudFormation template (YAML)", content_type = "application/yaml", body = CloudFormationTemplate), (status = 404, description = "No such stack", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// The stack as defined, as one CloudFormation template: the resources,
/// names, rules and tags a hawaf build makes.
pub async fn cloudformation(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let stack = crate::stack::load(&app.store, &name).await.map_err(Error::from)?;
    let yaml = crate::export::cloudformation_yaml(&stack.definition).map_err(Error::internal)?;
    Ok(crate::web::yaml_download(&format!("{name}.cloudformation.yaml"), yaml))
}

#[utoipa::path(post, path = "/stacks/{name}/drift/accept", tag = "drift", params(("name" = String, Path, description = "The stack's name")), request_body = AcceptRequest, responses((status = 200, description = "Live values taken into a new version where the definition can say them", body = AcceptAnswer), (status = 404, description = "No such stack", body = ErrorBody), (status = 422, description = "A resource the last check does not list, or an invalid value", body = ErrorBody), (status = 409, description = "Edited meanwhile", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Takes drifted resources' live values into the definition (an instance's
/// type, AMI or private IP; the health check) and says what it cannot.
pub async fn accept(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> Result<Json<AcceptAnswer>, ApiError> {
    let author = user.author(&app.config.outbound);
    let done = drift::accept(&app.store, author, &name, &req.resources).await.map_err(Error::from)?;
    Ok(Json(AcceptAnswer { version: done.version, accepted: done.accepted, cannot_accept: done.cannot }))
}
