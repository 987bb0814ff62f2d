use std::process::Command;

use hawaf::auth::Role;

use crate::helpers::spawn_app;

/// The binary, in English whatever the locale of the shell running the
/// tests: the command line follows `LC_ALL`, `LC_MESSAGES` and `LANG`.
fn hawaf() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hawaf"));
    c.env_remove("LC_ALL").env_remove("LC_MESSAGES").env_remove("LANG");
    c
}

async fn run(mut cmd: Command) -> (i32, String, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_creates_lists_and_shows_stacks_over_the_api() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let client = |args: &[&str]| {
        let mut c = hawaf();
        c.args(args).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", &token);
        c
    };
    let (code, out, err) = run(client(&["stack", "new", "cli-made", "--provider", "lab"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created stack cli-made (version 1)"));

    let (code, out, _) = run(client(&["stack", "list"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("cli-made") && out.contains("not_built"));

    let (code, out, _) = run(client(&["stack", "show", "cli-made", "--json"])).await;
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["definition"]["instances"]["waf-left"]["name"], "ha-utm-left");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(&file, r#"{"health_check": {"interval": 1}}"#).unwrap();
    let (code, _, err) = run(client(&["stack", "new", "bad", "--file", file.to_str().unwrap()])).await;
    assert_eq!(code, 2, "bad input exits 2");
    assert!(err.contains("health_check.interval"), "{err}");

    let (code, _, err) = run(client(&["stack", "show", "nosuch"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("there is no stack named nosuch"));

    let mut unreachable = hawaf();
    unreachable.args(["stack", "list"]).env("HAWAF_URL", "http://127.0.0.1:9").env("HAWAF_TOKEN", &token);
    let (code, _, err) = run(unreachable).await;
    assert_eq!(code, 1, "a failed operation exits 1");
    assert!(err.starts_with("hawaf: cannot reach"));
}

#[tokio::test]
async fn user_add_and_token_create_bootstrap_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("boot.db");
    let db = db.to_str().unwrap();
    let (code, out, err) = run({
        let mut c = hawaf();
        c.args(["user", "add", "olivia", "--role", "operator", "--db", db]);
        c
    })
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("created operator olivia with password "));

    let (code, out, _) = run({
        let mut c = hawaf();
        c.args(["token", "create", "--user", "olivia", "--db", db]);
        c
    })
    .await;
    assert_eq!(code, 0);
    assert!(out.trim().starts_with("hawaf_"));

    let (code, _, err) = run({
        let mut c = hawaf();
        c.args(["token", "create", "--user", "nobody", "--db", db]);
        c
    })
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("no user named nobody"));

    let (code, _, err) = run({
        let mut c = hawaf();
        c.args(["user", "add", "Bad Name", "--db", db]);
        c
    })
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("user names are"));
}

#[tokio::test]
async fn the_cli_builds_watches_switches_and_tears_down_a_lab_stack() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let client = |args: &[&str]| {
        let mut c = hawaf();
        c.args(args).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", &token);
        c
    };
    assert_eq!(run(client(&["stack", "new", "clibuilt"])).await.0, 0);
    let (code, out, err) = run(client(&["stack", "apply", "clibuilt"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("apply build") && out.contains("succeeded"), "{out}");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (code, out, _) = run(client(&["stack", "health", "clibuilt"])).await;
        assert_eq!(code, 0);
        if out.matches("2 of 2 instances in service").count() == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{out}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (code, out, err) = run(client(&["waf", "clibuilt", "ha-utm-left", "disable"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ha-utm-left: WAF disabled"));
    assert_eq!(run(client(&["waf", "clibuilt", "ha-utm-left", "enable"])).await.0, 0);
    let (code, _, err) = run(client(&["fault", "clibuilt", "ha-web-left", "unplug"])).await;
    assert_eq!(code, 2, "an unknown fault is bad input");
    assert!(err.contains("unknown fault"));
    let (code, _, err) = run(client(&["stack", "destroy", "clibuilt"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("--yes"));
    let (code, out, err) = run(client(&["stack", "destroy", "clibuilt", "--yes"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("destroy build"));
}

#[tokio::test]
async fn the_cli_adopts_a_stack_built_by_hand_after_a_dry_run() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let client = |args: &[&str]| {
        let mut c = hawaf();
        c.args(args).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", &token);
        c
    };
    // Nothing there yet: the report says what is missing, and it exits 1.
    let (code, out, err) = run(client(&["stack", "adopt", "bycli", "--provider", "lab"])).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("vpc") && out.contains("missing"), "{out}");

    let mut draft = hawaf::stack::seed_definition("127.0.0.1/32".parse().unwrap()).to_draft();
    draft.set("name", "bycli");
    draft.set("provider", "lab");
    crate::console::build(app.app.providers.lab(), &hawaf::stack::parse(&draft).unwrap()).await;
    let (code, out, err) = run(client(&["stack", "adopt", "bycli", "--provider", "lab"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dry run: add --yes"), "{out}");
    let (code, out, err) = run(client(&["stack", "adopt", "bycli", "--provider", "lab", "--yes"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("adopted bycli"), "{out}");
    let (code, out, _) = run(client(&["stack", "list"])).await;
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("bycli") && l.contains("built")), "{out}");
}

#[tokio::test]
async fn the_cli_manages_schedules_and_the_safety_lever() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "timed").await;
    let client = |args: &[&str]| {
        let mut c = hawaf();
        c.args(args).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", &token);
        c
    };
    let (code, _, err) = run(client(&["schedule", "add", "timed", "D1", "* * * *"])).await;
    assert_eq!(code, 2, "bad input exits 2");
    assert!(err.contains("cron: a cron expression has five fields"), "{err}");
    let (code, _, err) =
        run(client(&["schedule", "add", "timed", "D1", "0 3 * * *", "--blackout", "sat,sun 0-6"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("blackouts[0].from"), "{err}");
    let (code, out, err) =
        run(client(&["schedule", "add", "timed", "D2", "0 3 * * mon-fri", "--blackout", "fri 00:00-24:00"])).await;
    assert_eq!(code, 0, "{err}");
    let id: i64 = out.split_whitespace().next().unwrap().parse().unwrap();
    assert!(out.contains("next ") && out.contains("blackout fri 00:00-24:00"), "{out}");
    let (code, out, _) = run(client(&["schedule", "suspend", &id.to_string()])).await;
    assert_eq!(code, 0);
    assert!(out.contains("suspended"), "{out}");
    let (code, out, _) = run(client(&["schedule", "list", "timed", "--json"])).await;
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["suspended"], true);
    let (code, out, _) = run(client(&["schedule", "delete", &id.to_string()])).await;
    assert_eq!(code, 0, "{out}");

    let (code, out, err) = run(client(&["lever", "engage", "change freeze"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("engaged by") && out.contains("change freeze"), "{out}");
    let (code, out, _) = run(client(&["lever", "show"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("change freeze"));
    let (code, out, _) = run(client(&["lever", "release"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("released"), "{out}");
}

#[tokio::test]
async fn the_cli_defines_a_custom_drill_from_a_file_and_lists_it() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    app.create_stack(&token, "defined").await;
    let client = |args: &[&str]| {
        let mut c = hawaf();
        c.args(args).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", &token);
        c
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("drill.json");
    std::fs::write(
        &file,
        r#"{"name": "web-cut", "title": "Web cut off", "method": [{"node": "ha-web-right", "action": "unplug"}]}"#,
    )
    .unwrap();
    let (code, _, err) = run(client(&["drill", "define", "defined", "--file", file.to_str().unwrap()])).await;
    assert_eq!(code, 2, "bad input exits 2");
    assert!(err.contains("method[0].action"), "{err}");
    std::fs::write(
        &file,
        r#"{"name": "web-cut", "title": "Web cut off", "method": [{"node": "ha-web-right", "action": "isolate", "hold_ms": 2000}]}"#,
    )
    .unwrap();
    let (code, out, err) = run(client(&["drill", "define", "defined", "--file", file.to_str().unwrap()])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("web-cut Web cut off") && out.contains("then ha-web-right isolate for 2000 ms"), "{out}");
    let (code, out, _) = run(client(&["drill", "definitions", "defined"])).await;
    assert_eq!(code, 0);
    assert!(out.contains("web-cut"), "{out}");
}

#[tokio::test]
async fn the_cli_speaks_the_language_of_the_posix_locale() {
    let app = spawn_app().await;
    let token = app.token(Role::Operator).await;
    let client = |args: &[&str], locale: &[(&str, &str)]| {
        let mut c = hawaf();
        c.args(args).env("HAWAF_URL", &app.base).env("HAWAF_TOKEN", &token);
        c.envs(locale.iter().copied());
        c
    };
    let (code, out, err) =
        run(client(&["stack", "new", "cli-ja", "--provider", "lab"], &[("LANG", "ja_JP.UTF-8")])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("スタック cli-ja を作成しました (バージョン 1)"), "{out}");
    let (code, _, err) = run(client(&["stack", "destroy", "cli-ja"], &[("LANG", "ja_JP.UTF-8")])).await;
    assert_eq!(code, 2);
    assert!(err.starts_with("hawaf: 破棄すると cli-ja のすべてのリソースが削除されます。"), "{err}");
    // Table headers stay as they are for scripts, whatever the language.
    let (code, out, _) = run(client(&["stack", "list"], &[("LANG", "ja_JP.UTF-8")])).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("NAME ") && out.contains("not_built"), "{out}");

    // LC_ALL comes first: C is English even when LANG asks for Japanese.
    let (code, out, err) =
        run(client(&["stack", "new", "cli-c", "--provider", "lab"], &[("LC_ALL", "C"), ("LANG", "ja_JP.UTF-8")])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created stack cli-c (version 1)"), "{out}");
}
