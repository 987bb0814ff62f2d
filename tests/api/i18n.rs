//! Issue 18, two languages: every page in English and Japanese, chosen by
//! Accept-Language, the `?lang=` switch or the user's own setting, with
//! times in the user's zone, and no message missing from either catalogue.

use reqwest::header;

use crate::helpers::{TestApp, csrf_in, spawn_app};

async fn page_in(app: &TestApp, path: &str, accept: &str) -> String {
    let res = app.browser.get(app.url(path)).header(header::ACCEPT_LANGUAGE, accept).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {path} ({accept})");
    res.text().await.unwrap()
}

fn assert_missing_none() {
    let missing = hawaf::i18n::missing();
    assert!(missing.is_empty(), "messages asked for and missing:\n{}", missing.join("\n"));
}

#[tokio::test]
async fn every_page_renders_in_both_languages_with_no_missing_message() {
    let app = spawn_app().await;
    let pages = crate::browser::every_page(&app, "nihongo").await;
    for (accept, lang, nav) in [("ja,en;q=0.8", "ja", "スタック"), ("en-GB,en;q=0.9", "en", "Stacks")] {
        for page in &pages {
            if page == "SIGN IN" {
                app.sign_in_admin().await;
                continue;
            }
            let html = page_in(&app, page, accept).await;
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{page} in {accept} has lang={lang}");
            if page != "/login" {
                assert!(html.contains(&format!(">{nav}</a>")), "{page} in {accept} has the {lang} navigation");
            }
        }
        // Sign out for the next language's walk, which starts at /login.
        let csrf = app.csrf().await;
        app.browser.post(app.url("/logout")).form(&[("csrf_token", csrf)]).send().await.unwrap();
    }
    assert_missing_none();
}

#[tokio::test]
async fn the_users_setting_beats_the_browser_and_shows_times_in_their_zone() {
    let app = spawn_app().await;
    app.sign_in_admin().await;
    // A bad zone is refused with a message naming it, and nothing is stored.
    let res = app.post_form("/account/preferences", &[("language", "ja"), ("time_zone", "Mars/Olympus")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Mars/Olympus is not a time zone hawaf knows"));
    assert!(page_in(&app, "/stacks", "en").await.contains("<html lang=\"en\">"));

    let res = app.post_form("/account/preferences", &[("language", "ja"), ("time_zone", "Asia/Tokyo")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/account?preferences=1");
    // Japanese although the browser asks for English; the zone is named.
    let account = page_in(&app, "/account?preferences=1", "en").await;
    assert!(account.contains("<html lang=\"ja\">"));
    assert!(account.contains("言語とタイムゾーンを保存しました。"));
    assert!(account.contains("<option selected>Asia/Tokyo</option>"));
    let audit = page_in(&app, "/audit", "en").await;
    assert!(audit.contains("Asia/Tokyo"), "the audit log names the zone its times are in");

    // The header's switch goes back to the page it was pressed on: the page
    // names itself (GET pages; a form's answer names its section instead).
    let audit_page = page_in(&app, "/audit?who=admin&lang=ja", "en").await;
    assert!(audit_page.contains("name=\"back\" value=\"/audit?who=admin\""), "the switch comes back without ?lang=");
    let csrf = csrf_in(&account);
    let res = app
        .browser
        .post(app.url("/account/language"))
        .form(&[("language", "en"), ("csrf_token", &csrf), ("back", "/audit?who=admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/audit?who=admin");
    assert!(page_in(&app, "/stacks", "ja").await.contains("<html lang=\"en\">"), "the setting beats Accept-Language");
    // Elsewhere than this server, it goes to the stacks.
    for elsewhere in ["//evil.example/x", "https://evil.example/", "/\\evil.example"] {
        let res = app
            .browser
            .post(app.url("/account/language"))
            .form(&[("language", "ja"), ("csrf_token", &csrf), ("back", elsewhere)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()[header::LOCATION], "/stacks", "{elsewhere}");
    }
    // A form's answer cannot be asked for again: the switch there goes to
    // the page's section (here the token just created, on /account/tokens).
    let created = app.post_form("/account/tokens", &[("name", "ci"), ("days", "30")]).await;
    let html = created.text().await.unwrap();
    assert!(html.contains("name=\"back\" value=\"/account\""), "a POST answer's switch comes back to /account");
    assert_missing_none();
}

#[tokio::test]
async fn before_sign_in_the_switch_is_remembered_in_a_cookie() {
    let app = spawn_app().await;
    let login = page_in(&app, "/login", "en").await;
    assert!(login.contains("href=\"/login?lang=ja\""), "the sign-in page offers 日本語");
    let res = app.get("/login?lang=ja").await;
    assert!(
        res.headers().get_all(header::SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("hawaf_lang=ja")),
        "the choice is remembered"
    );
    assert!(res.text().await.unwrap().contains("<html lang=\"ja\">"));
    assert!(page_in(&app, "/login", "en").await.contains("<html lang=\"ja\">"), "the cookie beats Accept-Language");
    // The link keeps where sign-in leads and why it is asked.
    let expired = page_in(&app, "/login?next=%2Fstacks%2Fx&expired=1", "en").await;
    assert!(expired.contains("href=\"/login?next=%2Fstacks%2Fx&#38;expired=1&#38;lang=en\""), "{expired}");

    // After sign-in, choosing "as my browser asks" forgets the click.
    app.sign_in_admin().await;
    assert!(page_in(&app, "/stacks", "en").await.contains("<html lang=\"ja\">"), "the click carries into the session");
    let res = app.post_form("/account/preferences", &[("language", ""), ("time_zone", "UTC")]).await;
    assert!(res.headers()[header::SET_COOKIE].to_str().unwrap().starts_with("hawaf_lang=; "));
    assert!(page_in(&app, "/stacks", "en").await.contains("<html lang=\"en\">"), "now the browser decides");
}
