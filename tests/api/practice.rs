//! Drills as a practice (issue 15): the safety lever, triggers, schedules,
//! the AZ evacuation.

use std::time::{Duration, Instant};

use hawaf::auth::Role;
use hawaf::contract::{DrillRequest, DrillStatus, DrillSummary, DrillTrigger, SafetyLever, SafetyLeverChanged};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{NO_BODY, spawn_app};

fn fast(scenario: &str) -> DrillRequest {
    DrillRequest {
        scenario: scenario.into(),
        rate: Some(20),
        baseline_ms: Some(500),
        hold_ms: Some(500),
        verify_ms: Some(500),
        phase_timeout_ms: Some(20000),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_safety_lever_halts_a_running_d3_and_refuses_drills_until_released() {
    let app = spawn_app().await;
    let token = app.built_stack("levered").await;
    let viewer = app.token(Role::Viewer).await;
    let lever: SafetyLever = app.call(Method::GET, "/safety-lever", &viewer, NO_BODY, 200).await;
    assert!(!lever.engaged && lever.since.is_none());
    let (status, _) =
        app.api_json(Method::POST, "/safety-lever", &viewer, Some(json!({"engaged": true, "reason": "x"}))).await;
    assert_eq!(status, 403, "viewers only read it");
    let (status, body) = app.api_json(Method::POST, "/safety-lever", &token, Some(json!({"engaged": true}))).await;
    assert_eq!(status, 422, "a reason is required: {body}");

    let id = app.start_drill(&token, "levered", &DrillRequest { hold_ms: Some(60_000), ..fast("D3") }).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    // Engage while the first WAF node is switched off.
    loop {
        let d = app.drill(&token, id).await;
        if d.phases.iter().any(|p| p.name.starts_with("hold")) {
            break;
        }
        assert!(Instant::now() < deadline, "the fault never held: {d:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let changed: SafetyLeverChanged = app
        .call(Method::POST, "/safety-lever", &token, Some(&json!({"engaged": true, "reason": "incident 42"})), 200)
        .await;
    assert!(changed.lever.engaged);
    assert_eq!(changed.halted_drills, [id]);
    let d = app.wait_drill(&token, id).await;
    assert_eq!(d.status, DrillStatus::Halted);
    assert!(d.restored, "{d:#?}");
    let health = app.health(&token, "levered").await;
    assert!(health.waf.values().all(|w| w.enabled == Some(true)), "both WAF nodes are on again: {health:#?}");

    let (status, body) = app
        .api_json(Method::POST, "/stacks/levered/drills", &token, Some(serde_json::to_value(fast("D1")).unwrap()))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("incident 42"), "{body}");

    let lever: SafetyLever = app.call(Method::GET, "/safety-lever", &viewer, NO_BODY, 200).await;
    assert_eq!((lever.engaged, lever.reason.as_str()), (true, "incident 42"));
    let _: SafetyLeverChanged =
        app.call(Method::POST, "/safety-lever", &token, Some(&json!({"engaged": false})), 200).await;
    // Both tiers back in service, then drills run again.
    let deadline = Instant::now() + Duration::from_secs(20);
    let id = loop {
        let (status, body) = app
            .api_json(Method::POST, "/stacks/levered/drills", &token, Some(serde_json::to_value(fast("D1")).unwrap()))
            .await;
        if status == 202 {
            break body["drill_id"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "{status} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    app.wait_drill(&token, id).await;
    let list: Vec<DrillSummary> = app.call(Method::GET, "/stacks/levered/drills", &token, NO_BODY, 200).await;
    assert!(list.iter().all(|d| d.trigger == DrillTrigger::Api), "{list:#?}");
    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, _, _)| a == "safety_lever.engage"), "{audit:?}");
    assert!(audit.iter().any(|(_, a, _, _)| a == "safety_lever.release"), "{audit:?}");
}

#[tokio::test]
async fn the_header_switch_engages_and_releases_the_lever() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let page = app.page("/stacks").await;
    assert!(page.contains("hx-get=\"/safety-lever\""), "every page loads the switch");
    let switch = app.page("/safety-lever").await;
    assert!(switch.contains("Engage: halt all drills"), "{switch}");
    let res = app.post_form("/safety-lever", &[("engaged", "true"), ("reason", "game day is off")]).await;
    assert_eq!(res.status(), 303);
    let switch = app.page("/safety-lever").await;
    assert!(switch.contains("Drills stopped: game day is off") && switch.contains("Release"), "{switch}");
    let res = app.post_form("/safety-lever", &[("engaged", "false")]).await;
    assert_eq!(res.status(), 303);
    assert!(app.page("/safety-lever").await.contains("Engage"));
}
