use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{Extensions, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ipnet::Ipv4Net;
use serde_json::Value;

use super::ApiJson;
use crate::SharedApp;
use crate::contract::{BuildState, FieldMessage, StackView};
use crate::contract::{Definition, ErrorBody};
use crate::stack::{self, Draft, Stack, Updated};
use crate::web::error::{ApiError, Error};
use crate::web::session::{Operator, Viewer};

use crate::clock::rfc3339;

/// The stack as API clients see it: the definition plus what the dashboard
/// knows about it.
async fn view(app: &SharedApp, s: &Stack) -> Result<StackView, Error> {
    let resilience = crate::drill::score::of(&app.store, s.row.id).await?;
    Ok(view_with(app, s, resilience))
}

fn view_with(app: &SharedApp, s: &Stack, resilience: crate::contract::Resilience) -> StackView {
    let mut endpoints = BTreeMap::new();
    // A lab stack's site is reachable from this host; say where.
    if s.is_built() && s.definition.provider() == crate::stack::Provider::Lab {
        let lb = s.definition.load_balancer(crate::stack::LbRole::External);
        if let Some(url) = app.providers.lab().lb_url(lb.as_str()) {
            endpoints.insert("external".to_owned(), url);
        }
    }
    StackView {
        endpoints,
        name: s.row.name.clone(),
        version: s.row.current_version,
        definition: s.definition.to_json(),
        warnings: s
            .definition
            .warnings()
            .into_iter()
            .map(|w| FieldMessage { field: w.field, message: w.message })
            .collect(),
        build_state: if s.is_built() { BuildState::Built } else { BuildState::NotBuilt },
        live_resources: s.row.live_resources,
        created_by: s.row.created_by.clone(),
        created_at: rfc3339(s.row.created_at),
        updated_at: rfc3339(s.row.updated_at),
        adopted_at: s.row.adopted_at.map(rfc3339),
        resilience_score: resilience.score,
        resilience: Some(resilience),
    }
}

pub(super) fn caller_cidr(ext: &Extensions) -> Ipv4Net {
    match ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) {
        Some(IpAddr::V4(v4)) => Ipv4Net::from(v4),
        _ => Ipv4Net::from(std::net::Ipv4Addr::LOCALHOST),
    }
}

#[utoipa::path(get, path = "/stacks", tag = "stacks", responses((status = 200, description = "Every stack", body = Vec<StackView>), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn list(State(app): State<SharedApp>, Viewer(_): Viewer) -> Result<Json<Vec<StackView>>, ApiError> {
    let stacks = stack::list(&app.store).await?;
    let scores = crate::drill::score::all(&app.store).await?;
    Ok(Json(stacks.iter().map(|s| view_with(&app, s, crate::drill::score::from_all(&scores, &s.row.name))).collect()))
}

#[utoipa::path(get, path = "/stacks/{name}", tag = "stacks", params(("name" = String, Path, description = "The stack's name")), responses((status = 200, description = "The stack", body = StackView), (status = 404, description = "No such stack", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn show(
    State(app): State<SharedApp>,
    Viewer(_): Viewer,
    Path(name): Path<String>,
) -> Result<Json<StackView>, ApiError> {
    Ok(Json(view(&app, &stack::load(&app.store, &name).await?).await?))
}

#[utoipa::path(post, path = "/stacks", tag = "stacks", request_body = Definition, responses((status = 201, description = "Created", body = StackView), (status = 409, description = "The name is taken", body = ErrorBody), (status = 413, description = "Over 64 KiB", body = ErrorBody), (status = 415, description = "Not JSON", body = ErrorBody), (status = 422, description = "Invalid definition", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn create(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    ext: Extensions,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let preset = stack::seed_definition(caller_cidr(&ext));
    let draft = Draft::from_json(body, &preset).map_err(Error::Invalid)?;
    let created = stack::create(&app.store, user.author(&app.config.outbound), &draft).await?;
    let mut response = (StatusCode::CREATED, Json(view(&app, &created).await?)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/stacks/{}", created.row.name)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

#[utoipa::path(put, path = "/stacks/{name}", tag = "stacks", params(("name" = String, Path, description = "The stack's name")), request_body = Definition, responses((status = 200, description = "The new version", body = StackView), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Changed meanwhile", body = ErrorBody), (status = 413, description = "Over 64 KiB", body = ErrorBody), (status = 415, description = "Not JSON", body = ErrorBody), (status = 422, description = "Invalid definition", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// A new version. Omitted fields keep the current version's values (not the
/// preset's), so a partial PUT changes only what it names.
pub async fn update(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ApiJson(mut body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let current = stack::load(&app.store, &name).await?;
    if let Value::Object(map) = &mut body {
        map.entry("name").or_insert_with(|| Value::String(name.clone()));
    }
    let draft = Draft::from_json(body, &current.definition).map_err(Error::Invalid)?;
    let (Updated::NewVersion(saved) | Updated::Unchanged(saved)) =
        stack::update(&app.store, user.author(&app.config.outbound), &name, current.row.current_version, &draft)
            .await?;
    Ok(Json(view(&app, &saved).await?).into_response())
}

#[utoipa::path(delete, path = "/stacks/{name}", tag = "stacks", params(("name" = String, Path, description = "The stack's name")), responses((status = 204, description = "Deleted"), (status = 404, description = "No such stack", body = ErrorBody), (status = 409, description = "Something is built", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn delete(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    stack::delete(&app.store, &user.username, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
