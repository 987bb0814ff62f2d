use hawaf::auth::Role;
use reqwest::header;

use crate::helpers::{ADMIN_PASSWORD, browser, csrf_in, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_first_admin_can_sign_in_and_gets_a_strict_http_only_cookie() {
    let app = spawn_app().await;
    let res = app.sign_in_as("admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/stacks");
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("hawaf_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http gets no Secure flag: {cookie}");
    assert!(app.page("/stacks").await.contains("admin"));
}

#[tokio::test]
async fn session_cookies_are_secure_when_served_over_https() {
    let app = spawn_app_with(|c| c.public_url = Some("https://hawaf.example.test".into())).await;
    let res = app.sign_in_as("admin", ADMIN_PASSWORD).await;
    let cookies: Vec<_> =
        res.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = cookies.iter().find(|c| c.starts_with("__Host-hawaf_session=")).expect("a __Host- session cookie");
    assert!(session.contains("Secure") && session.contains("Path=/"), "{session}");
    assert!(!session.contains("Domain"), "{session}");
    assert!(res.headers()[header::STRICT_TRANSPORT_SECURITY].to_str().unwrap().starts_with("max-age="), "HSTS");
    assert!(cookies.iter().all(|c| !c.starts_with("hawaf_session=")), "no unprefixed cookie over https: {cookies:?}");
}

#[tokio::test]
async fn a_request_for_another_host_name_is_refused() {
    let app = spawn_app().await;
    // DNS rebinding: a name the attacker controls, resolving to 127.0.0.1.
    let res =
        reqwest::Client::new().get(app.url("/login")).header(header::HOST, "evil.example:80").send().await.unwrap();
    assert_eq!(res.status(), 421);
    let res = reqwest::Client::new().get(app.url("/login")).send().await.unwrap();
    assert_eq!(res.status(), 200, "its own address is fine");
    let bare = reqwest::Client::new().get(app.url("/healthz")).header(header::HOST, "127.0.0.1").send().await.unwrap();
    assert_eq!(bare.status(), 200, "with or without the port");
    assert!(res.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS over plain http");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_the_user_name_is_kept() {
    let app = spawn_app().await;
    let res = app.sign_in_as("admin", "not-the-password").await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(html.contains("Wrong user name or password."));
    assert!(html.contains("value=\"admin\""));
    let audit = app.audit_actions().await;
    assert!(
        audit.iter().any(|(_, action, target, outcome)| action == "session.sign_in"
            && target == "admin"
            && outcome == "failed")
    );
}

#[tokio::test]
async fn repeated_sign_in_attempts_are_throttled_with_a_retry_after() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(app.sign_in_as("admin", "guess").await);
    }
    let last = statuses.pop().unwrap();
    assert_eq!(last.status(), 429);
    assert!(last.headers().contains_key(header::RETRY_AFTER));
    assert!(last.text().await.unwrap().contains("too many sign-in attempts"));
}

#[tokio::test]
async fn pages_send_anonymous_visitors_to_sign_in_and_back() {
    let app = spawn_app().await;
    let res = app.get("/stacks/new").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/login?next=%2Fstacks%2Fnew");
    let res = app.browser.get(app.url("/stacks")).header("HX-Request", "true").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("hx-redirect"));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app.post_form("/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/stacks").await.status(), 303);
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, action, _, outcome)| action == "session.sign_out" && outcome == "ok"));
}

#[tokio::test]
async fn an_expired_session_is_sent_to_sign_in_with_a_message() {
    // Sessions are cached in memory for a moment, so the session really
    // expires rather than being expired behind the server's back.
    let ttl = std::time::Duration::from_millis(1500);
    let app = spawn_app_with(|c| c.session_ttl = ttl).await;
    app.sign_in_admin().await;
    // Counted from the end of the sign-in: on a busy machine the password
    // check alone can take a good part of the session's life.
    let signed_in = std::time::Instant::now();
    let csrf = app.csrf().await;
    tokio::time::sleep((ttl + std::time::Duration::from_millis(100)).saturating_sub(signed_in.elapsed())).await;
    let res = app.get("/stacks").await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()[header::LOCATION].to_str().unwrap().contains("expired=1"));
    // A form posted with an expired session says so instead of a CSRF error.
    let res = app
        .browser
        .post(app.url("/stacks"))
        .form(&[("csrf_token", csrf.as_str()), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()[header::LOCATION].to_str().unwrap().contains("expired=1"));
    let login = app.page("/login?expired=1").await;
    assert!(login.contains("Your session has expired"));
}

