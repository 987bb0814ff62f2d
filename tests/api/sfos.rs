//! Issue 16, part 2: a stack whose WAF nodes run Sophos Firewall. The lab
//! node is read back through its own XML API (raw XML here, not hawaf's
//! client), so what the test checks is what the appliance would hold.

use hawaf::cloud::Cloud;
use hawaf::contract::{BuildStatus, DriftReport, DriftStatus, DrillRequest, Verdict, WafRequest};
use hawaf::waf::WafKind;
use hawaf::xml::Element;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{NO_BODY, TestApp, fast, spawn_app};

/// Polls the migration plan until run `run_id` is no longer running.
async fn wait_run(app: &TestApp, token: &str, stack: &str, run_id: i64) -> hawaf::contract::ApplianceRun {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let plan: hawaf::contract::MigrationPlan =
            app.call(Method::GET, &format!("/stacks/{stack}/migration?to=sfos"), token, NO_BODY, 200).await;
        // Under a loaded CI machine the plan has once shown the previous run
        // just after a new one started (seen twice on 2026-12-03; not yet
        // explained, see issue 17's note): wait for the new run to show.
        let run = plan.last_run.filter(|run| run.id == run_id);
        if run.as_ref().is_some_and(|run| run.status != "running") {
            return run.expect("checked just above");
        }
        assert!(std::time::Instant::now() < deadline, "run {run_id} still running or not shown: {run:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The definition's parts that make a stack an SFOS one on the lab.
fn sfos_stack(name: &str) -> serde_json::Value {
    let image = WafKind::Sfos.lab_image();
    json!({
        "name": name,
        "waf": {"kind": "sfos"},
        "instances": {"waf-left": {"ami": image}, "waf-right": {"ami": image}},
    })
}

/// A lab node's XML API, reached as any script would.
struct NodeApi {
    url: String,
    password: String,
    instance: String,
}

impl NodeApi {
    async fn of(app: &TestApp, stack: &str, node: &str) -> Self {
        let instance = crate::helpers::lab_instance(app, stack, node).await;
        let admin = app.app.providers.lab().waf_admin(&instance.id).unwrap();
        assert_eq!(admin.appliance, WafKind::Sfos);
        assert!(admin.api_url.ends_with("/webconsole/APIController"), "{}", admin.api_url);
        NodeApi { url: admin.api_url, password: admin.token, instance: instance.id }
    }

    async fn request(&self, user: &str, password: &str, body: &str) -> Element {
        let reqxml = format!(
            "<Request><Login><Username>{user}</Username><Password>{password}</Password></Login>{body}</Request>"
        );
        let http = reqwest::Client::builder().danger_accept_invalid_certs(true).no_proxy().build().unwrap();
        let res = http.post(&self.url).form(&[("reqxml", reqxml)]).send().await.unwrap();
        assert_eq!(res.status(), 200, "the XML API answers 200 whatever happens");
        Element::parse(&res.text().await.unwrap()).unwrap()
    }

    async fn call(&self, body: &str) -> Element {
        self.request("admin", &self.password, body).await
    }

    async fn rule(&self, name: &str) -> Element {
        let r = self
            .call(&format!(
                "<Get><FirewallRule><Filter><key name=\"Name\" criteria=\"=\">{name}</key></Filter></FirewallRule></Get>"
            ))
            .await;
        r.child("FirewallRule").cloned().unwrap_or_else(|| panic!("no rule in {r:?}"))
    }
}

#[tokio::test]
async fn a_sophos_firewall_stack_builds_switches_and_passes_every_drill_on_the_lab() {
    let app = spawn_app().await;
    let token = app.token(hawaf::auth::Role::Operator).await;

    // The lab boots what the image is: an SFOS stack on the UTM image is refused before any call.
    let (status, body) =
        app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "wrongimg", "waf": {"kind": "sfos"}}))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "instances.waf-left.ami", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(WafKind::Sfos.lab_image()), "{body}");
    let (status, body) =
        app.api_json(Method::POST, "/stacks", &token, Some(json!({"name": "badwaf", "waf": {"kind": "xg"}}))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "waf.kind", "{body}");

    let (status, body) = app.api_json(Method::POST, "/stacks", &token, Some(sfos_stack("xgs"))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["definition"]["waf"]["kind"], "sfos", "{body}");

    let build = app.apply(&token, "xgs").await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
    let step8 = build.steps.iter().find(|s| s.number == 8).unwrap();
    for op in
        ["SFOS Login (API version)", "SFOS FQDNHost", "SFOS RealServers", "SFOS ProtocolSecurity", "SFOS FirewallRule"]
    {
        assert!(step8.calls.iter().any(|c| c.operation == op), "{op}: {:#?}", step8.calls);
    }

    // What step 8 left on the node, read through the node's own API.
    let left = NodeApi::of(&app, "xgs", "ha-utm-left").await;
    let rule = left.rule("hawaf ha-lbext").await;
    assert_eq!(rule.text_of("Status"), Some("Enable"));
    assert_eq!(rule.text_of("PolicyType"), Some("HTTPBased"));
    let http = rule.child("HTTPBasedPolicy").unwrap();
    assert_eq!(http.text_of("ListenPort"), Some("80"));
    assert_eq!(http.text_of("ProtocolSecurity"), Some("hawaf default"));
    let lab = app.app.providers.lab();
    let lb = lab.describe_load_balancers(&["ha-lbext".to_owned()]).await.unwrap();
    assert_eq!(http.list("Domains", "Domain"), vec![lb[0].dns_name.clone()]);

    // It serves and filters through the external load balancer.
    let url = lab.lb_url("ha-lbext").expect("listens");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let blocked = reqwest::get(format!("{url}?id=1%27%20OR%20%271%27=%271")).await.unwrap();
    assert_eq!(blocked.status(), 403, "the SFOS policy rejects SQL injection");

    // The switch is the rule's Status, read back from the node.
    let off = app.switch_waf(&token, "xgs", "ha-utm-left", &WafRequest { enabled: false, confirm: None }).await;
    assert!(!off.enabled);
    assert_eq!(left.rule("hawaf ha-lbext").await.text_of("Status"), Some("Disable"));
    let on = app.switch_waf(&token, "xgs", "ha-utm-left", &WafRequest { enabled: true, confirm: None }).await;
    assert!(on.enabled);
    assert_eq!(left.rule("hawaf ha-lbext").await.text_of("Status"), Some("Enable"));

    // Health shows the firmware from the API version and no UTM end of life.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let health = loop {
        let h = app.health(&token, "xgs").await;
        if h.waf.values().all(|w| w.firmware.is_some()) {
            break h;
        }
        assert!(std::time::Instant::now() < deadline, "no firmware read: {h:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!((health.tiers.external.in_service, health.tiers.internal.in_service), (2, 2), "{health:#?}");
    for (node, w) in &health.waf {
        assert_eq!(w.firmware.as_deref(), Some("SFOS 21.0 (API 2100.1)"), "{node}");
        assert_eq!((w.end_of_life.as_deref(), w.ha_mode.as_deref()), (None, None), "{node}");
    }
    app.sign_in_admin().await;
    let page = app.page("/stacks/xgs").await;
    assert!(
        page.contains("SFOS 21.0 (API 2100.1)") && page.contains("Sophos Firewall"),
        "the ops view names the appliance"
    );

    let report: DriftReport = app.call(Method::POST, "/stacks/xgs/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{report:#?}");

    for scenario in ["D1", "D2", "D3"] {
        let id = app.start_drill(&token, "xgs", &fast(scenario)).await;
        let d = app.wait_drill(&token, id).await;
        assert_eq!(d.verdict, Some(Verdict::Pass), "{scenario}: {:#?}", d.checks);
    }
    let id = app.start_drill(&token, "xgs", &DrillRequest { confirm: Some("xgs".into()), ..fast("D4") }).await;
    let d = app.wait_drill(&token, id).await;
    assert_eq!(d.verdict, Some(Verdict::Pass), "D4: {:#?}", d.checks);
    for node in ["ha-utm-left", "ha-utm-right"] {
        let api = NodeApi::of(&app, "xgs", node).await;
        assert_eq!(api.rule("hawaf ha-lbext").await.text_of("Status"), Some("Enable"), "{node} restored");
    }

    // The appliance's refusals, as typed errors: an address not on the API's list…
    lab.set_api_allowed(&left.instance, vec!["10.9.9.9".into()]).unwrap();
    let (status, body) =
        app.api_json(Method::POST, "/stacks/xgs/nodes/ha-utm-left/waf", &token, Some(json!({"enabled": true}))).await;
    assert!(status >= 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("534") && message.contains("Allowed IP address"), "{message}");
    lab.set_api_allowed(&left.instance, vec!["127.0.0.1".into()]).unwrap();
    // …a wrong password, and a field no SFOS has.
    let failed = left.request("admin", "wrong", "<Get><FirewallRule/></Get>").await;
    assert_eq!(failed.child("Login").and_then(|l| l.text_of("status")), Some("Authentication Failure"));
    assert!(failed.child("FirewallRule").is_none(), "nothing answered without a login");
    let odd = left
        .call("<Set operation=\"update\"><ProtocolSecurity><Name>hawaf default</Name><Mode>Reject</Mode><wafmode>deny</wafmode></ProtocolSecurity></Set>")
        .await;
    let status = odd.child("ProtocolSecurity").and_then(|p| p.child("Status")).unwrap();
    assert_eq!(status.get_attr("code"), Some("500"), "{odd:?}");
    assert!(status.text.contains("<wafmode> is not an element"), "{}", status.text);

    // Credentials given by hand (as on AWS): checked by signing in before they are stored.
    let admin = lab.waf_admin(&left.instance).unwrap();
    let access = |password: &str, username: Option<&str>| {
        json!({"api_url": admin.api_url.trim_end_matches("/webconsole/APIController"), "fingerprint": admin.fingerprint_sha256,
               "token": password, "username": username})
    };
    let (status, body) = app
        .api_json(Method::POST, "/stacks/xgs/nodes/ha-utm-left/access", &token, Some(access("wrong", Some("admin"))))
        .await;
    assert!(status >= 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("Authentication Failure"), "{body}");
    let (status, body) = app
        .api_json(Method::POST, "/stacks/xgs/nodes/ha-utm-left/access", &token, Some(access(&admin.token, None)))
        .await;
    assert!(status >= 400 && body["error"]["message"].as_str().unwrap().contains("user name"), "{body}");
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/xgs/nodes/ha-utm-left/access",
            &token,
            Some(access(&admin.token, Some("admin"))),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let back = app.switch_waf(&token, "xgs", "ha-utm-left", &WafRequest { enabled: true, confirm: None }).await;
    assert!(back.enabled, "the stored credentials work");

    let down = app.destroy(&token, "xgs").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    assert!(lab.describe_load_balancers(&[]).await.unwrap().is_empty());
}

/// A UTM 9 lab stack's nodes are replaced by Sophos Firewall ones, one at a
/// time: the other node serves throughout (no failed request, by the run's
/// own prober and by the test's), the definition then names the appliance,
/// the switch and D1 work on the new nodes, and teardown leaves nothing.
#[tokio::test]
async fn utm_9_nodes_are_replaced_by_sophos_firewall_one_at_a_time_without_a_failed_request() {
    use hawaf::contract::{MigrationAccepted, MigrationPlan};
    let app = spawn_app().await;
    let token = app.built_stack("move").await;
    let before = app.stack(&token, "move").await.version;

    let plan: MigrationPlan = app.call(Method::GET, "/stacks/move/migration?to=sfos", &token, NO_BODY, 200).await;
    assert!(plan.refusals.is_empty(), "{:?}", plan.refusals);
    assert_eq!(plan.nodes, vec!["ha-utm-left", "ha-utm-right"]);
    assert!(plan.steps.iter().any(|s| s.contains("in service")), "{:?}", plan.steps);
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/move/migration",
            &token,
            Some(json!({"to": "sfos", "image": "ami-1234567890abcdef0"})),
        )
        .await;
    assert_eq!(status, 422, "the lab boots Sophos Firewall from its own image only: {body}");
    assert_eq!(body["errors"][0]["field"], "image", "{body}");

    app.sign_in_admin().await;
    assert!(app.page("/stacks/move").await.contains("Replace the WAF nodes"), "the stack page offers it");
    let url = app.app.providers.lab().lb_url("ha-lbext").unwrap();
    let (stop, probes) = crate::generations::prober(url);
    let started: MigrationAccepted =
        app.call(Method::POST, "/stacks/move/migration", &token, Some(&json!({"to": "sfos"})), 202).await;
    let run_id = started.run_id.expect("a run");
    let (status, body) =
        app.api_json(Method::POST, "/stacks/move/migration", &token, Some(json!({"to": "sfos"}))).await;
    assert_eq!(status, 409, "one run at a time: {body}");
    let (status, body) = app.api_json(Method::POST, "/stacks/move/drills", &token, Some(json!(fast("D3")))).await;
    assert_eq!(status, 409, "no drill while one node serves alone: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("being replaced"), "{body}");

    let run = wait_run(&app, &token, "move", run_id).await;
    stop.send(()).unwrap();
    let (sent, failed) = probes.await.unwrap();
    assert_eq!(run.status, "succeeded", "{run:#?}");
    assert!(sent > 20 && failed == 0, "{failed} of {sent} requests failed during the replacement");
    for n in &run.nodes {
        assert_eq!(n.status, "done", "{n:#?}");
        assert!(n.requests > 0 && n.failed_requests == 0, "{n:#?}");
        assert_ne!(n.to_instance.as_deref(), Some(n.from_instance.as_str()), "{n:#?}");
    }
    let view = app.stack(&token, "move").await;
    assert_eq!(run.version, Some(view.version));
    assert!(view.version > before);
    assert_eq!(view.definition["waf"]["kind"], "sfos");
    assert_eq!(view.definition["instances"]["waf-left"]["ami"], WafKind::Sfos.lab_image());

    let page = app.page("/stacks/move").await;
    assert!(page.contains(&format!("Run {run_id}")) && page.contains("succeeded"), "the report is on the stack page");
    assert!(!page.contains("Replace the WAF nodes"), "not offered again");
    // The new nodes run Sophos Firewall, answer the switch and pass D1.
    let left = NodeApi::of(&app, "move", "ha-utm-left").await;
    assert_eq!(left.rule("hawaf ha-lbext").await.text_of("Status"), Some("Enable"));
    let off = app.switch_waf(&token, "move", "ha-utm-right", &WafRequest { enabled: false, confirm: None }).await;
    assert!(!off.enabled);
    let on = app.switch_waf(&token, "move", "ha-utm-right", &WafRequest { enabled: true, confirm: None }).await;
    assert!(on.enabled);
    let id = app.start_drill(&token, "move", &fast("D1")).await;
    assert_eq!(app.wait_drill(&token, id).await.verdict, Some(Verdict::Pass));
    let plan: MigrationPlan = app.call(Method::GET, "/stacks/move/migration?to=sfos", &token, NO_BODY, 200).await;
    assert!(plan.refusals.iter().any(|r| r.contains("already run Sophos Firewall")), "{:?}", plan.refusals);

    let down = app.destroy(&token, "move").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
    let lab = app.app.providers.lab();
    assert!(lab.describe_load_balancers(&[]).await.unwrap().is_empty());
}

/// A run that stops on the second node (here its Elastic IP is gone, so the
/// new instance cannot take it) leaves the first node done and the second
/// launched; the next run carries on: it does not ask the half-replaced
/// second node to serve while it "replaces" the first one again.
#[tokio::test]
async fn a_replacement_that_stopped_on_the_second_node_carries_on_when_started_again() {
    use hawaf::cloud::{Filter, InstanceState};
    use hawaf::contract::MigrationAccepted;
    let app = spawn_app().await;
    let token = app.built_stack("halfway").await;
    let lab = app.app.providers.lab();
    let right = crate::helpers::lab_instance(&app, "halfway", "ha-utm-right").await;
    let eip = lab
        .describe_addresses(&Filter::all())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.instance_id.as_deref() == Some(&right.id))
        .unwrap();
    lab.disassociate_address(eip.association_id.as_deref().unwrap()).await.unwrap();
    lab.release_address(&eip.allocation_id).await.unwrap();

    let first: MigrationAccepted =
        app.call(Method::POST, "/stacks/halfway/migration", &token, Some(&json!({"to": "sfos"})), 202).await;
    let run = wait_run(&app, &token, "halfway", first.run_id.unwrap()).await;
    assert_eq!(run.status, "failed", "{run:#?}");
    assert_eq!((run.nodes[0].status.as_str(), run.nodes[1].status.as_str()), ("done", "failed"), "{run:#?}");
    assert!(run.error.as_deref().unwrap_or_default().contains("eipalloc"), "{run:#?}");
    let view = app.stack(&token, "halfway").await;
    assert_eq!(view.definition["waf"]["kind"], "utm9", "the definition changes only at the end");

    let second: MigrationAccepted =
        app.call(Method::POST, "/stacks/halfway/migration", &token, Some(&json!({"to": "sfos"})), 202).await;
    let run = wait_run(&app, &token, "halfway", second.run_id.unwrap()).await;
    assert_eq!(run.status, "succeeded", "{run:#?}");
    assert!(run.nodes.iter().all(|n| n.status == "done" && n.failed_requests == 0), "{run:#?}");
    assert!(run.nodes[0].log.iter().any(|l| l.contains("already runs")), "{run:#?}");
    let left = crate::helpers::lab_instance(&app, "halfway", "ha-utm-left").await;
    assert_eq!((left.image_id.as_str(), left.state), (WafKind::Sfos.lab_image(), InstanceState::Running));
    let health = app.health(&token, "halfway").await;
    assert_eq!(health.tiers.external.total, 2, "{health:#?}");
    let down = app.destroy(&token, "halfway").await;
    assert_eq!(down.status, BuildStatus::Succeeded, "{down:#?}");
}
