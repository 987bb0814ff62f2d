use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::OptionalApiJson;
use crate::SharedApp;
use crate::build::{self, Kind};
use crate::contract::{self, BuildAccepted, BuildKind, BuildStatus, StepStatus};
use crate::contract::{DestroyRequest, ErrorBody};
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

fn accepted(build_id: i64) -> (StatusCode, Json<BuildAccepted>) {
    (StatusCode::ACCEPTED, Json(BuildAccepted { build_id }))
}

#[utoipa::path(post, path = "/stacks/{name}/apply", tag = "builds", params(("name" = String, Path, description = "The stack's name")), responses((status = 202, description = "Started", body = BuildAccepted), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "A build runs, or names are taken", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn apply(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<BuildAccepted>), ApiError> {
    Ok(accepted(build::start(&app, &name, Kind::Apply, &user.username).await?))
}

#[utoipa::path(post, path = "/stacks/{name}/destroy", tag = "builds", params(("name" = String, Path, description = "The stack's name")), request_body(content = Option<DestroyRequest>, description = "Optional; an adopted stack needs confirm = its name"), responses((status = 202, description = "Started", body = BuildAccepted), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "A build or drill runs, or an adopted stack without confirm", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn destroy(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    OptionalApiJson(req): OptionalApiJson<DestroyRequest>,
) -> Result<(StatusCode, Json<BuildAccepted>), ApiError> {
    Ok(accepted(build::destroy(&app, &name, req.confirm.as_deref(), &user.username).await?))
}

#[utoipa::path(post, path = "/builds/{id}/resume", tag = "builds", params(("id" = i64, Path, description = "The id")), responses((status = 202, description = "Resumed", body = BuildAccepted), (status = 404, description = "No such build", body = ErrorBody), (status = 409, description = "Not resumable", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn resume(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<BuildAccepted>), ApiError> {
    Ok(accepted(build::resume(&app, id, &user.username).await?))
}

/// A stored status the schema's CHECK constraint allows but this build does
/// not know: a database written by a newer hawaf.
fn unknown(what: &str, value: &str) -> Error {
    Error::internal(format!("the database holds a {what} this version does not know: {value:?}"))
}

#[utoipa::path(get, path = "/builds/{id}", tag = "builds", params(("id" = i64, Path, description = "The id")), responses((status = 200, description = "The build, its steps and calls", body = contract::Build), (status = 404, description = "No such build", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn show(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<contract::Build>, ApiError> {
    let b = app.store.build(id).await?.ok_or_else(|| Error::NotFound(format!("there is no build {id}")))?;
    let steps = app.store.build_steps(id).await?;
    let calls = app.store.build_calls(id).await?;
    let steps = steps
        .into_iter()
        .map(|s| {
            Ok(contract::Step {
                status: StepStatus::parse(&s.status).ok_or_else(|| unknown("step status", &s.status))?,
                calls: calls
                    .iter()
                    .filter(|c| c.step == s.number)
                    .map(|c| contract::Call {
                        operation: c.operation.clone(),
                        target: c.target.clone(),
                        outcome: c.outcome.clone(),
                        duration_ms: c.duration_ms,
                    })
                    .collect(),
                number: s.number,
                title: s.title,
                progress: s.progress,
                error: s.error,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Json(contract::Build {
        kind: BuildKind::parse(&b.kind).ok_or_else(|| unknown("build kind", &b.kind))?,
        status: BuildStatus::parse(&b.status).ok_or_else(|| unknown("build status", &b.status))?,
        build_id: b.id,
        stack: b.stack,
        version: b.version,
        started_by: b.started_by,
        started_at_ms: b.started_at,
        finished_at_ms: b.finished_at,
        error: b.error,
        resumed_from: b.resumed_from,
        steps,
    }))
}
