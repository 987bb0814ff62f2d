//! Browser pages, one file per group.

mod access;
mod accounts;
mod adopt;
mod audit;
pub mod builds;
mod checklist;
pub mod drift;
pub mod drills;
mod login;
mod migrate;
pub mod ops;
mod practice;
mod preferences;
mod stack_form;
mod stacks;
mod topology;

use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<super::WebState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/stacks", get(stacks::list).post(stacks::create))
        .route("/stacks/new", get(stacks::new_form))
        .route("/stacks/adopt", get(adopt::form).post(adopt::submit))
        .route("/stacks/{name}", get(stacks::show).post(stacks::update))
        .route("/stacks/{name}/edit", get(stacks::edit_form))
        .route("/stacks/{name}/delete", post(stacks::delete))
        .route("/stacks/{name}/build", get(builds::page))
        .route("/stacks/{name}/apply", post(builds::apply))
        .route("/stacks/{name}/destroy", post(builds::destroy))
        .route("/stacks/{name}/steps/{step}", post(builds::run_step))
        .route("/stacks/{name}/builds/{id}/resume", post(builds::resume))
        .route("/stacks/{name}/events", get(crate::web::sse::stack_events))
        .route("/stacks/{name}/fragments/{fragment}", get(ops::tier_fragment))
        .route("/stacks/{name}/nodes/{node}/waf", post(ops::toggle_waf))
        .route("/stacks/{name}/faults", post(ops::fault))
        .route("/stacks/{name}/nodes/{node}/probe", post(access::probe))
        .route("/stacks/{name}/nodes/{node}/access", post(access::save_access))
        .route("/stacks/{name}/drills", get(drills::list).post(drills::start))
        .route("/drills/{id}", get(drills::show))
        .route("/drills/{id}/events", get(drills::events))
        .route("/drills/{id}/halt", post(drills::halt))
        .route("/drills/{id}/report.json", get(drills::export_json))
        .route("/drills/{id}/report.md", get(drills::export_markdown))
        .route("/audit", get(audit::page))
        .route("/safety-lever", get(practice::lever).post(practice::set_lever))
        .route("/stacks/{name}/schedules", post(practice::add_schedule))
        .route("/stacks/{name}/drill-definitions", post(practice::add_custom))
        .route("/stacks/{name}/drill-definitions/{definition}/delete", post(practice::delete_custom))
        .route("/webhooks", get(practice::webhooks).post(practice::add_webhook))
        .route("/webhooks/{id}/delete", post(practice::delete_webhook))
        .route("/schedules/{id}/{action}", post(practice::change_schedule))
        .route("/stacks/{name}/drift", post(drift::check))
        .route("/stacks/{name}/reconcile", post(drift::reconcile))
        .route("/stacks/{name}/drift/accept", post(drift::accept))
        .route("/stacks/{name}/migration", post(migrate::start_migration))
        .route("/stacks/{name}/migration/finish", post(migrate::finish_migration))
        .route("/stacks/{name}/cloudformation.yaml", get(drift::cloudformation))
        .route("/account", get(accounts::account))
        .route("/account/password", post(accounts::change_password))
        .route("/account/tokens", post(accounts::create_token))
        .route("/account/language", post(preferences::switch_language))
        .route("/account/preferences", post(preferences::save))
        .route("/account/tokens/{id}/revoke", post(accounts::revoke_token))
        .route("/users", get(accounts::users).post(accounts::create_user))
        .route("/users/{name}", post(accounts::change_user))
}

#[derive(askama::Template)]
#[template(path = "partials/flash.html")]
struct Flash<'a> {
    class: &'a str,
    message: &'a str,
}

/// The answer to a button: htmx gets a one-line message (live panels update
/// over SSE, so an answer swapped in late can never overwrite newer state);
/// a plain form post goes back to `back_to`, or to an error page.
pub(crate) fn action_answer(
    headers: &axum::http::HeaderMap,
    back_to: &str,
    ok_status: axum::http::StatusCode,
    result: Result<String, crate::web::error::Error>,
) -> axum::response::Response {
    use askama::Template;
    use axum::response::{Html, IntoResponse, Redirect};

    use crate::web::error::{Error, PageError};
    let htmx = headers.contains_key("hx-request");
    let (status, class, message) = match result {
        Ok(message) => (ok_status, "notice", message),
        Err(err) if !htmx => return PageError(err).into_response(),
        Err(err) => (err.status(), "alert", err.page_message()),
    };
    if !htmx {
        return Redirect::to(back_to).into_response();
    }
    match (Flash { class, message: &message }).render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => PageError(Error::internal(e)).into_response(),
    }
}
