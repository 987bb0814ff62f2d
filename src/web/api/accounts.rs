//! `/users` (admins) and `/tokens` (each user's own; admins everyone's).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::ApiJson;
use crate::SharedApp;
use crate::auth::accounts::{self, CreatedToken};
use crate::auth::{self, AuthError, Role};
use crate::contract::{ErrorBody, NewToken, NewUser, Token, TokenCreated, User, UserPatch, UserSaved};
use crate::store::{TokenRow, UserChange, UserRow};
use crate::web::error::{ApiError, Error};
use crate::web::session::{Admin, Operator, Viewer};

pub(crate) fn user_view(u: &UserRow) -> Result<User, Error> {
    Ok(User {
        username: u.username.clone(),
        role: u.role.parse().map_err(Error::internal)?,
        disabled: u.disabled,
        must_change_password: u.must_change_password,
        created_at: u.created_at,
    })
}

pub(crate) fn token_view(t: TokenRow) -> Token {
    Token {
        id: t.id,
        username: t.username,
        name: t.name,
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        expires_at: t.expires_at,
    }
}

async fn user(app: &SharedApp, name: &str) -> Result<User, Error> {
    let row = app.store.user_by_name(name).await?.ok_or_else(|| AuthError::NoSuchUser(name.to_owned()))?;
    user_view(&row)
}

#[utoipa::path(get, path = "/users", tag = "accounts", responses((status = 200, description = "Every user", body = Vec<User>), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Admins only", body = ErrorBody)))]
pub async fn list_users(State(app): State<SharedApp>, Admin(_): Admin) -> Result<Json<Vec<User>>, ApiError> {
    let users = accounts::users(&app.store).await.map_err(Error::from)?;
    Ok(Json(users.iter().map(user_view).collect::<Result<_, _>>()?))
}

#[utoipa::path(post, path = "/users", tag = "accounts", request_body = NewUser, responses((status = 201, description = "Created; a generated password is answered once", body = UserSaved), (status = 409, description = "The name is taken", body = ErrorBody), (status = 422, description = "Invalid name, role or password", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Admins only", body = ErrorBody)))]
/// Creates a user who changes their password at the first sign-in.
pub async fn create_user(
    State(app): State<SharedApp>,
    Admin(admin): Admin,
    ApiJson(req): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserSaved>), ApiError> {
    let generated = req.password.is_none().then(auth::generate_password);
    let password = req.password.as_deref().or(generated.as_deref()).unwrap_or_default();
    auth::create_user(&app.store, &admin.username, &req.username, password, req.role, true).await?;
    Ok((StatusCode::CREATED, Json(UserSaved { user: user(&app, &req.username).await?, password: generated })))
}

#[utoipa::path(patch, path = "/users/{name}", tag = "accounts", params(("name" = String, Path, description = "The user name")), request_body = UserPatch, responses((status = 200, description = "Changed; a generated password is answered once", body = UserSaved), (status = 404, description = "No such user", body = ErrorBody), (status = 409, description = "It would leave no enabled admin", body = ErrorBody), (status = 422, description = "Invalid role or password", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Admins only", body = ErrorBody)))]
/// Changes a role, access, or password. A changed role or access ends the
/// user's sessions at once; disabling also ends their tokens.
pub async fn update_user(
    State(app): State<SharedApp>,
    Admin(admin): Admin,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<UserPatch>,
) -> Result<Json<UserSaved>, ApiError> {
    if req.password.is_some() && req.reset_password {
        return Err(Error::BadRequest("give either a password or reset_password, not both".into()).into());
    }
    if let Some(p) = &req.password {
        auth::check_password(p).map_err(Error::from)?;
    }
    let before = user(&app, &name).await?;
    let actor = &admin.username;
    if let Some(role) = req.role.filter(|r| *r != before.role) {
        accounts::change_user(&app.store, actor, &name, UserChange::Role(role.as_str())).await.map_err(Error::from)?;
    }
    match req.disabled {
        Some(true) if !before.disabled => accounts::change_user(&app.store, actor, &name, UserChange::Disable).await,
        Some(false) if before.disabled => accounts::change_user(&app.store, actor, &name, UserChange::Enable).await,
        _ => Ok(()),
    }
    .map_err(Error::from)?;
    let mut generated = None;
    if req.password.is_some() || req.reset_password {
        generated =
            accounts::reset_password(&app.store, actor, &name, req.password.as_deref()).await.map_err(Error::from)?;
    }
    Ok(Json(UserSaved { user: user(&app, &name).await?, password: generated }))
}

#[utoipa::path(delete, path = "/users/{name}", tag = "accounts", params(("name" = String, Path, description = "The user name")), responses((status = 204, description = "Deleted, with their sessions and tokens"), (status = 404, description = "No such user", body = ErrorBody), (status = 409, description = "The last enabled admin", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Admins only", body = ErrorBody)))]
pub async fn delete_user(
    State(app): State<SharedApp>,
    Admin(admin): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    accounts::change_user(&app.store, &admin.username, &name, UserChange::Delete).await.map_err(Error::from)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/tokens", tag = "accounts", responses((status = 200, description = "The caller's tokens; an admin's answer has everyone's", body = Vec<Token>), (status = 401, description = "No or unknown token", body = ErrorBody)))]
pub async fn list_tokens(State(app): State<SharedApp>, Viewer(me): Viewer) -> Result<Json<Vec<Token>>, ApiError> {
    let whose = (me.role < Role::Admin).then_some(me.username.as_str());
    let rows = accounts::tokens(&app.store, whose).await.map_err(Error::from)?;
    Ok(Json(rows.into_iter().map(token_view).collect()))
}

#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = NewToken, responses((status = 201, description = "The token, shown this once", body = TokenCreated), (status = 404, description = "No such user", body = ErrorBody), (status = 422, description = "Invalid name or lifetime", body = ErrorBody), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "Viewers ask an admin; only admins make tokens for others", body = ErrorBody)))]
/// A new token for the caller (or, for an admin, for `user`).
pub async fn create_token(
    State(app): State<SharedApp>,
    Operator(me): Operator,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let whose = match req.user.as_deref() {
        Some(other) if other != me.username => {
            if me.role < Role::Admin {
                return Err(Error::Forbidden { need: Role::Admin, have: me.role }.into());
            }
            other
        }
        _ => me.username.as_str(),
    };
    let CreatedToken { id, name, token, expires_at } =
        accounts::create_token(&app.store, &me.username, whose, &req.name, req.expires_in_days)
            .await
            .map_err(Error::from)?;
    Ok((StatusCode::CREATED, Json(TokenCreated { id, username: whose.to_owned(), name, token, expires_at })))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", params(("id" = i64, Path, description = "The token's id")), responses((status = 204, description = "Revoked: its next use answers 401"), (status = 404, description = "No such token of yours", body = ErrorBody), (status = 401, description = "No or unknown token", body = ErrorBody), (status = 403, description = "The role may not do this", body = ErrorBody)))]
pub async fn revoke_token(
    State(app): State<SharedApp>,
    Operator(me): Operator,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let owner = (me.role < Role::Admin).then_some(me.username.as_str());
    accounts::revoke_token(&app.store, &me.username, id, owner).await.map_err(Error::from)?;
    Ok(StatusCode::NO_CONTENT)
}
