//! Issue 16: the WAF nodes and load balancers of today. The UTM's own
//! facts first: its firmware (with UTM 9's end of life) and its HA setting,
//! which step 8 and the drills read before relying on two independent nodes.

use hawaf::cloud::{Cloud, Filter, TAG_NAME, TAG_STACK};
use hawaf::contract::{BuildStatus, DrillRequest};
use hawaf::waf::{Pin, UtmClient};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// The lab node's REST API as WebAdmin's user would reach it.
async fn node_api(app: &TestApp, stack: &str, node: &str) -> UtmClient {
    let lab = app.app.providers.lab();
    let ours = Filter::tags([(TAG_STACK.to_owned(), stack.to_owned())].into());
    let instance = lab
        .describe_instances(&ours)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.tags.get(TAG_NAME).is_some_and(|n| n == node))
        .unwrap();
    let admin = lab.waf_admin(&instance.id).unwrap();
    UtmClient::new(
        &admin.api_url,
        hawaf::secret::Secret::new(admin.token),
        Pin(admin.fingerprint_sha256.parse().unwrap()),
    )
    .unwrap()
}

#[tokio::test]
async fn each_node_shows_its_firmware_with_utm_9s_end_of_life() {
    let app = spawn_app().await;
    let token = app.built_stack("firmware").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let health = loop {
        let h = app.health(&token, "firmware").await;
        if h.waf.values().all(|w| w.firmware.is_some()) {
            break h;
        }
        assert!(std::time::Instant::now() < deadline, "no firmware read: {h:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for (node, w) in &health.waf {
        assert_eq!(w.firmware.as_deref(), Some("9.719-3"), "{node}");
        assert_eq!(w.end_of_life.as_deref(), Some(hawaf::waf::UTM9_END_OF_LIFE), "{node}");
        assert_eq!(w.ha_mode.as_deref(), Some("off"), "{node}");
    }
    app.sign_in_admin().await;
    let page = app.page("/stacks/firmware").await;
    assert!(page.contains("UTM 9.719-3"), "the firmware is on the ops view");
    assert!(page.contains("end of life") && page.contains("30 June 2026"), "with its end of life");
    assert!(page.contains(hawaf::waf::LIFECYCLE_URL), "linking the vendor's lifecycle page");
}

#[tokio::test]
async fn a_pair_set_up_as_a_utm_ha_cluster_is_refused_before_step_8_and_before_drills() {
    let app = spawn_app().await;
    let token = app.built_stack("hapair").await;
    // Someone turns on high availability on one node in WebAdmin.
    let left = node_api(&app, "hapair", "ha-utm-left").await;
    left.set_node("ha.mode", &json!("hot_standby")).await.unwrap();

    let (status, answer) = app
        .api_json(
            Method::POST,
            "/stacks/hapair/drills",
            &token,
            Some(serde_json::to_value(DrillRequest { scenario: "D2".into(), ..Default::default() }).unwrap()),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ha-utm-left") && message.contains("high-availability") && message.contains("hot_standby"),
        "{message}"
    );

    // Step 8 reads both nodes before it changes either.
    let before = left.list::<hawaf::waf::Frontend>().await.unwrap();
    let build = app.apply(&token, "hapair").await;
    assert_eq!(build.status, BuildStatus::Failed, "{build:#?}");
    let step8 = build.steps.iter().find(|s| s.number == 8).unwrap();
    let error = step8.error.as_deref().unwrap_or_default();
    assert!(error.contains("high-availability") && error.contains("Management > High Availability"), "{error}");
    assert!(
        step8.calls.iter().any(|c| c.operation == "UTM status/version, ha.mode" && c.outcome.contains("hot_standby")),
        "{:#?}",
        step8.calls
    );
    assert!(
        !step8.calls.iter().any(|c| c.operation.starts_with("UTM reverse_proxy")),
        "nothing configured: {:#?}",
        step8.calls
    );
    assert_eq!(left.list::<hawaf::waf::Frontend>().await.unwrap(), before);

    // Turned off again: the step and the drill go through.
    left.set_node("ha.mode", &json!("off")).await.unwrap();
    let build = app.apply(&token, "hapair").await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
}
