use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::web::BODY_LIMIT;
use crate::web::error::{ApiError, Error};

/// A JSON body whose every failure is a specific, documented error: wrong
/// content type (415), too large (413), malformed JSON with its position
/// (400), or a field of the wrong type, named by its path (422).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(Error::UnsupportedMediaType("application/json").into());
        }
        let bytes = read(req, state).await?;
        Ok(ApiJson(parse(&bytes)?))
    }
}

/// Like [`ApiJson`], but no body at all is the type's default: for calls
/// whose body only adds options (a teardown's `confirm`).
pub struct OptionalApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = is_json(&req);
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalApiJson(T::default()));
        }
        if !is_json {
            return Err(Error::UnsupportedMediaType("application/json").into());
        }
        Ok(OptionalApiJson(parse(&bytes)?))
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime == "application/json" || mime.ends_with("+json")
        })
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge(BODY_LIMIT / 1024).into()
        } else {
            Error::BadRequest(format!("cannot read the request body: {rejection}")).into()
        }
    })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::BadRequest(format!("malformed JSON at line {} column {}: {e}", e.line(), e.column())))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "(body)".to_owned() } else { path };
        Error::Invalid(vec![crate::stack::FieldError::new(field, e.into_inner().to_string())]).into()
    })
}
