//! The JSON API under /api/v1 (bearer tokens).

mod json;
mod stacks;

use axum::Router;
use axum::routing::get;

use crate::SharedApp;
pub use json::ApiJson;

pub fn routes() -> Router<SharedApp> {
    Router::new()
        .route("/stacks", get(stacks::list).post(stacks::create))
        .route("/stacks/{name}", get(stacks::show).put(stacks::update).delete(stacks::delete))
}
