//! Adoption on the lab (issue 14): a stack built by hand through the lab's
//! own resource API, with no hawaf tags, is found by its console names,
//! taken over, and then has health, drift and teardown like a built one;
//! no match, two matches and someone else's resources are refused with the
//! list, changing nothing.

use hawaf::auth::Role;
use hawaf::cloud::{Cloud, Filter, TAG_NAME, TAG_ROLE, TAG_STACK, Tags};
use hawaf::contract::{
    AdoptAnswer, AdoptStatus, BuildKind, BuildStatus, DestroyRequest, DriftReport, DriftStatus, StackView,
};
use hawaf::secret::Secret;
use hawaf::stack::{InstanceRole, LbRole, StackDefinition};
use hawaf::waf::{LbTarget, Pin, UtmClient};
use reqwest::Method;
use serde_json::json;

use crate::console;
use crate::helpers::{NO_BODY, TestApp, spawn_app};

/// The seed preset as the tutorial names it, under `name`.
fn tutorial(name: &str) -> StackDefinition {
    let mut draft = hawaf::stack::seed_definition("127.0.0.1/32".parse().unwrap()).to_draft();
    draft.set("name", name);
    draft.set("provider", "lab");
    hawaf::stack::parse(&draft).unwrap()
}

/// What the operator does in WebAdmin on each node: the real and virtual
/// webservers pointing at the two load balancers.
async fn configure_utms(app: &TestApp, d: &StackDefinition, by_hand: &console::ByHand) {
    let lab = app.app.providers.lab();
    let lbs = lab.describe_load_balancers(&[]).await.unwrap();
    let target = |role: LbRole| {
        let name = d.load_balancer(role).as_str();
        let lb = lbs.iter().find(|l| l.name == name).unwrap();
        LbTarget::new(name, lb.dns_name.clone())
    };
    for role in [InstanceRole::WafLeft, InstanceRole::WafRight] {
        let admin = lab.waf_admin(&by_hand.instances[&role]).expect("a UTM node boots from the UTM image");
        let client =
            UtmClient::new(&admin.api_url, Secret::new(admin.token), Pin(admin.fingerprint_sha256.parse().unwrap()))
                .unwrap();
        client.configure(&target(LbRole::Internal), &target(LbRole::External)).await.unwrap();
    }
}

async fn adopt(app: &TestApp, token: &str, name: &str, body: serde_json::Value, expect: u16) -> AdoptAnswer {
    app.call(Method::POST, &format!("/stacks/{name}/adopt"), token, Some(&body), expect).await
}

#[tokio::test]
async fn a_stack_built_by_hand_is_adopted_and_then_watched_checked_and_torn_down() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let d = tutorial("byhand");
    let lab = app.app.providers.lab();
    let by_hand = console::build(lab, &d).await;
    configure_utms(&app, &d, &by_hand).await;

    // A dry run (the default) finds everything and changes nothing.
    let look = adopt(&app, &token, "byhand", json!({"definition": {"provider": "lab"}}), 200).await;
    assert!(look.dry_run);
    assert!(look.adoptable, "{:#?}", look.resources);
    assert_eq!(look.build_id, None);
    let vpc = look.resources.iter().find(|r| r.resource == "vpc").unwrap();
    assert_eq!(vpc.id.as_deref(), Some(by_hand.vpc.as_str()));
    assert_eq!(vpc.tags, vec!["hawaf:stack=byhand".to_owned()], "only the stack's tag is new on the VPC");
    let subnet = look.resources.iter().find(|r| r.resource == "subnet/public-a").unwrap();
    assert!(subnet.detail.as_deref().unwrap_or("").contains("\"my public-a\""), "{subnet:?}");
    for wanted in ["igw", "rtb/public", "sg/web", "instance/waf-left", "eip/waf-left", "lb/internal", "lb/external"] {
        assert!(look.resources.iter().any(|r| r.resource == wanted && r.status == AdoptStatus::Found), "{wanted}");
    }
    let (status, _) = app.api_json(Method::GET, "/stacks/byhand", &token, None).await;
    assert_eq!(status, 404, "a dry run saves nothing");
    let untouched = lab.describe_vpcs(&Filter::ids([by_hand.vpc.clone()])).await.unwrap();
    assert!(!untouched[0].tags.contains_key(TAG_STACK), "a dry run tags nothing");

    // confirm must name the stack.
    let (status, body) = app
        .api_json(Method::POST, "/stacks/byhand/adopt", &token, Some(json!({"dry_run": false, "confirm": "other"})))
        .await;
    assert_eq!(status, 422, "{body}");

    let done =
        adopt(&app, &token, "byhand", json!({"definition": {"provider": "lab"}, "confirm": "byhand"}), 200).await;
    assert!(!done.dry_run);
    let build = app.build(&token, done.build_id.expect("an adoption build")).await;
    assert_eq!((build.kind, build.status), (BuildKind::Adopt, BuildStatus::Succeeded), "{build:#?}");
    assert!(crate::helpers::operations(&build).iter().any(|o| o == "CreateTags"));
    assert!(crate::helpers::operations(&build).iter().any(|o| o == "AddTags"));
    let view: StackView = app.stack(&token, "byhand").await;
    assert!(view.adopted_at.is_some());
    let waf_left =
        lab.describe_instances(&Filter::ids([by_hand.instances[&InstanceRole::WafLeft].clone()])).await.unwrap();
    let tags = &waf_left[0].tags;
    assert_eq!(tags.get(TAG_STACK).map(String::as_str), Some("byhand"));
    assert_eq!(tags.get(TAG_ROLE).map(String::as_str), Some("waf"));
    assert_eq!(tags.get(TAG_NAME).map(String::as_str), Some("ha-utm-left"));

    // Adopted: watched like a built stack, and in sync with its definition.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let h = app.health(&token, "byhand").await;
        if h.tiers.external.in_service == 2 && h.tiers.internal.in_service == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "both tiers in service: {h:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let report: DriftReport = app.call(Method::POST, "/stacks/byhand/drift", &token, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{:#?}", report.resources);

    // Adopting again is refused: it is built now.
    let (status, _) =
        app.api_json(Method::POST, "/stacks/byhand/adopt", &token, Some(json!({"confirm": "byhand"}))).await;
    assert_eq!(status, 409);

    // Its teardown deletes what hawaf did not create: the name must be typed.
    let (status, body) = app.api_json(Method::POST, "/stacks/byhand/destroy", &token, None).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("adopted"), "{body}");
    let started: hawaf::contract::BuildAccepted = app
        .call(
            Method::POST,
            "/stacks/byhand/destroy",
            &token,
            Some(&DestroyRequest { confirm: Some("byhand".into()) }),
            202,
        )
        .await;
    let gone = app.wait_build(&token, started.build_id).await;
    assert_eq!(gone.status, BuildStatus::Succeeded, "{gone:#?}");
    assert!(lab.describe_vpcs(&Filter::all()).await.unwrap().is_empty(), "nothing is left");
    assert_eq!(app.stack(&token, "byhand").await.adopted_at, None, "a rebuild would be hawaf's own");
}

