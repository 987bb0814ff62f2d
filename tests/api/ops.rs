use std::time::{Duration, Instant};

use hawaf::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn built(app: &TestApp, name: &str) -> String {
    app.built_stack(name).await
}

/// Polls the health API until `check` holds (bounded), returning the last answer.
async fn health_until(app: &TestApp, token: &str, name: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, h) = app.api_json(Method::GET, &format!("/stacks/{name}/health"), token, None).await;
        assert_eq!(status, 200, "{h}");
        if check(&h) {
            return h;
        }
        assert!(Instant::now() < deadline, "health never reached the expected state: {h:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_health_api_reports_both_tiers_and_the_waf_switches_as_read_from_the_nodes() {
    let app = spawn_app().await;
    let token = built(&app, "watched").await;
    let h = health_until(&app, &token, "watched", |h| h["tiers"]["external"]["in_service"] == 2).await;
    for tier in ["external", "internal"] {
        assert_eq!(h["tiers"][tier]["total"], 2);
        assert_eq!(h["tiers"][tier]["in_service"], 2);
        for i in h["tiers"][tier]["instances"].as_array().unwrap() {
            assert_eq!(i["state"], "InService");
            assert!(i["id"].as_str().unwrap().starts_with("i-"));
            assert!(i["since"].as_str().unwrap().contains('T'));
        }
    }
    assert_eq!(h["tiers"]["external"]["lb"], "ha-lbext");
    assert_eq!(h["waf"]["ha-utm-left"]["enabled"], true);
    assert_eq!(h["waf"]["ha-utm-right"]["enabled"], true);

    let metrics = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("hawaf_lb_instances_in_service{stack=\"watched\",tier=\"external\",lb=\"ha-lbext\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("hawaf_waf_enabled{stack=\"watched\",node=\"ha-utm-left\"} 1"));
}

#[tokio::test]
async fn a_stopped_web_server_reaches_the_browser_over_sse_and_the_timeline() {
    let app = spawn_app().await;
    let token = built(&app, "live").await;
    health_until(&app, &token, "live", |h| h["tiers"]["internal"]["in_service"] == 2).await;
    app.sign_in_admin().await;
    let res = app.browser.get(app.url("/stacks/live/events")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut body = res;
    // The snapshot comes first.
    let mut seen = String::new();
    while !seen.contains("event: tier-internal") {
        seen.push_str(&String::from_utf8_lossy(&body.chunk().await.unwrap().unwrap()));
    }
    assert!(seen.contains("2 of 2 instances in service"));

    let (status, answer) = app
        .api_json(
            Method::POST,
            "/stacks/live/faults",
            &token,
            Some(json!({"node": "ha-web-right", "fault": "stop-httpd"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut update = String::new();
    while !(update.contains("event: tier-internal") && update.contains("1 of 2 instances in service")) {
        let chunk =
            tokio::time::timeout_at(deadline.into(), body.chunk()).await.expect("an update arrives").unwrap().unwrap();
        update.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(update.contains("OutOfService"));
    let page = app.page("/stacks/live").await;
    assert!(page.contains("ha-web-right"), "the timeline names the node");
    for endpoint in ["ha-lbext DNS name", "ha-lbint DNS name", "ha-lbext from this host", "ha-utm-left console"] {
        assert!(page.contains(endpoint), "the stack page lists {endpoint}");
    }
    assert!(
        page.contains("InService → <span class=\"hstate hstate-down\">OutOfService</span>"),
        "the timeline shows the transition"
    );

    // Traffic continues through the other web server.
    let url = app.app.providers.lab().lb_url("ha-lbext").unwrap();
    for _ in 0..5 {
        let body = reqwest::get(&url).await.unwrap().text().await.unwrap();
        assert!(body.contains("ha-web-left"));
    }
    let (status, _) = app
        .api_json(
            Method::POST,
            "/stacks/live/faults",
            &token,
            Some(json!({"node": "ha-web-right", "fault": "start-httpd"})),
        )
        .await;
    assert_eq!(status, 200);
    health_until(&app, &token, "live", |h| h["tiers"]["internal"]["in_service"] == 2).await;
}

#[tokio::test]
async fn disabling_the_last_waf_node_needs_the_stack_name_typed() {
    let app = spawn_app().await;
    let token = built(&app, "guarded").await;
    health_until(&app, &token, "guarded", |h| h["tiers"]["external"]["in_service"] == 2).await;

    async fn waf_call(app: &TestApp, token: &str, node: &str, body: Value) -> (u16, Value) {
        app.api_json(Method::POST, &format!("/stacks/guarded/nodes/{node}/waf"), token, Some(body)).await
    }
    let waf = |node: &'static str, body: Value| waf_call(&app, &token, node, body);
    let (status, answer) = waf("ha-utm-left", json!({"enabled": false})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["enabled"], false, "the state is read back from the node");
    health_until(&app, &token, "guarded", |h| h["tiers"]["external"]["in_service"] == 1).await;

    let (status, answer) = waf("ha-utm-right", json!({"enabled": false})).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("last in-service WAF node"));
    let (status, _) = waf("ha-utm-right", json!({"enabled": false, "confirm": "guarded"})).await;
    assert_eq!(status, 200);
    let url = app.app.providers.lab().lb_url("ha-lbext").unwrap();
    health_until(&app, &token, "guarded", |h| h["tiers"]["external"]["in_service"] == 0).await;
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 503, "no WAF node, no service");

    for node in ["ha-utm-left", "ha-utm-right"] {
        let (status, answer) = waf(node, json!({"enabled": true})).await;
        assert_eq!((status, answer["enabled"].clone()), (200, json!(true)));
    }
    health_until(&app, &token, "guarded", |h| h["tiers"]["external"]["in_service"] == 2).await;
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);

    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, t, o)| a == "waf.disable" && t == "guarded/ha-utm-right" && o == "refused"));
    assert!(audit.iter().any(|(_, a, t, o)| a == "waf.disable" && t == "guarded/ha-utm-right" && o == "ok"));
    assert!(audit.iter().any(|(_, a, _, o)| a == "waf.enable" && o == "ok"));
}

