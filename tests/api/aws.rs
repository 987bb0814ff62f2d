//! The aws provider against moto, a real AWS API emulator in server mode,
//! through the real SDK clients (no fakes). `scripts/test` starts one moto
//! server for the whole run and sets `HAWAF_MOTO_URL` and dummy credentials;
//! without it these tests say they were skipped and pass. Tests run in
//! parallel against the one server, each in a region of its own (moto keeps
//! its state per region).
//!
//! Where moto 5.2.5 differs from AWS, the test says so:
//! - RunInstances ignores client tokens (AWS returns the first instance);
//! - internal LB DNS names lack AWS's `internal-` prefix;
//! - unknown AMI ids are accepted (the seed's AMIs are us-east-1 ones);
//! - a security-group swap does not change ELB health (on AWS the health
//!   check would fail and the instance turn OutOfService), and a stopped
//!   instance's health reason is `N/A` (AWS: `Instance`);
//! - DescribeTags keeps listing the tags of deleted resources;
//! - DeleteVpc succeeds with a security group still in the VPC (AWS refuses);
//! - health-check bounds are not enforced (the adapter checks them first, as AWS would);
//! - CloudFormation instances take their groups from `SecurityGroups` and
//!   ignore `SecurityGroupIds` (AWS requires the latter in a VPC): the
//!   export test copies one to the other before deploying to moto, and
//!   tags the Elastic IPs itself (moto leaves their template Tags out);
//!   its classic ELBs get no subnets, groups or tags from the template, so
//!   that test compares the rest of them (cfn-lint checks the template);
//! - moto instances serve nothing, so step 8 (configuring the UTM
//!   appliances over their REST API) cannot run: see the first test.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use aws_config::Region;
use aws_sdk_ec2 as ec2;
use aws_sdk_elasticloadbalancing as elb;
use hawaf::auth::Role;
use hawaf::cloud::aws::{AwsCloud, AwsTarget, AwsTuning};
use hawaf::cloud::{Cloud, Filter, HealthCheck, IngressRule, InstanceState, RuleSource, Tags};
use hawaf::contract::{
    Build, BuildAccepted, BuildState, BuildStatus, DifferenceType, DriftReport, DriftStatus, ReconcileAccepted,
    ResourceState, StackView, Step, StepStatus,
};
use serde_json::{Value, json};

use crate::helpers::{NO_BODY, TestApp, operations, spawn_app, spawn_app_with};

/// moto's URL, or `None` after saying the test is skipped.
pub(crate) fn moto(test: &str) -> Option<String> {
    match std::env::var("HAWAF_MOTO_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped {test}: HAWAF_MOTO_URL is not set (scripts/test starts moto and sets it)");
            None
        }
    }
}

/// The seed definition on AWS in `region`, pointed at moto.
pub(crate) fn aws_stack(name: &str, region: &str, endpoint: &str) -> Value {
    let az = |zone: &str| json!({"az": format!("{region}{zone}")});
    json!({
        "name": name,
        "provider": "aws",
        "aws": {"region": region, "endpoint_url": endpoint},
        "subnets": {"public-a": az("a"), "public-b": az("b"), "web-a": az("a"), "web-b": az("b")},
        "admin_cidr": "198.51.100.0/24",
    })
}

/// Defines the stack; returns its definition as stored, defaults filled in.
/// An admin defines it: `aws.endpoint_url` aims the server's calls, which
/// only admins may do; the operator's `token` builds and operates it.
pub(crate) async fn create_stack(app: &TestApp, token: &str, definition: Value) -> Value {
    let admin = app.token(Role::Admin).await;
    let created: StackView = app.call(reqwest::Method::POST, "/stacks", &admin, Some(&definition), 201).await;
    app.stack(token, &created.name).await.definition
}

/// SDK clients of the test's own, for reading AWS state back independently
/// of the code under test.
pub(crate) struct Sdk {
    pub(crate) ec2: ec2::Client,
    pub(crate) elb: elb::Client,
}

pub(crate) fn sdk(endpoint: &str, region: &str) -> Sdk {
    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "hawaf-tests");
    let http = aws_smithy_http_client::Builder::new().build_http();
    let ec2 = ec2::Config::builder()
        .behavior_version_latest()
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(creds.clone())
        .http_client(http.clone())
        .build();
    let elb = elb::Config::builder()
        .behavior_version_latest()
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .http_client(http)
        .build();
    Sdk { ec2: ec2::Client::from_conf(ec2), elb: elb::Client::from_conf(elb) }
}

fn tag_filter(stack: &str) -> ec2::types::Filter {
    ec2::types::Filter::builder().name("tag:hawaf:stack").values(stack).build()
}

fn tags_of(tags: &[ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned())).collect()
}

fn name_of(tags: &[ec2::types::Tag]) -> String {
    tags_of(tags).get("Name").cloned().unwrap_or_default()
}

