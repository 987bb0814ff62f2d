use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use super::ApiJson;
use crate::SharedApp;
use crate::contract::{AccessRequest, AccessSaved, FaultDone, FaultRequest, WafRequest, WafState};
use crate::node::{self, Authority, Fault};
use crate::stack;
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

/// Both tiers and the WAF switches, from the monitor; for a built stack
/// whose monitor has not polled yet, waits briefly for its first poll.
pub async fn health(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = stack::load(&app.store, &name).await?;
    if !s.is_built() {
        return Err(Error::Conflict(format!("stack {name} is not built, so it has no health to show")).into());
    }
    crate::health::ensure(&app, &name);
    let snap = match app.health.snapshot(&name) {
        Some(s) => s,
        None => app
            .health
            .first_snapshot(&name, std::time::Duration::from_secs(10))
            .await
            .ok_or_else(|| Error::Upstream(format!("the health monitor of {name} has no answer yet")))?,
    };
    Ok(Json(snap.to_json()))
}

pub async fn waf(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, node_name)): Path<(String, String)>,
    ApiJson(body): ApiJson<WafRequest>,
) -> Result<Json<WafState>, ApiError> {
    let confirm = Authority::operator(body.confirm.as_deref());
    let enabled = node::set_waf(&app, &name, &node_name, body.enabled, confirm, &user.username).await?;
    Ok(Json(WafState { stack: name, node: node_name, enabled }))
}

pub async fn fault(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<FaultRequest>,
) -> Result<Json<FaultDone>, ApiError> {
    let fault: Fault = body.fault.parse().map_err(Error::from)?;
    node::inject(&app, &name, &body.node, fault, Authority::operator(body.confirm.as_deref()), &user.username).await?;
    Ok(Json(FaultDone { stack: name, node: body.node, fault: fault.as_str().to_owned(), done: true }))
}

/// Pins a WAF node's certificate and stores its REST API token (sealed),
/// after checking both against the node.
pub async fn access(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, node_name)): Path<(String, String)>,
    ApiJson(body): ApiJson<AccessRequest>,
) -> Result<Json<AccessSaved>, ApiError> {
    node::save_access(&app, &name, &node_name, &body.api_url, &body.token, &body.fingerprint, &user.username).await?;
    Ok(Json(AccessSaved { stack: name, node: node_name, pinned: true }))
}