#[tokio::test]
async fn a_state_change_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app.browser.post(app.url("/stacks")).form(&[("name", "nocsrf")]).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("missing or wrong CSRF token"));
    let res = app
        .browser
        .post(app.url("/stacks"))
        .form(&[("name", "badcsrf"), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // htmx sends the token as a header; a wrong one is refused the same way.
    let res = app.browser.post(app.url("/logout")).header("X-CSRF-Token", "forged").send().await.unwrap();
    assert_eq!(res.status(), 403);
    // The sign-in form is protected too (double-submit cookie).
    let fresh = browser();
    let html = fresh.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(!csrf_in(&html).is_empty());
    let res = fresh
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_viewer_can_read_but_cannot_create_a_stack() {
    let app = spawn_app().await;
    app.add_user("vera", Role::Viewer).await;
    assert_eq!(app.sign_in_as("vera", ADMIN_PASSWORD).await.status(), 303);
    let list = app.page("/stacks").await;
    assert!(!list.contains("New stack"), "no create button for viewers");
    assert_eq!(app.get("/stacks/new").await.status(), 403);
    let res = app.post_form("/stacks", &[("name", "nope")]).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("this needs the operator role; you are signed in as viewer"));
    // The log names failed sign-ins (often mistyped passwords): operators and admins only.
    assert_eq!(app.get("/audit").await.status(), 403);
}

#[tokio::test]
async fn the_api_needs_a_valid_bearer_token_and_the_right_role() {
    let app = spawn_app().await;
    let res = reqwest::get(app.url("/api/v1/stacks")).await.unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");

    let (status, body) = app.api_json(reqwest::Method::GET, "/stacks", "hawaf_made_up", None).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown, has been revoked"));

    let viewer = app.token(Role::Viewer).await;
    let (status, _) = app.api_json(reqwest::Method::GET, "/stacks", &viewer, None).await;
    assert_eq!(status, 200);
    let (status, body) =
        app.api_json(reqwest::Method::POST, "/stacks", &viewer, Some(serde_json::json!({"name": "v"}))).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "forbidden");
}

#[tokio::test]
async fn a_next_that_browsers_would_read_as_another_site_lands_on_the_stacks_page() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    for next in ["/%09/evil.example", "/%5Cevil.example", "//evil.example", "https://evil.example/"] {
        let res = app.get(&format!("/login?next={next}")).await;
        assert_eq!(res.status(), 303, "{next}");
        let to = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(to, "/stacks", "{next} must not leave the site");
    }
    let page = app.get("/stacks").await;
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store", "a signed-in page is not cached");
    let asset = app.page("/stacks").await;
    let css = asset.split("href=\"/static/").nth(1).and_then(|s| s.split('"').next()).map(str::to_owned);
    if let Some(css) = css {
        let res = app.get(&format!("/static/{css}")).await;
        assert_ne!(res.headers()[header::CACHE_CONTROL], "no-store", "static assets keep their own caching");
    }
}

#[tokio::test]
async fn a_flood_of_huge_user_names_stores_none_of_them() {
    let app = spawn_app().await;
    let huge = "x".repeat(60 * 1024);
    let mut csrf = csrf_in(&app.page("/login").await);
    for _ in 0..200 {
        let res = app
            .browser
            .post(app.url("/login"))
            .form(&[("username", huge.as_str()), ("password", "whatever"), ("csrf_token", &csrf)])
            .send()
            .await
            .unwrap();
        assert!(matches!(res.status().as_u16(), 401 | 429), "{}", res.status());
        // Each refusal renders the form afresh, with a new double-submit token.
        csrf = csrf_in(&res.text().await.unwrap());
    }
    let rows = app.app.store.audit_entries(None, 1000).await.unwrap();
    let stored: usize = rows.iter().map(|e| e.actor.len() + e.target.len() + e.detail.len()).sum();
    // 200 attempts of 60 KB each were 12 MB; what the log keeps of them is a few bytes each.
    assert!(stored < 64 * 1024, "the audit log holds {stored} bytes");
    assert!(rows.iter().any(|e| e.actor == "(malformed)" && e.action == "session.sign_in"));
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("private.db");
    let app = spawn_app_with(|c| c.db = db.clone().into()).await;
    app.sign_in_admin().await;
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", db.display());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path} is {mode:o}");
    }
}
