//! The HTTP side: browser pages (askama + htmx) and the JSON API.

pub mod api;
pub mod assets;
pub mod client;
pub mod error;
pub mod filters;
mod forward;
pub mod locale;
pub mod metrics;
pub mod pages;
pub mod report;
pub mod session;
pub mod sse;
pub mod throttle;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::{HeaderName, HeaderValue, header};
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
    pub drill_renders: Arc<pages::drills::DrillRenders>,
    pub streams: Arc<sse::Streams>,
}

impl WebState {
    pub fn new(app: SharedApp) -> Self {
        let per_minute = app.config.login_attempts_per_minute;
        WebState {
            login_throttle: Arc::new(throttle::LoginThrottle::new(per_minute, per_minute * 4)),
            renders: Arc::default(),
            drill_renders: Arc::default(),
            streams: Arc::new(sse::Streams::new(app.config.max_streams_per_user, app.config.max_streams)),
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

impl FromRef<WebState> for Arc<sse::Streams> {
    fn from_ref(state: &WebState) -> Self {
        state.streams.clone()
    }
}

impl FromRef<WebState> for Arc<pages::drills::DrillRenders> {
    fn from_ref(state: &WebState) -> Self {
        state.drill_renders.clone()
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

/// The host names this server answers to: its loopback names, its bind
/// address and its public URL's host. A page reached under any other name
/// (DNS rebinding: an attacker's name that resolves to 127.0.0.1) is
/// refused. The port is not compared: rebinding changes the name, and
/// clients differ in whether they send a non-default port. None: bound to
/// every address with no public URL, so any name may be right.
fn allowed_hosts(app: &SharedApp, local: SocketAddr) -> Option<Arc<Vec<String>>> {
    let mut hosts: Vec<String> = ["127.0.0.1", "localhost", "[::1]"].map(str::to_owned).to_vec();
    if let Some(url) = app.config.public_url.as_deref().and_then(|u| url::Url::parse(u).ok())
        && let Some(host) = url.host_str()
    {
        hosts.push(host.to_ascii_lowercase());
    } else if local.ip().is_unspecified() {
        tracing::warn!("bound to every address with no --public-url: the Host header is not checked");
        return None;
    }
    // The name peers forward to (a replica's --advertise-url).
    if let Some(url) = url::Url::parse(&app.replica.url).ok()
        && let Some(host) = url.host_str()
    {
        hosts.push(host.to_ascii_lowercase());
    }
    if !local.ip().is_unspecified() {
        hosts.push(match local.ip() {
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        });
    }
    Some(Arc::new(hosts))
}

/// A `Host` value's name, without its port (`[::1]:8080` -> `[::1]`).
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    }
}

#[derive(Clone)]
struct Front {
    app: SharedApp,
    hosts: Option<Arc<Vec<String>>>,
}

/// Before anything else: the Host check; after: HSTS when served over https.
async fn front(State(front): State<Front>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if let Some(hosts) = &front.hosts {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        // No allocation on the way through: this runs for every request.
        if !host.is_some_and(|h| hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host_name(h)))) {
            let message = format!(
                "this server does not answer to the host {:?}: reach it by its own address, or start it with \
                 --public-url",
                host.unwrap_or_default()
            );
            return (axum::http::StatusCode::MISDIRECTED_REQUEST, message).into_response();
        }
    }
    let https = session::served_over_https(&front.app, req.extensions(), req.headers());
    let mut response = next.run(req).await;
    if https {
        response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// `local` is the address the server listens on (its port, for the Host check).
pub fn router(app: SharedApp, local: SocketAddr) -> Router {
    let front_state = Front { hosts: allowed_hosts(&app, local), app: app.clone() };
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
    // Only replicas on a shared database ever forward: a lone process does
    // not pay for the layer on every request (scripts/bench, measure 2).
    if app.store.engine() == crate::store::Engine::Postgres {
        router = router.layer(from_fn_with_state(app.clone(), forward::forward));
    }
    router
        .layer(from_fn_with_state(front_state, front))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Per replica (never forwarded): the database answers, and which role this
/// replica plays, for a load balancer's or an operator's check.
async fn healthz(State(app): State<SharedApp>) -> Response {
    let role = match app.replica.role() {
        crate::replica::Role::Single => "single".to_owned(),
        crate::replica::Role::Leader { generation } => format!("leader (lease generation {generation})"),
        crate::replica::Role::Follower { leader } => {
            format!("follower of {}", leader.as_deref().unwrap_or("(none yet)"))
        }
    };
    // Bounded: a load balancer's check must get an answer while the database hangs.
    let ping = tokio::time::timeout(Duration::from_secs(2), app.store.ping()).await;
    let mut res = match ping {
        Ok(Ok(())) => "ok\n".into_response(),
        Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unreachable: no answer within 2 s\n")
            .into_response(),
        Ok(Err(e)) => {
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, format!("database unreachable: {e}\n")).into_response()
        }
    };
    for (name, value) in [("x-hawaf-replica", app.replica.id.as_str()), ("x-hawaf-role", role.as_str())] {
        if let Ok(v) = HeaderValue::from_str(value) {
            res.headers_mut().insert(name, v);
        }
    }
    res
}

async fn not_found(jar: axum_extra::extract::cookie::CookieJar, req: axum::extract::Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        ApiError(Error::NotFound(format!("no API endpoint at {path}"))).into_response()
    } else if path == "/" {
        Redirect::to("/stacks").into_response()
    } else {
        // Outside the browser routes' middleware: the reader's language from
        // the browser alone (no session is looked up for a wrong address).
        let (parts, _) = req.into_parts();
        let (locale, _) = locale::choose(&parts, &jar, None, None, false);
        crate::i18n::sync_scope(locale, || {
            let message = crate::i18n::text_with("errors-no-page", &[("path", &parts.uri.path())]);
            PageError(Error::NotFound(message)).into_response()
        })
    }
}

/// A YAML file to save, named `file`.
pub fn yaml_download(file: &str, yaml: String) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", file.replace('"', ""));
    let mut response = ([(header::CONTENT_TYPE, "application/yaml; charset=utf-8")], yaml).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    response
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

    /// The page's language, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        crate::i18n::current().lang.as_str()
    }

    /// Where the language switch comes back to.
    pub fn back(&self) -> String {
        let root = match self.section {
            "audit" => "/audit",
            "users" => "/users",
            "webhooks" => "/webhooks",
            "account" => "/account",
            _ => "/stacks",
        };
        locale::back(root)
    }

    /// This page in `lang`, for the switch shown before sign-in.
    pub fn href_in(&self, lang: &crate::i18n::Lang) -> String {
        locale::href_in(*lang)
    }

    /// The languages the header offers to switch to: all but this one.
    pub fn other_langs(&self) -> Vec<crate::i18n::Lang> {
        let now = crate::i18n::current().lang;
        crate::i18n::Lang::ALL.into_iter().filter(|l| *l != now).collect()
    }
}

/// Times on pages are in the reader's zone; the API keeps milliseconds.
pub use crate::i18n::local_time as format_ms;

#[cfg(test)]
mod host_tests {
    use super::host_name;

    #[test]
    fn a_host_is_compared_without_its_port() {
        assert_eq!(host_name("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8080"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert_eq!(host_name("evil.example:80"), "evil.example");
    }
}
