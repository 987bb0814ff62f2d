//! Accounts and tokens with a lifecycle, and the review's attacks (issue 13),
//! from outside: through the API, the pages and the sign-in form.

use std::time::{Duration, Instant};

use hawaf::auth::Role;
use hawaf::contract::{NewToken, NewUser, Token, TokenCreated, User, UserPatch, UserSaved};
use reqwest::Method;
use serde_json::json;

use hawaf::store::Location;

use crate::helpers::{ADMIN_PASSWORD, NO_BODY, TestApp, browser, csrf_in, raw_db, spawn_app};

/// A second browser of its own, signed in as `username`.
async fn signed_in(app: &TestApp, username: &str, password: &str) -> reqwest::Client {
    let b = browser();
    let form = b.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let res = b
        .post(app.url("/login"))
        .form(&[("username", username), ("password", password), ("csrf_token", &csrf_in(&form)), ("next", "/stacks")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{username} signs in");
    b
}

/// The database's size: the SQLite file's, or PostgreSQL's own count.
async fn db_bytes(app: &TestApp) -> u64 {
    match &app.app.config.db {
        Location::File(db) => std::fs::metadata(db).map(|m| m.len()).unwrap_or(0),
        Location::Postgres(_) => {
            let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(&raw_db(app).await)
                .await
                .unwrap();
            size as u64
        }
    }
}

async fn checkpoint(app: &TestApp) {
    if let Location::File(_) = app.app.config.db {
        let pool = raw_db(app).await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.unwrap();
    }
}

#[tokio::test]
async fn a_sign_in_flood_grows_the_database_by_less_than_a_megabyte() {
    let app = spawn_app().await;
    app.add_user("victim", Role::Operator).await;
    checkpoint(&app).await;
    let before = db_bytes(&app).await;
    // The review's flood: 60 KB user names, each POST with a matching
    // double-submit cookie and field; then guesses at a real account.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let huge = "x".repeat(60 * 1024);
    for i in 0..400 {
        let name = if i < 200 { huge.as_str() } else { "victim" };
        let res = client
            .post(app.url("/login"))
            .header("cookie", "hawaf_login_csrf=flood")
            .form(&[("username", name), ("password", "not-the-password"), ("csrf_token", "flood")])
            .send()
            .await
            .unwrap();
        assert!(matches!(res.status().as_u16(), 401 | 429), "{}", res.status());
    }
    checkpoint(&app).await;
    let grown = db_bytes(&app).await.saturating_sub(before);
    assert!(grown < 1024 * 1024, "the database grew by {grown} bytes");
    let rows = app.app.store.audit_entries(None, 1000).await.unwrap();
    let flood: Vec<_> = rows.iter().filter(|e| e.action == "session.sign_in").collect();
    assert!(flood.len() <= 6, "a burst is folded into a row with a count, not a row each: {}", flood.len());
    let on_victim: i64 = flood.iter().filter(|e| e.actor == "victim").map(|e| e.count).sum();
    assert_eq!(on_victim, 200, "every attempt on an account is counted");
}

#[tokio::test]
async fn a_revoked_token_and_a_disabled_users_token_are_refused_at_once() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin).await;
    let ops = app.token(Role::Operator).await;
    let mine: TokenCreated = app
        .call(
            Method::POST,
            "/tokens",
            &ops,
            Some(&NewToken { name: "ci".into(), expires_in_days: Some(7), user: None }),
            201,
        )
        .await;
    assert!(mine.token.starts_with("hawaf_"));
    let listed: Vec<Token> = app.call(Method::GET, "/tokens", &mine.token, NO_BODY, 200).await;
    assert!(listed.iter().any(|t| t.id == mine.id && t.name == "ci" && t.expires_at == Some(mine.expires_at)));
    assert!(listed.iter().all(|t| t.username == mine.username), "an operator sees only their own");

    let (status, body) = app.api_json(Method::DELETE, &format!("/tokens/{}", mine.id), &ops, None).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = app.api_json(Method::GET, "/stacks", &mine.token, None).await;
    assert_eq!(status, 401, "revoked: {body}");

    // An admin disables the operator: the operator's remaining token stops at once.
    let (status, _) = app.api_json(Method::GET, "/stacks", &ops, None).await;
    assert_eq!(status, 200);
    let who: Vec<Token> = app.call(Method::GET, "/tokens", &admin, NO_BODY, 200).await;
    let owner = who.iter().find(|t| t.username.starts_with("operator-")).unwrap().username.clone();
    let patch = UserPatch { disabled: Some(true), ..Default::default() };
    let saved: UserSaved = app.call(Method::PATCH, &format!("/users/{owner}"), &admin, Some(&patch), 200).await;
    assert!(saved.user.disabled);
    let started = Instant::now();
    let (status, body) = app.api_json(Method::GET, "/stacks", &ops, None).await;
    assert_eq!(status, 401, "disabled: {body}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn an_expired_token_answers_401_saying_so() {
    let app = spawn_app().await;
    let ops = app.token(Role::Operator).await;
    let pool = raw_db(&app).await;
    sqlx::query("UPDATE api_tokens SET expires_at = 1").execute(&pool).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await; // past the token cache
    let (status, body) = app.api_json(Method::GET, "/stacks", &ops, None).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"), "{body}");
}

#[tokio::test]
async fn viewers_get_403_on_every_user_and_token_change() {
    let app = spawn_app().await;
    let viewer = app.token(Role::Viewer).await;
    let new_user = json!({"username": "eve", "role": "admin"});
    let changes: [(Method, &str, Option<serde_json::Value>); 6] = [
        (Method::GET, "/users", None),
        (Method::POST, "/users", Some(new_user)),
        (Method::PATCH, "/users/admin", Some(json!({"role": "viewer"}))),
        (Method::DELETE, "/users/admin", None),
        (Method::POST, "/tokens", Some(json!({"name": "mine"}))),
        (Method::DELETE, "/tokens/1", None),
    ];
    for (method, path, body) in changes {
        let (status, answer) = app.api_json(method.clone(), path, &viewer, body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    // Operators manage their own tokens, not users.
    let ops = app.token(Role::Operator).await;
    let (status, _) = app.api_json(Method::GET, "/users", &ops, None).await;
    assert_eq!(status, 403);
    let (status, _) = app.api_json(Method::POST, "/tokens", &ops, Some(json!({"name": "x", "user": "admin"}))).await;
    assert_eq!(status, 403, "only admins make tokens for others");
}

#[tokio::test]
async fn the_last_enabled_admin_stays_and_users_come_and_go() {
    let app = spawn_app().await;
    let admin = app.token(Role::Admin).await;
    // The token's own user is an admin too: two admins besides `admin`... demote them all but one.
    let users: Vec<User> = app.call(Method::GET, "/users", &admin, NO_BODY, 200).await;
    let me = users.iter().find(|u| u.username.starts_with("admin-")).unwrap().username.clone();
    let demote = UserPatch { role: Some(Role::Viewer), ..Default::default() };
    let _: UserSaved = app.call(Method::PATCH, "/users/admin", &admin, Some(&demote), 200).await;
    let (status, body) =
        app.api_json(Method::PATCH, &format!("/users/{me}"), &admin, Some(json!({"role": "operator"}))).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("last enabled admin"), "{body}");
    for (method, body) in [(Method::DELETE, None), (Method::PATCH, Some(json!({"disabled": true})))] {
        let (status, answer) = app.api_json(method, &format!("/users/{me}"), &admin, body).await;
        assert_eq!(status, 409, "{answer}");
    }

    // A new user gets a generated password, shown once, to change at the first sign-in.
    let created: UserSaved = app
        .call(
            Method::POST,
            "/users",
            &admin,
            Some(&NewUser { username: "newbie".into(), role: Role::Operator, password: None }),
            201,
        )
        .await;
    let password = created.password.expect("a generated password");
    assert!(created.user.must_change_password);
    let b = signed_in(&app, "newbie", &password).await;
    let res = b.get(app.url("/stacks")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account?must_change=1", "nowhere but the password form first");
    let page = b.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let res = b
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", csrf_in(&page).as_str()),
            ("current_password", password.as_str()),
            ("new_password", "a-password-of-my-own"),
            ("confirm_password", "a-password-of-my-own"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(b.get(app.url("/stacks")).send().await.unwrap().status(), 200, "free to go on");

    let (status, _) = app.api_json(Method::DELETE, "/users/newbie", &admin, None).await;
    assert_eq!(status, 204);
    assert_eq!(b.get(app.url("/stacks")).send().await.unwrap().status(), 303, "a deleted user's session ends");
    let (status, _) = app.api_json(Method::DELETE, "/users/newbie", &admin, None).await;
    assert_eq!(status, 404);
    let actions = app.audit_actions().await;
    for action in ["user.role", "user.add", "user.password", "user.delete"] {
        assert!(actions.iter().any(|(_, a, _, _)| a == action), "{action} is audited: {actions:?}");
    }
}

#[tokio::test]
async fn a_disabled_users_open_live_stream_closes_within_35_seconds() {
    let app = spawn_app().await;
    app.add_user("watcher", Role::Viewer).await;
    let b = signed_in(&app, "watcher", ADMIN_PASSWORD).await;
    let ops = app.token(Role::Operator).await;
    app.create_stack(&ops, "watched").await;
    let mut res = b.get(app.url("/stacks/watched/events")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.chunk().await.unwrap().is_some(), "the first fragments arrive");
    let admin = app.token(Role::Admin).await;
    let patch = UserPatch { disabled: Some(true), ..Default::default() };
    let _: UserSaved = app.call(Method::PATCH, "/users/watcher", &admin, Some(&patch), 200).await;
    let closed =
        tokio::time::timeout(Duration::from_secs(35), async { while let Ok(Some(_)) = res.chunk().await {} }).await;
    assert!(closed.is_ok(), "the stream of a disabled user ends within 35 s");
}

#[tokio::test]
async fn a_user_may_hold_eight_live_streams_and_the_ninth_is_refused() {
    let app = spawn_app().await;
    app.add_user("tabs", Role::Viewer).await;
    let b = signed_in(&app, "tabs", ADMIN_PASSWORD).await;
    let ops = app.token(Role::Operator).await;
    app.create_stack(&ops, "many").await;
    let mut open = Vec::new();
    for _ in 0..8 {
        let res = b.get(app.url("/stacks/many/events")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        open.push(res);
    }
    let res = b.get(app.url("/stacks/many/events")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    drop(open.pop());
    // The server notices the closed stream when it next writes to it; a
    // fresh connection gets the freed place once it has.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = b.get(app.url("/stacks/many/events")).send().await.unwrap();
        if res.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "a closed stream's place is freed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_tab_in_next_never_leads_off_site_and_a_stale_cookie_does_not_block_sign_in() {
    let app = spawn_app().await;
    let form = app.page("/login?next=/%09/evil.example").await;
    assert!(!form.contains("evil.example"), "the form does not carry it on");
    let res = app
        .browser
        .post(app.url("/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", &csrf_in(&form)),
            ("next", "/\t/evil.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/stacks");

    // A cookie of a session that has ended: the sign-in form clears it and works.
    let b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = b.get(app.url("/login")).header("cookie", "hawaf_session=ended").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("hawaf_session=;") || c.starts_with("hawaf_session=\"\"")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn endpoint_urls_are_admin_only_and_never_a_metadata_address() {
    let app = spawn_app().await;
    let ops = app.token(Role::Operator).await;
    let admin = app.token(Role::Admin).await;
    let def = |name: &str, url: &str| json!({"name": name, "provider": "aws", "aws": {"region": "us-east-1", "endpoint_url": url}});
    let (status, body) =
        app.api_json(Method::POST, "/stacks", &admin, Some(def("meta", "http://169.254.169.254/"))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "aws.endpoint_url", "{body}");
    let (status, body) =
        app.api_json(Method::POST, "/stacks", &admin, Some(def("remote", "http://10.1.2.3:5000"))).await;
    assert_eq!(status, 422, "plain http off this host: {body}");
    let (status, body) = app.api_json(Method::POST, "/stacks", &ops, Some(def("moto", "http://127.0.0.1:5000"))).await;
    assert_eq!(status, 403, "an operator cannot aim the server: {body}");
    let (status, body) =
        app.api_json(Method::POST, "/stacks", &admin, Some(def("moto", "http://127.0.0.1:5000"))).await;
    assert_eq!(status, 201, "{body}");
    // The operator edits something else on the admin's stack: allowed, the endpoint unchanged.
    let (status, body) = app
        .api_json(Method::PUT, "/stacks/moto", &ops, Some(json!({"name": "moto", "admin_cidr": "198.51.100.0/24"})))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn node_tokens_and_the_labs_keys_are_sealed_at_rest_and_bound_to_their_owner() {
    let app = spawn_app().await;
    let token = app.built_stack("sealed").await;
    // The monitor reads both WAF switches, so both nodes' access is stored.
    let deadline = Instant::now() + Duration::from_secs(20);
    let pool = raw_db(&app).await;
    let tokens: Vec<(String, String)> = loop {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT node, token_enc FROM waf_nodes").fetch_all(&pool).await.unwrap();
        if rows.len() == 2 {
            break rows;
        }
        assert!(Instant::now() < deadline, "both nodes' access is stored: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (node, sealed) in &tokens {
        assert!(sealed.starts_with("v2:"), "{node}: {sealed}");
    }
    // Swapped between the nodes, neither token opens: the switch cannot be read.
    sqlx::query("UPDATE waf_nodes SET token_enc = $1 WHERE node = $2")
        .bind(&tokens[1].1)
        .bind(&tokens[0].0)
        .execute(&pool)
        .await
        .unwrap();
    let (status, body) = app
        .api_json(
            Method::POST,
            &format!("/stacks/sealed/nodes/{}/waf", tokens[0].0),
            &token,
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("cannot read its stored API credential"), "{body}");
    let state: String = sqlx::query_scalar("SELECT snapshot FROM lab_state").fetch_one(&pool).await.unwrap();
    assert!(state.starts_with("v2:") && !state.contains("PRIVATE KEY"), "the lab's state is sealed");
}

#[tokio::test]
async fn an_admin_manages_users_and_tokens_from_the_pages() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app.post_form("/users", &[("username", "pat"), ("role", "operator")]).await;
    assert_eq!(res.status(), 201);
    let page = res.text().await.unwrap();
    assert!(page.contains("Password for pat") && page.contains("shown this once"), "the generated password is shown");
    let res = app.post_form("/users", &[("username", "Not A Name"), ("role", "operator")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Not A Name"), "what was typed is kept");

    let res = app.post_form("/users/pat", &[("action", "role"), ("role", "viewer")]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("pat is now viewer"));
    let res = app.post_form("/users/admin", &[("action", "disable")]).await;
    assert_eq!(res.status(), 409, "the only admin");
    assert!(res.text().await.unwrap().contains("last enabled admin"));

    // Tokens on the account page: made, listed, revoked.
    let res = app.post_form("/account/tokens", &[("name", "laptop"), ("days", "30")]).await;
    assert_eq!(res.status(), 201);
    let page = res.text().await.unwrap();
    assert!(page.contains("hawaf_"), "the token is shown once");
    let tokens: Vec<Token> = {
        let admin = app.token(Role::Admin).await;
        app.call(Method::GET, "/tokens", &admin, NO_BODY, 200).await
    };
    let laptop = tokens.iter().find(|t| t.name == "laptop").unwrap();
    let res = app.post_form(&format!("/account/tokens/{}/revoke", laptop.id), &[]).await;
    assert_eq!(res.status(), 303);
    let page = app.page(&format!("/account?revoked={}", laptop.id)).await;
    assert!(!page.contains(">laptop<"), "gone from the list");
    let res = app.post_form("/account/tokens", &[("name", "x"), ("days", "999")]).await;
    assert_eq!(res.status(), 422);
}
