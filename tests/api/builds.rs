use hawaf::auth::Role;
use hawaf::cloud::{Cloud, CreateLoadBalancerRequest, Filter, Listener, Scheme, TAG_STACK, Tags};
use hawaf::contract::{BuildState, BuildStatus, StackView, StepStatus};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{operations, raw_db, spawn_app, spawn_app_with};

async fn fetch(url: &str) -> (u16, String) {
    let res = reqwest::get(url).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_lab_stack_is_built_serves_through_both_wafs_rebuilds_idempotently_and_tears_down() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "lab1").await;

    let build = app.apply(&token, "lab1").await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    for step in &build.steps {
        assert_eq!(step.status, StepStatus::Succeeded, "{step:#?}");
    }
    let ops = operations(&build);
    for op in [
        "CreateVpc",
        "CreateSubnet",
        "CreateSecurityGroup",
        "RunInstances",
        "CreateLoadBalancer",
        "UTM reverse_proxy/frontend",
    ] {
        assert!(ops.iter().any(|o| o == op), "the call log has {op}: {ops:?}");
    }

    // Real traffic through the external LB reaches both web servers, filtered by the WAFs.
    let url = app.app.providers.lab().lb_url("ha-lbext").expect("the external LB listens");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let (status, body) = fetch(&url).await;
        assert_eq!(status, 200);
        seen.insert(if body.contains("ha-web-left") { "left" } else { "right" });
    }
    assert_eq!(seen.len(), 2, "both web servers answer");
    let (status, _) = fetch(&format!("{url}?id=1%27%20OR%20%271%27=%271")).await;
    assert_eq!(status, 403, "the WAF blocks SQL injection");

    // Building again adopts everything and creates nothing.
    let again = app.apply(&token, "lab1").await;
    assert_eq!(again.status, BuildStatus::Succeeded, "{again:#?}");
    let created: Vec<_> = operations(&again)
        .into_iter()
        .filter(|o| o.starts_with("Create") || o == "RunInstances" || o == "AllocateAddress")
        .collect();
    assert!(created.is_empty(), "a second build creates nothing, but made {created:?}");

    assert_eq!(app.stack(&token, "lab1").await.build_state, BuildState::Built);
    let (status, _) = app.api_json(Method::DELETE, "/stacks/lab1", &token, None).await;
    assert_eq!(status, 409, "a built stack cannot be deleted");

    // A second stack with the same (default) load-balancer names is refused
    // before any call, naming the stack that holds them.
    app.create_stack(&token, "lab2").await;
    let (status, refused) = app.api_json(Method::POST, "/stacks/lab2/apply", &token, None).await;
    assert_eq!(status, 409, "{refused:#}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("ha-lbext") && message.contains("stack lab1"), "{message}");

    let down = app.destroy(&token, "lab1").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    let lab = app.app.providers.lab();
    let ours = Filter::tags(Tags::from([(TAG_STACK.to_owned(), "lab1".to_owned())]));
    assert!(lab.describe_vpcs(&ours).await.unwrap().is_empty(), "no VPC left");
    assert!(lab.describe_security_groups(&ours).await.unwrap().is_empty(), "no security group left");
    assert!(lab.describe_instances(&ours).await.unwrap().iter().all(|i| i.state.as_str() == "terminated"));
    assert!(lab.describe_load_balancers(&[]).await.unwrap().is_empty(), "no load balancer left");
    assert_eq!(app.stack(&token, "lab1").await.build_state, BuildState::NotBuilt);

    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, t, o)| a == "build.apply" && t == "lab1" && o == "ok"));
    assert!(audit.iter().any(|(_, a, t, o)| a == "build.destroy" && t == "lab1" && o == "ok"));
}

