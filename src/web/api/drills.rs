use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::ApiJson;
use crate::SharedApp;
use crate::contract::{DrillAccepted, DrillStatus, DrillSummary, Verdict};
use crate::drill::{self, DrillRequest};
use crate::stack;
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

pub async fn start(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<DrillRequest>,
) -> Result<(StatusCode, Json<DrillAccepted>), ApiError> {
    let drill_id = drill::start(&app, &name, req, &user.username).await?;
    Ok((StatusCode::ACCEPTED, Json(DrillAccepted { drill_id })))
}

/// A stack's drills, newest first, with their verdicts.
pub async fn list(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<Vec<DrillSummary>>, ApiError> {
    let s = stack::load(&app.store, &name).await?;
    let rows = app.store.drills_of(s.row.id, 100).await?;
    let unknown =
        |what: &str, v: &str| Error::Internal(format!("the database holds a {what} this version does not know: {v:?}"));
    let list = rows
        .into_iter()
        .map(|d| {
            Ok(DrillSummary {
                status: DrillStatus::parse(&d.status).ok_or_else(|| unknown("drill status", &d.status))?,
                verdict: match d.verdict.as_deref() {
                    None => None,
                    Some(v) => Some(Verdict::parse(v).ok_or_else(|| unknown("verdict", v))?),
                },
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

pub async fn show(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(drill::load(&app, id).await?.json()))
}

/// Stops the drill; it restores what it changed. Answers with the drill as
/// it stands (its status turns `halted` once the restore is done).
pub async fn halt(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    drill::halt(&app, id, &user.username).await?;
    Ok((StatusCode::ACCEPTED, Json(drill::load(&app, id).await?.json())))
}
