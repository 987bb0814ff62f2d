//! Failover drills on real lab stacks, through the API (and the CLI once).

use std::time::{Duration, Instant};

use hawaf::auth::Role;
use hawaf::cloud::{Cloud, HealthState};
use hawaf::contract::{BuildStatus, Drill, DrillPhase, DrillRequest, DrillStatus, DrillSummary, Verdict};
use hawaf::node::{Authority, Fault};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{NO_BODY, TestApp, fast, spawn_app, spawn_app_with};
/// Every instance of both tiers in service.
async fn all_in_service(app: &TestApp) -> bool {
    let lab = app.app.providers.lab();
    for lb in ["ha-lbext", "ha-lbint"] {
        let health = lab.describe_instance_health(lb, &[]).await.unwrap();
        if health.len() != 2 || health.iter().any(|h| h.state != HealthState::InService) {
            return false;
        }
    }
    true
}

async fn eventually_all_in_service(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !all_in_service(app).await {
        assert!(Instant::now() < deadline, "the stack did not come back fully in service");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The drill's phases of one kind (`baseline`, `detect`, `hold`, …), in order.
fn phase<'a>(d: &'a Drill, kind: &str) -> Vec<&'a DrillPhase> {
    d.phases.iter().filter(|p| p.kind == kind).collect()
}

fn summary(d: &Drill) -> String {
    format!(
        "{} mttd {:?} ms, mttr {:?} ms, availability {}%, split {:?}",
        d.scenario, d.mttd_ms, d.mttr_ms, d.total.availability, d.total.split
    )
}

#[tokio::test]
async fn d1_passes_with_both_web_servers_serving_about_half_each() {
    let app = spawn_app().await;
    let token = app.built_stack("bal").await;
    let id = app.start_drill(&token, "bal", &fast("D1")).await;
    let d = app.wait_drill(&token, id).await;
    eprintln!("{}", summary(&d));
    assert_eq!(d.status, DrillStatus::Finished, "{d:#?}");
    assert_eq!(d.verdict, Some(Verdict::Pass), "{d:#?}");
    assert_eq!(d.total.availability, 100.0);
    let left = d.total.split_pct["ha-web-left"];
    assert!((40.0..=60.0).contains(&left), "left serves {left}%");
    assert!(d.total.requests >= 20, "the prober ran at its rate: {d:#?}");
    assert!(d.restored);

    // The page, its report and exports.
    app.sign_in_admin().await;
    let page = app.page(&format!("/drills/{id}")).await;
    assert!(page.contains("<svg class=\"timeline\"") && page.contains("sse-connect=\"/drills/"), "{page}");
    let mut live = app.get(&format!("/drills/{id}/events")).await;
    assert_eq!(live.status(), 200);
    let mut first = String::new();
    while !first.contains("\n\n") {
        let chunk = live.chunk().await.unwrap().expect("the stream sends a snapshot first");
        first.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(first.starts_with("event: drill") && first.contains("verdict-pass"), "{first}");
    let md = app.page(&format!("/drills/{id}/report.md")).await;
    assert!(md.contains("# Drill") && md.contains("| baseline |"), "{md}");
    let list = app.page("/stacks/bal/drills").await;
    assert!(list.contains(&format!("/drills/{id}")) && list.contains("verdict-pass"));
    assert!(app.page("/stacks/bal").await.contains("/stacks/bal/drills"), "the stack page links its drills");
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, t, o)| a == "drill.start" && t == "bal" && o == "ok"));
    assert!(audit.iter().any(|(_, a, t, o)| a == "drill.finish" && t == "bal" && o == "pass"));
}

#[tokio::test]
async fn d2_keeps_service_and_only_the_surviving_web_server_answers_after_detection() {
    let app = spawn_app().await;
    let token = app.built_stack("web").await;
    let id = app.start_drill(&token, "web", &fast("D2")).await;
    let d = app.wait_drill(&token, id).await;
    eprintln!("{}", summary(&d));
    assert_eq!(d.verdict, Some(Verdict::Pass), "{d:#?}");
    let hold = phase(&d, "hold");
    assert_eq!(hold.len(), 1);
    assert_eq!(
        hold[0].figures.split.get("ha-web-left"),
        Some(&0),
        "the stopped server answered after detection: {d:#?}"
    );
    assert!(hold[0].figures.split["ha-web-right"] > 0);
    assert_eq!(hold[0].figures.availability, 100.0);
    assert!(d.mttd_ms.is_some_and(|ms| ms > 0) && d.mttr_ms.is_some_and(|ms| ms > 0), "{d:#?}");
    let verify = phase(&d, "verify");
    assert!(verify[0].figures.split["ha-web-left"] > 0, "left serves again after restore");
    assert!(d.restored);
    assert!(all_in_service(&app).await, "the drill leaves every node in service");
    // One timeline: the drill's detection is the transition the ops view shows.
    let stack = app.app.store.stack("web").await.unwrap().unwrap();
    let events = app.app.store.health_events(stack.id, 100).await.unwrap();
    let detected = d.marks.iter().find(|m| m.kind == "detected").unwrap().at;
    assert!(
        events.iter().any(|e| e.node == "ha-web-left" && e.to_state == "OutOfService" && e.at == detected),
        "detected at {detected}, the monitor recorded {events:#?}"
    );
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, t, _)| a == "fault.stop-httpd" && t == "web/ha-web-left"));
    assert!(audit.iter().any(|(_, a, t, _)| a == "fault.start-httpd" && t == "web/ha-web-left"));
}

