//! The one place where failures become HTTP answers: JSON for the API, an
//! HTML page for the browser, both from the same status/code/message mapping.

use crate::contract::{ErrorBody, ErrorDetail, FieldMessage};
use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{AuthError, Role};
use crate::cloud::ErrorCode;
use crate::i18n;
use crate::stack::FieldError;
use crate::store::StoreError;
use crate::web::filters;

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
    /// The role may do the action, but not with these values.
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A conflict with one entry per thing in the way (resources that
    /// cannot be adopted), listed like invalid fields.
    #[error("{message}")]
    ConflictList { message: String, items: Vec<FieldMessage> },
    #[error("{0}")]
    BadRequest(String),
    #[error("{}", invalid_summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Unprocessable(String),
    /// AWS or a WAF node refused or failed: its words are the user's to
    /// read; the cause, when there is one, goes to the log whole.
    #[error("{message}")]
    Upstream {
        message: String,
        #[source]
        source: Option<Cause>,
    },
    #[error("the request body is larger than the {0} KiB this endpoint accepts")]
    TooLarge(usize),
    #[error("expected Content-Type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("too many sign-in attempts: try again in {0} s")]
    Throttled(u64),
    /// A limit on something held open (live streams), not on a rate.
    #[error("{0}")]
    TooMany(String),
    /// A failure the user cannot act on: its cause chain goes to the log,
    /// the answer says only that something went wrong.
    #[error("internal error")]
    Internal(#[source] Cause),
}

/// The cause of an internal failure, kept whole so the log shows its chain.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `error: cause: cause's cause …`, each link once.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
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
            Error::Forbidden { .. } | Error::Csrf | Error::NotAllowed(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) | Error::ConflictList { .. } => StatusCode::CONFLICT,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Invalid(_) | Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Throttled(_) | Error::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for API clients and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated => "unauthenticated",
            Error::SessionExpired => "session_expired",
            Error::Forbidden { .. } | Error::NotAllowed(_) => "forbidden",
            Error::Csrf => "csrf",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) | Error::ConflictList { .. } => "conflict",
            Error::BadRequest(_) => "bad_request",
            Error::Invalid(_) | Error::Unprocessable(_) => "invalid",
            Error::Upstream { .. } => "upstream",
            Error::TooLarge(_) => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::Throttled(_) => "throttled",
            Error::TooMany(_) => "too_many",
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

    /// What an HTML page shows, in the reader's language: the messages this
    /// layer words itself come from the catalogue (their English is the
    /// same as the API's); the library's own messages stay as they are.
    pub fn page_message(&self) -> String {
        match self {
            Error::Unauthenticated => i18n::text("errors-unauthenticated"),
            Error::SessionExpired => i18n::text("errors-session-expired"),
            Error::Forbidden { need, have } => {
                i18n::text_with("errors-forbidden", &[("need", &role_name(*need)), ("have", &role_name(*have))])
            }
            Error::Csrf => i18n::text("errors-csrf"),
            Error::Invalid(fields) if fields.len() != 1 => {
                i18n::text_with("errors-invalid-many", &[("count", &fields.len())])
            }
            Error::TooLarge(kib) => i18n::text_with("errors-too-large", &[("kib", kib)]),
            Error::UnsupportedMediaType(expected) => {
                i18n::text_with("errors-unsupported-media-type", &[("expected", expected)])
            }
            Error::Throttled(seconds) => i18n::text_with("errors-throttled", &[("seconds", seconds)]),
            Error::Internal(_) => i18n::text("errors-internal"),
            other => other.public_message(),
        }
    }

    /// An internal failure, from anything that is or describes an error.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Error::Internal(cause.into())
    }

    /// An upstream failure: its message is shown, and kept as the cause.
    pub fn upstream(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Upstream { message: cause.to_string(), source: Some(Box::new(cause)) }
    }

    /// Logged once, where the answer is made, with the whole cause chain.
    fn log(&self) {
        match self {
            Error::Internal(_) => tracing::error!(cause = %chain(self), "request failed"),
            Error::Upstream { source: Some(source), .. } => {
                tracing::warn!(cause = %chain(source.as_ref()), "an upstream call failed")
            }
            _ => {}
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
            other => Error::internal(other),
        }
    }
}

