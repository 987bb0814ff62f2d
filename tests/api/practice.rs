//! Drills as a practice (issue 15): the safety lever, triggers, schedules,
//! the AZ evacuation.

use std::time::{Duration, Instant};

use hawaf::auth::Role;
use hawaf::contract::{DrillRequest, DrillStatus, DrillSummary, DrillTrigger, SafetyLever, SafetyLeverChanged};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{NO_BODY, fast, spawn_app};

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

#[tokio::test]
async fn d5_takes_zone_a_out_of_both_tiers_and_zone_b_alone_serves() {
    let app = spawn_app().await;
    let token = app.built_stack("evacuated").await;
    let id = app.start_drill(&token, "evacuated", &fast("D5")).await;
    let d = app.wait_drill(&token, id).await;
    assert_eq!(d.verdict, Some(hawaf::contract::Verdict::Pass), "{:#?}", d.checks);
    assert!(d.restored);
    let hold = d.phases.iter().find(|p| p.name.starts_with("hold")).expect("a hold phase");
    assert_eq!(hold.figures.split.get("ha-web-left").copied().unwrap_or(0), 0, "only zone b served: {hold:#?}");
    assert!(hold.figures.split.get("ha-web-right").copied().unwrap_or(0) > 0);

    // The score: a fresh D5 pass carries its weight, 3 of 10.
    let view = app.stack(&token, "evacuated").await;
    assert_eq!(view.resilience_score, 30, "{:#?}", view.resilience);
    let d5 = view.resilience.unwrap().parts.into_iter().find(|p| p.scenario == "D5").unwrap();
    assert_eq!((d5.verdict.as_deref(), d5.credit), (Some("pass"), 100));
    let metrics = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hawaf_resilience_score{stack=\"evacuated\"} 30"), "{metrics}");
    app.sign_in_admin().await;
    // The rating is in words as well as colour.
    assert!(app.page("/stacks").await.contains("score-poor\">30 <span class=\"score-word\">poor</span>"));
    assert!(app.page("/stacks/evacuated").await.contains("Resilience score"));
}

