//! `/webhooks`: where lifecycle events go (admins).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiJson;
use crate::SharedApp;
use crate::contract::{ErrorBody, Webhook, WebhookRequest};
use crate::web::error::ApiError;
use crate::web::session::Admin;
use crate::webhook;

#[utoipa::path(get, path = "/webhooks", tag = "webhooks", responses((status = 200, description = "The webhooks, each with its latest deliveries and their status codes", body = Vec<Webhook>), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Admins only", body = ErrorBody)))]
pub async fn list(State(app): State<SharedApp>, Admin(_): Admin) -> Result<Json<Vec<Webhook>>, ApiError> {
    Ok(Json(webhook::list(&app.store).await?))
}

#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = WebhookRequest, responses((status = 201, description = "Registered", body = Webhook), (status = 422, description = "A URL that is not http(s) or reaches a link-local address, a short secret, or an unknown event", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Admins only", body = ErrorBody)))]
/// Sends the named events, signed with the secret, to the URL.
pub async fn create(
    State(app): State<SharedApp>,
    Admin(user): Admin,
    ApiJson(req): ApiJson<WebhookRequest>,
) -> Result<(StatusCode, Json<Webhook>), ApiError> {
    Ok((StatusCode::CREATED, Json(webhook::create(&app, req, &user.username).await?)))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path, description = "The webhook")), responses((status = 204, description = "Deleted, with its pending deliveries"), (status = 404, description = "No such webhook", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Admins only", body = ErrorBody)))]
pub async fn delete(
    State(app): State<SharedApp>,
    Admin(user): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    webhook::delete(&app.store, id, &user.username).await?;
    Ok(StatusCode::NO_CONTENT)
}
