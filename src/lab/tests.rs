//! The seed's topology built through the `Cloud` port alone, then exercised
//! with real HTTP from the test (127.0.0.1 = the internet).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Lab, LabConfig, WafAdmin};
use crate::cloud::{
    Cloud, CloudError, CreateLoadBalancerRequest, ErrorCode, Faults, Filter, HealthCheck, HealthState, IngressRule,
    Listener, ResourceKind, RouteTarget, RunInstanceRequest, Scheme, TAG_NAME, TAG_ROLE, TAG_STACK, Tags,
};

/// Health checks run 5x faster than AWS: interval 5 s -> 1 s.
const SPEEDUP: u32 = 5;
/// Upper bound for anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn t(name: &str) -> Tags {
    let mut tags = Tags::new();
    tags.insert(TAG_NAME.into(), name.into());
    tags.insert(TAG_STACK.into(), "seed".into());
    tags
}

fn check() -> HealthCheck {
    HealthCheck {
        target: "HTTP:80/index.html".into(),
        interval: 5,
        timeout: 2,
        healthy_threshold: 2,
        unhealthy_threshold: 2,
    }
}

fn net(s: &str) -> ipnet::Ipv4Net {
    s.parse().expect("test CIDR")
}

struct Stack {
    lab: Lab,
    web: [String; 2],
    utm: [String; 2],
    sg: HashMap<&'static str, String>,
    frontends: HashMap<String, String>,
}

impl Stack {
    fn ext_url(&self) -> String {
        self.lab.lb_url("ha-lbext").expect("external LB listens")
    }
}

async fn build_stack() -> Stack {
    install_crypto();
    let lab = Lab::new(LabConfig { speedup: SPEEDUP, ..LabConfig::default() });
    let cloud: &dyn Cloud = &lab;

    // Step 1: VPC, internet gateway, route table.
    let vpc = cloud.create_vpc(net("10.0.0.0/16"), t("ha-vpc")).await.unwrap().id;
    let igw = cloud.create_internet_gateway(t("ha-igw")).await.unwrap().id;
    cloud.attach_internet_gateway(&igw, &vpc).await.unwrap();
    let rtb = cloud.create_route_table(&vpc, t("ha-rtb")).await.unwrap().id;
    cloud.create_route(&rtb, net("0.0.0.0/0"), RouteTarget::Gateway(igw.clone())).await.unwrap();

    // Step 2: subnets.
    let mut subnets = HashMap::new();
    for (name, cidr, az) in [
        ("public-a", "10.0.10.0/24", "lab-1a"),
        ("public-b", "10.0.11.0/24", "lab-1b"),
        ("web-a", "10.0.20.0/24", "lab-1a"),
        ("web-b", "10.0.21.0/24", "lab-1b"),
    ] {
        let s = cloud.create_subnet(&vpc, net(cidr), az, t(name)).await.unwrap();
        cloud.associate_route_table(&rtb, &s.id).await.unwrap();
        subnets.insert(name, s.id);
    }

    // Step 3: the four groups, exactly as the seed's table (admin = 127.0.0.1).
    let mut sg = HashMap::new();
    for name in ["secg-lbext", "secg-utm", "secg-lbint", "secg-web"] {
        let g = cloud.create_security_group(&vpc, name, name, t(name)).await.unwrap();
        sg.insert(name, g.id);
    }
    let admin = net("127.0.0.1/32");
    let rules = [
        ("secg-lbext", vec![IngressRule::tcp_from_cidr(80, net("0.0.0.0/0"))]),
        ("secg-utm", vec![IngressRule::tcp_from_group(80, &sg["secg-lbext"]), IngressRule::tcp_from_cidr(4444, admin)]),
        ("secg-lbint", vec![IngressRule::tcp_from_group(80, &sg["secg-utm"])]),
        ("secg-web", vec![IngressRule::tcp_from_group(80, &sg["secg-lbint"]), IngressRule::tcp_from_cidr(22, admin)]),
    ];
    for (g, r) in rules {
        cloud.authorize_ingress(&sg[g], &r).await.unwrap();
    }

    // Step 4: web servers.
    let mut web = Vec::new();
    for (name, subnet) in [("ha-web-left", "web-a"), ("ha-web-right", "web-b")] {
        let mut tags = t(name);
        tags.insert(TAG_ROLE.into(), "web".into());
        let i = cloud
            .run_instance(RunInstanceRequest {
                subnet_id: subnets[subnet].clone(),
                image_id: "ami-0abcdef1234567890".into(),
                instance_type: "t1.micro".into(),
                private_ip: None,
                security_groups: vec![sg["secg-web"].clone()],
                user_data: Some("#!/bin/sh\nyum install -y httpd && service httpd start\n".into()),
                client_token: Some(format!("seed-{name}")),
                tags,
            })
            .await
            .unwrap();
        let eip = cloud.allocate_address(t(name)).await.unwrap();
        cloud.associate_address(&eip.allocation_id, &i.id).await.unwrap();
        web.push(i.id);
    }

    // Step 5: internal LB.
    cloud
        .create_load_balancer(CreateLoadBalancerRequest {
            kind: Default::default(),
            name: "ha-lbint".into(),
            scheme: Scheme::Internal,
            subnets: vec![subnets["web-a"].clone(), subnets["web-b"].clone()],
            security_groups: vec![sg["secg-lbint"].clone()],
            listeners: vec![Listener::http(80, 80)],
            tags: t("ha-lbint"),
        })
        .await
        .unwrap();
    cloud.configure_health_check("ha-lbint", check()).await.unwrap();
    cloud.register_instances("ha-lbint", &web).await.unwrap();

    // Step 6: WAF nodes with explicit private IPs.
    let mut utm = Vec::new();
    for (name, subnet, ip) in [("ha-utm-left", "public-a", "10.0.10.10"), ("ha-utm-right", "public-b", "10.0.11.10")] {
        let mut tags = t(name);
        tags.insert(TAG_ROLE.into(), "waf".into());
        let i = cloud
            .run_instance(RunInstanceRequest {
                subnet_id: subnets[subnet].clone(),
                image_id: "ami-0utm9000000000000".into(),
                instance_type: "m1.small".into(),
                private_ip: Some(ip.parse().unwrap()),
                security_groups: vec![sg["secg-utm"].clone()],
                user_data: None,
                client_token: Some(format!("seed-{name}")),
                tags,
            })
            .await
            .unwrap();
        utm.push(i.id);
    }

    // Step 7: external LB.
    let ext = cloud
        .create_load_balancer(CreateLoadBalancerRequest {
            kind: Default::default(),
            name: "ha-lbext".into(),
            scheme: Scheme::InternetFacing,
            subnets: vec![subnets["public-a"].clone(), subnets["public-b"].clone()],
            security_groups: vec![sg["secg-lbext"].clone()],
            listeners: vec![Listener::http(80, 80)],
            tags: t("ha-lbext"),
        })
        .await
        .unwrap();
    cloud.configure_health_check("ha-lbext", check()).await.unwrap();
    cloud.register_instances("ha-lbext", &utm).await.unwrap();

    // Step 8: WAF configuration over the UTM REST API.
    let int_dns = cloud.describe_load_balancers(&["ha-lbint".into()]).await.unwrap().remove(0).dns_name;
    let mut frontends = HashMap::new();
    for id in &utm {
        let admin = lab.waf_admin(id).expect("WAF admin endpoint");
        let fe = configure_waf(&admin, &int_dns, &ext.dns_name).await;
        frontends.insert(id.clone(), fe);
    }

    let _ = vpc;
    let stack =
        Stack { lab, web: [web[0].clone(), web[1].clone()], utm: [utm[0].clone(), utm[1].clone()], sg, frontends };
    wait_in_service(&stack.lab, "ha-lbint", 2).await;
    wait_in_service(&stack.lab, "ha-lbext", 2).await;
    stack
}

