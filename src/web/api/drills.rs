use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiJson;
use crate::SharedApp;
use crate::contract::{
    Drill, DrillDefinition, DrillDefinitionRequest, ErrorBody, Policy, SafetyLever, SafetyLeverChanged,
    SafetyLeverRequest, Schedule, SchedulePatch, ScheduleRequest,
};
use crate::contract::{DrillAccepted, DrillStatus, DrillSummary, DrillTrigger, Verdict};
use crate::drill::{self, DrillRequest};
use crate::stack;
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

#[utoipa::path(post, path = "/stacks/{name}/drills", tag = "drills", params(("name" = String, Path, description = "The stack's name")), request_body = DrillRequest, responses((status = 202, description = "Started", body = DrillAccepted), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Unbuilt, unhealthy, busy or unconfirmed", body = ErrorBody), (status = 422, description = "Unknown scenario or setting out of range", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn start(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<DrillRequest>,
) -> Result<(StatusCode, Json<DrillAccepted>), ApiError> {
    let drill_id = drill::start(&app, &name, req, &user.username, crate::contract::DrillTrigger::Api).await?;
    Ok((StatusCode::ACCEPTED, Json(DrillAccepted { drill_id })))
}

#[utoipa::path(get, path = "/stacks/{name}/drills", tag = "drills", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "The stack's drills, newest first", body = Vec<DrillSummary>), (status = 404, description = "No such stack", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// A stack's drills, newest first, with their verdicts.
pub async fn list(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<Vec<DrillSummary>>, ApiError> {
    let s = stack::load(&app.store, &name).await?;
    let rows = app.store.drills_of(s.row.id, 100).await?;
    let unknown =
        |what: &str, v: &str| Error::internal(format!("the database holds a {what} this version does not know: {v:?}"));
    let list = rows
        .into_iter()
        .map(|d| {
            Ok(DrillSummary {
                status: DrillStatus::parse(&d.status).ok_or_else(|| unknown("drill status", &d.status))?,
                verdict: match d.verdict.as_deref() {
                    None => None,
                    Some(v) => Some(Verdict::parse(v).ok_or_else(|| unknown("verdict", v))?),
                },
                trigger: DrillTrigger::parse(&d.trigger).ok_or_else(|| unknown("drill trigger", &d.trigger))?,
                drill_id: d.id,
                scenario: d.scenario,
                started_by: d.started_by,
                started_at: d.started_at,
                finished_at: d.finished_at,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Json(list))
}

#[utoipa::path(get, path = "/drills/{id}", tag = "drills", params(("id" = i64, Path, description = "The id")), responses((status = 200, description = "The drill", body = Drill), (status = 404, description = "No such drill", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn show(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Drill>, ApiError> {
    Ok(Json(drill::load(&app.store, id).await?.answer()))
}

#[utoipa::path(post, path = "/drills/{id}/halt", tag = "drills", params(("id" = i64, Path, description = "The id")), responses((status = 202, description = "Halting; it restores what it changed", body = Drill), (status = 404, description = "No such drill", body = ErrorBody), (status = 409, description = "Not running", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Stops the drill; it restores what it changed. Answers with the drill as
/// it stands (its status turns `halted` once the restore is done).
pub async fn halt(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Drill>), ApiError> {
    drill::halt(&app, id, &user.username).await?;
    Ok((StatusCode::ACCEPTED, Json(drill::load(&app.store, id).await?.answer())))
}

#[utoipa::path(get, path = "/safety-lever", tag = "drills", responses((status = 200, description = "Whether drills may run", body = SafetyLever), (status = 401, description = "No or unknown token", body = ErrorBody)))]
/// The safety lever: engaged, it halts every drill and refuses new ones.
pub async fn lever(State(app): State<SharedApp>, Viewer(_): Viewer) -> Result<Json<SafetyLever>, ApiError> {
    Ok(Json(drill::lever::state(&app.store).await?))
}

#[utoipa::path(post, path = "/safety-lever", tag = "drills", request_body = SafetyLeverRequest, responses((status = 200, description = "The new state, and the drills it halted", body = SafetyLeverChanged), (status = 422, description = "Engaging without a reason", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Engages (halting every running drill) or releases the safety lever.
pub async fn set_lever(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    ApiJson(req): ApiJson<SafetyLeverRequest>,
) -> Result<Json<SafetyLeverChanged>, ApiError> {
    let (lever, halted_drills) = drill::lever::set(&app, req.engaged, &req.reason, &user.username).await?;
    Ok(Json(SafetyLeverChanged { lever, halted_drills }))
}

#[utoipa::path(get, path = "/stacks/{name}/schedules", tag = "drills", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "The stack's drill schedules, with next runs and latest slots", body = Vec<Schedule>), (status = 404, description = "No such stack", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody)))]
pub async fn schedules(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<Vec<Schedule>>, ApiError> {
    Ok(Json(drill::schedule::list(&app.store, &name).await?))
}

#[utoipa::path(post, path = "/stacks/{name}/schedules", tag = "drills", params(("name" = String, Path, description = "The stack's name")), request_body = ScheduleRequest, responses((status = 201, description = "Created", body = Schedule), (status = 404, description = "No such stack", body = ErrorBody), (status = 422, description = "Invalid scenario, cron or blackout, by field", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// A drill on a schedule: five-field cron (UTC), blackout windows, suspended.
pub async fn create_schedule(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<ScheduleRequest>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    Ok((StatusCode::CREATED, Json(drill::schedule::create(&app.store, &name, req, &user.username).await?)))
}

#[utoipa::path(patch, path = "/schedules/{id}", tag = "drills", params(("id" = i64, Path, description = "The schedule")), request_body = SchedulePatch, responses((status = 200, description = "Changed", body = Schedule), (status = 404, description = "No such schedule", body = ErrorBody), (status = 422, description = "Invalid cron or blackout", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Changes a schedule's cron, blackouts or suspension; a resumed schedule
/// counts from now.
pub async fn update_schedule(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
    ApiJson(patch): ApiJson<SchedulePatch>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(drill::schedule::update(&app.store, id, patch, &user.username).await?))
}

#[utoipa::path(delete, path = "/schedules/{id}", tag = "drills", params(("id" = i64, Path, description = "The schedule")), responses((status = 204, description = "Deleted"), (status = 404, description = "No such schedule", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn delete_schedule(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    drill::schedule::delete(&app.store, id, &user.username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/stacks/{name}/policy", tag = "drills", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "The stack's resilience policy (absent targets are not checked)", body = Policy), (status = 404, description = "No such stack", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody)))]
pub async fn policy(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(drill::policy::get(&app.store, &name).await?))
}

#[utoipa::path(put, path = "/stacks/{name}/policy", tag = "drills", params(("name" = String, Path, description = "The stack's name")), request_body = Policy, responses((status = 200, description = "Saved; drills from now on are judged against it", body = Policy), (status = 404, description = "No such stack", body = ErrorBody), (status = 422, description = "A target out of range", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Sets the availability floor per phase and the MTTD, MTTR and p99 limits.
pub async fn set_policy(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(p): ApiJson<Policy>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(drill::policy::set(&app.store, &name, p, &user.username).await?))
}

#[utoipa::path(get, path = "/stacks/{name}/drill-definitions", tag = "drills", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "The stack's custom drills", body = Vec<DrillDefinition>), (status = 404, description = "No such stack", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody)))]
pub async fn definitions(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<Vec<DrillDefinition>>, ApiError> {
    Ok(Json(drill::custom::list(&app.store, &name).await?))
}

#[utoipa::path(post, path = "/stacks/{name}/drill-definitions", tag = "drills", params(("name" = String, Path, description = "The stack's name")), request_body = DrillDefinitionRequest, responses((status = 201, description = "Saved; start it with its name as the scenario", body = DrillDefinition), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "The name is taken", body = ErrorBody), (status = 422, description = "An unknown node or action, a bad hold, or a built-in name", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// A custom drill: hypothesis, method (faults on named nodes, held), rollback always.
pub async fn define(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<DrillDefinitionRequest>,
) -> Result<(StatusCode, Json<DrillDefinition>), ApiError> {
    Ok((StatusCode::CREATED, Json(drill::custom::create(&app.store, &name, req, &user.username).await?)))
}

#[utoipa::path(delete, path = "/stacks/{name}/drill-definitions/{definition}", tag = "drills", params(("name" = String, Path, description = "The stack's name"), ("definition" = String, Path, description = "The custom drill's name")), responses((status = 204, description = "Deleted (its past drills stay)"), (status = 404, description = "No such stack or drill", body = ErrorBody), (status = 409, description = "A schedule runs it", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn undefine(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, definition)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    drill::custom::delete(&app.store, &name, &definition, &user.username).await?;
    Ok(StatusCode::NO_CONTENT)
}
