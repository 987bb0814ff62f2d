use hawaf::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_stack_posted_with_only_a_name_takes_the_seed_preset() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let res = app.api(Method::POST, "/stacks", &token).json(&json!({"name": "seed"})).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"], "/api/v1/stacks/seed");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["version"], 1);
    assert_eq!(body["build_state"], "not_built");
    let d = &body["definition"];
    assert_eq!(d["provider"], "lab");
    assert_eq!(d["vpc_cidr"], "10.0.0.0/16");
    assert_eq!(d["subnets"]["public-a"]["cidr"], "10.0.10.0/24");
    assert_eq!(d["instances"]["waf-right"]["private_ip"], "10.0.11.10");
    assert_eq!(d["health_check"]["interval"], 6);
    assert_eq!(d["admin_cidr"], "127.0.0.1/32");

    let (status, list) = app.api_json(Method::GET, "/stacks", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, one) = app.api_json(Method::GET, "/stacks/seed", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(one["definition"], body["definition"]);
}

/// Every validation rule, through the API, with the field it names and the
/// words it uses.
#[tokio::test]
async fn every_invalid_definition_gets_a_422_naming_the_field_and_the_problem() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"name": "Bad_Name"}), "name", "lowercase"),
        (json!({"vpc_cidr": "10.0.0.0/33"}), "vpc_cidr", "10.0.0.0/33"),
        (json!({"vpc_cidr": "10.0.0.1/16"}), "vpc_cidr", "did you mean 10.0.0.0/16"),
        (json!({"vpc_cidr": "10.0.0.0/8"}), "vpc_cidr", "/16"),
        (json!({"subnets": {"web-a": {"cidr": "10.1.20.0/24"}}}), "subnets.web-a.cidr", "not inside the VPC"),
        (json!({"subnets": {"web-b": {"cidr": "10.0.20.0/25"}}}), "subnets.web-b.cidr", "overlap"),
        (json!({"subnets": {"web-b": {"az": "us-east-1a"}}}), "subnets.web-b.az", "two"),
        (json!({"subnets": {"public-a": {"az": "eu-west-1a"}}}), "subnets.public-a.az", "us-east-1"),
        (json!({"subnets": {"lbext-a": {"cidr": "10.0.30.0/24", "az": "us-east-1a"}}}), "subnets.lbext-b", "both"),
        (
            json!({"instances": {"waf-left": {"private_ip": "10.0.11.20"}}}),
            "instances.waf-left.private_ip",
            "not inside",
        ),
        (json!({"instances": {"waf-left": {"private_ip": "10.0.10.1"}}}), "instances.waf-left.private_ip", "reserve"),
        (json!({"instances": {"waf-left": {"private_ip": ""}}}), "instances.waf-left.private_ip", ""),
        (json!({"instances": {"web-left": {"ami": "ami-xyz"}}}), "instances.web-left.ami", "ami-"),
        (json!({"instances": {"web-left": {"instance_type": "tiny"}}}), "instances.web-left.instance_type", ""),
        (json!({"instances": {"web-right": {"name": "ha-web-left"}}}), "instances.web-right.name", ""),
        (json!({"load_balancers": {"external": {"name": "-lb"}}}), "load_balancers.external.name", "hyphen"),
        (json!({"load_balancers": {"internal": {"name": "internal-lb"}}}), "load_balancers.internal.name", "internal-"),
        (json!({"security_groups": {"web": "sg-web"}}), "security_groups.web", "sg-"),
        (json!({"health_check": {"interval": 4}}), "health_check.interval", "5"),
        (json!({"health_check": {"interval": 301}}), "health_check.interval", "300"),
        (json!({"health_check": {"timeout": 1}}), "health_check.timeout", "2"),
        (json!({"health_check": {"timeout": 6}}), "health_check.timeout", "interval"),
        (json!({"health_check": {"healthy_threshold": 1}}), "health_check.healthy_threshold", "2"),
        (json!({"health_check": {"unhealthy_threshold": 11}}), "health_check.unhealthy_threshold", "10"),
        (json!({"health_check": {"target": "HTTP:80"}}), "health_check.target", "path"),
        (json!({"health_check": {"target": "FTP:21"}}), "health_check.target", ""),
        (json!({"admin_cidr": "everyone"}), "admin_cidr", "everyone"),
        (json!({"provider": "gcp"}), "provider", "lab"),
        (json!({"subnet_mode": "open"}), "subnet_mode", "tutorial"),
        (json!({"aws": {"region": "mars-1"}}), "aws.region", ""),
        (json!({"aws": {"endpoint_url": "ftp://x"}}), "aws.endpoint_url", "http"),
        (json!({"subnets": {"web-c": {}}}), "subnets.web-c", "unknown field"),
        (json!({"health_check": {"interval": true}}), "health_check.interval", "number"),
    ];
    for (patch, field, words) in cases {
        let mut body = json!({"name": "checked"});
        merge(&mut body, patch.clone());
        let (status, answer) = app.api_json(Method::POST, "/stacks", &token, Some(body)).await;
        assert_eq!(status, 422, "{patch} is refused");
        assert_eq!(answer["error"]["code"], "invalid");
        let errors = answer["errors"].as_array().unwrap();
        let hit = errors.iter().find(|e| e["field"].as_str().unwrap().starts_with(field));
        let hit = hit.unwrap_or_else(|| panic!("{patch}: expected an error on {field}, got {errors:?}"));
        let message = hit["message"].as_str().unwrap();
        assert!(!message.is_empty());
        assert!(message.contains(words), "{patch}: `{message}` mentions `{words}`");
    }
    assert!(app.app.store.stacks().await.unwrap().is_empty(), "nothing invalid was stored");
}

fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

#[tokio::test]
async fn an_admin_cidr_open_to_the_world_is_stored_with_a_warning() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let (status, body) =
        app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "open", "admin_cidr": "0.0.0.0/0"}))).await;
    assert_eq!(status, 201);
    let warnings = body["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w["field"] == "admin_cidr" && w["message"].as_str().unwrap().contains("4444")));
}

#[tokio::test]
async fn bad_bodies_get_specific_errors_never_a_500() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let send = |body: Vec<u8>, ct: &'static str| {
        app.api(Method::POST, "/stacks", &token).header("content-type", ct).body(body).send()
    };
    let res = send(b"{\"name\": ".to_vec(), "application/json").await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(body["error"]["message"].as_str().unwrap().contains("malformed JSON at line 1"));

    let res = send(b"name=x".to_vec(), "application/x-www-form-urlencoded").await.unwrap();
    assert_eq!(res.status(), 415);

    let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(100 * 1024));
    let res = send(huge.into_bytes(), "application/json").await.unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    let res = send(b"[1, 2]".to_vec(), "application/json").await.unwrap();
    assert_eq!(res.status(), 422);

    let (status, body) = app.api_json(Method::GET, "/stacks/nosuch", &token, None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "there is no stack named nosuch");

    let (status, body) = app.api_json(Method::GET, "/nothing/here", &token, None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_duplicate_stack_name_is_a_409() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let (status, _) = app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "dup"}))).await;
    assert_eq!(status, 201);
    let (status, body) = app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "dup"}))).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["message"], "a stack named dup already exists");
}

#[tokio::test]
async fn a_partial_put_changes_only_what_it_names_and_adds_a_version() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "put", "admin_cidr": "198.51.100.0/24"}))).await;
    let (status, body) =
        app.api_json(Method::PUT, "/stacks/put", &token, Some(json!({"health_check": {"interval": 10}}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["definition"]["health_check"]["interval"], 10);
    assert_eq!(body["definition"]["admin_cidr"], "198.51.100.0/24", "untouched fields keep the current values");

    let (status, body) = app.api_json(Method::PUT, "/stacks/put", &token, Some(json!({"name": "other"}))).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "name");

    let (status, _) =
        app.api_json(Method::PUT, "/stacks/put", &token, Some(json!({"health_check": {"timeout": 60}}))).await;
    assert_eq!(status, 422);
    let (_, body) = app.api_json(Method::GET, "/stacks/put", &token, None).await;
    assert_eq!(body["version"], 2, "a refused edit stores nothing");
}

#[tokio::test]
async fn deleting_through_the_api_removes_the_stack_and_is_audited() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "gone"}))).await;
    let res = app.api(Method::DELETE, "/stacks/gone", &token).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let (status, _) = app.api_json(Method::GET, "/stacks/gone", &token, None).await;
    assert_eq!(status, 404);
    let audit = app.audit_actions().await;
    for action in ["stack.create", "stack.delete"] {
        assert!(audit.iter().any(|(actor, a, target, outcome)| a == action
            && target == "gone"
            && outcome == "ok"
            && actor.starts_with("operator")));
    }
    assert!(audit.iter().any(|(_, a, _, _)| a == "token.create"));
}

#[tokio::test]
async fn healthz_answers_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
}
