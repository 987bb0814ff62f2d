use reqwest::header;

use crate::helpers::{TestApp, preset_form, raw_db, spawn_app, unescape};

async fn submit(app: &TestApp, path: &str, fields: &[(String, String)]) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form(path, &borrowed).await
}

fn set(fields: &mut [(String, String)], key: &str, value: &str) {
    let f = fields.iter_mut().find(|(k, _)| k == key).unwrap_or_else(|| panic!("form has {key}"));
    f.1 = value.to_owned();
}

#[tokio::test]
async fn a_stack_created_from_the_preset_form_shows_the_seed_topology() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let fields = preset_form(&app, "seed").await;
    let res = submit(&app, "/stacks", &fields).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/stacks/seed?done=created");
    let page = unescape(&app.page("/stacks/seed?done=created").await);
    for expected in [
        "Stack seed created (version 1).",
        "ha-utm-left",
        "10.0.11.10",
        "ha-lbext",
        "secg-web",
        "tcp/80 from secg-lbint",
        "HTTP:80/index.html every 6 s",
        "not built",
    ] {
        assert!(page.contains(expected), "stack page shows {expected}");
    }
    // The operator's own address is the default admin CIDR, not the world.
    assert!(page.contains("127.0.0.1/32"));
    assert!(app.page("/stacks").await.contains("/stacks/seed"));
}

#[tokio::test]
async fn a_form_with_bad_fields_is_shown_again_with_the_typed_values_and_a_message_beside_each() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let mut fields = preset_form(&app, "Bad_Name").await;
    set(&mut fields, "subnets.web-a.cidr", "10.1.20.0/24");
    set(&mut fields, "health_check.interval", "abc");
    set(&mut fields, "instances.waf-left.private_ip", "10.0.99.10");
    let res = submit(&app, "/stacks", &fields).await;
    assert_eq!(res.status(), 422);
    let html = unescape(&res.text().await.unwrap());
    assert!(html.contains("fields need attention"));
    for kept in ["value=\"Bad_Name\"", "value=\"10.1.20.0/24\"", "value=\"abc\"", "value=\"10.0.99.10\""] {
        assert!(html.contains(kept), "keeps {kept}");
    }
    for message in ["is not inside the VPC 10.0.0.0/16", "not inside"] {
        assert!(html.contains(message), "says {message}");
    }
    assert!(html.contains("id=\"e-name\""), "the name error sits beside the name field");
    assert!(app.app.store.stacks().await.unwrap().is_empty(), "nothing was stored");
}

#[tokio::test]
async fn opening_admin_ports_to_the_world_shows_a_visible_warning() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let mut fields = preset_form(&app, "open").await;
    set(&mut fields, "admin_cidr", "0.0.0.0/0");
    assert_eq!(submit(&app, "/stacks", &fields).await.status(), 303);
    let page = app.page("/stacks/open").await;
    assert!(page.contains("class=\"warning\""));
    assert!(page.contains("open to the whole internet"));
}

#[tokio::test]
async fn editing_a_stack_makes_a_new_version_and_shows_what_changed() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let fields = preset_form(&app, "edited").await;
    submit(&app, "/stacks", &fields).await;

    let edit = unescape(&app.page("/stacks/edited/edit").await);
    assert!(edit.contains("name=\"based_on\" value=\"1\""));
    let mut fields = fields.clone();
    set(&mut fields, "health_check.interval", "10");
    set(&mut fields, "based_on", "1");
    let res = submit(&app, "/stacks/edited", &fields).await;
    assert_eq!(res.status(), 303);
    let page = app.page("/stacks/edited").await;
    assert!(page.contains("v2"));
    assert!(page.contains("health_check.interval"), "the version list shows the change");

    // Saving the same thing again makes no version.
    set(&mut fields, "based_on", "2");
    let res = submit(&app, "/stacks/edited", &fields).await;
    assert_eq!(res.headers()[header::LOCATION], "/stacks/edited?done=unchanged");
    assert_eq!(app.app.store.stack("edited").await.unwrap().unwrap().current_version, 2);
}

#[tokio::test]
async fn a_stale_edit_is_refused_and_keeps_what_the_user_typed() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let mut fields = preset_form(&app, "raced").await;
    submit(&app, "/stacks", &fields).await;
    set(&mut fields, "health_check.interval", "20");
    set(&mut fields, "based_on", "1");
    assert_eq!(submit(&app, "/stacks/raced", &fields).await.status(), 303);
    // A second editor still on version 1 saves something else.
    set(&mut fields, "health_check.interval", "30");
    let res = submit(&app, "/stacks/raced", &fields).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("was saved while you were editing"));
    assert!(html.contains("value=\"30\""));
}

#[tokio::test]
async fn the_name_of_a_stack_cannot_change_on_edit() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let mut fields = preset_form(&app, "fixed").await;
    submit(&app, "/stacks", &fields).await;
    set(&mut fields, "name", "renamed");
    set(&mut fields, "based_on", "1");
    let res = submit(&app, "/stacks/fixed", &fields).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("the name of a stack cannot change"));
}

