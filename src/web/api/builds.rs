use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::SharedApp;
use crate::build::{self, Kind};
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

fn accepted(build_id: i64) -> (StatusCode, Json<Value>) {
    (StatusCode::ACCEPTED, Json(json!({"build_id": build_id})))
}

pub async fn apply(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok(accepted(build::start(&app, &name, Kind::Apply, &user.username).await?))
}

pub async fn destroy(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok(accepted(build::start(&app, &name, Kind::Destroy, &user.username).await?))
}

pub async fn resume(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok(accepted(build::resume(&app, id, &user.username).await?))
}

pub async fn show(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let b = app.store.build(id).await?.ok_or_else(|| Error::NotFound(format!("there is no build {id}")))?;
    let steps = app.store.build_steps(id).await?;
    let calls = app.store.build_calls(id).await?;
    let steps: Vec<Value> = steps
        .iter()
        .map(|s| {
            let mut v = json!({
                "number": s.number,
                "title": s.title,
                "status": s.status,
                "progress": s.progress,
                "calls": calls.iter().filter(|c| c.step == s.number).map(|c| json!({
                    "operation": c.operation, "target": c.target, "outcome": c.outcome, "duration_ms": c.duration_ms,
                })).collect::<Vec<_>>(),
            });
            if let Some(e) = &s.error {
                v["error"] = json!(e);
            }
            v
        })
        .collect();
    Ok(Json(json!({
        "build_id": b.id,
        "stack": b.stack,
        "version": b.version,
        "kind": b.kind,
        "status": b.status,
        "started_by": b.started_by,
        "started_at_ms": b.started_at,
        "finished_at_ms": b.finished_at,
        "error": b.error,
        "resumed_from": b.resumed_from,
        "steps": steps,
    })))
}
