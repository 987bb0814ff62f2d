//! The real binary, killed with SIGKILL mid-build and started again on the
//! same database: the build shows as interrupted, resumes without duplicating
//! anything, and the lab comes back serving.

use std::time::Duration;

use serde_json::json;

use crate::binary::{api, operator_token, start, until};

#[tokio::test]
async fn a_killed_server_resumes_its_build_without_duplicates_and_brings_the_lab_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hawaf.db");
    let token = operator_token(&db);

    let first = start(&db);
    let (status, _) = api(&first, &token, reqwest::Method::POST, "/stacks", Some(json!({"name": "phoenix"}))).await;
    assert_eq!(status, 201);
    let (_, started) = api(&first, &token, reqwest::Method::POST, "/stacks/phoenix/apply", None).await;
    let id = started["build_id"].as_i64().unwrap();
    // Kill it once the web servers exist and the rest is still under way.
    until(&first, &token, &format!("/builds/{id}"), "step 4 finishes", |b| b["steps"][3]["status"] == "succeeded")
        .await;
    // The lab saves its state within 50 ms of a change (AWS never forgets an
    // instance; the lab's memory is only as durable as its last save): a kill
    // inside that window would lose the web servers, which is not what this
    // test is about. Under a loaded CI machine the save can take longer.
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(first);

    let second = start(&db);
    let (_, interrupted) = api(&second, &token, reqwest::Method::GET, &format!("/builds/{id}"), None).await;
    assert_eq!(interrupted["status"], "interrupted", "{interrupted:#}");
    let (status, resumed) = api(&second, &token, reqwest::Method::POST, &format!("/builds/{id}/resume"), None).await;
    assert_eq!(status, 202, "{resumed}");
    let rid = resumed["build_id"].as_i64().unwrap();
    let done =
        until(&second, &token, &format!("/builds/{rid}"), "the resumed build ends", |b| b["status"] != "running").await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let web_runs =
        done["steps"][3]["calls"].as_array().unwrap().iter().filter(|c| c["operation"] == "RunInstances").count();
    assert_eq!(web_runs, 0, "the web servers made before the kill are adopted, not made again");

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
    let instances: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM resources WHERE logical_id LIKE 'instance/%' AND deleted_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(instances, 4);
    pool.close().await;
    drop(second);

    // A plain restart: the lab, its WAF configuration and the monitor come back.
    let third = start(&db);
    let h = until(&third, &token, "/stacks/phoenix/health", "both tiers back in service", |h| {
        h["tiers"]["external"]["in_service"] == 2 && h["tiers"]["internal"]["in_service"] == 2
    })
    .await;
    assert_eq!(h["waf"]["ha-utm-left"]["enabled"], true);
    let (_, stack) = api(&third, &token, reqwest::Method::GET, "/stacks/phoenix", None).await;
    let url = stack["endpoints"]["external"].as_str().expect("the lab site's address");
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(body.contains("ha-web-"), "{body}");
}

#[tokio::test]
async fn a_server_killed_mid_drill_restores_the_fault_at_start_and_the_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hawaf.db");
    let token = operator_token(&db);
    let first = start(&db);
    api(&first, &token, reqwest::Method::POST, "/stacks", Some(json!({"name": "drilled"}))).await;
    let (_, started) = api(&first, &token, reqwest::Method::POST, "/stacks/drilled/apply", None).await;
    let build = format!("/builds/{}", started["build_id"]);
    let b = until(&first, &token, &build, "the build ends", |b| b["status"] != "running").await;
    assert_eq!(b["status"], "succeeded", "{b:#}");
    // D3 disables ha-utm-left through its REST API and holds it for a minute.
    let drill = json!({"scenario": "D3", "baseline_ms": 500, "hold_ms": 60000, "phase_timeout_ms": 20000});
    let (status, d) = api(&first, &token, reqwest::Method::POST, "/stacks/drilled/drills", Some(drill)).await;
    assert_eq!(status, 202, "{d}");
    let path = format!("/drills/{}", d["drill_id"]);
    until(&first, &token, &path, "the fault holds", |d| {
        d["phases"].as_array().is_some_and(|p| p.iter().any(|p| p["kind"] == "hold"))
    })
    .await;
    // Let the lab save its state with the WAF off, then SIGKILL: no chance to restore.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(first);

    let second = start(&db);
    let (_, d) = api(&second, &token, reqwest::Method::GET, &path, None).await;
    assert_eq!(d["status"], "aborted", "{d:#}");
    assert_eq!(d["restored"], true);
    assert!(
        d["note"].as_str().unwrap().contains("restored at start-up: undid waf-disable on drilled/ha-utm-left"),
        "{d:#}"
    );
    let h = until(&second, &token, "/stacks/drilled/health", "both tiers back in service", |h| {
        h["tiers"]["external"]["in_service"] == 2 && h["tiers"]["internal"]["in_service"] == 2
    })
    .await;
    assert_eq!(h["waf"]["ha-utm-left"]["enabled"], true, "{h:#}");
}
