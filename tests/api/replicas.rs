//! `hawaf serve` replicas on one PostgreSQL database (issue 17): one leads
//! and does the work, the others forward to it. Killed with SIGKILL
//! mid-build, the leader's build is carried on by a survivor; killed
//! mid-drill, the next survivor undoes the drill's fault. Skips without `HAWAF_TEST_POSTGRES` (scripts/test starts it).

use std::time::{Duration, Instant};

use serde_json::json;

use crate::binary::{Server, api, operator_token, start_with, until};
use crate::helpers::{browser, csrf_in, new_postgres_database};

async fn role(server: &Server) -> String {
    let res = reqwest::get(format!("{}/healthz", server.base)).await.unwrap();
    assert_eq!(res.status(), 200);
    res.headers()["x-hawaf-role"].to_str().unwrap().to_owned()
}

async fn metric(server: &Server, name: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", server.base)).await.unwrap().text().await.unwrap();
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test]
async fn replicas_share_the_work_and_survivors_carry_on_a_build_and_undo_a_drill_after_kills() {
    let Ok(_) = std::env::var("HAWAF_TEST_POSTGRES") else {
        eprintln!("skipped: HAWAF_TEST_POSTGRES is not set (scripts/test starts PostgreSQL)");
        return;
    };
    let db = new_postgres_database().await;
    let hawaf::store::Location::Postgres(url) = &db else { unreachable!() };
    let key = "Zm9yLXRoZS1yZXBsaWNhLXRlc3RzLTMyLWJ5dGVzISE=";
    let env = [("HAWAF_SECRET_KEY", key)];
    let token = operator_token(url);
    let first = start_with(url, &env);
    let mut others = vec![start_with(url, &env), start_with(url, &env)];
    assert!(role(&first).await.starts_with("leader"), "the first replica leads");
    assert_eq!(role(&others[0]).await, format!("follower of {}", first.base));

    // Created through one, built through another; the leader is killed
    // mid-build and a survivor carries the build on.
    let (status, created) =
        api(&others[0], &token, reqwest::Method::POST, "/stacks", Some(json!({"name": "twin"}))).await;
    assert_eq!(status, 201, "{created}");
    let (status, started) = api(&others[1], &token, reqwest::Method::POST, "/stacks/twin/apply", None).await;
    assert_eq!(status, 202, "{started}");
    let id = started["build_id"].as_i64().unwrap();
    until(&others[0], &token, &format!("/builds/{id}"), "step 4 finishes", |b| b["steps"][3]["status"] == "succeeded")
        .await;
    // Let the lab save its state (within 50 ms of a change), as in the restart test.
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(first);
    let resumed = until(&others[0], &token, &format!("/builds/{}", id + 1), "the build resumed by the survivor", |b| {
        b["status"] == "succeeded" || b["status"] == "failed"
    })
    .await;
    assert_eq!((&resumed["status"], &resumed["resumed_from"]), (&json!("succeeded"), &json!(id)), "{resumed:#}");
    let web_runs =
        resumed["steps"][3]["calls"].as_array().unwrap().iter().filter(|c| c["operation"] == "RunInstances").count();
    assert_eq!(web_runs, 0, "the web servers made before the kill are adopted, not made again");
    let (a, b) = if role(&others[0]).await.starts_with("leader") {
        (others.remove(0), others.remove(0))
    } else {
        let b = others.remove(0);
        (others.remove(0), b)
    };
    assert!(role(&a).await.starts_with("leader"), "one survivor leads");
    assert_eq!(role(&b).await, format!("follower of {}", a.base));
    until(&b, &token, "/stacks/twin/health", "both tiers in service", |h| {
        h["tiers"]["external"]["in_service"] == 2 && h["tiers"]["internal"]["in_service"] == 2
    })
    .await;
    // The stack's monitor runs on the leader only.
    assert_eq!(metric(&a, "hawaf_health_monitors").await, 1.0);
    assert_eq!(metric(&b, "hawaf_health_monitors").await, 0.0);
    assert_eq!(metric(&b, "hawaf_replica_leader").await, 0.0);

    // A browser's live page on the follower sees a switch made through the leader.
    let watcher = browser();
    let login = watcher.get(format!("{}/login", b.base)).send().await.unwrap().text().await.unwrap();
    let signed_in = watcher
        .post(format!("{}/login", b.base))
        .form(&[
            ("username", "ops"),
            ("password", "a long enough password"),
            ("csrf_token", &csrf_in(&login)),
            ("next", "/stacks"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "a session made through the follower");
    let mut stream = watcher.get(format!("{}/stacks/twin/events", b.base)).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    while !seen.contains("event: tier-internal") {
        seen.push_str(&String::from_utf8_lossy(&stream.chunk().await.unwrap().unwrap()));
    }
    let (status, off) =
        api(&a, &token, reqwest::Method::POST, "/stacks/twin/nodes/ha-utm-right/waf", Some(json!({"enabled": false})))
            .await;
    assert_eq!(status, 200, "{off}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut update = String::new();
    while !(update.contains("event: timeline-entry") && update.contains("ha-utm-right")) {
        let chunk = tokio::time::timeout_at(deadline.into(), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("the switch reaches the follower's stream: {update}"))
            .unwrap()
            .unwrap();
        update.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(stream);
    let (status, on) =
        api(&b, &token, reqwest::Method::POST, "/stacks/twin/nodes/ha-utm-right/waf", Some(json!({"enabled": true})))
            .await;
    assert_eq!(status, 200, "switched back through the follower: {on}");
    until(&b, &token, "/stacks/twin/health", "the node back in service", |h| h["tiers"]["external"]["in_service"] == 2)
        .await;

    // A drill started through the follower runs on the leader; the leader is
    // killed while a WAF node is off.
    let (status, drill) = api(
        &b,
        &token,
        reqwest::Method::POST,
        "/stacks/twin/drills",
        Some(json!({"scenario": "D3", "hold_ms": 60000, "rate": 10, "baseline_ms": 500})),
    )
    .await;
    assert_eq!(status, 202, "{drill}");
    let drill_id = drill["drill_id"].as_i64().unwrap();
    until(&b, &token, "/stacks/twin/health", "the drill turns a WAF off", |h| {
        h["waf"]["ha-utm-left"]["enabled"] == false || h["waf"]["ha-utm-right"]["enabled"] == false
    })
    .await;
    let killed = Instant::now();
    drop(a);

    let h = until(&b, &token, "/stacks/twin/health", "the survivor restores the node and serves", |h| {
        h["waf"]["ha-utm-left"]["enabled"] == true
            && h["waf"]["ha-utm-right"]["enabled"] == true
            && h["tiers"]["external"]["in_service"] == 2
            && h["tiers"]["internal"]["in_service"] == 2
    })
    .await;
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(30), "restored and healthy {took:?} after the kill: {h:#}");
    assert!(role(&b).await.starts_with("leader"));
    assert_eq!(metric(&b, "hawaf_lease_takeovers_total").await, 1.0, "b took over once");
    assert_eq!(metric(&b, "hawaf_health_monitors").await, 1.0);
    let (_, d) = api(&b, &token, reqwest::Method::GET, &format!("/drills/{drill_id}"), None).await;
    assert_eq!(d["status"], "aborted", "{d:#}");
    assert!(d["note"].as_str().unwrap_or_default().contains("restored"), "{d:#}");
    eprintln!("restored and healthy {took:?} after the leader was killed");
}
