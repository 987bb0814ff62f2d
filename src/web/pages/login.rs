use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use serde::Deserialize;

use crate::SharedApp;
use crate::auth::{self, accounts, hash_token, new_token};
use crate::i18n;
use crate::store::{NewAudit, now_ms};
use crate::web::Layout;
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::session::{
    MaybeSigned, Viewer, client_ip, login_csrf_cookie, login_csrf_cookie_name, login_csrf_cookie_path,
    served_over_https, session_cookie, session_cookie_name,
};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    layout: Layout,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    expired: bool,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// Only local paths, so the sign-in page cannot be used as an open redirect.
/// Where to go after signing in: a path on this site, or the stacks page.
fn safe_next(next: Option<&str>) -> String {
    next.and_then(crate::web::locale::local_path).unwrap_or_else(|| "/stacks".to_owned())
}

pub async fn form(
    State(app): State<SharedApp>,
    MaybeSigned(user): MaybeSigned,
    headers: HeaderMap,
    extensions: Extensions,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if user.is_some() {
        return Redirect::to(&next).into_response();
    }
    // A cookie of an ended session is dropped here, so it cannot stand in
    // the way of signing in again.
    let secure = served_over_https(&app, &extensions, &headers);
    let jar = match jar.get(session_cookie_name(secure)) {
        Some(_) => jar.remove(Cookie::build(session_cookie_name(secure)).path("/")),
        None => jar,
    };
    let (cookie, csrf) = login_csrf_cookie(secure);
    let page = LoginPage {
        layout: Layout::new(i18n::text("accounts-login-title"), "", None),
        csrf,
        next,
        username: String::new(),
        error: None,
        expired: q.expired.is_some(),
    };
    (jar.add(cookie), page).into_response()
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn submit(
    State(app): State<SharedApp>,
    State(throttle): State<std::sync::Arc<crate::web::throttle::LoginThrottle>>,
    headers: HeaderMap,
    extensions: Extensions,
    jar: CookieJar,
    Form(creds): Form<Credentials>,
) -> Result<Response, PageError> {
    let next = safe_next(creds.next.as_deref());
    let secure = served_over_https(&app, &extensions, &headers);
    let ip = client_ip(&app, &extensions, &headers);
    let username = creds.username.trim().to_owned();
    let refuse = |jar: CookieJar, status: StatusCode, error: String| {
        let (cookie, csrf) = login_csrf_cookie(secure);
        let page = LoginPage {
            layout: Layout::new(i18n::text("accounts-login-title"), "", None),
            csrf,
            next: next.clone(),
            username: username.clone(),
            error: Some(error),
            expired: false,
        };
        (status, jar.add(cookie), page).into_response()
    };

    // A name no account can have is refused before anything is looked up or
    // stored as given: an anonymous client must not fill the audit log (and
    // the disk) with 60 KB user names.
    // They share one throttle key per address, so what is stored of them is
    // bounded by the throttle's rate, and a throttled one stores nothing.
    if auth::check_username(&username).is_err() {
        if let Err(wait) = throttle.check("(malformed)", &ip) {
            let mut response = refuse(jar, StatusCode::TOO_MANY_REQUESTS, Error::Throttled(wait).page_message());
            if let Ok(v) = wait.to_string().parse() {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            return Ok(response);
        }
        let detail = format!("a user name no account can have, from {ip}");
        audit(&app, "(malformed)", "failed", detail).await?;
        return Ok(refuse(jar, StatusCode::UNAUTHORIZED, i18n::text("accounts-login-wrong")));
    }

    if let Err(wait) = throttle.check(&username, &ip) {
        audit(&app, &username, "refused", format!("throttled, from {ip}")).await?;
        let mut response = refuse(jar, StatusCode::TOO_MANY_REQUESTS, Error::Throttled(wait).page_message());
        if let Ok(v) = wait.to_string().parse() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        return Ok(response);
    }

    let user = app.store.user_by_name(&username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = accounts::verify(stored, creds.password).await.map_err(Error::from)?;
    let Some(user) = user.filter(|_| ok) else {
        audit(&app, &username, "failed", format!("wrong user name or password, from {ip}")).await?;
        return Ok(refuse(jar, StatusCode::UNAUTHORIZED, i18n::text("accounts-login-wrong")));
    };
    // Told only to whoever knows the password.
    if user.disabled {
        audit(&app, &username, "refused", format!("the account is disabled, from {ip}")).await?;
        return Ok(refuse(jar, StatusCode::FORBIDDEN, i18n::text("accounts-login-disabled")));
    }

    let token = new_token("");
    let ttl = app.config.session_ttl;
    let expires_at = now_ms() + i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    app.store.create_session(&hash_token(&token), user.id, &new_token(""), expires_at).await?;
    audit(&app, &username, "ok", format!("from {ip}")).await?;
    // The cookie outlives the session by an hour, so a browser still sends
    // it after the session ends and the user is told it expired, rather than
    // being shown the sign-in page with no reason.
    let max_age = time::Duration::seconds(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2).saturating_add(3600));
    let csrf_cookie = Cookie::build(login_csrf_cookie_name(secure)).path(login_csrf_cookie_path(secure));
    let jar = jar.remove(csrf_cookie).add(session_cookie(token, secure, max_age));
    Ok((jar, Redirect::to(&next)).into_response())
}

/// Identical refusals within this long of each other are one audit row with
/// a count: a flood of guesses costs a row per burst, not per attempt.
const FOLD_WINDOW_MS: i64 = 60_000;

async fn audit(app: &SharedApp, username: &str, outcome: &str, detail: String) -> Result<(), PageError> {
    let actor = if username.is_empty() { "(blank)" } else { username };
    let entry = NewAudit { actor, action: "session.sign_in", target: actor, outcome, detail };
    if outcome == "ok" {
        app.store.audit(entry).await?;
    } else {
        app.store.audit_folded(entry, FOLD_WINDOW_MS).await?;
    }
    Ok(())
}

pub async fn logout(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    headers: HeaderMap,
    extensions: Extensions,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if let Some(hash) = &user.session {
        app.store.delete_session(hash).await?;
    }
    app.store
        .audit(NewAudit {
            actor: &user.username,
            action: "session.sign_out",
            target: &user.username,
            outcome: "ok",
            detail: String::new(),
        })
        .await?;
    let secure = served_over_https(&app, &extensions, &headers);
    let jar = jar.remove(Cookie::build(session_cookie_name(secure)).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/stacks/demo?tab=ops")), "/stacks/demo?tab=ops");
        assert_eq!(safe_next(None), "/stacks");
        for off_site in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "https://evil.example/",
            "evil.example",
            "/\u{7f}/evil.example",
            "/.//evil.example",
            "/a/..//evil.example",
        ] {
            assert_eq!(safe_next(Some(off_site)), "/stacks", "{off_site:?}");
        }
        // Still percent-encoded, it is a path here, not a host.
        assert_eq!(safe_next(Some("/%09/evil.example")), "/%09/evil.example");
    }
}
