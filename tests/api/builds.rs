use hawaf::auth::Role;
use hawaf::cloud::{Cloud, CreateLoadBalancerRequest, Filter, Listener, Scheme, TAG_STACK, Tags};
use serde_json::json;

use crate::helpers::{operations, spawn_app, spawn_app_with};

async fn fetch(url: &str) -> (u16, String) {
    let res = reqwest::get(url).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_lab_stack_is_built_serves_through_both_wafs_rebuilds_idempotently_and_tears_down() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let (status, _) = app.api_json(reqwest::Method::POST, "/stacks", &token, Some(json!({"name": "lab1"}))).await;
    assert_eq!(status, 201);

    let build = app.run_build(&token, "/stacks/lab1/apply").await;
    assert_eq!(build["status"], "succeeded", "{build:#}");
    for step in build["steps"].as_array().unwrap() {
        assert_eq!(step["status"], "succeeded", "{step:#}");
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
    let again = app.run_build(&token, "/stacks/lab1/apply").await;
    assert_eq!(again["status"], "succeeded", "{again:#}");
    let created: Vec<_> = operations(&again)
        .into_iter()
        .filter(|o| o.starts_with("Create") || o == "RunInstances" || o == "AllocateAddress")
        .collect();
    assert!(created.is_empty(), "a second build creates nothing, but made {created:?}");

    let (_, stack) = app.api_json(reqwest::Method::GET, "/stacks/lab1", &token, None).await;
    assert_eq!(stack["build_state"], "built");
    let (status, _) = app.api_json(reqwest::Method::DELETE, "/stacks/lab1", &token, None).await;
    assert_eq!(status, 409, "a built stack cannot be deleted");

    // A second stack with the same (default) load-balancer names is refused
    // before any call, naming the stack that holds them.
    let (status, _) = app.api_json(reqwest::Method::POST, "/stacks", &token, Some(json!({"name": "lab2"}))).await;
    assert_eq!(status, 201);
    let (status, refused) = app.api_json(reqwest::Method::POST, "/stacks/lab2/apply", &token, None).await;
    assert_eq!(status, 409, "{refused:#}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("ha-lbext") && message.contains("stack lab1"), "{message}");

    let down = app.run_build(&token, "/stacks/lab1/destroy").await;
    assert_eq!(down["status"], "succeeded", "{down:#}");
    let lab = app.app.providers.lab();
    let ours = Filter::tags(Tags::from([(TAG_STACK.to_owned(), "lab1".to_owned())]));
    assert!(lab.describe_vpcs(&ours).await.unwrap().is_empty(), "no VPC left");
    assert!(lab.describe_security_groups(&ours).await.unwrap().is_empty(), "no security group left");
    assert!(lab.describe_instances(&ours).await.unwrap().iter().all(|i| i.state.as_str() == "terminated"));
    assert!(lab.describe_load_balancers(&[]).await.unwrap().is_empty(), "no load balancer left");
    let (_, stack) = app.api_json(reqwest::Method::GET, "/stacks/lab1", &token, None).await;
    assert_eq!(stack["build_state"], "not_built");

    let audit = app.audit_actions().await;
    assert!(audit.iter().any(|(_, a, t, o)| a == "build.apply" && t == "lab1" && o == "ok"));
    assert!(audit.iter().any(|(_, a, t, o)| a == "build.destroy" && t == "lab1" && o == "ok"));
}

#[tokio::test]
async fn a_failed_step_shows_the_cloud_error_and_resumes_after_the_definition_is_fixed() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.api_json(reqwest::Method::POST, "/stacks", &token, Some(json!({"name": "first"}))).await;
    let first = app.run_build(&token, "/stacks/first/apply").await;
    assert_eq!(first["status"], "succeeded", "{first:#}");
    // Something outside hawaf holds a load-balancer name (names are unique
    // per region), so no check before the build can know: step 5 collides.
    let lab = app.app.providers.lab();
    let ours = Filter::tags(Tags::from([(TAG_STACK.to_owned(), "first".to_owned())]));
    let subnet = lab.describe_subnets(&ours).await.unwrap()[0].id.clone();
    let outsider = CreateLoadBalancerRequest {
        name: "taken-lbint".into(),
        scheme: Scheme::Internal,
        subnets: vec![subnet],
        security_groups: vec![],
        listeners: vec![Listener::http(80, 80)],
        tags: Tags::new(),
    };
    lab.create_load_balancer(outsider).await.unwrap();
    let taken = json!({"name": "second", "load_balancers": {"internal": {"name": "taken-lbint"}, "external": {"name": "second-lbext"}}});
    app.api_json(reqwest::Method::POST, "/stacks", &token, Some(taken)).await;

    let second = app.run_build(&token, "/stacks/second/apply").await;
    assert_eq!(second["status"], "failed");
    let step5 = &second["steps"][4];
    assert_eq!(step5["status"], "failed");
    assert!(
        step5["error"].as_str().unwrap().contains("already exists and does not belong to stack second"),
        "{step5:#}"
    );

    let fix = json!({"load_balancers": {"internal": {"name": "second-lbint"}, "external": {"name": "second-lbext"}}});
    let (status, _) = app.api_json(reqwest::Method::PUT, "/stacks/second", &token, Some(fix)).await;
    assert_eq!(status, 200);
    let id = second["build_id"].as_i64().unwrap();
    let resumed = app.run_build(&token, &format!("/builds/{id}/resume")).await;
    assert_eq!(resumed["status"], "succeeded", "{resumed:#}");
    assert_eq!(resumed["resumed_from"], id);
    let runs: Vec<_> = operations(&resumed).into_iter().filter(|o| o == "RunInstances").collect();
    assert!(runs.is_empty(), "resuming adopts the instances the failed build made");
    let url = app.app.providers.lab().lb_url("second-lbext").unwrap();
    assert_eq!(fetch(&url).await.0, 200);
}

#[tokio::test]
async fn a_half_built_stack_tears_down_to_nothing() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.api_json(reqwest::Method::POST, "/stacks", &token, Some(json!({"name": "half"}))).await;
    // Steps one at a time, as the wizard's per-step buttons run them, stopping after step 4.
    for step in 1..=4u8 {
        let id = hawaf::build::start_step(&app.app, "half", step, "test").await.unwrap();
        let b = app.wait_build(&token, id).await;
        assert_eq!(b["status"], "succeeded", "step {step}: {b:#}");
    }
    let down = app.run_build(&token, "/stacks/half/destroy").await;
    assert_eq!(down["status"], "succeeded", "{down:#}");
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
    app.api_json(reqwest::Method::POST, "/stacks", &token, Some(json!({"name": "pinned8"}))).await;
    assert_eq!(app.run_build(&token, "/stacks/pinned8/apply").await["status"], "succeeded");
    // As if the node now presented another certificate than the one pinned.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.app.config.db.display())).await.unwrap();
    sqlx::query("UPDATE waf_nodes SET fingerprint = ? WHERE node = 'ha-utm-left'")
        .bind("ab".repeat(32))
        .execute(&pool)
        .await
        .unwrap();
    let id = hawaf::build::start_step(&app.app, "pinned8", 8, "test").await.unwrap();
    let b = app.wait_build(&token, id).await;
    assert_eq!(b["status"], "failed");
    let error = b["steps"][7]["error"].as_str().unwrap().to_lowercase();
    assert!(error.contains("ha-utm-left") && error.contains("certificate"), "{error}");
}

#[tokio::test]
async fn a_serial_build_makes_its_calls_one_step_after_the_other() {
    let app = spawn_app_with(|c| c.build_serial = true).await;
    let token = app.token(hawaf::auth::Role::Operator).await;
    let (status, _) =
        app.api_json(reqwest::Method::POST, "/stacks", &token, Some(serde_json::json!({"name": "one"}))).await;
    assert_eq!(status, 201);
    let build = app.run_build(&token, "/stacks/one/apply").await;
    assert_eq!(build["status"], "succeeded", "{build:#}");
    let id = build["build_id"].as_i64().unwrap();
    let steps: Vec<i64> = app.app.store.build_calls(id).await.unwrap().iter().map(|c| c.step).collect();
    let mut in_order = steps.clone();
    in_order.sort();
    assert_eq!(steps, in_order, "no step starts before the one before it has finished");
    assert!(build["finished_at_ms"].as_i64().unwrap() >= build["started_at_ms"].as_i64().unwrap());
}
