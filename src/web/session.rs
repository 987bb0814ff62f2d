//! Who is asking: cookie sessions (with CSRF) for the browser, bearer tokens
//! for the API, and the role extractors every handler names in its signature.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use super::error::{ApiError, Error, PageError};
use crate::SharedApp;
use crate::auth::{Role, hash_token, new_token};
use crate::store::now_ms;

pub const SESSION_COOKIE: &str = "hawaf_session";
/// Over https the cookies carry the `__Host-` prefix, which browsers accept
/// only when Secure, for path `/` and without a Domain: a cookie planted
/// over plain http or by a sibling domain cannot pass for one of these.
pub const HOST_SESSION_COOKIE: &str = "__Host-hawaf_session";
pub const HOST_LOGIN_CSRF_COOKIE: &str = "__Host-hawaf_login_csrf";
/// Before sign-in there is no session to hold a CSRF token, so the login form
/// uses a double-submit cookie instead.
pub const LOGIN_CSRF_COOKIE: &str = "hawaf_login_csrf";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Forms are small; anything bigger is refused before it is buffered.
const FORM_LIMIT: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct Principal {
    pub username: String,
    pub role: Role,
    /// The session's CSRF token, rendered into forms; empty for API tokens.
    pub csrf: String,
    /// A reset or generated password: only the account page is served
    /// until it is changed.
    pub must_change_password: bool,
    /// The session's token hash (None for API tokens): live streams look it
    /// up again and again, and close once it is gone.
    pub session: Option<String>,
}

impl Principal {
    /// This user as the stack service sees an author: only admins may aim
    /// the server's AWS calls (`aws.endpoint_url`, `aws.profile`).
    pub fn author<'a>(&'a self, outbound: &'a crate::stack::Outbound) -> crate::stack::Author<'a> {
        crate::stack::Author { username: &self.username, may_aim: self.role >= Role::Admin, outbound }
    }
}

#[derive(Clone, Debug)]
enum Auth {
    Signed(Principal),
    Expired,
    Anonymous,
}

/// Marks requests under /api so rejections answer JSON, not pages.
#[derive(Clone, Copy, Debug)]
struct ApiRequest;

fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Turns an auth failure into the answer that fits who asked: JSON for the
/// API, a redirect to the sign-in page for a browser, HX-Redirect for htmx.
fn deny(parts: &Parts, err: Error) -> Response {
    if parts.extensions.get::<ApiRequest>().is_some() {
        return ApiError(err).into_response();
    }
    if matches!(err, Error::Unauthenticated | Error::SessionExpired) {
        let mut target = format!("/login?next={}", url_escape(parts.uri.path()));
        if matches!(err, Error::SessionExpired) {
            target.push_str("&expired=1");
        }
        if is_htmx(&parts.headers) {
            let mut response = PageError(err).into_response();
            if let Ok(v) = HeaderValue::from_str(&target) {
                response.headers_mut().insert("hx-redirect", v);
            }
            return response;
        }
        return Redirect::to(&target).into_response();
    }
    PageError(err).into_response()
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn same_secret(a: &str, b: &str) -> bool {
    // Constant time, so the comparison does not leak how much of a guess matched.
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's address as the sign-in throttle and the audit log key it.
pub fn client_ip(app: &SharedApp, extensions: &axum::http::Extensions, headers: &HeaderMap) -> String {
    super::client::throttle_key(super::client::client_ip(extensions, headers, &app.config.trusted_proxies))
}

/// Browser routes: resolves the session cookie and, for every state-changing
/// method, checks the CSRF token from the `X-CSRF-Token` header (htmx) or the
/// form's `csrf_token` field.
pub async fn browser(State(app): State<SharedApp>, jar: CookieJar, req: Request, next: Next) -> Response {
    let secure = served_over_https(&app, req.extensions(), req.headers());
    let mut prefs: (Option<String>, Option<String>) = (None, None);
    let auth = match jar.get(session_cookie_name(secure)).map(|c| hash_token(c.value())) {
        None => Auth::Anonymous,
        Some(hash) => match app.store.session(&hash).await {
            Ok(Some(s)) if s.expires_at > now_ms() => match s.role.parse() {
                Ok(role) => {
                    prefs = (s.language, s.time_zone);
                    Auth::Signed(Principal {
                        username: s.username,
                        role,
                        csrf: s.csrf_token,
                        must_change_password: s.must_change_password,
                        session: Some(hash),
                    })
                }
                Err(_) => Auth::Anonymous,
            },
            Ok(Some(_)) => Auth::Expired,
            Ok(None) => Auth::Anonymous,
            Err(e) => return PageError(e.into()).into_response(),
        },
    };
    let (parts, body) = req.into_parts();
    let (locale, lang_cookie) = super::locale::choose(&parts, &jar, prefs.0.as_deref(), prefs.1.as_deref(), secure);
    let page = super::locale::page_of(&parts);
    // Everything below, error pages included, renders in the reader's language.
    let served = crate::i18n::scope(locale, guarded(jar, secure, auth, parts, body, next));
    let mut response = super::locale::with_page(page, served).await;
    if let Some(cookie) = lang_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

async fn guarded(jar: CookieJar, secure: bool, auth: Auth, mut parts: Parts, body: Body, next: Next) -> Response {
    // An ended session's cookie must not stand in the way of signing in again.
    let auth = match auth {
        Auth::Expired if parts.uri.path() == "/login" => Auth::Anonymous,
        other => other,
    };
    if let Auth::Signed(p) = &auth
        && p.must_change_password
        && !MAY_CHANGE_PASSWORD_FIRST.contains(&parts.uri.path())
    {
        return to(&parts, "/account?must_change=1");
    }
    let body = if is_safe(&parts.method) {
        body
    } else {
        let expected = match &auth {
            Auth::Signed(p) => Some(p.csrf.clone()),
            Auth::Expired => return deny(&parts, Error::SessionExpired),
            Auth::Anonymous => jar.get(login_csrf_cookie_name(secure)).map(|c| c.value().to_owned()),
        };
        let (submitted, body) = match submitted_csrf(&parts, body).await {
            Ok(found) => found,
            Err(e) => return deny(&parts, e),
        };
        match (expected, submitted) {
            (Some(exp), Some(sub)) if !exp.is_empty() && same_secret(&exp, &sub) => body,
            _ => return deny(&parts, Error::Csrf),
        }
    };
    parts.extensions.insert(auth);
    next.run(Request::from_parts(parts, body)).await
}

/// What a user whose password must change may reach before changing it.
const MAY_CHANGE_PASSWORD_FIRST: &[&str] =
    &["/account", "/account/password", "/account/language", "/account/preferences", "/logout", "/login"];

/// A redirect for a browser, HX-Redirect for htmx.
fn to(parts: &Parts, target: &str) -> Response {
    if is_htmx(&parts.headers) {
        let mut response = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(target) {
            response.headers_mut().insert("hx-redirect", v);
        }
        return response;
    }
    Redirect::to(target).into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Finds the CSRF token in the header, else in a form body, which is then put
/// back so the handler can read it too.
async fn submitted_csrf(parts: &Parts, body: Body) -> Result<(Option<String>, Body), Error> {
    if let Some(v) = parts.headers.get(CSRF_HEADER) {
        return Ok((v.to_str().ok().map(str::to_owned), body));
    }
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, body));
    }
    let bytes = to_bytes(body, FORM_LIMIT).await.map_err(|_| Error::TooLarge(FORM_LIMIT / 1024))?;
    let token = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    Ok((token, Body::from(bytes)))
}

/// API routes: `Authorization: Bearer <token>`. No cookies are read here, so
/// the API needs no CSRF protection.
pub async fn api(State(app): State<SharedApp>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(ApiRequest);
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.strip_prefix("Bearer ").map(str::trim));
    let auth = match bearer {
        None => Auth::Anonymous,
        Some(None) => {
            return deny(&parts, Error::BadRequest("the Authorization header must be `Bearer <token>`".into()));
        }
        Some(Some(token)) => match app.store.api_token(&hash_token(token)).await {
            Ok(Some(row)) if row.expires_at.is_some_and(|at| at <= now_ms()) => {
                return ApiError(Error::BadRequest("this API token has expired: create a new one".into()))
                    .into_response()
                    .map_status(StatusCode::UNAUTHORIZED);
            }
            Ok(Some(row)) => match row.role.parse() {
                Ok(role) => Auth::Signed(Principal {
                    username: row.username,
                    role,
                    csrf: String::new(),
                    must_change_password: false,
                    session: None,
                }),
                Err(_) => Auth::Anonymous,
            },
            Ok(None) => {
                return ApiError(Error::BadRequest(
                    "this API token is unknown, has been revoked, or its user is disabled".into(),
                ))
                .into_response()
                .map_status(StatusCode::UNAUTHORIZED);
            }
            Err(e) => return ApiError(e.into()).into_response(),
        },
    };
    parts.extensions.insert(auth);
    next.run(Request::from_parts(parts, body)).await
}

