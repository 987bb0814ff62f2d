//! The HTTP side: browser pages (askama + htmx) and the JSON API.

pub mod api;
pub mod assets;
pub mod error;
pub mod metrics;
pub mod pages;
pub mod report;
pub mod session;
pub mod sse;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{HeaderName, HeaderValue, Uri, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::SharedApp;
use error::{ApiError, Error, PageError};
use session::Principal;

/// What the web side holds beside the domain core: the sign-in throttle and
/// the live-update renders shared by every subscriber. Handlers take the
/// part they use (`State<SharedApp>`, `State<Arc<LoginThrottle>>`, …).
#[derive(Clone)]
pub struct WebState {
    pub app: SharedApp,
    pub login_throttle: Arc<throttle::LoginThrottle>,
    pub renders: Arc<sse::Renders>,
}

impl WebState {
    pub fn new(app: SharedApp) -> Self {
        let per_minute = app.config.login_attempts_per_minute;
        WebState {
            login_throttle: Arc::new(throttle::LoginThrottle::new(per_minute, per_minute * 4)),
            renders: Arc::default(),
            app,
        }
    }
}

impl FromRef<WebState> for SharedApp {
    fn from_ref(state: &WebState) -> Self {
        state.app.clone()
    }
}

impl FromRef<WebState> for Arc<throttle::LoginThrottle> {
    fn from_ref(state: &WebState) -> Self {
        state.login_throttle.clone()
    }
}

impl FromRef<WebState> for Arc<sse::Renders> {
    fn from_ref(state: &WebState) -> Self {
        state.renders.clone()
    }
}

/// JSON and form bodies are small; 64 KiB is far above any definition.
pub const BODY_LIMIT: usize = 64 * 1024;

/// No inline script or style anywhere, so the policy can forbid both.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router(app: SharedApp) -> Router {
    let state = WebState::new(app.clone());
    let browser = pages::routes().layer(from_fn_with_state(app.clone(), session::browser));
    let api = api::routes().layer(from_fn_with_state(app.clone(), session::api));
    let security = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        // Signed-in pages and API answers must not outlive the session in a
        // shared or back-button cache; static assets set their own (immutable).
        (header::CACHE_CONTROL, "no-store"),
    ];
    let mut router = Router::new()
        .merge(browser)
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/static/{*path}", get(assets::serve))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    for (name, value) in security {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    router
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(State(app): State<SharedApp>) -> Response {
    match app.store.ping().await {
        Ok(()) => "ok\n".into_response(),
        Err(e) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, format!("database unreachable: {e}\n")).into_response(),
    }
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError(Error::NotFound(format!("no API endpoint at {}", uri.path()))).into_response()
    } else if uri.path() == "/" {
        Redirect::to("/stacks").into_response()
    } else {
        PageError(Error::NotFound(format!("there is no page at {}", uri.path()))).into_response()
    }
}

/// What every page's layout needs: the title, the signed-in user and the
/// section of the navigation to highlight.
pub struct Layout {
    pub title: String,
    pub section: &'static str,
    pub user: Option<Principal>,
}

impl Layout {
    pub fn new(title: impl Into<String>, section: &'static str, user: Option<Principal>) -> Self {
        Layout { title: title.into(), section, user }
    }

    pub fn asset(&self, name: &str) -> String {
        assets::url(name)
    }

    pub fn csrf(&self) -> &str {
        self.user.as_ref().map(|u| u.csrf.as_str()).unwrap_or("")
    }

    pub fn can_operate(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role >= crate::auth::Role::Operator)
    }
}

pub use crate::clock::format_ms;
