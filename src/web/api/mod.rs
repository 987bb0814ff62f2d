//! The JSON API under /api/v1 (bearer tokens).

mod accounts;
mod adopt;
mod builds;
mod drift;
mod drills;
mod json;
mod migrate;
mod openapi;
mod ops;
mod stacks;
mod webhooks;

use axum::Router;
use axum::routing::{delete, get, patch, post};

pub use json::{ApiJson, OptionalApiJson};
pub use openapi::{ApiDoc, document as openapi_document};

pub fn routes() -> Router<super::WebState> {
    Router::new()
        .route("/openapi.json", get(openapi::serve))
        .route("/stacks", get(stacks::list).post(stacks::create))
        .route("/stacks/{name}", get(stacks::show).put(stacks::update).delete(stacks::delete))
        .route("/stacks/{name}/apply", post(builds::apply))
        .route("/stacks/{name}/destroy", post(builds::destroy))
        .route("/stacks/{name}/adopt", post(adopt::adopt))
        .route("/stacks/{name}/migration", get(migrate::plan).post(migrate::start))
        .route("/stacks/{name}/migration/finish", post(migrate::finish))
        .route("/stacks/{name}/health", get(ops::health))
        .route("/stacks/{name}/drift", get(drift::last).post(drift::check))
        .route("/stacks/{name}/reconcile", get(drift::preview).post(drift::reconcile))
        .route("/stacks/{name}/drift/accept", post(drift::accept))
        .route("/stacks/{name}/export/cloudformation", get(drift::cloudformation))
        .route("/stacks/{name}/nodes/{node}/waf", post(ops::waf))
        .route("/stacks/{name}/faults", post(ops::fault))
        .route("/stacks/{name}/nodes/{node}/access", post(ops::access))
        .route("/builds/{id}", get(builds::show))
        .route("/builds/{id}/resume", post(builds::resume))
        .route("/stacks/{name}/drills", get(drills::list).post(drills::start))
        .route("/drills/{id}", get(drills::show))
        .route("/drills/{id}/halt", post(drills::halt))
        .route("/safety-lever", get(drills::lever).post(drills::set_lever))
        .route("/stacks/{name}/schedules", get(drills::schedules).post(drills::create_schedule))
        .route("/stacks/{name}/policy", get(drills::policy).put(drills::set_policy))
        .route("/stacks/{name}/drill-definitions", get(drills::definitions).post(drills::define))
        .route("/stacks/{name}/drill-definitions/{definition}", delete(drills::undefine))
        .route("/schedules/{id}", patch(drills::update_schedule).delete(drills::delete_schedule))
        .route("/users", get(accounts::list_users).post(accounts::create_user))
        .route("/users/{name}", patch(accounts::update_user).delete(accounts::delete_user))
        .route("/tokens", get(accounts::list_tokens).post(accounts::create_token))
        .route("/tokens/{id}", delete(accounts::revoke_token))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", delete(webhooks::delete))
}