#[tokio::test]
async fn a_duplicate_stack_name_is_refused_on_the_name_field() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let fields = preset_form(&app, "twice").await;
    assert_eq!(submit(&app, "/stacks", &fields).await.status(), 303);
    let res = submit(&app, "/stacks", &fields).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("a stack named twice already exists"));
}

#[tokio::test]
async fn deleting_needs_the_typed_name_and_nothing_built() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let fields = preset_form(&app, "doomed").await;
    submit(&app, "/stacks", &fields).await;

    let res = app.post_form("/stacks/doomed/delete", &[("confirm", "doome")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("to confirm the deletion"));

    // A built stack (one live resource) cannot be deleted.
    let pool = raw_db(&app).await;
    sqlx::query("INSERT INTO resources (stack_id, logical_id, physical_id, step, created_at) SELECT id, 'vpc', 'vpc-1', 1, 0 FROM stacks WHERE name = 'doomed'")
        .execute(&pool)
        .await
        .unwrap();
    let res = app.post_form("/stacks/doomed/delete", &[("confirm", "doomed")]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("still has 1 live resource"));

    sqlx::query("UPDATE resources SET deleted_at = 1").execute(&pool).await.unwrap();
    let res = app.post_form("/stacks/doomed/delete", &[("confirm", "doomed")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.get("/stacks/doomed").await.status(), 404);
}

#[tokio::test]
async fn the_audit_log_page_shows_who_did_what() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let fields = preset_form(&app, "audited").await;
    submit(&app, "/stacks", &fields).await;
    let page = app.page("/audit?target=audited").await;
    assert!(page.contains("stack.create"));
    assert!(page.contains("admin"));
    assert!(page.contains("version 1"));
}

#[tokio::test]
async fn unknown_pages_and_stacks_get_a_404_page() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let res = app.get("/stacks/nosuch").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("there is no stack named nosuch"));
    assert_eq!(app.get("/nowhere").await.status(), 404);
}

#[tokio::test]
async fn assets_are_served_from_the_binary_with_cache_headers() {
    let app = spawn_app().await;
    let login = app.page("/login").await;
    let start = login.find("/static/vendor/htmx.min.js?v=").expect("versioned htmx url");
    let url = login[start..].split('"').next().unwrap();
    let res = app.get(url).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().contains("javascript"));
    let res = app.get("/static/app.css").await;
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

/// Issue 18, guidance: a first-run checklist on the stacks page (define,
/// build, watch, drill) ticks off as a stack gets there and disappears once
/// all four are done.
#[tokio::test]
async fn the_first_run_checklist_ticks_off_and_disappears_when_done() {
    use hawaf::contract::WafRequest;
    let app = spawn_app().await;
    app.sign_in_admin().await;
    let page = app.page("/stacks").await;
    assert!(page.contains("Getting started"), "{page}");
    assert_eq!(page.matches("to do</span>").count(), 4, "nothing done yet");
    let token = app.built_stack("firstrun").await;
    let page = app.page("/stacks").await;
    assert_eq!(page.matches("✓ done</span>").count(), 2, "defined and built");
    assert!(page.contains("href=\"/stacks/firstrun\""), "watch links to the stack");
    // A transition seen by the monitor: the stack has been watched.
    app.switch_waf(&token, "firstrun", "ha-utm-left", &WafRequest { enabled: false, confirm: None }).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.page("/stacks").await.matches("✓ done</span>").count() < 3 {
        assert!(std::time::Instant::now() < deadline, "the transition never ticked off 'Watch it'");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.switch_waf(&token, "firstrun", "ha-utm-left", &WafRequest { enabled: true, confirm: None }).await;
    while app.health(&token, "firstrun").await.tiers.external.in_service < 2 {
        assert!(std::time::Instant::now() < deadline + std::time::Duration::from_secs(20), "not back in service");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let id = app.start_drill(&token, "firstrun", &crate::helpers::fast("D1")).await;
    app.wait_drill(&token, id).await;
    let page = app.page("/stacks").await;
    assert!(!page.contains("Getting started"), "all four done: the checklist is gone");
}

/// Issue 18, guidance: each wizard step says what it does in the console's
/// words and links to the vendor's page on it (by load balancer kind and
/// appliance).
#[tokio::test]
async fn each_wizard_step_links_to_the_console_documentation() {
    let app = spawn_app().await;
    let token = app.token(hawaf::auth::Role::Operator).await;
    app.create_stack(&token, "docs").await;
    app.sign_in_admin().await;
    let page = app.page("/stacks/docs/build").await;
    for url in [
        "vpc/latest/userguide/create-vpc.html",
        "classic/elb-internal-load-balancers.html",
        "classic/elb-getting-started.html",
        "MgmtWebAdminRESTAPI.htm",
    ] {
        assert!(page.contains(url), "{url}");
    }
    assert_eq!(page.matches("class=\"step-doc\"").count(), 8, "one per step");
    assert!(unescape(&page).contains("In the console: VPC > Your VPCs > Create VPC"), "in the console's words");
}