#[tokio::test]
async fn d3_keeps_service_through_each_waf_node_in_turn_and_the_cli_exits_0_on_pass() {
    let app = spawn_app().await;
    let token = app.built_stack("waf").await;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hawaf"));
    cmd.args([
        "drill",
        "run",
        "waf",
        "D3",
        "--yes",
        "--baseline-ms",
        "1000",
        "--hold-ms",
        "1000",
        "--verify-ms",
        "1000",
        "--phase-timeout-ms",
        "20000",
    ])
    .env("HAWAF_URL", &app.base)
    .env("HAWAF_TOKEN", &token);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("phase detect ha-utm-left") && stdout.contains("phase detect ha-utm-right"), "{stdout}");

    let list: Vec<DrillSummary> = app.call(Method::GET, "/stacks/waf/drills", &token, NO_BODY, 200).await;
    let d = app.drill(&token, list[0].drill_id).await;
    assert_eq!(d.verdict, Some(Verdict::Pass));
    assert_eq!(d.rounds.len(), 2);
    for (round, node) in d.rounds.iter().zip(["ha-utm-left", "ha-utm-right"]) {
        assert_eq!(round.nodes[0], node);
        assert!(round.failures <= round.allowed_failures);
    }
    for hold in phase(&d, "hold") {
        assert_eq!(hold.figures.availability, 100.0, "service continues through one WAF node: {d:#?}");
    }
    assert!(all_in_service(&app).await);
    for node in ["ha-utm-left", "ha-utm-right"] {
        assert!(hawaf::node::waf_enabled(&app.app, "waf", node).await.unwrap(), "{node} is enabled again");
    }
}

#[tokio::test]
async fn d4_needs_confirmation_then_shows_an_outage_and_full_recovery() {
    let app = spawn_app().await;
    let token = app.built_stack("dark").await;
    let (status, body) = app.api_json(Method::POST, "/stacks/dark/drills", &token, Some(json!(fast("D4")))).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("type the stack's name"), "{body}");
    let wrong = DrillRequest { confirm: Some("not-dark".into()), ..fast("D4") };
    assert_eq!(app.api_json(Method::POST, "/stacks/dark/drills", &token, Some(json!(wrong))).await.0, 409);

    let confirmed = DrillRequest { confirm: Some("dark".into()), ..fast("D4") };
    let id = app.start_drill(&token, "dark", &confirmed).await;
    let d = app.wait_drill(&token, id).await;
    eprintln!("{}", summary(&d));
    assert_eq!(d.verdict, Some(Verdict::Pass), "{d:#?}");
    let hold = phase(&d, "hold");
    assert_eq!(hold[0].figures.availability, 0.0, "the site is down while both WAFs are off");
    assert!(hold[0].figures.requests > 0);
    assert_eq!(phase(&d, "verify")[0].figures.availability, 100.0);
    assert!(all_in_service(&app).await, "fully back after restore");
}

#[tokio::test]
async fn halting_a_drill_mid_fault_restores_the_node() {
    let app = spawn_app().await;
    let token = app.built_stack("stop").await;
    let id = app.start_drill(&token, "stop", &DrillRequest { hold_ms: Some(60_000), ..fast("D2") }).await;
    // Wait until the fault holds.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = app.drill(&token, id).await;
        if !phase(&d, "hold").is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the fault was never detected: {d:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let halted_at = Instant::now();
    let (status, _) = app.api_json(Method::POST, &format!("/drills/{id}/halt"), &token, None).await;
    assert_eq!(status, 202);
    let d = app.wait_drill(&token, id).await;
    assert!(halted_at.elapsed() < Duration::from_secs(5), "halt stops at once, not after the hold");
    assert_eq!(d.status, DrillStatus::Halted);
    assert_eq!(d.verdict, None);
    assert!(d.restored);
    assert!(app.app.store.pending_restores(None).await.unwrap().is_empty());
    eventually_all_in_service(&app).await;
    let (status, _) = app.api_json(Method::POST, &format!("/drills/{id}/halt"), &token, None).await;
    assert_eq!(status, 409, "a finished drill cannot be halted");
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, _, o)| a == "drill.halt" && o == "ok"));
}