impl From<askama::Error> for Error {
    fn from(e: askama::Error) -> Self {
        Error::internal(e)
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        use AuthError as A;
        match e {
            A::Store(s) => s.into(),
            A::Hash(h) => Error::internal(h),
            A::NoSuchUser(_) | A::NoSuchToken(_) => Error::NotFound(e.to_string()),
            A::LastAdmin(_) => Error::Conflict(e.to_string()),
            A::UnknownRole(_) => Error::Invalid(vec![FieldError::new("role", e.to_string())]),
            A::BadUsername => Error::Invalid(vec![FieldError::new("username", e.to_string())]),
            A::WeakPassword | A::SamePassword => Error::Invalid(vec![FieldError::new("password", e.to_string())]),
            A::WrongPassword => Error::Invalid(vec![FieldError::new("current_password", e.to_string())]),
            A::BadExpiry => Error::Invalid(vec![FieldError::new("expires_in_days", e.to_string())]),
            A::BadTokenName => Error::Invalid(vec![FieldError::new("name", e.to_string())]),
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
                Error::ConflictList { items, .. } => Some(items.clone()),
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
    /// The page's language, for `<html lang>`: it stands alone, without
    /// the layout that says so on every other page.
    lang: &'static str,
    status: u16,
    reason: String,
    message: &'a str,
    sign_in: bool,
}

/// A role as the reader's language names it.
fn role_name(role: Role) -> String {
    i18n::text(&format!("role-{}", role.as_str()))
}

/// The status's reason phrase in the reader's language for the common
/// ones, else the standard English one.
fn reason(status: StatusCode) -> String {
    match status.as_u16() {
        400 => i18n::text("errors-reason-400"),
        401 => i18n::text("errors-reason-401"),
        403 => i18n::text("errors-reason-403"),
        404 => i18n::text("errors-reason-404"),
        409 => i18n::text("errors-reason-409"),
        413 => i18n::text("errors-reason-413"),
        422 => i18n::text("errors-reason-422"),
        429 => i18n::text("errors-reason-429"),
        500 => i18n::text("errors-reason-500"),
        502 => i18n::text("errors-reason-502"),
        503 => i18n::text("errors-reason-503"),
        _ => status.canonical_reason().unwrap_or("Error").to_owned(),
    }
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
        let message = err.page_message();
        let page = ErrorPage {
            lang: i18n::current().lang.as_str(),
            status: status.as_u16(),
            reason: reason(status),
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
            S::Corrupt { .. } => Error::internal(e),
            S::AdminOnly(_) => Error::NotAllowed(e.to_string()),
            S::Store(s) => s.into(),
        }
    }
}

impl From<crate::build::BuildError> for Error {
    fn from(e: crate::build::BuildError) -> Self {
        use crate::build::BuildError as B;
        match e {
            B::Stack(s) => s.into(),
            B::AlreadyRunning { .. }
            | B::DrillRunning { .. }
            | B::MigrationRunning(_)
            | B::NameTaken { .. }
            | B::NeedsConfirm(_) => Error::Conflict(e.to_string()),
            B::AdoptionFailed { .. } => Error::Upstream { message: e.to_string(), source: None },
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
            N::Cloud { ref source, .. } if source.is(ErrorCode::UnsupportedOperation) => {
                Error::Unprocessable(e.to_string())
            }
            N::Cloud { .. } | N::Waf { .. } => Error::upstream(e),
            N::Provider(_) => Error::BadRequest(e.to_string()),
            N::Store(s) => s.into(),
        }
    }
}

impl From<crate::migrate::MigrateError> for Error {
    fn from(e: crate::migrate::MigrateError) -> Self {
        use crate::migrate::MigrateError as M;
        match e {
            M::Stack(s) => s.into(),
            M::Build(b) => b.into(),
            M::Invalid(fields) => Error::Invalid(fields),
            M::Conflict(_) => Error::Conflict(e.to_string()),
            M::Provider(_) => Error::Upstream { message: e.to_string(), source: None },
            M::Store(s) => s.into(),
        }
    }
}

impl From<crate::adopt::AdoptError> for Error {
    fn from(e: crate::adopt::AdoptError) -> Self {
        use crate::adopt::AdoptError as A;
        match e {
            A::Stack(s) => s.into(),
            A::Build(b) => b.into(),
            A::AlreadyBuilt(_) => Error::Conflict(e.to_string()),
            A::Confirm { .. } => Error::Invalid(vec![crate::stack::FieldError::new("confirm", e.to_string())]),
            A::Provider(_) => Error::BadRequest(e.to_string()),
            A::Look { .. } => Error::Upstream { message: e.to_string(), source: None },
            A::NotAdoptable(ref answer) => {
                let items = answer
                    .resources
                    .iter()
                    .filter(|r| r.status != crate::contract::AdoptStatus::Found)
                    .map(|r| FieldMessage {
                        field: r.resource.clone(),
                        message: format!(
                            "{} ({}){}{}",
                            r.status,
                            r.looked_for,
                            r.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default(),
                            if r.candidates.is_empty() {
                                String::new()
                            } else {
                                format!(" [{}]", r.candidates.join(", "))
                            }
                        ),
                    })
                    .collect();
                Error::ConflictList { message: e.to_string(), items }
            }
        }
    }
}

impl From<crate::drill::schedule::ScheduleError> for Error {
    fn from(e: crate::drill::schedule::ScheduleError) -> Self {
        use crate::drill::schedule::ScheduleError as S;
        match e {
            S::Stack(s) => s.into(),
            S::Invalid(fields) => Error::Invalid(fields),
            S::NotFound(_) => Error::NotFound(e.to_string()),
            S::Corrupt { .. } => Error::internal(e),
            S::Store(s) => s.into(),
        }
    }
}

impl From<crate::drill::custom::CustomError> for Error {
    fn from(e: crate::drill::custom::CustomError) -> Self {
        use crate::drill::custom::CustomError as C;
        match e {
            C::Stack(s) => s.into(),
            C::Invalid(fields) => Error::Invalid(fields),
            C::Duplicate { .. } | C::Scheduled { .. } => Error::Conflict(e.to_string()),
            C::NotFound { .. } => Error::NotFound(e.to_string()),
            C::Corrupt { .. } => Error::internal(e),
            C::Store(s) => s.into(),
        }
    }
}

impl From<crate::drill::policy::PolicyError> for Error {
    fn from(e: crate::drill::policy::PolicyError) -> Self {
        use crate::drill::policy::PolicyError as P;
        match e {
            P::Stack(s) => s.into(),
            P::Invalid(fields) => Error::Invalid(fields),
            P::Store(s) => s.into(),
        }
    }
}

impl From<crate::webhook::WebhookError> for Error {
    fn from(e: crate::webhook::WebhookError) -> Self {
        use crate::webhook::WebhookError as W;
        match e {
            W::Invalid(fields) => Error::Invalid(fields),
            W::NotFound(_) => Error::NotFound(e.to_string()),
            W::Corrupt { .. } => Error::internal(e),
            W::Store(s) => s.into(),
        }
    }
}

impl From<crate::drift::DriftError> for Error {
    fn from(e: crate::drift::DriftError) -> Self {
        use crate::drift::DriftError as D;
        match e {
            D::Stack(s) => s.into(),
            D::NotBuilt(_) | D::BuildRunning(_) => Error::Conflict(e.to_string()),
            D::Provider(_) => Error::BadRequest(e.to_string()),
            D::Corrupt { .. } => Error::internal(e),
            D::Store(s) => s.into(),
        }
    }
}

impl From<crate::drift::ReconcileError> for Error {
    fn from(e: crate::drift::ReconcileError) -> Self {
        use crate::drift::ReconcileError as R;
        match e {
            R::Drift(d) => d.into(),
            R::Build(b) => b.into(),
            R::Nothing { .. } => Error::Conflict(e.to_string()),
        }
    }
}

impl From<crate::drift::AcceptError> for Error {
    fn from(e: crate::drift::AcceptError) -> Self {
        use crate::drift::AcceptError as A;
        match e {
            A::Drift(d) => d.into(),
            A::Stack(s) => s.into(),
            A::UnknownResource(_) => Error::Invalid(vec![crate::stack::FieldError::new("resources", e.to_string())]),
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
            | D::HaCluster(_)
            | D::AlreadyRunning { .. }
            | D::BuildRunning(_)
            | D::MigrationRunning(_)
            | D::NeedsConfirmation { .. }
            | D::Drifted { .. }
            | D::LeverEngaged { .. }
            | D::NotRunning { .. } => Error::Conflict(e.to_string()),
            D::Drift(d) => d.into(),
            D::Custom(c) => c.into(),
            D::NoSuchDrill(_) => Error::NotFound(e.to_string()),
            D::Provider(_) => Error::BadRequest(e.to_string()),
            D::Corrupt { .. } => Error::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_failure_keeps_its_cause_for_the_log_and_tells_the_client_nothing_of_it() {
        let io = std::io::Error::other("disk on fire");
        let store = StoreError::Open { path: "/var/hawaf.db".into(), source: sqlx::Error::Io(io) };
        let err = Error::from(store);
        assert_eq!(err.code(), "internal");
        assert!(!err.public_message().contains("disk"), "the cause stays out of the answer");
        let logged = chain(&err);
        assert!(logged.starts_with("internal error: cannot open the database /var/hawaf.db"), "{logged}");
        assert!(logged.contains("disk on fire"), "{logged}");
    }

    #[test]
    fn pages_word_errors_in_english_as_the_api_does() {
        let errors = [
            Error::Unauthenticated,
            Error::SessionExpired,
            Error::Forbidden { need: Role::Operator, have: Role::Viewer },
            Error::Csrf,
            Error::Invalid(vec![]),
            Error::Invalid(vec![FieldError::new("a", "x"), FieldError::new("b", "y")]),
            Error::Invalid(vec![FieldError::new("a", "x")]),
            Error::TooLarge(64),
            Error::UnsupportedMediaType("application/json"),
            Error::Throttled(30),
            Error::internal(std::io::Error::other("disk on fire")),
            Error::NotFound("no user named pat".into()),
        ];
        for e in errors {
            assert_eq!(e.page_message(), e.public_message());
        }
    }

    #[test]
    fn reason_phrases_in_english_are_the_standard_ones() {
        for code in [400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 418] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(reason(status), status.canonical_reason().unwrap(), "{code}");
        }
    }

    #[test]
    fn the_error_page_speaks_the_readers_language() {
        let ja = i18n::Locale { lang: i18n::Lang::Ja, zone: chrono_tz::Asia::Tokyo };
        let page = i18n::sync_scope(ja, || {
            ErrorPage {
                lang: i18n::current().lang.as_str(),
                status: 403,
                reason: reason(StatusCode::FORBIDDEN),
                message: &Error::Csrf.page_message(),
                sign_in: false,
            }
            .render()
            .unwrap()
        });
        assert!(page.contains("<html lang=\"ja\">"), "{page}");
        assert!(page.contains("CSRF トークン"), "{page}");
        assert!(!page.contains("Back to the stacks"), "{page}");
    }
}