#[tokio::test]
async fn bad_node_operations_get_clear_errors() {
    let app = spawn_app().await;
    let token = built(&app, "strict").await;
    let (status, body) = app
        .api_json(Method::POST, "/stacks/strict/nodes/ha-utm-middle/waf", &token, Some(json!({"enabled": false})))
        .await;
    assert_eq!(status, 404);
    assert!(body["error"]["message"].as_str().unwrap().contains("its nodes are ha-web-left"), "{body}");
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/strict/faults",
            &token,
            Some(json!({"node": "ha-web-left", "fault": "unplug"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown fault `unplug`"));
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/strict/faults",
            &token,
            Some(json!({"node": "ha-utm-left", "fault": "stop-httpd"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app
        .api_json(Method::POST, "/stacks/strict/nodes/ha-utm-left/waf", &token, Some(json!({"enabled": "off"})))
        .await;
    assert_eq!(status, 422, "a wrong type is named, not a 500");
    let viewer = app.token(Role::Viewer).await;
    let (status, _) = app
        .api_json(Method::POST, "/stacks/strict/nodes/ha-utm-left/waf", &viewer, Some(json!({"enabled": false})))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "plain"}))).await;
    assert_eq!(status, 201);
    let (status, body) = app.api_json(Method::GET, "/stacks/plain/health", &token, None).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn a_node_token_is_saved_only_with_the_certificate_it_really_presents() {
    let app = spawn_app().await;
    let token = built(&app, "pinned").await;
    let lab = app.app.providers.lab();
    let (_, stack) = app.api_json(Method::GET, "/stacks/pinned", &token, None).await;
    assert_eq!(stack["build_state"], "built");
    let rows = app.app.store.live_resources(app.app.store.stack("pinned").await.unwrap().unwrap().id).await.unwrap();
    let id = rows.iter().find(|r| r.logical_id == "instance/waf-left").unwrap().physical_id.clone();
    let admin = lab.waf_admin(&id).unwrap();
    let access = |fingerprint: &str, node_token: &str| json!({"api_url": admin.api_url, "token": node_token, "fingerprint": fingerprint});
    let wrong = "ab".repeat(32);
    let (status, body) = app
        .api_json(Method::POST, "/stacks/pinned/nodes/ha-utm-left/access", &token, Some(access(&wrong, &admin.token)))
        .await;
    assert_eq!(status, 502, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().to_lowercase().contains("certificate"), "{body}");
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/pinned/nodes/ha-utm-left/access",
            &token,
            Some(access(&admin.fingerprint_sha256, "nope")),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/pinned/nodes/ha-utm-left/access",
            &token,
            Some(access(&admin.fingerprint_sha256, &admin.token)),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let row = app
        .app
        .store
        .waf_node(app.app.store.stack("pinned").await.unwrap().unwrap().id, "ha-utm-left")
        .await
        .unwrap()
        .unwrap();
    assert!(!row.token_enc.contains(&admin.token), "the token is stored sealed");
    let audit = app.audit_actions().await;
    assert_eq!(audit.iter().filter(|(_, a, _, o)| a == "waf.access" && o == "failed").count(), 2);
}

#[tokio::test]
async fn a_tier_fragment_is_the_live_panel_on_its_own_for_signed_in_users() {
    let app = spawn_app().await;
    let token = built(&app, "panel").await;
    health_until(&app, &token, "panel", |h| h["tiers"]["external"]["in_service"] == 2).await;
    let res = app.get("/stacks/panel/fragments/tier-external").await;
    assert_eq!(res.status(), 303, "anonymous visitors are sent to sign in");

    app.sign_in_admin().await;
    let html = app.page("/stacks/panel/fragments/tier-external").await;
    assert!(html.contains("2 of 2 instances in service"), "{html}");
    assert!(html.contains("ha-utm-left") && html.contains("ha-lbext"));
    assert!(!html.contains("<html"), "a fragment, not a page");
    let internal = app.page("/stacks/panel/fragments/tier-internal").await;
    assert!(internal.contains("ha-web-right"));
    assert_eq!(app.get("/stacks/panel/fragments/nodes").await.status(), 404);
}

#[tokio::test]
async fn metrics_need_their_token_when_one_is_configured() {
    let app = crate::helpers::spawn_app_with(|c| c.metrics_token = Some("scrape-me-please".into())).await;
    let res = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), 401);
    let wrong = reqwest::Client::new().get(app.url("/metrics")).bearer_auth("scrape-me-pleasf").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = reqwest::Client::new().get(app.url("/metrics")).bearer_auth("scrape-me-please").send().await.unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("# TYPE hawaf_lb_instances_in_service gauge"));
}

