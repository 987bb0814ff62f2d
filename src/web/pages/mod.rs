//! Browser pages, one file per group.

mod audit;
pub mod builds;
mod login;
pub mod ops;
mod stacks;

use axum::Router;
use axum::routing::{get, post};

use crate::SharedApp;

pub fn routes() -> Router<SharedApp> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/stacks", get(stacks::list).post(stacks::create))
        .route("/stacks/new", get(stacks::new_form))
        .route("/stacks/{name}", get(stacks::show).post(stacks::update))
        .route("/stacks/{name}/edit", get(stacks::edit_form))
        .route("/stacks/{name}/delete", post(stacks::delete))
        .route("/stacks/{name}/build", get(builds::page))
        .route("/stacks/{name}/apply", post(builds::apply))
        .route("/stacks/{name}/destroy", post(builds::destroy))
        .route("/stacks/{name}/steps/{step}", post(builds::run_step))
        .route("/stacks/{name}/builds/{id}/resume", post(builds::resume))
        .route("/stacks/{name}/events", get(crate::web::sse::stack_events))
        .route("/stacks/{name}/nodes/{node}/waf", post(ops::toggle_waf))
        .route("/stacks/{name}/faults", post(ops::fault))
        .route("/audit", get(audit::page))
}
