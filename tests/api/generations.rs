//! Issue 16: the WAF nodes and load balancers of today. The UTM's own
//! facts first: its firmware (with UTM 9's end of life) and its HA setting,
//! which step 8 and the drills read before relying on two independent nodes.

use hawaf::cloud::Cloud;
use hawaf::contract::{BuildStatus, DrillRequest};
use hawaf::waf::{Pin, UtmClient};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, fast, spawn_app};

/// The lab node's REST API as WebAdmin's user would reach it.
async fn node_api(app: &TestApp, stack: &str, node: &str) -> UtmClient {
    let instance = crate::helpers::lab_instance(app, stack, node).await;
    let admin = app.app.providers.lab().waf_admin(&instance.id).unwrap();
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

/// An application external tier and a network internal tier on the lab:
/// built with ELBv2's calls, the WAF blocks through the ALB, the NLB passes
/// TCP, both tiers show health, D3 passes, and teardown leaves nothing.
#[tokio::test]
async fn application_and_network_tiers_build_serve_drill_and_tear_down_on_the_lab() {
    use hawaf::cloud::LbKind;
    use hawaf::contract::{DrillSummary, Verdict};
    let app = spawn_app().await;
    let token = app.token(hawaf::auth::Role::Operator).await;
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks",
            &token,
            Some(json!({"name": "gen2", "load_balancers": {
                "external": {"name": "gen2-alb", "kind": "application"},
                "internal": {"name": "gen2-nlb", "kind": "network"}
            }})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["definition"]["load_balancers"]["external"]["kind"], "application", "{body}");
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks",
            &token,
            Some(json!({"name": "badkind", "load_balancers": {
                "external": {"name": "x-alb", "kind": "gateway"}, "internal": {"name": "x-nlb"}
            }})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "load_balancers.external.kind", "{body}");

    let build = app.apply(&token, "gen2").await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    let ops = crate::helpers::operations(&build);
    for op in ["ModifyTargetGroup", "RegisterTargets"] {
        assert!(ops.iter().any(|o| o == op), "the call log names ELBv2's {op}: {ops:?}");
    }
    let lab = app.app.providers.lab();
    let lbs = lab.describe_load_balancers(&[]).await.unwrap();
    let kinds: Vec<(String, LbKind)> = lbs.iter().map(|l| (l.name.clone(), l.kind)).collect();
    assert!(
        kinds.contains(&("gen2-alb".into(), LbKind::Application))
            && kinds.contains(&("gen2-nlb".into(), LbKind::Network)),
        "{kinds:?}"
    );

    let url = lab.lb_url("gen2-alb").expect("the ALB listens");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let res = reqwest::get(&url).await.unwrap();
        assert_eq!(res.status(), 200);
        seen.insert(res.text().await.unwrap().contains("ha-web-left"));
    }
    assert_eq!(seen.len(), 2, "both web servers answer through the NLB");
    let blocked = reqwest::get(format!("{url}?id=1%27%20OR%20%271%27=%271")).await.unwrap();
    assert_eq!(blocked.status(), 403, "the WAF still filters behind an ALB");

    let health = app.health(&token, "gen2").await;
    assert_eq!((health.tiers.external.in_service, health.tiers.internal.in_service), (2, 2), "{health:#?}");
    // A built tier cannot change its kind under the same name (that is a migration).
    let (status, body) = app
        .api_json(
            Method::PUT,
            "/stacks/gen2",
            &token,
            Some(json!({"load_balancers": {"external": {"name": "gen2-alb", "kind": "classic"}}})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "load_balancers.external.kind", "{body}");

    let id = app.start_drill(&token, "gen2", &DrillRequest { confirm: None, ..fast("D3") }).await;
    let d = app.wait_drill(&token, id).await;
    assert_eq!(d.verdict, Some(Verdict::Pass), "{:#?}", d.checks);
    let list: Vec<DrillSummary> =
        app.call(Method::GET, "/stacks/gen2/drills", &token, crate::helpers::NO_BODY, 200).await;
    assert_eq!(list.len(), 1);

    let down = app.destroy(&token, "gen2").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    assert!(lab.describe_load_balancers(&[]).await.unwrap().is_empty(), "no load balancer left");
}

/// The same on moto through the real SDK: an application external tier and
/// a network internal tier are built with ELBv2's calls (target groups with
/// the stack's health check, listeners on 80, instance targets), read back
/// through the test's own ELBv2 client, in sync for drift, and torn down to
/// nothing (load balancers and target groups).
#[tokio::test]
async fn application_and_network_tiers_build_and_tear_down_on_moto() {
    use aws_sdk_elasticloadbalancingv2 as elbv2;
    use hawaf::contract::{DriftReport, DriftStatus};
    let Some(endpoint) = crate::aws::moto("ELBv2 tiers on moto") else { return };
    let region = "ap-southeast-2";
    let app = spawn_app().await;
    let token = app.token(hawaf::auth::Role::Operator).await;
    let mut def = crate::aws::aws_stack("moto-gen2", region, &endpoint);
    def["load_balancers"] = json!({
        "external": {"name": "gen2-alb", "kind": "application"},
        "internal": {"name": "gen2-nlb", "kind": "network"}
    });
    crate::aws::create_stack(&app, &token, def).await;
    let build = app.apply(&token, "moto-gen2").await;
    crate::aws::assert_built_up_to_waf_configuration(&build);
    let ops = crate::helpers::operations(&build);
    for op in ["CreateLoadBalancer", "ModifyTargetGroup", "RegisterTargets"] {
        assert!(ops.iter().any(|o| o == op), "the call log has {op}: {ops:?}");
    }

    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "hawaf-tests");
    let conf = elbv2::Config::builder()
        .behavior_version_latest()
        .region(aws_config::Region::new(region))
        .endpoint_url(&endpoint)
        .credentials_provider(creds)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let v2 = elbv2::Client::from_conf(conf);
    let lbs = v2.describe_load_balancers().send().await.unwrap();
    let mut kinds: Vec<(String, String, String)> = lbs
        .load_balancers()
        .iter()
        .map(|l| {
            (
                l.load_balancer_name().unwrap().to_owned(),
                l.r#type().unwrap().as_str().to_owned(),
                l.scheme().unwrap().as_str().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("gen2-alb".to_owned(), "application".to_owned(), "internet-facing".to_owned()),
            ("gen2-nlb".to_owned(), "network".to_owned(), "internal".to_owned())
        ]
    );
    for (name, protocol) in [("gen2-alb", "HTTP"), ("gen2-nlb", "TCP")] {
        let groups = v2.describe_target_groups().names(name).send().await.unwrap();
        let g = &groups.target_groups()[0];
        assert_eq!(g.protocol().unwrap().as_str(), protocol, "{g:#?}");
        assert_eq!(g.health_check_path(), Some("/index.html"), "the stack's health check: {g:#?}");
        assert_eq!(g.healthy_threshold_count(), Some(2), "{g:#?}");
        let targets = v2.describe_target_health().target_group_arn(g.target_group_arn().unwrap()).send().await.unwrap();
        assert_eq!(targets.target_health_descriptions().len(), 2, "{targets:#?}");
        let listeners = v2
            .describe_listeners()
            .load_balancer_arn(
                lbs.load_balancers()
                    .iter()
                    .find(|l| l.load_balancer_name() == Some(name))
                    .unwrap()
                    .load_balancer_arn()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(listeners.listeners()[0].port(), Some(80));
        assert_eq!(listeners.listeners()[0].protocol().unwrap().as_str(), protocol);
    }
    let health = app.health(&token, "moto-gen2").await;
    assert_eq!((health.tiers.external.total, health.tiers.internal.total), (2, 2), "{health:#?}");

    let report: DriftReport =
        app.call(Method::POST, "/stacks/moto-gen2/drift", &token, crate::helpers::NO_BODY, 200).await;
    let off: Vec<_> = report.resources.iter().filter(|r| r.state != hawaf::contract::ResourceState::InSync).collect();
    assert_eq!(report.status, DriftStatus::InSync, "{off:#?} {:?}", report.errors);

    let again = app.apply(&token, "moto-gen2").await;
    crate::aws::assert_built_up_to_waf_configuration(&again);

    let down = app.destroy(&token, "moto-gen2").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    crate::aws::assert_nothing_left(&crate::aws::sdk(&endpoint, region), "moto-gen2").await;
    assert!(v2.describe_load_balancers().send().await.unwrap().load_balancers().is_empty(), "no ALB or NLB left");
    assert!(v2.describe_target_groups().send().await.unwrap().target_groups().is_empty(), "no target group left");
}

/// Requests `url` every 20 ms until stopped; answers (requests, failures).
pub(crate) fn prober(url: String) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<(u32, u32)>) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(2)).build().unwrap();
        let (mut n, mut failed) = (0, 0);
        loop {
            if stopped.try_recv().is_ok() {
                return (n, failed);
            }
            n += 1;
            match client.get(&url).send().await {
                Ok(r) if r.status() == 200 => {}
                _ => failed += 1,
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    (stop, task)
}

/// A classic lab stack migrates both tiers to application load balancers,
/// blue/green: the plan says what changes, the old external name serves
/// without one failed request while the new tiers are built and D1 runs
/// through them, and the finish (confirmed) removes the old tiers.
#[tokio::test]
async fn a_classic_stack_migrates_to_application_tiers_without_a_failed_probe() {
    use hawaf::cloud::LbKind;
    use hawaf::contract::{DrillSummary, MigrationAccepted, MigrationFinished, MigrationPlan, Verdict};
    let app = spawn_app().await;
    let token = app.built_stack("mover").await;
    let plan: MigrationPlan =
        app.call(Method::GET, "/stacks/mover/migration?to=application", &token, crate::helpers::NO_BODY, 200).await;
    assert!(plan.refusals.is_empty(), "{plan:#?}");
    let names: Vec<(&str, &str)> = plan.tiers.iter().map(|t| (t.tier.as_str(), t.to_name.as_str())).collect();
    assert_eq!(names, [("external", "ha-lbext-alb"), ("internal", "ha-lbint-alb")]);
    assert!(plan.tiers[0].client_changes[0].contains("DNS name changes"), "{plan:#?}");
    let (status, body) = app.api_json(Method::GET, "/stacks/mover/migration?to=gateway", &token, None).await;
    assert_eq!(status, 422, "{body}");
    // The CLI shows the same plan and starts nothing without --yes.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hawaf"));
    cmd.args(["stack", "migrate", "mover", "--to", "application"])
        .env("HAWAF_URL", &app.base)
        .env("HAWAF_TOKEN", &token);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("external tier: ha-lbext (classic) -> ha-lbext-alb (application)"), "{stdout}");
    assert!(stdout.contains("plan only: add --yes"), "{stdout}");

    app.sign_in_admin().await;
    let page = app.page("/stacks/mover").await;
    assert!(page.contains("Load balancer generation") && page.contains("Start migration"), "the stack page offers it");

    let lab = app.app.providers.lab();
    let old_url = lab.lb_url("ha-lbext").unwrap();
    let (stop, probes) = prober(old_url.clone());
    let accepted: MigrationAccepted =
        app.call(Method::POST, "/stacks/mover/migration", &token, Some(&json!({"to": "application"})), 202).await;
    let build = app.wait_build(&token, accepted.build_id).await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    let (status, _) =
        app.api_json(Method::POST, "/stacks/mover/migration", &token, Some(json!({"to": "application"}))).await;
    assert_eq!(status, 409, "one migration at a time");

    // D1 through the new tiers, started by the migration.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let d1 = loop {
        let list: Vec<DrillSummary> =
            app.call(Method::GET, "/stacks/mover/drills", &token, crate::helpers::NO_BODY, 200).await;
        if let Some(d) = list.into_iter().find(|d| d.started_by.starts_with("migration by")) {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "no D1 from the migration");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let d1 = app.wait_drill(&token, d1.drill_id).await;
    assert_eq!(d1.verdict, Some(Verdict::Pass), "{:#?}", d1.checks);
    let new_url = lab.lb_url("ha-lbext-alb").expect("the new ALB listens");
    assert_eq!(reqwest::get(&new_url).await.unwrap().status(), 200);
    stop.send(()).unwrap();
    let (requests, failed) = probes.await.unwrap();
    assert!(requests > 50, "{requests}");
    assert_eq!(failed, 0, "the old name served throughout the hand-over ({requests} requests)");

    let plan: MigrationPlan =
        app.call(Method::GET, "/stacks/mover/migration?to=application", &token, crate::helpers::NO_BODY, 200).await;
    assert_eq!(plan.pending.len(), 2, "{plan:#?}");
    let page = app.page("/stacks/mover").await;
    assert!(page.contains("Finish migration") && page.contains("ha-lbext-alb"), "the page shows the pending finish");
    let (status, body) = app.api_json(Method::POST, "/stacks/mover/migration/finish", &token, Some(json!({}))).await;
    assert_eq!(status, 409, "{body}");
    let done: MigrationFinished =
        app.call(Method::POST, "/stacks/mover/migration/finish", &token, Some(&json!({"confirm": "mover"})), 200).await;
    assert_eq!(done.removed, ["ha-lbext", "ha-lbint"]);
    assert!(done.waf_objects.iter().all(|o| o.contains("deleted hawaf")), "{:?}", done.waf_objects);
    let kinds: Vec<(String, LbKind)> =
        lab.describe_load_balancers(&[]).await.unwrap().into_iter().map(|l| (l.name, l.kind)).collect();
    assert_eq!(
        kinds,
        [("ha-lbext-alb".to_owned(), LbKind::Application), ("ha-lbint-alb".to_owned(), LbKind::Application)]
    );
    let report: hawaf::contract::DriftReport =
        app.call(Method::POST, "/stacks/mover/drift", &token, crate::helpers::NO_BODY, 200).await;
    assert_eq!(report.status, hawaf::contract::DriftStatus::InSync, "{report:#?}");
    let down = app.destroy(&token, "mover").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    assert!(lab.describe_load_balancers(&[]).await.unwrap().is_empty());
}