#[tokio::test]
async fn a_fault_left_by_a_crashed_drill_is_restored_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let first = spawn_app_with(|c| c.db = db.clone().into()).await;
    let token = first.built_stack("crash").await;
    // What a drill does just before a crash: record the restore, then inject.
    let stack_id = first.app.store.stack("crash").await.unwrap().unwrap().id;
    let settings = r#"{"rate":20,"baseline_ms":1000,"hold_ms":1000,"verify_ms":1000,"phase_timeout_ms":20000,
        "expect":{"kind":"continuity"},"servers":["ha-web-left","ha-web-right"],
        "rounds":[{"nodes":["ha-web-left"],"web":true}],"budget":{"window_ms":2300,"allowed_failures":23},
        "target_url":"http://127.0.0.1:9/"}"#;
    let id = match first.app.store.create_drill(stack_id, "D2", "test", "api", settings).await.unwrap() {
        hawaf::store::NewDrill::Created(id) => id,
        other => panic!("{other:?}"),
    };
    first.app.store.add_pending_restore(Some(id), "crash", "ha-web-left", "stop-httpd").await.unwrap();
    hawaf::node::inject(&first.app, "crash", "ha-web-left", Fault::StopHttpd, Authority::operator(None), "test")
        .await
        .unwrap();
    // Let the lab save its state (the fault with it), as a running server would.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let second = spawn_app_with(|c| c.db = db.clone().into()).await;
    assert!(second.app.store.pending_restores(None).await.unwrap().is_empty(), "the restore was carried out");
    eventually_all_in_service(&second).await;
    let d = second.drill(&token, id).await;
    assert_eq!(d.status, DrillStatus::Aborted, "{d:#?}");
    assert!(d.note.contains("restored at start-up: undid stop-httpd on crash/ha-web-left"), "{d:#?}");
    assert!(d.restored);
    let audit = second.audit_actions().await;
    assert!(audit.iter().any(|(actor, a, t, o)| a == "drill.restore"
        && t == "crash/ha-web-left"
        && o == "ok"
        && actor == "hawaf (start-up)"));
}

#[tokio::test]
async fn drills_are_refused_on_unbuilt_or_unhealthy_stacks_for_unknown_scenarios_and_while_one_runs() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let viewer = app.token(Role::Viewer).await;
    app.create_stack(&token, "paper").await;
    let (status, body) = app.api_json(Method::POST, "/stacks/paper/drills", &token, Some(json!(fast("D1")))).await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("not built"), "{body}");

    app.create_stack(&token, "busy").await;
    let build = app.apply(&token, "busy").await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    let (status, body) = app.api_json(Method::POST, "/stacks/busy/drills", &token, Some(json!(fast("D9")))).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "scenario");
    let bad = DrillRequest { rate: Some(1000), ..fast("D1") };
    let (status, body) = app.api_json(Method::POST, "/stacks/busy/drills", &token, Some(json!(bad))).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "rate");
    assert_eq!(app.api_json(Method::POST, "/stacks/busy/drills", &viewer, Some(json!(fast("D1")))).await.0, 403);
    assert_eq!(app.api_json(Method::GET, "/drills/999", &token, None).await.0, 404);

    // The browser form keeps what was typed and says what is wrong, next to the field.
    app.sign_in_admin().await;
    let res = app.post_form("/stacks/busy/drills", &[("scenario", "D1"), ("rate", "abc")]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("must be a whole number") && html.contains("value=\"abc\""), "{html}");
    let res = app.post_form("/stacks/busy/drills", &[("scenario", "D4"), ("confirm", "")]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("type the stack"));

    let id = app.start_drill(&token, "busy", &DrillRequest { baseline_ms: Some(60_000), ..fast("D1") }).await;
    let (status, body) = app.api_json(Method::POST, "/stacks/busy/drills", &token, Some(json!(fast("D2")))).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("already has drill"), "{body}");
    let (status, body) = app.api_json(Method::POST, "/stacks/busy/destroy", &token, None).await;
    assert_eq!(status, 409, "no teardown under a running drill: {body}");
    app.api_json(Method::POST, &format!("/drills/{id}/halt"), &token, None).await;
    app.wait_drill(&token, id).await;

    // An unhealthy stack: one web server out of service.
    hawaf::node::inject(&app.app, "busy", "ha-web-right", Fault::StopHttpd, Authority::operator(None), "test")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let reason = loop {
        let (status, body) = app.api_json(Method::POST, "/stacks/busy/drills", &token, Some(json!(fast("D1")))).await;
        if status == 409 {
            break body["error"]["message"].as_str().unwrap().to_owned();
        }
        assert_eq!(status, 202, "{body}");
        // Not detected yet: this drill started on a still-healthy stack; halt it and retry.
        let id = body["drill_id"].as_i64().unwrap();
        app.api_json(Method::POST, &format!("/drills/{id}/halt"), &token, None).await;
        app.wait_drill(&token, id).await;
        assert!(Instant::now() < deadline, "the stack never looked unhealthy");
    };
    // hawaf counts what it took down at once; once the LBs have noticed, their
    // view says it (usually ha-web-right itself; under load the external LB's
    // check, which goes through a WAF node to the web tier, can take a WAF
    // node out first).
    assert!(
        reason.contains("not healthy")
            && (reason.contains("ha-web-right (httpd stopped)") || reason.contains("OutOfService (")),
        "{reason}"
    );
    hawaf::node::inject(&app.app, "busy", "ha-web-right", Fault::StartHttpd, Authority::operator(None), "test")
        .await
        .unwrap();
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, t, o)| a == "drill.start" && t == "busy" && o == "refused"));
}