// ---------------------------------------------------------------------------
// Helpers

/// Accepts exactly the certificate whose SHA-256 is pinned, as the main
/// crate's UTM client does.
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        use sha2::Digest as _;
        let fp = super::ec2::hex(&sha2::Sha256::digest(end_entity.as_ref()));
        if fp == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("certificate fingerprint changed".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn utm_client(fingerprint: &str) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned { fingerprint: fingerprint.into(), provider }))
        .with_no_client_auth();
    reqwest::Client::builder().use_preconfigured_tls(config).timeout(Duration::from_secs(10)).build().expect("client")
}

fn http_client() -> reqwest::Client {
    install_crypto();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(0).build().expect("client")
}

async fn utm(admin: &WafAdmin, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let client = utm_client(&admin.fingerprint_sha256);
    let url = format!("{}objects/{path}", admin.api_url);
    let mut req = client
        .request(method, url)
        .basic_auth("token", Some(&admin.token))
        .header("Accept", "application/json")
        .header("X-Restd-Err-Ack", "all");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("UTM API answers");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn create(admin: &WafAdmin, typ: &str, body: Value) -> String {
    let (status, v) = utm(admin, reqwest::Method::POST, &format!("{typ}/"), Some(body)).await;
    assert_eq!(status, 201, "{typ}: {v}");
    v["_ref"].as_str().expect("_ref").to_string()
}

/// Step 8 as UTM9-API.md describes it; returns the frontend's REF.
async fn configure_waf(admin: &WafAdmin, int_dns: &str, ext_dns: &str) -> String {
    let host = create(
        admin,
        "network/dns_host",
        json!({"name": "hawaf ha-lbint", "hostname": int_dns, "comment": "managed by hawaf"}),
    )
    .await;
    let backend = create(
        admin,
        "reverse_proxy/backend",
        json!({"name": "hawaf real ha-lbint", "host": host, "port": 80, "path": "/", "ssl": false,
               "status": true, "keepalive": true, "timeout": 300,
               "disable_backend_connection_pooling": false, "comment": ""}),
    )
    .await;
    let location = create(
        admin,
        "reverse_proxy/location",
        json!({"name": "hawaf /", "path": "/", "backend": [backend], "status": true,
               "access_control": "0", "allowed_networks": ["REF_NetworkAny"], "denied_networks": [],
               "auth_profile": "", "be_path": "", "hot_standby": false, "stickysession_status": false,
               "stickysession_id": "ROUTEID", "websocket_passthrough": false, "comment": ""}),
    )
    .await;
    let profile =
        create(admin, "reverse_proxy/profile", json!({"name": "hawaf default", "waf": true, "wafmode": "deny"})).await;
    let frontend = create(
        admin,
        "reverse_proxy/frontend",
        json!({"name": "hawaf ha-lbext", "domain": [ext_dns], "port": 80, "type": "http",
               "address": "REF_DefaultInternalAddress", "locations": [location], "profile": profile,
               "status": true, "allowed_networks": ["REF_NetworkAny"], "lbmethod": "bybusyness",
               "xheaders": false, "preservehost": false, "htmlrewrite": false,
               "htmlrewrite_cookies": false, "implicitredirect": false, "disable_compression": false,
               "add_content_type_header": false, "certificate": "", "exceptions": [], "comment": ""}),
    )
    .await;
    // Webserver Protection itself, off on a fresh node.
    let (status, v) = node_put(admin, "reverse_proxy.status", json!(true)).await;
    assert_eq!(status, 200, "{v}");
    frontend
}

async fn node_put(admin: &WafAdmin, path: &str, value: Value) -> (u16, Value) {
    let url = format!("{}nodes/{path}", admin.api_url);
    let resp = utm_client(&admin.fingerprint_sha256)
        .put(url)
        .basic_auth("token", Some(&admin.token))
        .json(&value)
        .send()
        .await
        .expect("the admin API answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn set_frontend(stack: &Stack, utm_id: &str, status: bool) {
    let admin = stack.lab.waf_admin(utm_id).expect("admin");
    let fe = &stack.frontends[utm_id];
    let (code, v) =
        utm(&admin, reqwest::Method::PATCH, &format!("reverse_proxy/frontend/{fe}"), Some(json!({"status": status})))
            .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], json!(status));
}