#[tokio::test]
async fn adoption_with_no_match_two_matches_or_another_stacks_resources_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let lab = app.app.providers.lab();

    // Nothing built: all missing.
    let look = adopt(&app, &token, "ghost", json!({"definition": {"provider": "lab"}}), 200).await;
    assert!(!look.adoptable);
    assert!(look.resources.iter().all(|r| r.status == AdoptStatus::Missing), "{:#?}", look.resources);
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/ghost/adopt",
            &token,
            Some(json!({"definition": {"provider": "lab"}, "confirm": "ghost"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let listed: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(listed.contains(&"vpc") && listed.contains(&"lb/external"), "{listed:?}");
    let (status, _) = app.api_json(Method::GET, "/stacks/ghost", &token, None).await;
    assert_eq!(status, 404, "nothing is saved");

    // Two VPCs carry the tutorial's Name tag: ambiguous, never picked silently.
    let d = tutorial("twice");
    console::build(lab, &d).await;
    let second = lab
        .create_vpc("10.1.0.0/16".parse().unwrap(), Tags::from([(TAG_NAME.into(), d.vpc_name().to_string())]))
        .await
        .unwrap();
    let look = adopt(&app, &token, "twice", json!({"definition": {"provider": "lab"}}), 200).await;
    let vpc = look.resources.iter().find(|r| r.resource == "vpc").unwrap();
    assert_eq!(vpc.status, AdoptStatus::Ambiguous);
    assert_eq!(vpc.candidates.len(), 2, "{vpc:?}");
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/twice/adopt",
            &token,
            Some(json!({"definition": {"provider": "lab"}, "confirm": "twice"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains(&second.id), "{body}");
    let tagged = lab.describe_vpcs(&Filter::all()).await.unwrap();
    assert!(tagged.iter().all(|v| !v.tags.contains_key(TAG_STACK)), "nothing was tagged");
    lab.delete_vpc(&second.id).await.unwrap();

    // What another stack owns is not taken: tag the VPC as someone else's.
    let vpc_id = vpc.candidates.iter().find(|id| **id != second.id).unwrap().clone();
    lab.create_tags(hawaf::cloud::ResourceKind::Vpc, &vpc_id, &Tags::from([(TAG_STACK.into(), "theirs".into())]))
        .await
        .unwrap();
    let (status, body) = app
        .api_json(
            Method::POST,
            "/stacks/twice/adopt",
            &token,
            Some(json!({"definition": {"provider": "lab"}, "confirm": "twice"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("theirs"), "{body}");

    // A definition named otherwise than the address is refused.
    let (status, body) =
        app.api_json(Method::POST, "/stacks/twice/adopt", &token, Some(json!({"definition": {"name": "other"}}))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "definition.name", "{body}");
}

/// On moto: a topology built with plain SDK calls and no hawaf tags is
/// adopted, then shows health and drift like a built one and tears down.
#[tokio::test]
async fn a_stack_built_by_hand_on_moto_is_adopted_and_shows_health_and_drift() {
    let Some(endpoint) = crate::aws::moto("the aws adoption") else { return };
    let region = "ap-northeast-3";
    let app = spawn_app().await;
    // The definition aims the server's calls at moto: an admin's to send.
    let admin = app.token(Role::Admin).await;
    let definition = crate::aws::aws_stack("tokyo", region, &endpoint);
    let preset = hawaf::stack::seed_definition("198.51.100.0/24".parse().unwrap());
    let d = hawaf::stack::parse(&hawaf::stack::Draft::from_json(definition.clone(), &preset).unwrap()).unwrap();
    let aws = hawaf::cloud::aws::AwsCloud::new(crate::aws::target(&endpoint, region), Default::default());
    let by_hand = console::build(&aws, &d).await;

    let look = adopt(&app, &admin, "tokyo", json!({"definition": definition}), 200).await;
    assert!(look.adoptable, "{:#?}", look.resources);
    assert!(look.notes.iter().any(|n| n.contains("API token")), "{:?}", look.notes);
    let done = adopt(&app, &admin, "tokyo", json!({"definition": definition, "confirm": "tokyo"}), 200).await;
    let build = app.build(&admin, done.build_id.unwrap()).await;
    assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");

    // Read back with an SDK client of the test's own: the stack's tag is on.
    let sdk = crate::aws::sdk(&endpoint, region);
    let vpcs = sdk.ec2.describe_vpcs().vpc_ids(&by_hand.vpc).send().await.unwrap();
    let tags: Vec<(String, String)> =
        vpcs.vpcs()[0].tags().iter().map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned())).collect();
    assert!(tags.contains(&(TAG_STACK.to_owned(), "tokyo".to_owned())), "{tags:?}");
    let lb = sdk.elb.describe_tags().load_balancer_names("ha-lbext").send().await.unwrap();
    let lb_tags = lb.tag_descriptions()[0].tags();
    assert!(lb_tags.iter().any(|t| t.key() == TAG_STACK && t.value() == Some("tokyo")), "{lb_tags:?}");

    let h = app.health(&admin, "tokyo").await;
    assert_eq!((h.tiers.external.total, h.tiers.internal.total), (2, 2), "{h:#?}");
    let report: DriftReport = app.call(Method::POST, "/stacks/tokyo/drift", &admin, NO_BODY, 200).await;
    assert_eq!(report.status, DriftStatus::InSync, "{:#?}", report.resources);

    let started: hawaf::contract::BuildAccepted = app
        .call(
            Method::POST,
            "/stacks/tokyo/destroy",
            &admin,
            Some(&DestroyRequest { confirm: Some("tokyo".into()) }),
            202,
        )
        .await;
    let gone = app.wait_build(&admin, started.build_id).await;
    assert_eq!(gone.status, BuildStatus::Succeeded, "{gone:#?}");
    crate::aws::assert_nothing_left(&sdk, "tokyo").await;
}

/// The "Adopt an existing stack" page: the new-stack form, a look, then the
/// name typed; a wrong name is refused with everything typed kept.
#[tokio::test]
async fn the_adopt_page_looks_then_adopts_with_the_name_typed() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    assert!(app.page("/stacks/new").await.contains("href=\"/stacks/adopt\""), "the new-stack page offers it");
    let page = app.page("/stacks/adopt").await;
    assert!(page.contains("Adopt an existing stack") && page.contains("Look for it"), "{page}");

    let d = tutorial("handmade");
    console::build(app.app.providers.lab(), &d).await;
    let mut fields = crate::helpers::preset_form(&app, "handmade").await;
    for f in fields.iter_mut() {
        if f.0 == "provider" {
            f.1 = "lab".into();
        }
        if f.0 == "admin_cidr" {
            f.1 = "127.0.0.1/32".into();
        }
    }
    let form = |extra: &[(&str, &str)]| {
        let mut all: Vec<(String, String)> = fields.clone();
        all.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        all
    };
    let with = |pairs: Vec<(String, String)>| pairs.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
    let post = |pairs: Vec<(String, String)>| {
        let app = &app;
        async move {
            let csrf = app.csrf().await;
            let mut pairs = pairs;
            pairs.push(("csrf_token".into(), csrf));
            app.browser.post(app.url("/stacks/adopt")).form(&pairs).send().await.unwrap()
        }
    };
    let res = post(with(form(&[("go", "look")]))).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("everything, once") && html.contains("value=\"adopt\""), "{html}");
    assert!(html.contains("adopt-found"), "{html}");

    let res = post(with(form(&[("go", "adopt"), ("confirm", "handmad")]))).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("exactly to adopt it") && html.contains("value=\"handmad\""), "the typed name is kept");

    let res = post(with(form(&[("go", "adopt"), ("confirm", "handmade")]))).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/stacks/handmade/build");
    let show = app.page("/stacks/handmade").await;
    assert!(show.contains(">adopted</span>"), "{show}");
}
