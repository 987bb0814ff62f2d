//! `/stacks/{name}/adopt`: take over a stack built by hand.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Extensions;

use super::ApiJson;
use crate::SharedApp;
use crate::adopt::{self, Adopter};
use crate::contract::{AdoptAnswer, AdoptRequest, ErrorBody};
use crate::web::error::{ApiError, Error};
use crate::web::session::Operator;

#[utoipa::path(post, path = "/stacks/{name}/adopt", tag = "drift", params(("name" = String, Path, description = "The stack's name")), request_body = AdoptRequest, responses((status = 200, description = "What was found (dry run), or what was taken over and the adoption's build", body = AdoptAnswer), (status = 409, description = "Something is missing, ambiguous, someone else's or unlike the definition (listed in errors), or the stack is built", body = ErrorBody), (status = 422, description = "Invalid definition, or confirm is not the name", body = ErrorBody), (status = 502, description = "The provider did not answer", body = ErrorBody), (status = 400, description = "Malformed JSON, or the provider cannot be used", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
/// Looks for the stack's resources by the names used in the console (dry
/// run, the default), or with `confirm` = the name tags them as the stack's
/// and records them as a build of kind `adopt`.
pub async fn adopt(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    ext: Extensions,
    ApiJson(req): ApiJson<AdoptRequest>,
) -> Result<Json<AdoptAnswer>, ApiError> {
    let who = Adopter {
        author: user.author(&app.config.outbound),
        preset: crate::stack::seed_definition(super::stacks::caller_cidr(&ext)),
    };
    let proposal = adopt::Proposal::from(&req);
    Ok(Json(adopt::adopt(&app, who, &name, proposal, req).await.map_err(Error::from)?))
}