trait MapStatus {
    fn map_status(self, status: StatusCode) -> Self;
}

impl MapStatus for Response {
    fn map_status(mut self, status: StatusCode) -> Self {
        *self.status_mut() = status;
        self
    }
}

fn require(parts: &Parts, need: Role) -> Result<Principal, Error> {
    match parts.extensions.get::<Auth>() {
        Some(Auth::Signed(p)) if p.role >= need => Ok(p.clone()),
        Some(Auth::Signed(p)) => Err(Error::Forbidden { need, have: p.role }),
        Some(Auth::Expired) => Err(Error::SessionExpired),
        _ => Err(Error::Unauthenticated),
    }
}

macro_rules! role_extractor {
    ($name:ident, $role:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(pub Principal);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = Response;
            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                require(parts, $role).map($name).map_err(|e| deny(parts, e))
            }
        }
    };
}

role_extractor!(Viewer, Role::Viewer, "Any signed-in user: reads.");
role_extractor!(Operator, Role::Operator, "Builds, edits, toggles and drills.");
role_extractor!(Admin, Role::Admin, "Manages users and everything else.");

/// The signed-in user if any, for pages that also serve anonymous visitors.
pub struct MaybeSigned(pub Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSigned {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSigned(match parts.extensions.get::<Auth>() {
            Some(Auth::Signed(p)) => Some(p.clone()),
            _ => None,
        }))
    }
}

/// Cookies are Secure when the dashboard is reached over HTTPS, directly
/// (configured public URL) or through a trusted TLS-terminating proxy.
pub fn served_over_https(app: &SharedApp, extensions: &axum::http::Extensions, headers: &HeaderMap) -> bool {
    app.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
        || super::client::forwarded_https(extensions, headers, &app.config.trusted_proxies)
}

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { HOST_SESSION_COOKIE } else { SESSION_COOKIE }
}

pub fn login_csrf_cookie_name(secure: bool) -> &'static str {
    if secure { HOST_LOGIN_CSRF_COOKIE } else { LOGIN_CSRF_COOKIE }
}

/// The login form's double-submit cookie lives on /login only, but a
/// `__Host-` cookie must be set for `/`.
pub fn login_csrf_cookie_path(secure: bool) -> &'static str {
    if secure { "/" } else { "/login" }
}

pub fn session_cookie(token: String, secure: bool, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build((session_cookie_name(secure), token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(max_age)
        .build()
}

pub fn login_csrf_cookie(secure: bool) -> (Cookie<'static>, String) {
    let token = new_token("");
    let cookie = Cookie::build((login_csrf_cookie_name(secure), token.clone()))
        .path(login_csrf_cookie_path(secure))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build();
    (cookie, token)
}