/// Issue 18: during a first build the ops view says which step it waits
/// for and links to the wizard, instead of only "no health data yet".
#[tokio::test]
async fn during_a_build_the_tiers_say_which_step_they_wait_for() {
    use hawaf::contract::StepStatus;
    let app = spawn_app().await;
    let token = app.token(hawaf::auth::Role::Operator).await;
    let view = app.create_stack(&token, "pending").await;
    let row = app.app.store.stack("pending").await.unwrap().unwrap();
    // Step 1 has made the VPC (so the stack counts as built); step 5 runs.
    app.app.store.record_resource(row.id, "vpc", "vpc-0123", "{}", 1).await.unwrap();
    let specs: Vec<(u8, &str)> = hawaf::build::APPLY_STEPS.iter().map(|s| (s.number, s.title)).collect();
    let build =
        app.app.store.create_build(row.id, view.version, "apply", "operator", &specs, None).await.unwrap().unwrap();
    app.app.store.set_step_status(build, 5, StepStatus::Running, None).await.unwrap();
    app.app.store.set_step_progress(build, 5, "pending: 1 of 2 instances in service").await.unwrap();
    app.sign_in_admin().await;
    let page = app.page("/stacks/pending").await;
    assert!(
        page.contains(&format!("Build {build} is at step 5, {}: pending: 1 of 2 instances in service.", specs[4].1)),
        "{page}"
    );
    assert!(page.contains("href=\"/stacks/pending/build\""), "links to the wizard");
    // The ops view leads; the static definition is folded away below it.
    let tiers = page.find("id=\"tier-external\"").expect("the tier panels");
    let definition = page.find("<details class=\"definition\">").expect("a closed definition section");
    assert!(tiers < definition, "tiers first");
}