#[tokio::test]
async fn schedules_are_validated_whole_and_a_minutely_d1_starts_on_its_own() {
    use hawaf::contract::Schedule;
    let app = spawn_app().await;
    let token = app.built_stack("scheduled").await;
    for (body, field) in [
        (json!({"scenario": "D1", "cron": "*/5 * * * * *"}), "cron"),
        (json!({"scenario": "D1", "cron": "0 0 30 2 *"}), "cron"),
        (json!({"scenario": "D4", "cron": "0 3 * * *"}), "scenario"),
        (
            json!({"scenario": "D1", "cron": "0 3 * * *", "blackouts": [{"days": ["caturday"], "from": "00:00", "to": "06:00"}]}),
            "blackouts[0].days",
        ),
        (
            json!({"scenario": "D1", "cron": "0 3 * * *", "blackouts": [{"from": "9am", "to": "06:00"}]}),
            "blackouts[0].from",
        ),
    ] {
        let (status, answer) = app.api_json(Method::POST, "/stacks/scheduled/schedules", &token, Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    let none: Vec<Schedule> = app.call(Method::GET, "/stacks/scheduled/schedules", &token, NO_BODY, 200).await;
    assert!(none.is_empty(), "nothing half-stored");

    let s: Schedule = app
        .call(
            Method::POST,
            "/stacks/scheduled/schedules",
            &token,
            Some(&json!({"scenario": "d1", "cron": "* * * * *"})),
            201,
        )
        .await;
    assert_eq!((s.scenario.as_str(), s.next_runs.len()), ("D1", 3));
    // The real loop: within the minute and a tick, a D1 runs, marked as the schedule's.
    let deadline = Instant::now() + Duration::from_secs(90);
    let drill = loop {
        let list: Vec<DrillSummary> = app.call(Method::GET, "/stacks/scheduled/drills", &token, NO_BODY, 200).await;
        if let Some(d) = list.into_iter().find(|d| d.trigger == DrillTrigger::Schedule) {
            break d;
        }
        assert!(Instant::now() < deadline, "no scheduled drill within 90 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(drill.started_by, format!("schedule {}", s.id));
    app.wait_drill(&token, drill.drill_id).await;
    let after: Vec<Schedule> = app.call(Method::GET, "/stacks/scheduled/schedules", &token, NO_BODY, 200).await;
    assert_eq!(after[0].recent[0].outcome, "started");
    assert_eq!(after[0].recent[0].drill_id, Some(drill.drill_id));

    // Suspended: no next runs. Deleted: gone.
    let suspended: Schedule =
        app.call(Method::PATCH, &format!("/schedules/{}", s.id), &token, Some(&json!({"suspended": true})), 200).await;
    assert!(suspended.suspended && suspended.next_runs.is_empty());
    let (status, _) = app.api_json(Method::PATCH, "/schedules/999999", &token, Some(json!({"suspended": true}))).await;
    assert_eq!(status, 404);
    let (status, _) = app.api_json(Method::DELETE, &format!("/schedules/{}", s.id), &token, None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn a_slot_under_the_lever_or_missed_while_down_is_skipped_with_the_reason() {
    use hawaf::contract::Schedule;
    let app = spawn_app().await;
    let token = app.built_stack("skipping").await;
    let s: Schedule = app
        .call(
            Method::POST,
            "/stacks/skipping/schedules",
            &token,
            // Yearly: the real loop cannot reach a slot while the test runs.
            Some(&json!({"scenario": "D1", "cron": "0 0 1 1 *"})),
            201,
        )
        .await;
    let slot = chrono::DateTime::parse_from_rfc3339(&s.next_runs[0]).unwrap().timestamp_millis();
    let _: SafetyLeverChanged =
        app.call(Method::POST, "/safety-lever", &token, Some(&json!({"engaged": true, "reason": "freeze"})), 200).await;
    hawaf::drill::schedule::tick(&app.app, slot + 1000).await.unwrap();
    let _: SafetyLeverChanged =
        app.call(Method::POST, "/safety-lever", &token, Some(&json!({"engaged": false})), 200).await;
    // The next slot, found three minutes late (the server was down): not run late.
    let next = chrono::DateTime::parse_from_rfc3339(&s.next_runs[1]).unwrap().timestamp_millis();
    hawaf::drill::schedule::tick(&app.app, next + 180_000).await.unwrap();
    let after: Vec<Schedule> = app.call(Method::GET, "/stacks/skipping/schedules", &token, NO_BODY, 200).await;
    let recent: Vec<(&str, &str)> = after[0].recent.iter().map(|r| (r.outcome.as_str(), r.reason.as_str())).collect();
    assert_eq!(recent.len(), 2, "{recent:?}");
    assert!(recent[0].0 == "skipped" && recent[0].1.starts_with("missed"), "{recent:?}");
    assert!(recent[1].0 == "skipped" && recent[1].1.contains("freeze"), "{recent:?}");
    let list: Vec<DrillSummary> = app.call(Method::GET, "/stacks/skipping/drills", &token, NO_BODY, 200).await;
    assert!(list.is_empty(), "nothing ran: {list:#?}");
}

#[tokio::test]
async fn the_drills_page_adds_suspends_and_deletes_schedules() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "paged").await;
    let page = app.page("/stacks/paged/drills").await;
    assert!(page.contains("id=\"schedules\"") && page.contains("Add schedule"), "{page}");
    assert!(!page.contains("<option>D4</option>"), "D4 cannot be scheduled");

    let res = app
        .post_form(
            "/stacks/paged/schedules",
            &[("scenario", "D3"), ("cron", "0 3 * *"), ("blackouts", "sat,sun 00:00-24:00")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("five fields") && html.contains("value=\"0 3 * *\"") && html.contains("sat,sun 00:00-24:00"),
        "kept as typed"
    );

    let res = app
        .post_form(
            "/stacks/paged/schedules",
            &[("scenario", "D3"), ("cron", "0 3 * * mon-fri"), ("blackouts", "fri 00:00-24:00")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.page("/stacks/paged/drills").await;
    assert!(page.contains("0 3 * * mon-fri") && page.contains("not fri 00:00–24:00"), "{page}");
    let id = app.app.store.all_schedules().await.unwrap()[0].id;
    let res = app.post_form(&format!("/schedules/{id}/suspend"), &[]).await;
    assert_eq!(res.status(), 303);
    assert!(app.page("/stacks/paged/drills").await.contains(">suspended</span>"));
    let res = app.post_form(&format!("/schedules/{id}/delete"), &[]).await;
    assert_eq!(res.status(), 303);
    assert!(app.app.store.all_schedules().await.unwrap().is_empty());
}

/// A receiver on 127.0.0.1 that keeps what it was sent and answers `code`.
async fn receiver(code: u16) -> (String, std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    use axum::routing::post;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push((headers, body));
                axum::http::StatusCode::from_u16(code).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[tokio::test]
async fn webhooks_receive_signed_drill_events_and_bad_ones_are_refused() {
    use hawaf::contract::Webhook;
    let app = spawn_app().await;
    let token = app.built_stack("hooked").await;
    let admin = app.token(Role::Admin).await;
    let (url, got) = receiver(200).await;
    let secret = "a-long-enough-shared-secret";
    for (body, field) in [
        (json!({"url": "ftp://127.0.0.1/x", "secret": secret, "events": ["*"]}), "url"),
        (json!({"url": "http://169.254.169.254/latest/", "secret": secret, "events": ["*"]}), "url"),
        (json!({"url": url, "secret": "short", "events": ["*"]}), "secret"),
        (json!({"url": url, "secret": secret, "events": ["drill.exploded"]}), "events[0]"),
    ] {
        let (status, answer) = app.api_json(Method::POST, "/webhooks", &admin, Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    let (status, _) = app
        .api_json(Method::POST, "/webhooks", &token, Some(json!({"url": url, "secret": secret, "events": ["*"]})))
        .await;
    assert_eq!(status, 403, "admins only");
    let hook: Webhook = app
        .call(
            Method::POST,
            "/webhooks",
            &admin,
            Some(&json!({"url": url, "secret": secret, "events": ["drill.started", "drill.finished"]})),
            201,
        )
        .await;
    assert!(hook.deliveries.is_empty());

    let id = app.start_drill(&token, "hooked", &fast("D1")).await;
    app.wait_drill(&token, id).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "two events delivered: {:?}", got.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = got.lock().unwrap().clone();
    let events: Vec<String> = got.iter().map(|(h, _)| h["x-hawaf-event"].to_str().unwrap().to_owned()).collect();
    assert_eq!(events, ["drill.started", "drill.finished"], "only what was asked for, in order");
    for (headers, body) in &got {
        assert_eq!(headers["x-hawaf-signature"].to_str().unwrap(), hawaf::webhook::signature(secret, body.as_bytes()));
        assert!(headers.contains_key("x-hawaf-timestamp") && headers.contains_key("x-hawaf-delivery"));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!((v["stack"].as_str(), v["drill_id"].as_i64()), (Some("hooked"), Some(id)), "{v}");
        assert!(v["text"].as_str().unwrap().contains(&format!("Drill #{id}")), "Slack's line: {v}");
    }
    let finished: serde_json::Value = serde_json::from_str(&got[1].1).unwrap();
    assert_eq!(finished["verdict"], "pass", "{finished}");
    let list: Vec<Webhook> = app.call(Method::GET, "/webhooks", &admin, NO_BODY, 200).await;
    assert!(list[0].deliveries.iter().all(|d| d.status == "delivered" && d.last_code == Some(200)), "{list:#?}");
    // Finished deliveries go with the audit retention; a sweep before they ended keeps them.
    assert_eq!(app.app.store.sweep_deliveries(0).await.unwrap(), 0);
    assert_eq!(app.app.store.sweep_deliveries(hawaf::store::now_ms() + 1).await.unwrap(), 2);
    let (status, _) = app.api_json(Method::DELETE, &format!("/webhooks/{}", hook.id), &admin, None).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn a_failing_receiver_never_slows_a_drill_and_its_delivery_waits_to_be_retried() {
    use hawaf::contract::Webhook;
    let app = spawn_app().await;
    let token = app.built_stack("unheard").await;
    let admin = app.token(Role::Admin).await;
    let (url, got) = receiver(503).await;
    let _: Webhook = app
        .call(
            Method::POST,
            "/webhooks",
            &admin,
            Some(&json!({"url": url, "secret": "another-shared-secret", "events": ["*"]})),
            201,
        )
        .await;
    let _: SafetyLeverChanged =
        app.call(Method::POST, "/safety-lever", &token, Some(&json!({"engaged": true, "reason": "test"})), 200).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list: Vec<Webhook> = app.call(Method::GET, "/webhooks", &admin, NO_BODY, 200).await;
        if let Some(d) = list[0].deliveries.iter().find(|d| d.event == "safety_lever.changed" && d.attempts > 0) {
            assert_eq!((d.status.as_str(), d.last_code), ("pending", Some(503)), "{d:#?}");
            break;
        }
        assert!(Instant::now() < deadline, "{list:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got.lock().unwrap().len(), 1, "one attempt so far: the next waits its back-off");
}

#[tokio::test]
async fn the_webhooks_page_adds_shows_and_deletes_for_admins() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let (url, _) = receiver(200).await;
    let page = app.page("/webhooks").await;
    assert!(page.contains("Add a webhook") && page.contains("safety_lever.changed"), "{page}");
    let res =
        app.post_form("/webhooks", &[("url", "ftp://127.0.0.1/"), ("secret", "x"), ("events", "drill.started")]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("url: only http and https") && html.contains("value=\"ftp://127.0.0.1/\""), "{html}");
    let res = app
        .post_form("/webhooks", &[("url", &url), ("secret", "sixteen-chars-min!"), ("events", "safety_lever.changed")])
        .await;
    assert_eq!(res.status(), 303);
    let res = app.post_form("/safety-lever", &[("engaged", "true"), ("reason", "page test")]).await;
    assert_eq!(res.status(), 303);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !app.page("/webhooks").await.contains("status-delivered") {
        assert!(Instant::now() < deadline, "the delivery shows as delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = app.app.store.webhooks().await.unwrap()[0].id;
    assert_eq!(app.post_form(&format!("/webhooks/{id}/delete"), &[]).await.status(), 303);
    assert!(app.app.store.webhooks().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_policy_judges_every_drill_and_reruns_are_compared() {
    use hawaf::contract::Policy;
    let app = spawn_app().await;
    let token = app.built_stack("governed").await;
    let (status, body) = app
        .api_json(
            Method::PUT,
            "/stacks/governed/policy",
            &token,
            Some(json!({"availability_floor": 20, "max_mttr_ms": 0})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["availability_floor", "max_mttr_ms"]);
    // An MTTD no load balancer can meet: the drill is judged against it.
    let p: Policy = app
        .call(
            Method::PUT,
            "/stacks/governed/policy",
            &token,
            Some(&json!({"availability_floor": 90.0, "max_mttd_ms": 1, "max_p99_ms": 5000.0})),
            200,
        )
        .await;
    assert_eq!(p.max_mttd_ms, Some(1));
    let first = app.start_drill(&token, "governed", &fast("D2")).await;
    let d = app.wait_drill(&token, first).await;
    let mttd = d.policy.iter().find(|r| r.target == "MTTD").expect("MTTD checked");
    assert!(!mttd.met, "{mttd:?}");
    assert!(d.policy.iter().any(|r| r.target == "p99 latency" && r.met), "{:#?}", d.policy);
    assert!(d.policy.iter().any(|r| r.target.starts_with("availability in hold") && r.met), "{:#?}", d.policy);
    assert_eq!(d.verdict, Some(hawaf::contract::Verdict::Fail), "a breached target fails the drill");
    assert!(d.checks.iter().any(|c| !c.ok && c.text.starts_with("policy: MTTD")), "{:#?}", d.checks);
    assert!(d.comparison.is_none(), "nothing to compare the first run with");

    let second = app.start_drill(&token, "governed", &fast("D2")).await;
    let d = app.wait_drill(&token, second).await;
    let c = d.comparison.expect("compared with the first run");
    assert_eq!(c.previous_drill_id, first);

    // The history charts: two D2 runs, their MTTD, MTTR and failures.
    app.sign_in_admin().await;
    let page = app.page("/stacks/governed/drills").await;
    assert!(page.contains("History") && page.contains("D2 <span class=\"muted\">2 runs"), "{page}");
    assert!(page.contains("aria-label=\"MTTR over the last 2 runs"), "{page}");
}

#[tokio::test]
async fn a_custom_drill_is_validated_stored_and_run_like_a_built_in_one() {
    use hawaf::contract::{DrillDefinition, Verdict};
    let app = spawn_app().await;
    let token = app.built_stack("custom").await;
    for (body, field) in [
        (json!({"name": "D2", "method": [{"node": "ha-web-left", "action": "stop-httpd"}]}), "name"),
        (json!({"name": "x", "method": [{"node": "ha-nowhere", "action": "stop-httpd"}]}), "method[0].node"),
        (json!({"name": "x", "method": [{"node": "ha-web-left", "action": "reboot"}]}), "method[0].action"),
        (json!({"name": "x", "method": [{"node": "ha-web-left", "action": "waf-off"}]}), "method[0].action"),
        (
            json!({"name": "x", "method": [{"node": "ha-web-left", "action": "stop-httpd", "hold_ms": 5}]}),
            "method[0].hold_ms",
        ),
        (json!({"name": "x", "method": []}), "method"),
    ] {
        let (status, answer) = app.api_json(Method::POST, "/stacks/custom/drill-definitions", &token, Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["errors"][0]["field"], field, "{answer}");
    }
    // Isolate the right web server, then (alone) switch the left WAF off with a longer hold.
    let def: DrillDefinition = app
        .call(
            Method::POST,
            "/stacks/custom/drill-definitions",
            &token,
            Some(&json!({
                "name": "isolate-then-waf",
                "title": "Isolate a web server, then a WAF node",
                "hypothesis": {"availability_floor": 80.0},
                "method": [
                    {"node": "ha-web-right", "action": "isolate"},
                    {"node": "ha-utm-left", "action": "waf-off", "hold_ms": 800}
                ]
            })),
            201,
        )
        .await;
    assert!(!def.needs_confirmation);
    let (status, _) = app
        .api_json(
            Method::POST,
            "/stacks/custom/drill-definitions",
            &token,
            Some(json!({"name": "isolate-then-waf", "method": [{"node": "ha-web-left", "action": "stop-httpd"}]})),
        )
        .await;
    assert_eq!(status, 409, "names are unique per stack");
    let list: Vec<DrillDefinition> =
        app.call(Method::GET, "/stacks/custom/drill-definitions", &token, NO_BODY, 200).await;
    assert_eq!(list.len(), 1);

    let id = app.start_drill(&token, "custom", &fast("isolate-then-waf")).await;
    let d = app.wait_drill(&token, id).await;
    assert_eq!(d.verdict, Some(Verdict::Pass), "{:#?}", d.checks);
    assert!(d.restored);
    assert_eq!(d.rounds.len(), 2, "{:#?}", d.rounds);
    assert!(d.policy.iter().any(|p| p.target.starts_with("availability") && p.limit == "≥ 80%"), "{:#?}", d.policy);
    let holds: Vec<i64> =
        d.phases.iter().filter(|p| p.kind == "hold").map(|p| p.ended_at.unwrap() - p.started_at).collect();
    assert!(holds[1] >= 800, "the second round holds its own 800 ms: {holds:?}");

    // A node renamed since: the drill is listed with the problem, not lost.
    let (status, body) = app
        .api_json(
            Method::PUT,
            "/stacks/custom",
            &token,
            Some(json!({"instances": {"web-right": {"name": "ha-web-r2"}}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let list: Vec<DrillDefinition> =
        app.call(Method::GET, "/stacks/custom/drill-definitions", &token, NO_BODY, 200).await;
    assert!(list[0].problems.iter().any(|p| p.contains("no node ha-web-right")), "{list:#?}");
    let (status, _) =
        app.api_json(Method::DELETE, "/stacks/custom/drill-definitions/isolate-then-waf", &token, None).await;
    assert_eq!(status, 204);
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/custom/drills",
            &token,
            Some(serde_json::to_value(fast("isolate-then-waf")).unwrap()),
        )
        .await;
    assert_eq!(status, 422, "gone: {body}");
}

#[tokio::test]
async fn the_drills_page_defines_lists_and_deletes_custom_drills() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "formed").await;
    let res = app
        .post_form(
            "/stacks/formed/drill-definitions",
            &[("name", "web-out"), ("floor", "99"), ("method", "ha-web-right isolate soon")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("method[0].hold_ms") && html.contains("ha-web-right isolate soon"), "kept as typed");
    let res = app
        .post_form(
            "/stacks/formed/drill-definitions",
            &[
                ("name", "web-out"),
                ("title", "Right web server cut off"),
                ("method", "ha-web-right isolate 1000\n+ ha-utm-left waf-off"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.page("/stacks/formed/drills").await;
    assert!(
        page.contains("value=\"web-out\"") && page.contains("custom: ha-web-right isolate with ha-utm-left waf-off"),
        "{page}"
    );
    let res = app.post_form("/stacks/formed/drill-definitions/web-out/delete", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(!app.page("/stacks/formed/drills").await.contains("value=\"web-out\""));
}

#[tokio::test]
async fn a_custom_drill_can_be_scheduled_unless_it_stops_the_site_and_cannot_be_deleted_while_scheduled() {
    use hawaf::contract::{DrillDefinition, Schedule};
    let app = spawn_app().await;
    let token = app.built_stack("customcron").await;
    for (name, method) in [
        ("left-waf", json!([{"node": "ha-utm-left", "action": "waf-off", "hold_ms": 200}])),
        (
            "all-waf",
            json!([{"node": "ha-utm-left", "action": "waf-off"}, {"node": "ha-utm-right", "action": "waf-off", "with_previous": true}]),
        ),
    ] {
        let _: DrillDefinition = app
            .call(
                Method::POST,
                "/stacks/customcron/drill-definitions",
                &token,
                Some(&json!({"name": name, "method": method})),
                201,
            )
            .await;
    }
    let (status, answer) = app
        .api_json(
            Method::POST,
            "/stacks/customcron/schedules",
            &token,
            Some(json!({"scenario": "all-waf", "cron": "0 3 * * *"})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["errors"][0]["message"].as_str().unwrap().contains("cannot be scheduled"), "{answer}");
    let (status, answer) = app
        .api_json(
            Method::POST,
            "/stacks/customcron/schedules",
            &token,
            Some(json!({"scenario": "nope", "cron": "0 3 * * *"})),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["errors"][0]["message"].as_str().unwrap().contains("left-waf"), "names the custom drills: {answer}");

    let s: Schedule = app
        .call(
            Method::POST,
            "/stacks/customcron/schedules",
            &token,
            Some(&json!({"scenario": "left-waf", "cron": "0 0 1 1 *"})),
            201,
        )
        .await;
    assert_eq!(s.scenario, "left-waf");
    let (status, answer) =
        app.api_json(Method::DELETE, "/stacks/customcron/drill-definitions/left-waf", &token, None).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains(&format!("schedule {}", s.id)), "{answer}");

    // Its slot starts the custom drill, marked as the schedule's.
    let slot = chrono::DateTime::parse_from_rfc3339(&s.next_runs[0]).unwrap().timestamp_millis();
    hawaf::drill::schedule::tick(&app.app, slot + 1000).await.unwrap();
    let list: Vec<DrillSummary> = app.call(Method::GET, "/stacks/customcron/drills", &token, NO_BODY, 200).await;
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!((list[0].scenario.as_str(), list[0].trigger), ("left-waf", DrillTrigger::Schedule));
    let (status, _) = app.api_json(Method::POST, &format!("/drills/{}/halt", list[0].drill_id), &token, None).await;
    assert_eq!(status, 202);
    assert!(app.wait_drill(&token, list[0].drill_id).await.restored);
}
