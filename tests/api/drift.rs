//! Drift on the lab (issue 14): changes made out of band through the lab's
//! own resource API are found, with the right differences.

use std::collections::BTreeMap;

use hawaf::cloud::{Cloud, Filter, IngressRule, RuleSource, TAG_NAME, TAG_STACK};
use hawaf::contract::{
    BuildStatus, DifferenceType, DriftReport, DriftStatus, DrillRequest, ReconcileAccepted, ReconcilePlan,
    ResourceState, StepStatus,
};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{NO_BODY, spawn_app};

/// A difference as (type, path, expected, actual).
type Diff = (DifferenceType, String, Option<String>, Option<String>);

fn drifted(report: &DriftReport) -> BTreeMap<String, Vec<Diff>> {
    report
        .resources
        .iter()
        .filter(|r| r.state != ResourceState::InSync)
        .map(|r| {
            (
                r.resource.clone(),
                r.differences.iter().map(|d| (d.kind, d.path.clone(), d.expected.clone(), d.actual.clone())).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_built_lab_stack_is_in_sync_and_out_of_band_changes_are_found() {
    let app = spawn_app().await;
    let token = app.built_stack("drifty").await;
    let report: DriftReport = app.call(Method::POST, "/stacks/drifty/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{:#?}", drifted(&report));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.resources.len() >= 16, "every resource is checked: {}", report.resources.len());

    // Someone opens port 22 to the world "for a minute", and removes the rule
    // that lets the internal LB reach the web servers.
    let lab = app.app.providers.lab();
    let ours = Filter::tags([(TAG_STACK.to_owned(), "drifty".to_owned())].into());
    let groups = lab.describe_security_groups(&ours).await.unwrap();
    let web = groups.iter().find(|g| g.name == "secg-web").unwrap();
    let lbint = groups.iter().find(|g| g.name == "secg-lbint").unwrap();
    lab.authorize_ingress(&web.id, &[IngressRule::tcp_from_cidr(22, "0.0.0.0/0".parse().unwrap())]).await.unwrap();
    lab.revoke_ingress(&web.id, &[IngressRule::tcp(80, RuleSource::Group(lbint.id.clone()))]).await.unwrap();
    // … and takes a web server out of the internal load balancer.
    let web_left = lab
        .describe_instances(&ours)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.tags.get(TAG_NAME).is_some_and(|n| n == "ha-web-left"))
        .unwrap();
    lab.deregister_instances("ha-lbint", std::slice::from_ref(&web_left.id)).await.unwrap();

    let report: DriftReport = app.call(Method::POST, "/stacks/drifty/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::Drifted);
    let found = drifted(&report);
    let sg = &found["sg/web"];
    assert!(
        sg.contains(&(DifferenceType::Add, "ingress".into(), None, Some("tcp/22 from 0.0.0.0/0".into()))),
        "{sg:?}"
    );
    assert!(
        sg.contains(&(DifferenceType::Remove, "ingress".into(), Some("tcp/80 from secg-lbint".into()), None)),
        "{sg:?}"
    );
    let lb = &found["lb/internal"];
    assert_eq!(lb, &vec![(DifferenceType::Remove, "instances".into(), Some(web_left.id.clone()), None)]);
    assert_eq!(found.len(), 2, "nothing else drifted: {found:#?}");
    let last: DriftReport = app.call(Method::GET, "/stacks/drifty/drift", &token, NO_BODY, 200).await;
    assert_eq!(last, report, "the last check is kept");

    // A drill on a drifted stack would prove little: refused, unless asked for.
    let req = json!({"scenario": "D1", "rate": 20, "baseline_ms": 500, "hold_ms": 500, "verify_ms": 500});
    let (status, body) = app.api_json(Method::POST, "/stacks/drifty/drills", &token, Some(req)).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("drifted") && message.contains("tcp/22 from 0.0.0.0/0"), "{message}");

    // Before: the plan says which calls put each difference back.
    let plan: ReconcilePlan = app.call(Method::GET, "/stacks/drifty/reconcile", &token, NO_BODY, 200).await;
    assert_eq!(plan.steps, [3, 5]);
    assert!(plan.calls.contains(&"RevokeSecurityGroupIngress secg-web tcp/22 from 0.0.0.0/0".to_owned()), "{plan:#?}");
    assert!(plan.calls.contains(&"AuthorizeSecurityGroupIngress secg-web tcp/80 from secg-lbint".to_owned()));
    assert!(plan.calls.contains(&format!("RegisterInstancesWithLoadBalancer ha-lbint <- {}", web_left.id)));
    assert!(plan.cannot_reconcile.is_empty(), "{plan:#?}");

    // Reconcile: a build of only the steps owning what drifted (3 and 5).
    let accepted: ReconcileAccepted = app.call(Method::POST, "/stacks/drifty/reconcile", &token, NO_BODY, 202).await;
    assert!(accepted.cannot_reconcile.is_empty(), "{:?}", accepted.cannot_reconcile);
    let build = app.wait_build(&token, accepted.build_id).await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    let ran: Vec<i64> = build.steps.iter().filter(|s| s.status == StepStatus::Succeeded).map(|s| s.number).collect();
    assert_eq!(ran, [3, 5], "only the owning steps run");
    let calls: Vec<&str> = build.steps.iter().flat_map(|s| s.calls.iter().map(|c| c.operation.as_str())).collect();
    assert!(calls.contains(&"RevokeSecurityGroupIngress"), "{calls:?}");
    assert!(calls.contains(&"RegisterInstancesWithLoadBalancer"), "{calls:?}");
    let rules = lab.describe_security_groups(&Filter::ids([web.id.clone()])).await.unwrap().remove(0).ingress;
    assert!(rules.contains(&IngressRule::tcp(80, RuleSource::Group(lbint.id.clone()))), "{rules:?}");
    assert!(!rules.iter().any(|r| r.from_port == 22 && r.source == RuleSource::Cidr("0.0.0.0/0".parse().unwrap())));
    let report: DriftReport = app.call(Method::POST, "/stacks/drifty/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{:#?}", drifted(&report));
    let (status, body) = app.api_json(Method::POST, "/stacks/drifty/reconcile", &token, None).await;
    assert_eq!(status, 409, "nothing to put back: {body}");
    // Status changes are audited and exported.
    let entries = app.app.store.audit_entries(Some("drifty"), 1000).await.unwrap();
    let audit: Vec<String> = entries.into_iter().filter(|e| e.action == "stack.drift").map(|e| e.detail).collect();
    assert_eq!(audit.iter().filter(|d| d.starts_with("drifted")).count(), 1, "{audit:?}");
    assert!(audit.len() >= 3, "in sync, drifted, in sync: {audit:?}");
    let metrics = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hawaf_stack_drifted{stack=\"drifty\"} 0"), "{metrics}");

    // The drill's own check finds it in sync and the drill starts (once the
    // re-registered server is back in service).
    // Both tiers come back (without the rule from secg-lbint, the web tier
    // was unreachable, so the WAF nodes failed their checks too).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for lb in ["ha-lbint", "ha-lbext"] {
        while lab
            .describe_instance_health(lb, &[])
            .await
            .unwrap()
            .iter()
            .any(|h| h.state != hawaf::cloud::HealthState::InService)
        {
            assert!(std::time::Instant::now() < deadline, "{lb} comes back in service");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let req = DrillRequest {
        scenario: "D1".into(),
        rate: Some(20),
        baseline_ms: Some(500),
        hold_ms: Some(500),
        verify_ms: Some(500),
        ..Default::default()
    };
    let id = app.start_drill(&token, "drifty", &req).await;
    app.wait_drill(&token, id).await;
}

#[tokio::test]
async fn an_unbuilt_stack_has_no_drift_to_check_and_viewers_only_read() {
    let app = spawn_app().await;
    let ops = app.token(hawaf::auth::Role::Operator).await;
    app.create_stack(&ops, "plain").await;
    let (status, body) = app.api_json(Method::POST, "/stacks/plain/drift", &ops, None).await;
    assert_eq!(status, 409, "{body}");
    let viewer = app.token(hawaf::auth::Role::Viewer).await;
    let (status, _) = app.api_json(Method::POST, "/stacks/plain/drift", &viewer, None).await;
    assert_eq!(status, 403);
    let never: DriftReport = app.call(Method::GET, "/stacks/plain/drift", &viewer, NO_BODY, 200).await;
    assert_eq!(never.status, DriftStatus::Unknown);
    assert!(never.checked_at.is_none());
}

#[tokio::test]
async fn accepting_drift_takes_live_values_the_definition_can_say_into_a_new_version() {
    let app = spawn_app().await;
    let token = app.built_stack("taken").await;
    let lab = app.app.providers.lab();
    // Someone slows both health checks down in the console, and opens a port.
    let check = hawaf::cloud::HealthCheck {
        target: "HTTP:80/index.html".into(),
        interval: 10,
        timeout: 5,
        healthy_threshold: 3,
        unhealthy_threshold: 2,
    };
    for lb in ["ha-lbext", "ha-lbint"] {
        lab.configure_health_check(lb, check.clone()).await.unwrap();
    }
    let ours = Filter::tags([(TAG_STACK.to_owned(), "taken".to_owned())].into());
    let web = lab.describe_security_groups(&ours).await.unwrap().into_iter().find(|g| g.name == "secg-web").unwrap();
    lab.authorize_ingress(&web.id, &[IngressRule::tcp_from_cidr(8080, "0.0.0.0/0".parse().unwrap())]).await.unwrap();
    let report: DriftReport = app.call(Method::POST, "/stacks/taken/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::Drifted);

    let req = json!({"resources": ["lb/internal", "lb/external", "sg/web"]});
    let (status, answer) = app.api_json(Method::POST, "/stacks/taken/drift/accept", &token, Some(req)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["version"], 2, "{answer}");
    let accepted: Vec<&str> = answer["accepted"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(accepted.contains(&"health_check.interval = 10"), "{accepted:?}");
    let cannot = answer["cannot_accept"].to_string();
    assert!(cannot.contains("sg/web ingress"), "{cannot}");
    let view = app.stack(&token, "taken").await;
    assert_eq!(view.definition["health_check"]["interval"], 10);

    // The health checks now match; the rule is still drift (reconcile removes it).
    let report: DriftReport = app.call(Method::POST, "/stacks/taken/drift", &token, NO_BODY, 200).await;
    assert_eq!(drifted(&report).keys().collect::<Vec<_>>(), ["sg/web"], "{:#?}", drifted(&report));
    let (status, body) = app
        .api_json(Method::POST, "/stacks/taken/drift/accept", &token, Some(json!({"resources": ["lb/nowhere"]})))
        .await;
    assert_eq!(status, 422, "{body}");
}

/// What else people do in the console: take a tag off, stop an instance,
/// swap its security group, register a stray instance. Reconcile puts each
/// back, tags first (the steps find what they own by its tags, and would
/// otherwise make a second VPC), and leaves nothing duplicated.
#[tokio::test]
async fn reconcile_restores_tags_state_groups_and_registrations_without_making_duplicates() {
    let app = spawn_app().await;
    let token = app.built_stack("fiddled").await;
    let lab = app.app.providers.lab();
    let ours = Filter::tags([(TAG_STACK.to_owned(), "fiddled".to_owned())].into());
    let vpc = lab.describe_vpcs(&ours).await.unwrap().remove(0);
    let instances = lab.describe_instances(&ours).await.unwrap();
    let named = |n: &str| instances.iter().find(|i| i.tags.get(TAG_NAME).is_some_and(|v| v == n)).unwrap().clone();
    let (web_right, waf_left, web_left) = (named("ha-web-right"), named("ha-utm-left"), named("ha-web-left"));
    let groups = lab.describe_security_groups(&ours).await.unwrap();
    let lbext = groups.iter().find(|g| g.name == "secg-lbext").unwrap();

    lab.create_tags(
        hawaf::cloud::ResourceKind::Vpc,
        &vpc.id,
        &[(TAG_STACK.to_owned(), "someone-else".to_owned())].into(),
    )
    .await
    .unwrap();
    lab.stop_instance(&web_right.id).await.unwrap();
    lab.modify_instance_security_groups(&waf_left.id, std::slice::from_ref(&lbext.id)).await.unwrap();
    lab.register_instances("ha-lbext", std::slice::from_ref(&web_left.id)).await.unwrap();

    let report: DriftReport = app.call(Method::POST, "/stacks/fiddled/drift", &token, NO_BODY, 200).await;
    let found = drifted(&report);
    assert!(found["vpc"].iter().any(|d| d.1 == "tags.hawaf:stack"), "{found:#?}");
    assert!(found["instance/web-right"].iter().any(|d| d.1 == "state"), "{found:#?}");
    assert!(found["instance/waf-left"].iter().any(|d| d.1 == "security_groups"), "{found:#?}");
    assert!(found["lb/external"].iter().any(|d| d.0 == DifferenceType::Add && d.1 == "instances"), "{found:#?}");
    let plan: ReconcilePlan = app.call(Method::GET, "/stacks/fiddled/reconcile", &token, NO_BODY, 200).await;
    for call in [
        format!("CreateTags {} hawaf:stack=fiddled", vpc.id),
        format!("StartInstances {}", web_right.id),
        format!("ModifyInstanceAttribute {} groups", waf_left.id),
        format!("DeregisterInstancesFromLoadBalancer ha-lbext -x- {}", web_left.id),
    ] {
        assert!(plan.calls.contains(&call), "{call} in {plan:#?}");
    }

    let accepted: ReconcileAccepted = app.call(Method::POST, "/stacks/fiddled/reconcile", &token, NO_BODY, 202).await;
    let build = app.wait_build(&token, accepted.build_id).await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    assert_eq!(lab.describe_vpcs(&Filter::all()).await.unwrap().len(), 1, "no second VPC");
    let report: DriftReport = app.call(Method::POST, "/stacks/fiddled/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{:#?}", drifted(&report));
}

/// The drift panel on the stack page: the reconcile's calls before it
/// runs, and "take live values" for what the definition can say.
#[tokio::test]
async fn the_drift_panel_previews_reconcile_and_takes_live_values() {
    let app = spawn_app().await;
    let token = app.built_stack("paneled").await;
    app.sign_in_admin().await;
    let lab = app.app.providers.lab();
    let check = hawaf::cloud::HealthCheck {
        target: "HTTP:80/index.html".into(),
        interval: 12,
        timeout: 5,
        healthy_threshold: 3,
        unhealthy_threshold: 2,
    };
    lab.configure_health_check("ha-lbint", check).await.unwrap();
    let res = app.post_form("/stacks/paneled/drift", &[]).await;
    assert_eq!(res.status(), 303);
    let page = app.page("/stacks/paneled").await;
    assert!(page.contains("What Reconcile will do") && page.contains("ConfigureHealthCheck ha-lbint"), "{page}");
    assert!(page.contains("Take live values"), "{page}");

    let res = app.post_form("/stacks/paneled/drift/accept", &[("resource", "lb/internal")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/stacks/paneled?done=accepted");
    let view = app.stack(&token, "paneled").await;
    assert_eq!((view.version, view.definition["health_check"]["interval"].as_i64()), (2, Some(12)));
}

/// Step 8's objects on the WAF nodes are part of the check: someone sets a
/// node's firewall profile to detect-only in WebAdmin (through its REST
/// API here); the check names the object and field, and reconcile's step 8
/// puts it back.
#[tokio::test]
async fn a_utm_object_changed_on_a_node_is_drift_and_reconcile_puts_it_back() {
    use hawaf::waf::{Pin, Profile, UtmClient, WAFMODE_DETECT};
    let app = spawn_app().await;
    let token = app.built_stack("utmdrift").await;
    let report: DriftReport = app.call(Method::POST, "/stacks/utmdrift/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{:#?}", drifted(&report));
    let utm: Vec<&str> =
        report.resources.iter().filter(|r| r.resource.starts_with("utm/")).map(|r| r.resource.as_str()).collect();
    assert_eq!(utm.len(), 10, "five objects on each node: {utm:?}");

    let lab = app.app.providers.lab();
    let ours = Filter::tags([(TAG_STACK.to_owned(), "utmdrift".to_owned())].into());
    let node = lab
        .describe_instances(&ours)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.tags.get(TAG_NAME).is_some_and(|n| n == "ha-utm-right"))
        .unwrap();
    let admin = lab.waf_admin(&node.id).unwrap();
    let client = UtmClient::new(
        &admin.api_url,
        hawaf::secret::Secret::new(admin.token),
        Pin(admin.fingerprint_sha256.parse().unwrap()),
    )
    .unwrap();
    let profile = client.find_by_name::<Profile>("hawaf default").await.unwrap().unwrap();
    client.patch::<Profile>(&profile.reference, &json!({"wafmode": WAFMODE_DETECT})).await.unwrap();

    let report: DriftReport = app.call(Method::POST, "/stacks/utmdrift/drift", &token, NO_BODY, 200).await;
    let found = drifted(&report);
    assert_eq!(
        found["utm/waf-right/firewall-profile"],
        vec![(DifferenceType::NotEqual, "wafmode".into(), Some("deny".into()), Some("detect".into()))],
        "{found:#?}"
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    let accepted: ReconcileAccepted = app.call(Method::POST, "/stacks/utmdrift/reconcile", &token, NO_BODY, 202).await;
    let build = app.wait_build(&token, accepted.build_id).await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    let ran: Vec<i64> = build.steps.iter().filter(|s| s.status == StepStatus::Succeeded).map(|s| s.number).collect();
    assert_eq!(ran, [8]);
    let report: DriftReport = app.call(Method::POST, "/stacks/utmdrift/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{:#?}", drifted(&report));
}