async fn health(lab: &Lab, lb: &str) -> Vec<(String, HealthState, String)> {
    lab.describe_instance_health(lb, &[])
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.instance_id, h.state, h.description))
        .collect()
}

async fn in_service(lab: &Lab, lb: &str) -> Vec<String> {
    health(lab, lb).await.into_iter().filter(|(_, s, _)| *s == HealthState::InService).map(|(i, _, _)| i).collect()
}

async fn wait_until<F, Fut>(what: &str, mut cond: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    start.elapsed()
}

async fn wait_in_service(lab: &Lab, lb: &str, n: usize) -> Duration {
    wait_until(&format!("{n} in service on {lb}"), || async { in_service(lab, lb).await.len() == n }).await
}

/// Sends `n` GETs to `url`; returns (status, which web server answered).
async fn probe(url: &str, n: usize) -> Vec<(u16, String)> {
    let client = http_client();
    let mut out = Vec::new();
    for _ in 0..n {
        let r = client.get(format!("{url}index.html")).send().await;
        match r {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp.text().await.unwrap_or_default();
                let who = if body.contains("ha-web-left") {
                    "left"
                } else if body.contains("ha-web-right") {
                    "right"
                } else {
                    ""
                };
                out.push((status, who.to_string()));
            }
            Err(_) => out.push((0, String::new())),
        }
    }
    out
}

fn count(results: &[(u16, String)], who: &str) -> usize {
    results.iter().filter(|(s, w)| *s == 200 && w == who).count()
}