#[tokio::test]
async fn a_failed_step_shows_the_cloud_error_and_resumes_after_the_definition_is_fixed() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "first").await;
    let first = app.apply(&token, "first").await;
    assert_eq!(first.status, BuildStatus::Succeeded, "{first:#?}");
    // Something outside hawaf holds a load-balancer name (names are unique
    // per region), so no check before the build can know: step 5 collides.
    let lab = app.app.providers.lab();
    let ours = Filter::tags(Tags::from([(TAG_STACK.to_owned(), "first".to_owned())]));
    let subnet = lab.describe_subnets(&ours).await.unwrap()[0].id.clone();
    let outsider = CreateLoadBalancerRequest {
        kind: Default::default(),
        name: "taken-lbint".into(),
        scheme: Scheme::Internal,
        subnets: vec![subnet],
        security_groups: vec![],
        listeners: vec![Listener::http(80, 80)],
        tags: Tags::new(),
    };
    lab.create_load_balancer(outsider).await.unwrap();
    let taken = json!({"name": "second", "load_balancers": {"internal": {"name": "taken-lbint"}, "external": {"name": "second-lbext"}}});
    let _: StackView = app.call(Method::POST, "/stacks", &token, Some(&taken), 201).await;

    let second = app.apply(&token, "second").await;
    assert_eq!(second.status, BuildStatus::Failed);
    let step5 = &second.steps[4];
    assert_eq!(step5.status, StepStatus::Failed);
    assert!(
        step5.error.as_deref().is_some_and(|e| e.contains("already exists and does not belong to stack second")),
        "{step5:#?}"
    );

    let fix = json!({"load_balancers": {"internal": {"name": "second-lbint"}, "external": {"name": "second-lbext"}}});
    let _: StackView = app.call(Method::PUT, "/stacks/second", &token, Some(&fix), 200).await;
    let resumed = app.resume(&token, second.build_id).await;
    assert_eq!(resumed.status, BuildStatus::Succeeded, "{resumed:#?}");
    assert_eq!(resumed.resumed_from, Some(second.build_id));
    let runs: Vec<_> = operations(&resumed).into_iter().filter(|o| o == "RunInstances").collect();
    assert!(runs.is_empty(), "resuming adopts the instances the failed build made");
    let url = app.app.providers.lab().lb_url("second-lbext").unwrap();
    assert_eq!(fetch(&url).await.0, 200);
}

#[tokio::test]
async fn a_half_built_stack_tears_down_to_nothing() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "half").await;
    // Steps one at a time, as the wizard's per-step buttons run them, stopping after step 4.
    for step in 1..=4u8 {
        let id = hawaf::build::start_step(&app.app, "half", step, "test").await.unwrap();
        let b = app.wait_build(&token, id).await;
        assert_eq!(b.status, BuildStatus::Succeeded, "step {step}: {b:#?}");
    }
    let down = app.destroy(&token, "half").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    let lab = app.app.providers.lab();
    let ours = Filter::tags(Tags::from([(TAG_STACK.to_owned(), "half".to_owned())]));
    assert!(lab.describe_vpcs(&ours).await.unwrap().is_empty());
    assert!(lab.describe_subnets(&ours).await.unwrap().is_empty());
    assert!(lab.describe_addresses(&ours).await.unwrap().is_empty(), "no Elastic IP left");
    assert!(lab.describe_instances(&ours).await.unwrap().iter().all(|i| i.state.as_str() == "terminated"));
}

#[tokio::test]
async fn step_8_refuses_a_node_whose_certificate_changed() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "pinned8").await;
    assert_eq!(app.apply(&token, "pinned8").await.status, BuildStatus::Succeeded);
    // As if the node now presented another certificate than the one pinned.
    let pool = raw_db(&app).await;
    sqlx::query("UPDATE waf_nodes SET fingerprint = $1 WHERE node = 'ha-utm-left'")
        .bind("ab".repeat(32))
        .execute(&pool)
        .await
        .unwrap();
    let id = hawaf::build::start_step(&app.app, "pinned8", 8, "test").await.unwrap();
    let b = app.wait_build(&token, id).await;
    assert_eq!(b.status, BuildStatus::Failed);
    let error = b.steps[7].error.as_deref().unwrap().to_lowercase();
    assert!(error.contains("ha-utm-left") && error.contains("certificate"), "{error}");
}

#[tokio::test]
async fn a_serial_build_makes_its_calls_one_step_after_the_other() {
    let app = spawn_app_with(|c| c.build_serial = true).await;
    let token = app.token(hawaf::auth::Role::Operator).await;
    app.create_stack(&token, "one").await;
    let build = app.apply(&token, "one").await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    let steps: Vec<i64> = app.app.store.build_calls(build.build_id).await.unwrap().iter().map(|c| c.step).collect();
    let mut in_order = steps.clone();
    in_order.sort();
    assert_eq!(steps, in_order, "no step starts before the one before it has finished");
    assert!(build.finished_at_ms.unwrap() >= build.started_at_ms, "{build:#?}");
}
