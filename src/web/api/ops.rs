use axum::Json;
use axum::extract::{Path, State};

use super::ApiJson;
use crate::SharedApp;
use crate::contract::{AccessRequest, AccessSaved, FaultDone, FaultRequest, WafRequest, WafState};
use crate::contract::{ErrorBody, Health};
use crate::node::{self, Authority, Fault};
use crate::stack;
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

#[utoipa::path(get, path = "/stacks/{name}/health", tag = "operations", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "Both tiers and the WAF switches", body = Health), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Not built", body = ErrorBody), (status = 502, description = "No health data yet", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Both tiers and the WAF switches, from the monitor; for a built stack
/// whose monitor has not polled yet, waits briefly for its first poll.
pub async fn health(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<Health>, ApiError> {
    let s = stack::load(&app.store, &name).await?;
    if !s.is_built() {
        return Err(Error::Conflict(format!("stack {name} is not built, so it has no health to show")).into());
    }
    crate::health::ensure(&app, &name);
    let snap = match app.health.snapshot(&name) {
        Some(s) => s,
        None => app.health.first_snapshot(&name, std::time::Duration::from_secs(10)).await.ok_or_else(|| {
            Error::Upstream { message: format!("the health monitor of {name} has no answer yet"), source: None }
        })?,
    };
    Ok(Json(snap.to_contract()))
}

#[utoipa::path(post, path = "/stacks/{name}/nodes/{node}/waf", tag = "operations", params(("name" = String, Path, description = "The stack's name"), ("node" = String, Path, description = "The node's Name tag, e.g. ha-utm-left")), request_body = WafRequest, responses((status = 200, description = "The switch as read back", body = WafState), (status = 404, description = "No such stack or node", body = ErrorBody), (status = 409, description = "It would take the tier's last path down", body = ErrorBody), (status = 422, description = "Wrong field type", body = ErrorBody), (status = 502, description = "The node did not answer", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
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

#[utoipa::path(post, path = "/stacks/{name}/faults", tag = "operations", params(("name" = String, Path, description = "The stack's name")), request_body = FaultRequest, responses((status = 200, description = "Done", body = FaultDone), (status = 404, description = "No such stack or node", body = ErrorBody), (status = 409, description = "It would take the tier's last path down", body = ErrorBody), (status = 422, description = "Unknown fault", body = ErrorBody), (status = 502, description = "The provider failed", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
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

#[utoipa::path(post, path = "/stacks/{name}/nodes/{node}/access", tag = "operations", params(("name" = String, Path, description = "The stack's name"), ("node" = String, Path, description = "The node's Name tag, e.g. ha-utm-left")), request_body = AccessRequest, responses((status = 200, description = "Pinned and stored", body = AccessSaved), (status = 404, description = "No such stack or node", body = ErrorBody), (status = 409, description = "Not built", body = ErrorBody), (status = 422, description = "Wrong field type", body = ErrorBody), (status = 502, description = "The node refused", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Pins a WAF node's certificate and stores its API credential (sealed):
/// UTM 9's REST token, or a Sophos Firewall administrator's user name and
/// password; after checking both against the node.
pub async fn access(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, node_name)): Path<(String, String)>,
    ApiJson(body): ApiJson<AccessRequest>,
) -> Result<Json<AccessSaved>, ApiError> {
    let credential = node::Credential { username: body.username.as_deref(), secret: &body.token };
    node::save_access(&app, &name, &node_name, &body.api_url, credential, &body.fingerprint, &user.username).await?;
    Ok(Json(AccessSaved { stack: name, node: node_name, pinned: true }))
}
