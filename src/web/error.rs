//! The one place where failures become HTTP answers: JSON for the API, an
//! HTML page for the browser, both from the same status/code/message mapping.

use crate::contract::{ErrorBody, ErrorDetail, FieldMessage};
use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{AuthError, Role};
use crate::stack::FieldError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sign in first")]
    Unauthenticated,
    #[error("your session has expired: sign in again")]
    SessionExpired,
    #[error("this needs the {need} role; you are signed in as {have}")]
    Forbidden { need: Role, have: Role },
    #[error("missing or wrong CSRF token: reload the page and try again")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{}", invalid_summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Upstream(String),
    #[error("the request body is larger than the {0} KiB this endpoint accepts")]
    TooLarge(usize),
    #[error("expected Content-Type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("too many sign-in attempts: try again in {0} s")]
    Throttled(u64),
    #[error("internal error: {0}")]
    Internal(String),
}

fn invalid_summary(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{}: {}", one.field, one.message),
        many => format!("{} fields are invalid", many.len()),
    }
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthenticated | Error::SessionExpired => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } | Error::Csrf => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Invalid(_) | Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Upstream(_) => StatusCode::BAD_GATEWAY,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for API clients and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated => "unauthenticated",
            Error::SessionExpired => "session_expired",
            Error::Forbidden { .. } => "forbidden",
            Error::Csrf => "csrf",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::BadRequest(_) => "bad_request",
            Error::Invalid(_) | Error::Unprocessable(_) => "invalid",
            Error::Upstream(_) => "upstream",
            Error::TooLarge(_) => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::Throttled(_) => "throttled",
            Error::Internal(_) => "internal",
        }
    }

    /// What the user is shown. Internal causes stay in the log, not the page.
    fn public_message(&self) -> String {
        match self {
            Error::Internal(_) => "something went wrong on the server; the log has the details".into(),
            other => other.to_string(),
        }
    }

    fn log(&self) {
        if let Error::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
    }

    fn decorate(&self, response: &mut Response) {
        if let Error::Throttled(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(what) => Error::Conflict(format!("{what} already exists")),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(s) => s.into(),
            AuthError::Hash(h) => Error::Internal(h),
            other => Error::BadRequest(other.to_string()),
        }
    }
}

/// An error answered as JSON: `{"error": {"code", "message"}}`, plus
/// `"errors": [{"field", "message"}]` for invalid input.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log();
        let body = ErrorBody {
            error: ErrorDetail { code: err.code().to_owned(), message: err.public_message() },
            errors: match &err {
                Error::Invalid(fields) => Some(
                    fields
                        .iter()
                        .map(|f| FieldMessage { field: f.field.clone(), message: f.message.clone() })
                        .collect(),
                ),
                _ => None,
            },
        };
        let mut response = (err.status(), Json(body)).into_response();
        err.decorate(&mut response);
        response
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
    sign_in: bool,
}

/// An error answered as a small HTML page (browser routes).
#[derive(Debug)]
pub struct PageError(pub Error);

impl<E: Into<Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log();
        let status = err.status();
        let message = err.public_message();
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: &message,
            sign_in: matches!(err, Error::Unauthenticated | Error::SessionExpired),
        };
        let html = page.render().unwrap_or_else(|_| message.clone());
        let mut response = (status, axum::response::Html(html)).into_response();
        err.decorate(&mut response);
        response
    }
}

impl From<crate::stack::StackError> for Error {
    fn from(e: crate::stack::StackError) -> Self {
        use crate::stack::StackError as S;
        match e {
            S::Invalid(fields) => Error::Invalid(fields),
            S::NotFound(_) => Error::NotFound(e.to_string()),
            S::Duplicate(_) | S::Stale { .. } | S::Built { .. } => Error::Conflict(e.to_string()),
            S::Corrupt { .. } => Error::Internal(e.to_string()),
            S::Store(s) => s.into(),
        }
    }
}

impl From<crate::build::BuildError> for Error {
    fn from(e: crate::build::BuildError) -> Self {
        use crate::build::BuildError as B;
        match e {
            B::Stack(s) => s.into(),
            B::AlreadyRunning { .. } | B::DrillRunning { .. } | B::NameTaken { .. } => Error::Conflict(e.to_string()),
            B::NoSuchBuild(_) => Error::NotFound(e.to_string()),
            B::Provider(_) | B::NoSuchStep(_) | B::NotResumable(_) | B::Refused(_) => Error::BadRequest(e.to_string()),
            B::Store(s) => s.into(),
        }
    }
}

impl From<crate::node::NodeError> for Error {
    fn from(e: crate::node::NodeError) -> Self {
        use crate::node::NodeError as N;
        match e {
            N::Stack(s) => s.into(),
            N::UnknownNode { .. } => Error::NotFound(e.to_string()),
            N::UnknownFault(_) | N::WrongRole { .. } => Error::Unprocessable(e.to_string()),
            N::NotBuilt(_) | N::LastPath { .. } | N::DrillLastPath { .. } | N::NoAccess { .. } => {
                Error::Conflict(e.to_string())
            }
            N::Cloud { ref source, .. } if source.code == "UnsupportedOperation" => Error::Unprocessable(e.to_string()),
            N::Cloud { .. } | N::Waf { .. } => Error::Upstream(e.to_string()),
            N::Provider(_) => Error::BadRequest(e.to_string()),
            N::Store(s) => s.into(),
        }
    }
}

impl From<crate::drill::DrillError> for Error {
    fn from(e: crate::drill::DrillError) -> Self {
        use crate::drill::DrillError as D;
        match e {
            D::Stack(s) => s.into(),
            D::Node(n) => n.into(),
            D::Store(s) => s.into(),
            D::UnknownScenario(_) => Error::Invalid(vec![crate::stack::FieldError::new("scenario", e.to_string())]),
            D::InvalidSetting { field, message } => Error::Invalid(vec![crate::stack::FieldError::new(field, message)]),
            D::NotBuilt(_)
            | D::Unhealthy { .. }
            | D::AlreadyRunning { .. }
            | D::BuildRunning(_)
            | D::NeedsConfirmation { .. }
            | D::NotRunning { .. } => Error::Conflict(e.to_string()),
            D::NoSuchDrill(_) => Error::NotFound(e.to_string()),
            D::Provider(_) => Error::BadRequest(e.to_string()),
            D::Corrupt { .. } => Error::Internal(e.to_string()),
        }
    }
}
