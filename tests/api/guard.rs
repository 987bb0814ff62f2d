//! The guardrail: no action leaves a tier without a path that serves unless
//! it was confirmed, however fast or concurrent the requests (issue 20).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hawaf::contract::{DrillRequest, DrillStatus, Verdict, WafRequest};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn built(app: &TestApp, name: &str) -> String {
    let token = app.built_stack(name).await;
    fully_in_service(app, &token, name).await;
    token
}

async fn fully_in_service(app: &TestApp, token: &str, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let h = app.health(token, name).await;
        if h.tiers.external.in_service == 2 && h.tiers.internal.in_service == 2 {
            return;
        }
        assert!(Instant::now() < deadline, "the stack never came back fully in service: {h:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A WAF switch whose answer the test judges (refusals, races).
async fn waf(app: &TestApp, token: &str, stack: &str, node: &str, body: Value) -> (u16, Value) {
    app.api_json(Method::POST, &format!("/stacks/{stack}/nodes/{node}/waf"), token, Some(body)).await
}

const OFF: WafRequest = WafRequest { enabled: false, confirm: None };
const ON: WafRequest = WafRequest { enabled: true, confirm: None };

async fn fault(app: &TestApp, token: &str, stack: &str, node: &str, fault: &str) -> (u16, Value) {
    app.api_json(Method::POST, &format!("/stacks/{stack}/faults"), token, Some(json!({"node": node, "fault": fault})))
        .await
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_second_waf_disable_right_after_the_first_is_refused_before_the_load_balancer_notices() {
    let app = spawn_app().await;
    let token = built(&app, "quick").await;
    app.switch_waf(&token, "quick", "ha-utm-left", &OFF).await;
    // No waiting for the load balancer's detection window: hawaf knows what it did.
    let (status, body) = waf(&app, &token, "quick", "ha-utm-right", json!({"enabled": false})).await;
    assert_eq!(status, 409, "{body}");
    let m = message(&body);
    assert!(m.contains("last in-service WAF node") && m.contains("type the stack's name"), "{m}");
    assert!(m.contains("ha-utm-left is WAF switched off"), "the refusal says why no other path is left: {m}");
    assert_eq!(body["error"]["code"], "conflict", "{body}");
    assert!(
        hawaf::node::waf_enabled(&app.app, "quick", "ha-utm-right").await.unwrap(),
        "the refused switch was not touched"
    );

    // The stack page shows the margin at once, counting the switched-off node.
    app.sign_in_admin().await;
    let page = app.page("/stacks/quick").await;
    assert!(page.contains("WAF tier</strong>: <span class=\"margin-count\">1 of 2 paths serving"), "{page}");
    assert!(page.contains("ha-utm-left: WAF switched off"), "{page}");
    assert!(page.contains("Web tier</strong>: <span class=\"margin-count\">2 of 2 paths serving"));

    // Enabling lifts the hold: the other node may go once the first is back.
    app.switch_waf(&token, "quick", "ha-utm-left", &ON).await;
    fully_in_service(&app, &token, "quick").await;
    app.switch_waf(&token, "quick", "ha-utm-right", &OFF).await;
    assert!(app.page("/stacks/quick").await.contains("ha-utm-right: WAF switched off"));
}

#[tokio::test]
async fn a_second_web_server_stopped_right_after_the_first_is_refused() {
    let app = spawn_app().await;
    let token = built(&app, "webs").await;
    let (status, body) = fault(&app, &token, "webs", "ha-web-left", "stop-httpd").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = fault(&app, &token, "webs", "ha-web-right", "stop-httpd").await;
    assert_eq!(status, 409, "{body}");
    let m = message(&body);
    assert!(m.contains("last in-service web server") && m.contains("ha-web-left is httpd stopped"), "{m}");
    // Nor can the instance be stopped or isolated instead.
    for other in ["stop-instance", "isolate"] {
        let (status, body) = fault(&app, &token, "webs", "ha-web-right", other).await;
        assert_eq!(status, 409, "{other}: {body}");
    }
    // The site still serves through the right web server.
    let url = app.app.providers.lab().lb_url("ha-lbext").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let res = reqwest::get(&url).await.unwrap();
        if res.status() == 200 && res.text().await.unwrap().contains("ha-web-right") {
            break;
        }
        assert!(Instant::now() < deadline, "the right web server never served alone");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // With the stack's name typed, the operator may stop the site.
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/webs/faults",
            &token,
            Some(json!({"node": "ha-web-right", "fault": "stop-httpd", "confirm": "webs"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for node in ["ha-web-left", "ha-web-right"] {
        assert_eq!(fault(&app, &token, "webs", node, "start-httpd").await.0, 200);
    }
    fully_in_service(&app, &token, "webs").await;
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, t, o)| a == "fault.stop-httpd" && t == "webs/ha-web-right" && o == "refused"));
    assert!(audit.iter().any(|(_, a, t, o)| a == "fault.stop-httpd" && t == "webs/ha-web-right" && o == "ok"));
}

#[tokio::test]
async fn a_drill_does_not_start_while_hawaf_holds_a_node_down() {
    let app = spawn_app().await;
    let token = built(&app, "held").await;
    app.switch_waf(&token, "held", "ha-utm-left", &OFF).await;
    // At once, before the load balancer has noticed.
    let (status, body) =
        app.api_json(Method::POST, "/stacks/held/drills", &token, Some(json!({"scenario": "D1"}))).await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains("ha-utm-left (WAF switched off)"), "{body}");
    app.switch_waf(&token, "held", "ha-utm-left", &ON).await;
}

#[tokio::test]
async fn two_disables_sent_at_the_same_moment_cannot_both_pass() {
    let app = spawn_app().await;
    let token = built(&app, "race").await;
    for round in 0..3 {
        let (a, b) = tokio::join!(
            waf(&app, &token, "race", "ha-utm-left", json!({"enabled": false})),
            waf(&app, &token, "race", "ha-utm-right", json!({"enabled": false})),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}: {a:?} {b:?}");
        for node in ["ha-utm-left", "ha-utm-right"] {
            app.switch_waf(&token, "race", node, &ON).await;
        }
        fully_in_service(&app, &token, "race").await;
    }
    let (a, b) = tokio::join!(
        fault(&app, &token, "race", "ha-web-left", "stop-httpd"),
        fault(&app, &token, "race", "ha-web-right", "stop-httpd"),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
}

/// A drill with long phases, so the test can act while it holds its fault.
fn slow(scenario: &str) -> DrillRequest {
    DrillRequest {
        scenario: scenario.into(),
        rate: Some(10),
        baseline_ms: Some(1000),
        hold_ms: Some(60000),
        verify_ms: Some(500),
        phase_timeout_ms: Some(20000),
        ..Default::default()
    }
}

async fn wait_phase(app: &TestApp, token: &str, id: i64, kind: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = app.drill(token, id).await;
        if d.phases.iter().any(|p| p.kind == kind) {
            return;
        }
        assert!(Instant::now() < deadline, "drill {id} never reached {kind}: {d:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_manual_action_that_would_take_the_last_path_during_a_drill_is_refused_naming_the_drill() {
    let app = spawn_app().await;
    let token = built(&app, "drilled").await;
    let id = app.start_drill(&token, "drilled", &slow("D2")).await;
    wait_phase(&app, &token, id, "hold").await;

    // Even typed, the confirmation does not let an operator stop the site under a drill.
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/drilled/faults",
            &token,
            Some(json!({"node": "ha-web-right", "fault": "stop-httpd", "confirm": "drilled"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(message(&body).contains(&format!("drill {id} is running on drilled")), "{body}");
    assert_eq!(app.api_json(Method::POST, &format!("/drills/{id}/halt"), &token, None).await.0, 202);
    let d = app.wait_drill(&token, id).await;
    assert!(d.restored, "{d:#?}");
    fully_in_service(&app, &token, "drilled").await;
}

#[tokio::test]
async fn a_drill_step_that_would_take_the_last_path_fails_the_drill_unless_it_declares_an_outage() {
    let app = spawn_app().await;
    let token = built(&app, "thin").await;
    let id = app
        .start_drill(&token, "thin", &DrillRequest { baseline_ms: Some(3000), hold_ms: Some(500), ..slow("D3") })
        .await;
    wait_phase(&app, &token, id, "baseline").await;
    // During the baseline an operator takes the right WAF node down (allowed:
    // the left one still serves); D3 then must not take the left one too.
    app.switch_waf(&token, "thin", "ha-utm-right", &OFF).await;
    let d = app.wait_drill(&token, id).await;
    assert_eq!(d.status, DrillStatus::Aborted, "{d:#?}");
    assert!(
        d.checks.iter().any(|c| c.text.contains("only a confirmed outage scenario (D4) may stop the site")),
        "{d:#?}"
    );
    assert!(
        hawaf::node::waf_enabled(&app.app, "thin", "ha-utm-left").await.unwrap(),
        "the drill never disabled the last WAF node"
    );
    app.switch_waf(&token, "thin", "ha-utm-right", &ON).await;
    fully_in_service(&app, &token, "thin").await;

    // D4 declares the outage: confirmed, it takes both down and restores them.
    let outage = DrillRequest {
        scenario: "D4".into(),
        confirm: Some("thin".into()),
        baseline_ms: Some(500),
        hold_ms: Some(500),
        verify_ms: Some(500),
        ..Default::default()
    };
    let id = app.start_drill(&token, "thin", &outage).await;
    let d = app.wait_drill(&token, id).await;
    assert_eq!(d.verdict, Some(Verdict::Pass), "{d:#?}");
}

fn hawaf_cli(app: &TestApp, token: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hawaf"));
    c.args(args).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", token);
    c
}

async fn output(mut cmd: Command) -> (i32, String, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_refuses_the_second_disable_and_ends_quietly_on_a_closed_pipe() {
    let app = spawn_app().await;
    let token = built(&app, "piped").await;
    let (code, out, err) = output(hawaf_cli(&app, &token, &["waf", "piped", "ha-utm-right", "disable"])).await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = output(hawaf_cli(&app, &token, &["waf", "piped", "ha-utm-left", "disable"])).await;
    assert_ne!(code, 0, "the second disable is refused");
    assert!(err.contains("type the stack's name"), "{err}");
    let (code, _, _) = output(hawaf_cli(&app, &token, &["waf", "piped", "ha-utm-right", "enable"])).await;
    assert_eq!(code, 0);

    // Tables end with a newline.
    for args in [&["stack", "health", "piped"][..], &["stack", "list"], &["drill", "list", "piped"]] {
        let (code, out, err) = output(hawaf_cli(&app, &token, args)).await;
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.ends_with('\n'), "{args:?} ends with a newline: {out:?}");
    }

    // A reader that has gone away: `hawaf stack health piped | true`.
    for args in [&["stack", "health", "piped"][..], &["stack", "list"], &["stack", "show", "piped", "--json"]] {
        let mut cmd = hawaf_cli(&app, &token, args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let (status, err) = tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().unwrap();
            // Closed before the command has its answer to print.
            drop(child.stdout.take());
            let out = child.wait_with_output().unwrap();
            (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
        })
        .await
        .unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked") && err.is_empty(), "{args:?} is quiet: {err}");
    }
    // And through a shell, as a user types it.
    let script = format!(
        "set -o pipefail; '{}' stack health piped | head -1",
        env!("CARGO_BIN_EXE_hawaf").replace('\'', "'\\''")
    );
    let mut sh = Command::new("bash");
    sh.args(["-c", &script]).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", &token);
    let (code, out, err) = output(sh).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(!err.contains("panicked"), "{err}");
}
