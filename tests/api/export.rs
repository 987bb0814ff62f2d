//! The CloudFormation export (issue 14): a template cfn-lint (PyPI,
//! installed by scripts/test: `HAWAF_CFN_LINT`) finds no error in, for the
//! seed preset and for a protected-mode stack. tests/api/aws.rs deploys one
//! to moto's CloudFormation and reads the result back.

use hawaf::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_export_is_yaml_cfn_lint_finds_no_error_in() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "seed").await;
    let protected = json!({"name": "guarded", "subnet_mode": "protected"});
    let (status, body) = app.api_json(Method::POST, "/stacks", &token, Some(protected)).await;
    assert_eq!(status, 201, "{body}");
    let v2 = json!({"name": "gen2", "load_balancers": {
        "external": {"name": "gen2-alb", "kind": "application"}, "internal": {"name": "gen2-nlb", "kind": "network"}}});
    let (status, body) = app.api_json(Method::POST, "/stacks", &token, Some(v2)).await;
    assert_eq!(status, 201, "{body}");

    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for name in ["seed", "guarded", "gen2"] {
        let res = app.api(Method::GET, &format!("/stacks/{name}/export/cloudformation"), &token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/yaml"));
        let yaml = res.text().await.unwrap();
        assert!(yaml.starts_with("AWSTemplateFormatVersion"), "{}", &yaml[..60]);
        assert_eq!(yaml.contains("AWS::ElasticLoadBalancing::LoadBalancer"), name != "gen2", "classic tiers");
        assert_eq!(yaml.contains("AWS::ElasticLoadBalancingV2::TargetGroup"), name == "gen2", "ELBv2 tiers");
        assert!(yaml.contains("Ref: AdminCidr"));
        assert_eq!(yaml.contains("AWS::EC2::NatGateway"), name == "guarded", "NAT only in protected mode");
        let file = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        files.push(file);
    }
    let Some(lint) = std::env::var_os("HAWAF_CFN_LINT").filter(|p| !p.is_empty()) else {
        eprintln!("cfn-lint skipped: HAWAF_CFN_LINT is not set (scripts/test installs cfn-lint and sets it)");
        return;
    };
    // Errors fail; informational notes and warnings are printed.
    let out = std::process::Command::new(lint)
        .args(&files)
        .args(["--format", "parseable", "--regions", "us-east-1"])
        .output()
        .expect("cfn-lint runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.contains(":E")).collect();
    assert!(errors.is_empty(), "cfn-lint errors:\n{}", errors.join("\n"));
    // cfn-lint exits 2 for errors, 4 for warnings, 8 for informational notes
    // (the bits combine); anything else is a failure to run.
    let code = out.status.code().unwrap_or(-1);
    assert!([0, 4, 8, 12].contains(&code), "cfn-lint exited {code}: {text}");
}