/// The stack's instances that are not terminated, by Name tag.
async fn live_instances(sdk: &Sdk, stack: &str) -> BTreeMap<String, ec2::types::Instance> {
    let out = sdk
        .ec2
        .describe_instances()
        .filters(tag_filter(stack))
        .filters(
            ec2::types::Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let all: Vec<_> = out.reservations().iter().flat_map(|r| r.instances()).cloned().collect();
    let by_name: BTreeMap<_, _> = all.iter().map(|i| (name_of(i.tags()), i.clone())).collect();
    assert_eq!(by_name.len(), all.len(), "instance names are unique: {all:#?}");
    by_name
}

fn step(build: &Build, number: i64) -> &Step {
    build.steps.iter().find(|s| s.number == number).unwrap()
}

/// Steps 1–7 succeeded and step 8 stopped for the operator. On AWS, step 8
/// configures the UTM appliances over their REST API, which needs a token the
/// operator creates in each node's console after its first-time setup; moto
/// instances run no appliance, so here (as on a fresh real account) the build
/// ends there, with the message that tells the operator what to do.
pub(crate) fn assert_built_up_to_waf_configuration(build: &Build) {
    assert_eq!(build.status, BuildStatus::Failed, "{build:#?}");
    for n in 1..=7 {
        assert_eq!(step(build, n).status, StepStatus::Succeeded, "step {n}: {build:#?}");
    }
    let eight = step(build, 8);
    assert_eq!(eight.status, StepStatus::Failed);
    let error = eight.error.as_deref().unwrap();
    assert!(error.contains("waiting for its REST API token"), "{error}");
    assert!(error.contains("https://EIP:4444/"), "{error}");
}

fn created(build: &Build) -> Vec<String> {
    operations(build)
        .into_iter()
        .filter(|o| o.starts_with("Create") || o == "RunInstances" || o == "AllocateAddress")
        .collect()
}

/// Ingress rules of a group as (protocol, port, source), sources by group name or CIDR.
fn rules_of(group: &ec2::types::SecurityGroup, names: &BTreeMap<String, String>) -> BTreeSet<(String, i32, String)> {
    let mut rules = BTreeSet::new();
    for p in group.ip_permissions() {
        let port = p.from_port().unwrap();
        assert_eq!(p.from_port(), p.to_port(), "one port per rule");
        for r in p.ip_ranges() {
            rules.insert((p.ip_protocol().unwrap().to_owned(), port, r.cidr_ip().unwrap().to_owned()));
        }
        for g in p.user_id_group_pairs() {
            let source = names.get(g.group_id().unwrap()).cloned().unwrap_or_else(|| g.group_id().unwrap().into());
            rules.insert((p.ip_protocol().unwrap().to_owned(), port, source));
        }
    }
    rules
}

/// Reads the built stack back with the SDK and compares it with the definition.
async fn assert_matches_definition(sdk: &Sdk, stack: &str, def: &Value) {
    assert_matches(sdk, stack, def, Placement::Checked).await
}

/// Whether a load balancer's VPC, subnets, group and tags are compared:
/// moto's CloudFormation leaves them out of the ELBs it creates.
#[derive(PartialEq)]
enum Placement {
    Checked,
    NotByMotoCloudFormation,
}

async fn assert_matches(sdk: &Sdk, stack: &str, def: &Value, lb_placement: Placement) {
    // VPC
    let vpcs = sdk.ec2.describe_vpcs().filters(tag_filter(stack)).send().await.unwrap();
    assert_eq!(vpcs.vpcs().len(), 1, "one VPC: {vpcs:#?}");
    let vpc = &vpcs.vpcs()[0];
    assert_eq!(vpc.cidr_block(), def["vpc_cidr"].as_str());
    assert_eq!(name_of(vpc.tags()), def["vpc_name"].as_str().unwrap());
    let vpc_id = vpc.vpc_id().unwrap();

    // Four subnets, each with the definition's CIDR and AZ.
    let subnets = sdk.ec2.describe_subnets().filters(tag_filter(stack)).send().await.unwrap();
    let mut subnet_ids = BTreeMap::new();
    assert_eq!(subnets.subnets().len(), 4, "{subnets:#?}");
    for key in ["public-a", "public-b", "web-a", "web-b"] {
        let want = &def["subnets"][key];
        let name = format!("{}-{key}", def["vpc_name"].as_str().unwrap());
        let sn = subnets.subnets().iter().find(|s| name_of(s.tags()) == name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(sn.vpc_id(), Some(vpc_id));
        assert_eq!(sn.cidr_block(), want["cidr"].as_str(), "{key}");
        assert_eq!(sn.availability_zone(), want["az"].as_str(), "{key}");
        subnet_ids.insert(key, sn.subnet_id().unwrap().to_owned());
    }

    // Four security groups with exactly the seed's rules.
    let groups = sdk.ec2.describe_security_groups().filters(tag_filter(stack)).send().await.unwrap();
    assert_eq!(groups.security_groups().len(), 4, "{groups:#?}");
    let names: BTreeMap<String, String> = groups
        .security_groups()
        .iter()
        .map(|g| (g.group_id().unwrap().to_owned(), g.group_name().unwrap().to_owned()))
        .collect();
    let sg = |role: &str| def["security_groups"][role].as_str().unwrap().to_owned();
    let admin = def["admin_cidr"].as_str().unwrap().to_owned();
    let tcp = |port: i32, source: String| ("tcp".to_owned(), port, source);
    let expected: BTreeMap<String, BTreeSet<(String, i32, String)>> = BTreeMap::from([
        (sg("lbext"), BTreeSet::from([tcp(80, "0.0.0.0/0".into())])),
        (sg("utm"), BTreeSet::from([tcp(80, sg("lbext")), tcp(4444, admin.clone())])),
        (sg("lbint"), BTreeSet::from([tcp(80, sg("utm"))])),
        (sg("web"), BTreeSet::from([tcp(80, sg("lbint")), tcp(22, admin)])),
    ]);
    for g in groups.security_groups() {
        let name = g.group_name().unwrap();
        assert_eq!(g.vpc_id(), Some(vpc_id));
        assert_eq!(rules_of(g, &names), expected[name], "rules of {name}");
        assert_eq!(name_of(g.tags()), name);
    }
    let group_id = |role: &str| names.iter().find(|(_, n)| **n == sg(role)).unwrap().0.clone();

    // Four instances in their subnets, with their types, groups, addresses and tags.
    let instances = live_instances(sdk, stack).await;
    assert_eq!(instances.len(), 4, "{instances:#?}");
    let placement = [
        ("web-left", "web-a", "web", "web"),
        ("web-right", "web-b", "web", "web"),
        ("waf-left", "public-a", "utm", "waf"),
        ("waf-right", "public-b", "utm", "waf"),
    ];
    for (key, subnet, group, role) in placement {
        let want = &def["instances"][key];
        let name = want["name"].as_str().unwrap();
        let i = instances.get(name).unwrap_or_else(|| panic!("instance {name}"));
        assert_eq!(i.state().unwrap().name().unwrap().as_str(), "running", "{name}");
        assert_eq!(i.instance_type().unwrap().as_str(), want["instance_type"].as_str().unwrap(), "{name}");
        assert_eq!(i.image_id(), want["ami"].as_str(), "{name}");
        assert_eq!(i.subnet_id(), Some(subnet_ids[subnet].as_str()), "{name}");
        if let Some(ip) = want["private_ip"].as_str().filter(|s| !s.is_empty()) {
            assert_eq!(i.private_ip_address(), Some(ip), "{name}");
        }
        let groups: Vec<_> = i.security_groups().iter().map(|g| g.group_id().unwrap().to_owned()).collect();
        assert_eq!(groups, vec![group_id(group)], "{name}");
        let tags = tags_of(i.tags());
        assert_eq!(tags.get("hawaf:stack").map(String::as_str), Some(stack));
        assert_eq!(tags.get("hawaf:role").map(String::as_str), Some(role));
        assert!(i.public_ip_address().is_some(), "{name} has its Elastic IP");
    }
    let addresses = sdk.ec2.describe_addresses().filters(tag_filter(stack)).send().await.unwrap();
    assert_eq!(addresses.addresses().len(), 4, "one Elastic IP per instance");

    // Two classic ELBs with scheme, subnets, group, listener, health check and members.
    let id = |name: &str| instances[name].instance_id().unwrap().to_owned();
    let hc = &def["health_check"];
    for (role, scheme, subnets, group, members) in [
        ("internal", "internal", ["web-a", "web-b"], "lbint", ["web-left", "web-right"]),
        ("external", "internet-facing", ["public-a", "public-b"], "lbext", ["waf-left", "waf-right"]),
    ] {
        let name = def["load_balancers"][role]["name"].as_str().unwrap();
        let out = sdk.elb.describe_load_balancers().load_balancer_names(name).send().await.unwrap();
        let lb = &out.load_balancer_descriptions()[0];
        assert_eq!(lb.scheme(), Some(scheme), "{name}");
        if lb_placement == Placement::Checked {
            assert_eq!(lb.vpc_id(), Some(vpc_id), "{name}");
            let got: BTreeSet<_> = lb.subnets().iter().cloned().collect();
            let want: BTreeSet<_> = subnets.iter().map(|s| subnet_ids[s].clone()).collect();
            assert_eq!(got, want, "{name} subnets");
            assert_eq!(lb.security_groups(), [group_id(group)], "{name} security group");
        }
        let listeners: Vec<_> = lb.listener_descriptions().iter().filter_map(|l| l.listener()).collect();
        assert_eq!(listeners.len(), 1);
        assert_eq!(
            (listeners[0].protocol(), listeners[0].load_balancer_port(), listeners[0].instance_port()),
            ("HTTP", 80, 80)
        );
        let check = lb.health_check().unwrap();
        assert_eq!(check.target(), hc["target"].as_str().unwrap());
        assert_eq!(i64::from(check.interval()), hc["interval"].as_i64().unwrap());
        assert_eq!(i64::from(check.timeout()), hc["timeout"].as_i64().unwrap());
        assert_eq!(i64::from(check.healthy_threshold()), hc["healthy_threshold"].as_i64().unwrap());
        assert_eq!(i64::from(check.unhealthy_threshold()), hc["unhealthy_threshold"].as_i64().unwrap());
        let got: BTreeSet<_> = lb.instances().iter().map(|i| i.instance_id().unwrap().to_owned()).collect();
        let want: BTreeSet<_> = members.iter().map(|m| id(def["instances"][m]["name"].as_str().unwrap())).collect();
        assert_eq!(got, want, "{name} members");
        if lb_placement != Placement::Checked {
            continue;
        }
        let tags = sdk.elb.describe_tags().load_balancer_names(name).send().await.unwrap();
        let tags: BTreeMap<_, _> = tags.tag_descriptions()[0]
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
            .collect();
        assert_eq!(tags.get("hawaf:stack").map(String::as_str), Some(stack));
        // moto differs from AWS: AWS names an internal LB `internal-NAME-…`;
        // moto leaves the prefix out. Either way the name is in it.
        assert!(lb.dns_name().unwrap().contains(name), "{:?}", lb.dns_name());
    }
}

/// Nothing tagged with the stack is left, kind by kind, but terminated
/// instances (which AWS, and moto, keep listing for a while).
///
/// moto differs from AWS: its DescribeTags keeps listing the tags of deleted
/// VPCs, subnets, groups, gateways, route tables and addresses, so the check
/// asks each Describe call (with the stack's tag as filter) instead.
pub(crate) async fn assert_nothing_left(sdk: &Sdk, stack: &str) {
    let ec2 = &sdk.ec2;
    let vpcs = ec2.describe_vpcs().filters(tag_filter(stack)).send().await.unwrap();
    assert!(vpcs.vpcs().is_empty(), "VPCs left: {vpcs:#?}");
    let subnets = ec2.describe_subnets().filters(tag_filter(stack)).send().await.unwrap();
    assert!(subnets.subnets().is_empty(), "subnets left: {subnets:#?}");
    let groups = ec2.describe_security_groups().filters(tag_filter(stack)).send().await.unwrap();
    assert!(groups.security_groups().is_empty(), "security groups left: {groups:#?}");
    let igws = ec2.describe_internet_gateways().filters(tag_filter(stack)).send().await.unwrap();
    assert!(igws.internet_gateways().is_empty(), "internet gateways left: {igws:#?}");
    let tables = ec2.describe_route_tables().filters(tag_filter(stack)).send().await.unwrap();
    assert!(tables.route_tables().is_empty(), "route tables left: {tables:#?}");
    let addresses = ec2.describe_addresses().filters(tag_filter(stack)).send().await.unwrap();
    assert!(addresses.addresses().is_empty(), "Elastic IPs left: {addresses:#?}");
    let nats = ec2.describe_nat_gateways().filter(tag_filter(stack)).send().await.unwrap();
    assert!(nats.nat_gateways().iter().all(|n| n.state().unwrap().as_str() == "deleted"), "{nats:#?}");
    let out = ec2.describe_instances().filters(tag_filter(stack)).send().await.unwrap();
    for i in out.reservations().iter().flat_map(|r| r.instances()) {
        assert_eq!(i.state().unwrap().name().unwrap().as_str(), "terminated", "{i:#?}");
    }
    // The region is the test's own: any load balancer in it was the stack's.
    let lbs = sdk.elb.describe_load_balancers().send().await.unwrap();
    assert!(lbs.load_balancer_descriptions().is_empty(), "no load balancer left: {lbs:#?}");
}

#[tokio::test]
async fn an_aws_stack_is_built_on_moto_read_back_rebuilt_without_change_and_torn_down() {
    let Some(endpoint) = moto("the full aws build") else { return };
    let region = "us-west-2";
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let def = create_stack(&app, &token, aws_stack("moto-full", region, &endpoint)).await;

    let started = Instant::now();
    let build = app.apply(&token, "moto-full").await;
    let build_time = started.elapsed();
    assert_built_up_to_waf_configuration(&build);
    let ops = operations(&build);
    for op in ["CreateVpc", "CreateSubnet", "CreateSecurityGroup", "RunInstances", "CreateLoadBalancer"] {
        assert!(ops.iter().any(|o| o == op), "the call log has {op}: {ops:?}");
    }
    // Step 5 waited for "2 of 2 in service" on the internal LB.
    assert!(ops.iter().any(|o| o == "Wait"), "{ops:?}");

    let sdk = sdk(&endpoint, region);
    assert_matches_definition(&sdk, "moto-full", &def).await;
    let health = sdk.elb.describe_instance_health().load_balancer_name("ha-lbint").send().await.unwrap();
    assert_eq!(health.instance_states().len(), 2);
    assert!(health.instance_states().iter().all(|s| s.state() == Some("InService")), "{health:#?}");

    // Applying again adopts everything and creates nothing.
    let again = app.apply(&token, "moto-full").await;
    assert_built_up_to_waf_configuration(&again);
    assert!(created(&again).is_empty(), "a second build creates nothing, but made {:?}", created(&again));
    assert_matches_definition(&sdk, "moto-full", &def).await;

    // Drift (issue 14): in sync as built; then a rule added and a rule removed
    // out of band on secg-web, through the test's own SDK client.
    let report: DriftReport = app.call(reqwest::Method::POST, "/stacks/moto-full/drift", &token, NO_BODY, 200).await;
    let off: Vec<_> = report.resources.iter().filter(|r| r.state != ResourceState::InSync).collect();
    assert_eq!(report.status, DriftStatus::InSync, "{off:#?} {:?}", report.errors);
    let groups = sdk.ec2.describe_security_groups().send().await.unwrap();
    let id_of = |name: &str| {
        groups
            .security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name))
            .and_then(|g| g.group_id())
            .unwrap()
            .to_owned()
    };
    let (web, lbint) = (id_of("secg-web"), id_of("secg-lbint"));
    sdk.ec2
        .authorize_security_group_ingress()
        .group_id(&web)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    sdk.ec2
        .revoke_security_group_ingress()
        .group_id(&web)
        .ip_permissions(
            ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .user_id_group_pairs(ec2::types::UserIdGroupPair::builder().group_id(&lbint).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let report: DriftReport = app.call(reqwest::Method::POST, "/stacks/moto-full/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::Drifted);
    let sg = report.resources.iter().find(|r| r.resource == "sg/web").unwrap();
    let diffs: Vec<_> = sg.differences.iter().map(|d| (d.kind, d.expected.clone(), d.actual.clone())).collect();
    assert!(diffs.contains(&(DifferenceType::Add, None, Some("tcp/22 from 0.0.0.0/0".into()))), "{diffs:?}");
    assert!(diffs.contains(&(DifferenceType::Remove, Some("tcp/80 from secg-lbint".into()), None)), "{diffs:?}");
    assert_eq!(report.resources.iter().filter(|r| r.state != ResourceState::InSync).count(), 1);
    // Reconcile runs step 3 alone, which puts the rule back and takes the other away.
    let accepted: ReconcileAccepted =
        app.call(reqwest::Method::POST, "/stacks/moto-full/reconcile", &token, NO_BODY, 202).await;
    let fix = app.wait_build(&token, accepted.build_id).await;
    assert_eq!(fix.status, BuildStatus::Succeeded, "{fix:#?}");
    let report: DriftReport = app.call(reqwest::Method::POST, "/stacks/moto-full/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{report:#?}");

    let started = Instant::now();
    let down = app.destroy(&token, "moto-full").await;
    let teardown_time = started.elapsed();
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    assert_nothing_left(&sdk, "moto-full").await;
    assert_eq!(app.stack(&token, "moto-full").await.build_state, BuildState::NotBuilt);
    eprintln!("moto build (steps 1-8) took {build_time:?}, teardown took {teardown_time:?}");
}

#[tokio::test]
async fn a_resumed_aws_build_adopts_instances_by_tag_when_the_database_lost_them() {
    let Some(endpoint) = moto("the aws resume test") else { return };
    let region = "eu-west-1";
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    create_stack(&app, &token, aws_stack("moto-resume", region, &endpoint)).await;
    let first = app.apply(&token, "moto-resume").await;
    assert_built_up_to_waf_configuration(&first);
    let sdk = sdk(&endpoint, region);
    let before = live_instances(&sdk, "moto-resume").await;
    assert_eq!(before.len(), 4);

    // moto differs from AWS: it does not honour RunInstances client tokens.
    // The same token twice makes two instances here (AWS returns the first),
    // so on moto only the tag lookup can keep a resumed build from duplicating.
    let subnet = before["ha-web-left"].subnet_id().unwrap();
    let mut twins = Vec::new();
    for _ in 0..2 {
        let out = sdk
            .ec2
            .run_instances()
            .image_id("ami-12345678")
            .min_count(1)
            .max_count(1)
            .subnet_id(subnet)
            .client_token("same-token")
            .send()
            .await
            .unwrap();
        twins.push(out.instances()[0].instance_id().unwrap().to_owned());
    }
    assert_ne!(twins[0], twins[1], "moto 5.2.5 ignores client tokens");
    sdk.ec2.terminate_instances().set_instance_ids(Some(twins)).send().await.unwrap();

    // A crash that lost the database's record of the instances: their rows
    // are gone (so the next RunInstances would even get a new client token).
    let stack = hawaf::stack::load(&app.app.store, "moto-resume").await.unwrap();
    for row in app.app.store.live_resources(stack.row.id).await.unwrap() {
        if row.logical_id.starts_with("instance/") {
            app.app.store.mark_resource_deleted(stack.row.id, &row.logical_id).await.unwrap();
        }
    }
    let resumed = app.resume(&token, first.build_id).await;
    assert_built_up_to_waf_configuration(&resumed);
    assert!(created(&resumed).is_empty(), "the resumed build made {:?}", created(&resumed));
    let after = live_instances(&sdk, "moto-resume").await;
    let ids = |m: &BTreeMap<String, ec2::types::Instance>| -> Vec<String> {
        m.values().map(|i| i.instance_id().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&after), ids(&before), "the same four instances, no duplicates");
    // And the database knows them again.
    let rows = app.app.store.live_resources(stack.row.id).await.unwrap();
    let recorded: BTreeSet<_> =
        rows.iter().filter(|r| r.logical_id.starts_with("instance/")).map(|r| r.physical_id.clone()).collect();
    assert_eq!(recorded, ids(&before).into_iter().collect());
}

#[tokio::test]
async fn aws_faults_isolate_through_a_quarantine_group_and_stop_instances_but_not_httpd() {
    let Some(endpoint) = moto("the aws faults test") else { return };
    let region = "eu-west-2";
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    create_stack(&app, &token, aws_stack("moto-faults", region, &endpoint)).await;
    assert_built_up_to_waf_configuration(&app.apply(&token, "moto-faults").await);
    let stack = hawaf::stack::load(&app.app.store, "moto-faults").await.unwrap();
    let faults = app.app.providers.faults_for(&stack.definition).unwrap();
    let cloud = app.app.providers.cloud_for(&stack.definition).unwrap();
    let sdk = sdk(&endpoint, region);
    let web = live_instances(&sdk, "moto-faults").await["ha-web-left"].clone();
    let id = web.instance_id().unwrap();
    let own_groups: Vec<_> = web.security_groups().iter().map(|g| g.group_id().unwrap().to_owned()).collect();

    faults.isolate(id).await.unwrap();
    faults.isolate(id).await.unwrap(); // isolating twice is harmless
    let isolated = cloud.describe_instances(&Filter::ids([id])).await.unwrap().remove(0);
    let quarantine =
        cloud.describe_security_groups(&Filter::ids(isolated.security_groups.clone())).await.unwrap().remove(0);
    assert_eq!(quarantine.name, "hawaf-quarantine");
    assert!(quarantine.ingress.is_empty(), "the quarantine group admits nothing");
    assert_eq!(quarantine.tags.get("hawaf:stack").map(String::as_str), Some("moto-faults"));
    assert_eq!(isolated.tags.get("hawaf:isolated-from"), Some(&own_groups.join(",")));
    // moto differs from AWS: a group swap leaves ELB health as it was. On AWS
    // the health check can no longer reach the instance, which turns
    // OutOfService after `unhealthy_threshold` checks.
    let health = cloud.describe_instance_health("ha-lbint", &[id.to_owned()]).await.unwrap();
    assert_eq!(health[0].state.as_str(), "InService", "moto ignores security groups for health: {health:?}");

    faults.unisolate(id).await.unwrap();
    let back = cloud.describe_instances(&Filter::ids([id])).await.unwrap().remove(0);
    assert_eq!(back.security_groups, own_groups);
    assert!(!back.tags.contains_key("hawaf:isolated-from"));
    let left = cloud.describe_security_groups(&Filter::ids([quarantine.id.clone()])).await;
    assert!(left.is_err_and(|e| e.code == "InvalidGroup.NotFound"), "the quarantine group is gone once unused");

    // A stopped instance drops out of its LB (moto reports it as AWS does).
    cloud.stop_instance(id).await.unwrap();
    let health = cloud.describe_instance_health("ha-lbint", &[id.to_owned()]).await.unwrap();
    assert_eq!(health[0].state.as_str(), "OutOfService", "{health:?}");
    // moto differs from AWS: it gives reason `N/A` and description `N/A`
    // where AWS says `Instance` / "Instance is in stopped state."
    assert!(!health[0].reason_code.is_empty() && !health[0].description.is_empty(), "{health:?}");
    cloud.start_instance(id).await.unwrap();
    let states = cloud.describe_instances(&Filter::ids([id])).await.unwrap();
    assert_ne!(states[0].state, InstanceState::Stopped);

    let err = faults.stop_httpd(id).await.unwrap_err();
    assert_eq!(err.code, "UnsupportedOperation");
    assert!(err.message.contains("stop-instance or isolate"), "{}", err.message);
}

pub(crate) fn target(endpoint: &str, region: &str) -> AwsTarget {
    AwsTarget { region: region.to_owned(), profile: None, endpoint_url: Some(endpoint.to_owned()) }
}

#[tokio::test]
async fn aws_errors_keep_the_code_and_message_aws_gave() {
    let Some(endpoint) = moto("the aws error mapping test") else { return };
    let aws = AwsCloud::new(target(&endpoint, "eu-central-1"), AwsTuning::default());
    let tags = Tags::from([("hawaf:stack".to_owned(), "moto-errors".to_owned())]);
    let vpc = aws.create_vpc("10.1.0.0/16".parse().unwrap(), tags.clone()).await.unwrap();

    let err = aws.create_subnet(&vpc.id, "10.2.0.0/24".parse().unwrap(), "eu-central-1a", tags.clone()).await;
    let err = err.unwrap_err();
    assert_eq!(err.code, "InvalidSubnet.Range", "{err}");
    assert!(err.message.contains("10.2.0.0/24"), "AWS's own message: {err}");

    let sg = aws.create_security_group(&vpc.id, "dup", "first", tags.clone()).await.unwrap();
    let err = aws.create_security_group(&vpc.id, "dup", "second", tags.clone()).await.unwrap_err();
    assert_eq!(err.code, "InvalidGroup.Duplicate", "{err}");
    let rule = IngressRule::tcp(80, RuleSource::Cidr("0.0.0.0/0".parse().unwrap()));
    aws.authorize_ingress(&sg.id, std::slice::from_ref(&rule)).await.unwrap();
    let err = aws.authorize_ingress(&sg.id, &[rule]).await.unwrap_err();
    assert_eq!(err.code, "InvalidPermission.Duplicate", "{err}");

    // moto differs from AWS: it deletes a VPC that still holds a security
    // group (AWS refuses); a subnet in it makes both refuse.
    aws.create_subnet(&vpc.id, "10.1.1.0/24".parse().unwrap(), "eu-central-1a", tags.clone()).await.unwrap();
    let err = aws.delete_vpc(&vpc.id).await.unwrap_err();
    assert_eq!(err.code, "DependencyViolation", "a VPC with a subnet in it: {err}");

    let err = aws.describe_instances(&Filter::ids(["i-0123456789abcdef0"])).await.unwrap_err();
    assert_eq!(err.code, "InvalidInstanceID.NotFound", "{err}");
    assert!(err.is_not_found());
    // A call naming something that does not exist (yet) is retried for a
    // while, since on AWS a resource created a second ago may not be
    // visible everywhere; a wrong id still ends with AWS's answer.
    let patient = AwsCloud::new(
        target(&endpoint, "eu-central-1"),
        AwsTuning { consistency_wait: Duration::from_secs(1), ..AwsTuning::default() },
    );
    let igw = patient.create_internet_gateway(tags.clone()).await.unwrap();
    let started = Instant::now();
    let err = patient.attach_internet_gateway(&igw.id, "vpc-0123456789abcdef0").await.unwrap_err();
    assert_eq!(err.code, "InvalidVpcID.NotFound", "{err}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(700) && waited < Duration::from_secs(5), "retried for {waited:?}");

    let err = aws.describe_load_balancers(&["no-such-lb".to_owned()]).await.unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound", "{err}");
    assert!(err.is_not_found());

    // Health-check bounds: AWS answers ValidationError; the adapter gives the
    // same answer before sending (moto with this SDK does not check them).
    let bad = HealthCheck { interval: 1, ..HealthCheck::aws_default(80) };
    let err = aws.configure_health_check("no-such-lb", bad).await.unwrap_err();
    assert_eq!(err.code, "ValidationError", "{err}");
}

/// A loopback port that accepts connections and never answers.
fn black_hole() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (url, handle)
}

#[tokio::test]
async fn an_aws_endpoint_that_does_not_answer_fails_the_step_quickly_with_a_clear_message() {
    // Needs the run's dummy credentials (the call must get as far as the network).
    if moto("the silent endpoint test").is_none() {
        return;
    }
    let quick = AwsTuning {
        max_attempts: 2,
        connect_timeout: Duration::from_secs(1),
        attempt_timeout: Duration::from_secs(1),
        operation_timeout: Duration::from_secs(3),
        consistency_wait: Duration::ZERO,
    };
    let app = spawn_app_with(|c| c.aws = quick).await;
    let token = app.token(Role::Operator).await;
    let (silent, _hole) = black_hole();
    create_stack(&app, &token, aws_stack("silent", "ap-southeast-2", &silent)).await;
    let started = Instant::now();
    let build = app.apply(&token, "silent").await;
    assert!(started.elapsed() < Duration::from_secs(15), "bounded: took {:?}", started.elapsed());
    assert_eq!(build.status, BuildStatus::Failed);
    let error = step(&build, 1).error.as_deref().unwrap();
    assert!(error.contains("Timeout: no answer from the AWS endpoint"), "{error}");
    assert!(error.contains(&silent), "names the endpoint: {error}");

    // Nothing listens at all: refused, said as much, also quickly.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let aws = AwsCloud::new(target(&closed, "ap-southeast-2"), quick);
    let started = Instant::now();
    let err = aws.describe_vpcs(&Filter::all()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "bounded: took {:?}", started.elapsed());
    assert_eq!(err.code, "EndpointUnreachable", "{err}");
    assert!(err.message.contains(&closed), "{err}");
}

/// A `hawaf serve` process of its own, for tests that need an environment
/// other than the test process's: every `AWS_*` variable removed, then
/// `env` set. No profile files and no instance metadata, so the credential
/// chain never leaves the loopback.
struct Server {
    child: std::process::Child,
    base: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hawaf.db");
        let token = {
            let store = hawaf::store::Store::open(&db).await.unwrap();
            // An admin: some of these stacks name an endpoint, which only admins may set.
            hawaf::auth::add_user(&store, "test", "op", "correct-horse-battery", Role::Admin).await.unwrap();
            hawaf::auth::create_api_token(&store, "test", "op", "tests").await.unwrap()
        };
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hawaf"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        cmd.args(["serve", "--bind", &addr.to_string(), "--db", db.to_str().unwrap()])
            .env("HOME", dir.path())
            .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("no-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let server = Server { child: cmd.spawn().unwrap(), base: format!("http://{addr}"), token, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{}/healthz", server.base)).await.is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }

    fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(method, format!("{}/api/v1{path}", self.base)).bearer_auth(&self.token)
    }

    /// Starts a build (`apply` or `destroy`) and waits, bounded, for its end.
    async fn build(&self, stack: &str, kind: &str) -> Build {
        let res = self.api(reqwest::Method::POST, &format!("/stacks/{stack}/{kind}")).send().await.unwrap();
        assert_eq!(res.status(), 202);
        let id = res.json::<BuildAccepted>().await.unwrap().build_id;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let b: Build =
                self.api(reqwest::Method::GET, &format!("/builds/{id}")).send().await.unwrap().json().await.unwrap();
            if b.status != BuildStatus::Running {
                return b;
            }
            assert!(Instant::now() < deadline, "the build did not finish: {b:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Stops the server process when the test ends, however it ends.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn an_aws_build_without_credentials_says_how_to_provide_them() {
    let server = Server::start(&[]).await;
    // The endpoint is a closed loopback port: the call must fail before it.
    let res = server
        .api(reqwest::Method::POST, "/stacks")
        .json(&aws_stack("nocreds", "us-east-2", "http://127.0.0.1:9"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let build = server.build("nocreds", "apply").await;
    assert_eq!(build.status, BuildStatus::Failed);
    let error = step(&build, 1).error.as_deref().unwrap();
    assert!(error.contains("NoCredentials: no AWS credentials found"), "{error}");
    assert!(error.contains("AWS_PROFILE") && error.contains("AWS_ACCESS_KEY_ID"), "says what to set: {error}");
}

#[tokio::test]
async fn aws_endpoint_url_and_keys_from_the_environment_serve_stacks_that_name_no_endpoint() {
    let Some(endpoint) = moto("the AWS_ENDPOINT_URL test") else { return };
    let server = Server::start(&[
        ("AWS_ENDPOINT_URL", &endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ])
    .await;
    let region = "sa-east-1";
    let mut definition = aws_stack("from-env", region, &endpoint);
    definition["aws"] = json!({"region": region});
    let res = server.api(reqwest::Method::POST, "/stacks").json(&definition).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_built_up_to_waf_configuration(&server.build("from-env", "apply").await);
    let sdk = sdk(&endpoint, region);
    assert_eq!(live_instances(&sdk, "from-env").await.len(), 4, "built in moto, found through AWS_ENDPOINT_URL");
    let down = server.build("from-env", "destroy").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    assert_nothing_left(&sdk, "from-env").await;
}

/// Deploys a template to moto's CloudFormation with boto3 (moto's own
/// dependency, in scripts/test's venv: `HAWAF_PYTHON`); answers the stack's
/// final status and, on failure, its events.
fn deploy_with_cloudformation(
    python: &std::ffi::OsStr,
    endpoint: &str,
    region: &str,
    name: &str,
    template: &str,
) -> String {
    const SCRIPT: &str = r#"
import json, sys, time, boto3, yaml
endpoint, region, name, path = sys.argv[1:5]
template = yaml.safe_load(open(path))
# moto 5.2.5 reads an instance's groups from SecurityGroups (as ids) and
# ignores SecurityGroupIds, which AWS requires in a VPC: moto only, copied.
for r in template["Resources"].values():
    if r["Type"] == "AWS::EC2::Instance":
        r["Properties"]["SecurityGroups"] = r["Properties"]["SecurityGroupIds"]
cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name=region)
cfn.create_stack(StackName=name, TemplateBody=json.dumps(template, default=str))
for _ in range(120):
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    if not status.endswith("IN_PROGRESS"):
        break
    time.sleep(0.5)
print(status)
# moto 5.2.5 leaves an Elastic IP's Tags out ("TODO" in its source): put
# them on as AWS would, from the template, moto only.
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region)
for res in cfn.describe_stack_resources(StackName=name)["StackResources"]:
    if res["ResourceType"] == "AWS::EC2::EIP":
        tags = template["Resources"][res["LogicalResourceId"]]["Properties"].get("Tags", [])
        found = ec2.describe_addresses(PublicIps=[res["PhysicalResourceId"]])["Addresses"]
        if tags and found:
            ec2.create_tags(Resources=[found[0]["AllocationId"]], Tags=tags)
if status != "CREATE_COMPLETE":
    for e in cfn.describe_stack_events(StackName=name)["StackEvents"]:
        print(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("template.yaml");
    std::fs::write(&file, template).unwrap();
    let out = std::process::Command::new(python)
        .args(["-c", SCRIPT, endpoint, region, name])
        .arg(&file)
        .output()
        .expect("python runs");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn the_cloudformation_export_deploys_to_moto_as_the_same_resources_a_build_makes() {
    let Some(endpoint) = moto("the CloudFormation export") else { return };
    let Some(python) = std::env::var_os("HAWAF_PYTHON").filter(|p| !p.is_empty()) else {
        eprintln!("skipped: HAWAF_PYTHON is not set (scripts/test sets it to its venv's python with boto3)");
        return;
    };
    let region = "ca-central-1";
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let def = create_stack(&app, &token, aws_stack("cfn-export", region, &endpoint)).await;
    let res = app.api(reqwest::Method::GET, "/stacks/cfn-export/export/cloudformation", &token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let template = res.text().await.unwrap();
    let out = deploy_with_cloudformation(&python, &endpoint, region, "cfn-export", &template);
    assert!(out.starts_with("CREATE_COMPLETE"), "moto's CloudFormation: {out}");
    // What the template made, read back through the SDK, is what a hawaf
    // build makes: the same check as the build test's.
    assert_matches(&sdk(&endpoint, region), "cfn-export", &def, Placement::NotByMotoCloudFormation).await;
}