// ---------------------------------------------------------------------------
// The topology, end to end

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_web_servers_answer_about_equally_and_sql_injection_gets_403() {
    let stack = build_stack().await;
    let url = stack.ext_url();
    assert!(url.starts_with("http://127."), "{url}");

    let results = probe(&url, 40).await;
    let (left, right) = (count(&results, "left"), count(&results, "right"));
    assert_eq!(left + right, 40, "every request is served: {results:?}");
    assert!((12..=28).contains(&left), "left {left} right {right}");

    let client = http_client();
    let resp = client.get(format!("{url}?id=1' OR '1'='1")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    for (path, rule) in [
        ("?q=<script>alert(1)</script>", "xss"),
        ("?file=../../etc/passwd", "path-traversal"),
        ("?id=1 UNION SELECT password FROM users", "sql-injection"),
    ] {
        let resp = client.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{path} ({rule})");
    }
    let resp =
        client.post(format!("{url}index.html")).body("comment=<img src=x onerror=alert(1)>").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403, "XSS in a small body");
    let hits: u64 = stack.utm.iter().map(|u| stack.lab.waf_rule_hits(u).values().sum::<u64>()).sum();
    assert_eq!(hits, 5, "every block is counted per rule");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_httpd_takes_a_web_server_out_within_the_unhealthy_threshold() {
    let stack = build_stack().await;
    let lab = &stack.lab;
    let [left, right] = &stack.web;
    lab.stop_httpd(left).unwrap();
    let took = wait_until("left out of service", || async {
        health(lab, "ha-lbint")
            .await
            .iter()
            .any(|(i, s, d)| i == left && *s == HealthState::OutOfService && d.contains("UnhealthyThreshold"))
    })
    .await;
    let interval = lab.config().scaled(check().interval);
    let bound = interval * check().unhealthy_threshold + interval;
    // 300 ms of slack for a busy two-core machine.
    assert!(took <= bound + Duration::from_millis(300), "took {took:?}, bound {bound:?}");
    assert_eq!(in_service(lab, "ha-lbint").await, vec![right.clone()]);

    let results = probe(&stack.ext_url(), 10).await;
    assert_eq!(count(&results, "right"), 10, "{results:?}");

    lab.start_httpd(left).unwrap();
    wait_in_service(lab, "ha-lbint", 2).await;
    let results = probe(&stack.ext_url(), 10).await;
    assert!(count(&results, "left") >= 3, "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_one_waf_frontend_keeps_service_and_closing_both_gives_503() {
    let stack = build_stack().await;
    let lab = &stack.lab;
    let [left, right] = &stack.utm;
    set_frontend(&stack, left, false).await;
    assert!(!lab.node_status(left).unwrap().listeners.contains_key(&80), "port 80 closed");
    wait_until("left WAF out", || async { in_service(lab, "ha-lbext").await == vec![right.clone()] }).await;
    let results = probe(&stack.ext_url(), 10).await;
    assert_eq!(results.iter().filter(|(s, _)| *s == 200).count(), 10, "{results:?}");

    set_frontend(&stack, right, false).await;
    wait_in_service(lab, "ha-lbext", 0).await;
    let results = probe(&stack.ext_url(), 3).await;
    assert!(results.iter().all(|(s, _)| *s == 503), "{results:?}");

    set_frontend(&stack, left, true).await;
    set_frontend(&stack, right, true).await;
    wait_in_service(lab, "ha-lbext", 2).await;
    let results = probe(&stack.ext_url(), 4).await;
    assert!(results.iter().all(|(s, _)| *s == 200), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_group_that_admits_only_the_waf_group_takes_both_web_servers_out() {
    let stack = build_stack().await;
    let lab = &stack.lab;
    let web_sg = &stack.sg["secg-web"];
    lab.authorize_ingress(web_sg, &[IngressRule::tcp_from_group(80, &stack.sg["secg-utm"])]).await.unwrap();
    lab.revoke_ingress(web_sg, &[IngressRule::tcp_from_group(80, &stack.sg["secg-lbint"])]).await.unwrap();
    wait_in_service(lab, "ha-lbint", 0).await;
    for (_, s, d) in health(lab, "ha-lbint").await {
        assert_eq!(s, HealthState::OutOfService);
        assert_eq!(d, "Instance has failed at least the UnhealthyThreshold number of health checks consecutively.");
    }
    let results = probe(&stack.ext_url(), 2).await;
    assert!(results.iter().all(|(s, _)| *s >= 500), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_or_isolating_an_instance_takes_it_out_of_service() {
    let stack = build_stack().await;
    let lab = &stack.lab;
    let [left, right] = &stack.web;
    lab.stop_instance(left).await.unwrap();
    let h = lab.describe_instance_health("ha-lbint", std::slice::from_ref(left)).await.unwrap();
    assert_eq!(h[0].state, HealthState::OutOfService);
    assert_eq!(h[0].description, "Instance is in stopped state.");
    assert_eq!(in_service(lab, "ha-lbint").await, vec![right.clone()]);
    lab.start_instance(left).await.unwrap();
    wait_in_service(lab, "ha-lbint", 2).await;

    Faults::isolate(lab, right).await.unwrap();
    let inst = lab.describe_instances(&Filter::ids([right.clone()])).await.unwrap();
    assert_ne!(inst[0].security_groups, vec![stack.sg["secg-web"].clone()]);
    wait_until("right isolated", || async { in_service(lab, "ha-lbint").await == vec![left.clone()] }).await;
    Faults::unisolate(lab, right).await.unwrap();
    let inst = lab.describe_instances(&Filter::ids([right.clone()])).await.unwrap();
    assert_eq!(inst[0].security_groups, vec![stack.sg["secg-web"].clone()]);
    assert!(
        lab.find_by_tags(ResourceKind::SecurityGroup, &t(super::QUARANTINE_GROUP)).await.unwrap().is_empty(),
        "the quarantine group goes once unused"
    );
    wait_in_service(lab, "ha-lbint", 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_snapshot_brings_the_stack_back() {
    let stack = build_stack().await;
    set_frontend(&stack, &stack.utm[1], false).await;
    stack.lab.stop_httpd(&stack.web[1]).unwrap();
    let mut versions = stack.lab.subscribe();
    let before = *versions.borrow_and_update();
    stack.lab.start_httpd(&stack.web[1]).unwrap();
    assert!(versions.has_changed().unwrap(), "a mutation notifies subscribers");
    assert!(*versions.borrow() > before);
    stack.lab.stop_httpd(&stack.web[1]).unwrap();
    wait_until("right web out", || async { in_service(&stack.lab, "ha-lbint").await.len() == 1 }).await;

    let snap = stack.lab.snapshot();
    let json = serde_json::to_string(&snap).unwrap();
    let admin_before = stack.lab.waf_admin(&stack.utm[0]).unwrap();
    let url_before = stack.ext_url();
    let Stack { lab, utm: utm_ids, web, .. } = stack;
    drop(lab);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(probe(&url_before, 1).await[0].0 == 0, "the old lab is gone");

    let lab =
        Lab::restore(LabConfig { speedup: SPEEDUP, ..LabConfig::default() }, serde_json::from_str(&json).unwrap());
    let admin = lab.waf_admin(&utm_ids[0]).unwrap();
    assert_eq!(admin.token, admin_before.token);
    assert_eq!(admin.fingerprint_sha256, admin_before.fingerprint_sha256);
    let (code, list) = utm(&admin, reqwest::Method::GET, "reverse_proxy/frontend/", None).await;
    assert_eq!(code, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // Faults came back too: right WAF disabled, right httpd stopped.
    assert!(!lab.node_status(&utm_ids[1]).unwrap().listeners.contains_key(&80));
    assert!(!lab.node_status(&web[1]).unwrap().listeners.contains_key(&80));
    wait_until("restored external tier", || async { in_service(&lab, "ha-lbext").await == vec![utm_ids[0].clone()] })
        .await;
    wait_until("restored internal tier", || async { in_service(&lab, "ha-lbint").await == vec![web[0].clone()] }).await;
    let url = lab.lb_url("ha-lbext").unwrap();
    let results = probe(&url, 6).await;
    assert_eq!(count(&results, "left"), 6, "{results:?}");
}

// ---------------------------------------------------------------------------
// AWS rules without servers

fn code(r: Result<impl std::fmt::Debug, CloudError>) -> String {
    r.expect_err("the call must fail").code
}

#[tokio::test]
async fn bad_calls_get_the_aws_error_codes() {
    let lab = Lab::default();
    let vpc = lab.create_vpc(net("10.0.0.0/16"), t("v")).await.unwrap().id;
    assert_eq!(code(lab.create_vpc(net("10.0.0.0/8"), t("v")).await), "InvalidVpc.Range");
    assert_eq!(code(lab.create_subnet(&vpc, net("10.1.0.0/24"), "a", t("s")).await), "InvalidSubnet.Range");
    let subnet = lab.create_subnet(&vpc, net("10.0.10.0/24"), "a", t("s")).await.unwrap().id;
    assert_eq!(code(lab.create_subnet(&vpc, net("10.0.10.128/25"), "a", t("s")).await), "InvalidSubnet.Conflict");
    assert_eq!(
        code(lab.create_subnet("vpc-00000000000000000", net("10.0.1.0/24"), "a", t("s")).await),
        "InvalidVpcID.NotFound"
    );
    let sg = lab.create_security_group(&vpc, "secg-web", "web", t("g")).await.unwrap().id;
    assert_eq!(code(lab.create_security_group(&vpc, "secg-web", "web", t("g")).await), "InvalidGroup.Duplicate");
    let rule = IngressRule::tcp_from_cidr(80, net("0.0.0.0/0"));
    lab.authorize_ingress(&sg, std::slice::from_ref(&rule)).await.unwrap();
    let dup = lab.authorize_ingress(&sg, &[rule]).await.unwrap_err();
    assert_eq!(dup.code, "InvalidPermission.Duplicate");
    assert!(dup.message.contains("peer: 0.0.0.0/0, TCP, from port: 80, to port: 80, ALLOW"));
    assert_eq!(
        code(lab.authorize_ingress(&sg, &[IngressRule::tcp_from_group(80, "sg-00000000000000000")]).await),
        "InvalidGroup.NotFound"
    );
    let e = lab.delete_vpc(&vpc).await.unwrap_err();
    assert!(e.is(ErrorCode::DependencyViolation));
    assert_eq!(e.message, format!("The vpc '{vpc}' has dependencies and cannot be deleted."));
    assert_eq!(code(lab.describe_instances(&Filter::ids(["i-00000000000000000"])).await), "InvalidInstanceID.NotFound");
    assert_eq!(code(lab.stop_instance("i-00000000000000000").await), "InvalidInstanceID.NotFound");

    let run = |ip: &str, token: Option<&str>| RunInstanceRequest {
        subnet_id: subnet.clone(),
        image_id: "ami-12345678".into(),
        instance_type: "t1.micro".into(),
        private_ip: Some(ip.parse().unwrap()),
        security_groups: vec![sg.clone()],
        user_data: None,
        client_token: token.map(str::to_string),
        tags: t("i"),
    };
    assert_eq!(code(lab.run_instance(run("10.0.11.5", None)).await), "InvalidParameterValue");
    assert_eq!(code(lab.run_instance(run("10.0.10.1", None)).await), "InvalidParameterValue");
    let i = lab.run_instance(run("10.0.10.10", Some("tok"))).await.unwrap();
    let again = lab.run_instance(run("10.0.10.10", Some("tok"))).await.unwrap();
    assert_eq!(i.id, again.id, "the same client token returns the same instance");
    assert_eq!(code(lab.run_instance(run("10.0.10.10", None)).await), "InvalidIPAddress.InUse");
    assert_eq!(code(lab.delete_security_group(&sg).await), "DependencyViolation");
    assert_eq!(code(lab.delete_subnet(&subnet).await), "DependencyViolation");

    assert_eq!(code(lab.configure_health_check("nope", check()).await), "LoadBalancerNotFound");
    let lb = CreateLoadBalancerRequest {
        kind: Default::default(),
        name: "ha-lbint".into(),
        scheme: Scheme::Internal,
        subnets: vec![subnet.clone()],
        security_groups: vec![sg.clone()],
        listeners: vec![Listener::http(80, 80)],
        tags: t("lb"),
    };
    lab.create_load_balancer(lb.clone()).await.unwrap();
    let same = lab.create_load_balancer(lb.clone()).await.unwrap();
    assert!(same.dns_name.starts_with("internal-ha-lbint-"));
    let mut other = lb.clone();
    other.scheme = Scheme::InternetFacing;
    assert_eq!(code(lab.create_load_balancer(other).await), "DuplicateLoadBalancerName");
    for bad in [
        HealthCheck { interval: 4, ..check() },
        HealthCheck { interval: 301, ..check() },
        HealthCheck { timeout: 1, ..check() },
        HealthCheck { timeout: 5, ..check() },
        HealthCheck { healthy_threshold: 1, ..check() },
        HealthCheck { unhealthy_threshold: 11, ..check() },
        HealthCheck { target: "HTTP:80".into(), ..check() },
    ] {
        assert_eq!(code(lab.configure_health_check("ha-lbint", bad.clone()).await), "ValidationError", "{bad:?}");
    }
    assert_eq!(code(lab.register_instances("ha-lbint", &["i-00000000000000000".into()]).await), "InvalidInstance");
    assert_eq!(code(lab.describe_load_balancers(&["nope".into()]).await), "LoadBalancerNotFound");
    lab.delete_load_balancer("nope").await.expect("deleting a missing LB succeeds, as in AWS");
}

#[tokio::test]
async fn a_teardown_in_reverse_order_removes_everything() {
    let lab = Lab::default();
    let vpc = lab.create_vpc(net("10.0.0.0/16"), t("v")).await.unwrap().id;
    let igw = lab.create_internet_gateway(t("igw")).await.unwrap().id;
    lab.attach_internet_gateway(&igw, &vpc).await.unwrap();
    let rtb = lab.create_route_table(&vpc, t("rtb")).await.unwrap().id;
    lab.create_route(&rtb, net("0.0.0.0/0"), RouteTarget::Gateway(igw.clone())).await.unwrap();
    let subnet = lab.create_subnet(&vpc, net("10.0.20.0/24"), "a", t("s")).await.unwrap().id;
    lab.associate_route_table(&rtb, &subnet).await.unwrap();
    let lbsg = lab.create_security_group(&vpc, "secg-lbint", "lb", t("g1")).await.unwrap().id;
    let sg = lab.create_security_group(&vpc, "secg-web", "web", t("g2")).await.unwrap().id;
    lab.authorize_ingress(&sg, &[IngressRule::tcp_from_group(80, &lbsg)]).await.unwrap();
    let mut tags = t("ha-web-left");
    tags.insert(TAG_ROLE.into(), "web".into());
    let i = lab
        .run_instance(RunInstanceRequest {
            subnet_id: subnet.clone(),
            image_id: "ami-12345678".into(),
            instance_type: "t1.micro".into(),
            private_ip: None,
            security_groups: vec![sg.clone()],
            user_data: None,
            client_token: None,
            tags,
        })
        .await
        .unwrap()
        .id;
    let eip = lab.allocate_address(t("eip")).await.unwrap();
    let assoc = lab.associate_address(&eip.allocation_id, &i).await.unwrap();
    assert!(lab.instance_addr(&i, 80).is_some(), "httpd listens");
    assert_eq!(code(lab.release_address(&eip.allocation_id).await), "InvalidIPAddress.InUse");
    assert_eq!(code(lab.delete_security_group(&lbsg).await), "DependencyViolation");
    assert_eq!(code(lab.delete_internet_gateway(&igw).await), "DependencyViolation");
    assert_eq!(code(lab.delete_route_table(&rtb).await), "DependencyViolation");

    lab.disassociate_address(&assoc).await.unwrap();
    lab.release_address(&eip.allocation_id).await.unwrap();
    lab.terminate_instance(&i).await.unwrap();
    assert!(lab.instance_addr(&i, 80).is_none(), "a terminated instance listens on nothing");
    assert!(lab.find_by_tags(ResourceKind::Instance, &t("ha-web-left")).await.unwrap().is_empty());
    lab.delete_security_group(&sg).await.unwrap();
    lab.delete_security_group(&lbsg).await.unwrap();
    lab.delete_subnet(&subnet).await.unwrap();
    lab.delete_route_table(&rtb).await.unwrap();
    lab.detach_internet_gateway(&igw, &vpc).await.unwrap();
    lab.delete_internet_gateway(&igw).await.unwrap();
    lab.delete_vpc(&vpc).await.unwrap();
    assert!(lab.describe_vpcs(&Filter::all()).await.unwrap().is_empty());
    assert!(lab.describe_security_groups(&Filter::all()).await.unwrap().is_empty());
}

#[tokio::test]
async fn resources_are_found_by_their_tags() {
    let lab = Lab::default();
    let a = lab.create_vpc(net("10.0.0.0/16"), t("ha-vpc")).await.unwrap().id;
    let mut other = t("ha-vpc");
    other.insert(TAG_STACK.into(), "other".into());
    let b = lab.create_vpc(net("10.0.0.0/16"), other.clone()).await.unwrap().id;
    assert_eq!(lab.find_by_tags(ResourceKind::Vpc, &t("ha-vpc")).await.unwrap(), vec![a]);
    assert_eq!(lab.find_by_tags(ResourceKind::Vpc, &other).await.unwrap(), vec![b]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_utm_api_refuses_a_bad_token_and_reports_errors_as_the_appliance() {
    install_crypto();
    let lab = Lab::default();
    let vpc = lab.create_vpc(net("10.0.0.0/16"), t("v")).await.unwrap().id;
    let subnet = lab.create_subnet(&vpc, net("10.0.10.0/24"), "a", t("s")).await.unwrap().id;
    let sg = lab.create_security_group(&vpc, "secg-utm", "utm", t("g")).await.unwrap().id;
    lab.authorize_ingress(&sg, &[IngressRule::tcp_from_cidr(4444, net("127.0.0.1/32"))]).await.unwrap();
    let mut tags = t("ha-utm-left");
    tags.insert(TAG_ROLE.into(), "waf".into());
    let i = lab
        .run_instance(RunInstanceRequest {
            subnet_id: subnet,
            image_id: "ami-12345678".into(),
            instance_type: "m1.small".into(),
            private_ip: Some("10.0.10.10".parse().unwrap()),
            security_groups: vec![sg.clone()],
            user_data: None,
            client_token: None,
            tags,
        })
        .await
        .unwrap()
        .id;
    let admin = lab.waf_admin(&i).unwrap();
    assert_eq!(admin.fingerprint_sha256.len(), 64);
    assert!(admin.api_url.starts_with("https://127."), "{}", admin.api_url);

    let mut wrong = admin.clone();
    wrong.token = "nope".into();
    let (code401, body) = utm(&wrong, reqwest::Method::GET, "reverse_proxy/frontend/", None).await;
    assert_eq!(code401, 401, "{body}");

    let (c, body) =
        utm(&admin, reqwest::Method::POST, "reverse_proxy/backend/", Some(json!({"name": "b", "port": 80}))).await;
    assert_eq!(c, 400);
    assert_eq!(body[0]["Oattrs"], json!(["host"]));
    assert_eq!(body[0]["msgtype"], json!("OBJECT_ATTRIBUTE_MISSING"));
    assert_eq!(body[0]["fatal"], json!(1));
    assert!(body[0].get("rc").is_none() && body[0].get("msg_type").is_none(), "no field a real UTM does not send");

    let (c, _) = utm(&admin, reqwest::Method::GET, "reverse_proxy/frontend/REF_Nope", None).await;
    assert_eq!(c, 404);

    let host = create(&admin, "network/dns_host", json!({"name": "h", "hostname": "x.example"})).await;
    let backend = create(&admin, "reverse_proxy/backend", json!({"name": "b", "host": host, "port": 80})).await;
    let (c, used) = utm(&admin, reqwest::Method::GET, &format!("network/dns_host/{host}/usedby"), None).await;
    assert_eq!(c, 200);
    assert_eq!(used["objects"], json!([backend]));
    let (c, v) = utm(
        &admin,
        reqwest::Method::PUT,
        &format!("network/dns_host/{host}"),
        Some(json!({"name": "h2", "hostname": "y.example"})),
    )
    .await;
    assert_eq!((c, v["hostname"].clone()), (200, json!("y.example")));
    let (c, _) = utm(&admin, reqwest::Method::DELETE, &format!("reverse_proxy/backend/{backend}"), None).await;
    assert_eq!(c, 204);
    let (c, list) = utm(&admin, reqwest::Method::GET, "reverse_proxy/backend/", None).await;
    assert_eq!((c, list), (200, json!([])));

    // The admin port admits only the admin CIDR.
    lab.revoke_ingress(&sg, &[IngressRule::tcp_from_cidr(4444, net("127.0.0.1/32"))]).await.unwrap();
    let client = utm_client(&admin.fingerprint_sha256);
    let r = client
        .get(format!("{}objects/network/dns_host/", admin.api_url))
        .basic_auth("token", Some(&admin.token))
        .send()
        .await;
    assert!(r.is_err(), "refused by secg-utm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_start_reports_it_and_the_rest_still_runs() {
    install_crypto();
    let lab = Lab::default();
    let vpc = lab.create_vpc(net("10.0.0.0/16"), t("v")).await.unwrap().id;
    let subnet = lab.create_subnet(&vpc, net("10.0.10.0/24"), "a", t("s")).await.unwrap().id;
    let mut ids = Vec::new();
    for role in ["waf", "web"] {
        let mut tags = t(role);
        tags.insert(TAG_ROLE.into(), role.into());
        let i = lab
            .run_instance(RunInstanceRequest {
                subnet_id: subnet.clone(),
                image_id: "ami-12345678".into(),
                instance_type: "m1.small".into(),
                private_ip: None,
                security_groups: vec![],
                user_data: None,
                client_token: None,
                tags,
            })
            .await
            .unwrap();
        ids.push(i.id);
    }
    let mut snap = lab.snapshot();
    drop(lab);
    // A damaged key: the node's TLS listener cannot start.
    if let Some(w) = snap.instances.get_mut(&ids[0]).and_then(|r| r.waf.as_mut()) {
        w.key_der_b64 = "AAAA".into();
    }
    let lab = Lab::restore(LabConfig::default(), snap);
    let status = lab.node_status(&ids[0]).unwrap();
    assert!(status.error.as_deref().is_some_and(|e| e.contains("4444")), "{status:?}");
    assert!(lab.node_status(&ids[1]).unwrap().listeners.contains_key(&80));
}

#[tokio::test]
async fn create_tags_keeps_to_aws_limits_and_names_what_is_missing() {
    let lab = Lab::new(LabConfig::default());
    let vpc = lab.create_vpc("10.9.0.0/16".parse().unwrap(), Tags::new()).await.unwrap();
    lab.create_tags(ResourceKind::Vpc, &vpc.id, &t("by-hand")).await.unwrap();
    let found = lab.describe_vpcs(&Filter::ids([vpc.id.clone()])).await.unwrap();
    assert_eq!(found[0].tags, t("by-hand"));

    let reserved = Tags::from([("aws:cloudformation:stack-name".to_owned(), "x".to_owned())]);
    let err = lab.create_tags(ResourceKind::Vpc, &vpc.id, &reserved).await.unwrap_err();
    assert_eq!(err.code, "InvalidParameterValue");
    let many: Tags = (0..49).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let err = lab.create_tags(ResourceKind::Vpc, &vpc.id, &many).await.unwrap_err();
    assert_eq!(err.code, "TagLimitExceeded", "2 + 49 tags is over 50");
    let err = lab.create_tags(ResourceKind::Subnet, "subnet-0000", &t("x")).await.unwrap_err();
    assert_eq!(err.code, "InvalidSubnetID.NotFound");
    let err = lab.create_tags(ResourceKind::LoadBalancer, "nope", &t("x")).await.unwrap_err();
    assert_eq!(err.code, "LoadBalancerNotFound");
}
