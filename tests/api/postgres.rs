//! PostgreSQL as hawaf's store: the same schema as SQLite's, a database
//! moved from SQLite by `hawaf db migrate-from-sqlite`, and clear errors.
//! Tests that need the server skip without `HAWAF_TEST_POSTGRES`
//! (scripts/test starts one).

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::Connection as _;
use sqlx::Row as _;

use crate::binary::{api, hawaf, operator_token, start_with, until};
use crate::helpers::new_postgres_database;

fn server() -> Option<String> {
    let url = std::env::var("HAWAF_TEST_POSTGRES").ok();
    if url.is_none() {
        eprintln!("skipped: HAWAF_TEST_POSTGRES is not set (scripts/test starts PostgreSQL)");
    }
    url
}

/// table -> [(column, kind, nullable)], with kinds named alike for both engines.
type Schema = BTreeMap<String, Vec<(String, &'static str, bool)>>;

fn kind(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "text" => "text",
        "real" | "double precision" => "real",
        other => panic!("a column type neither engine should have: {other}"),
    }
}

async fn sqlite_schema(pool: &sqlx::AnyPool) -> (Schema, Vec<String>) {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for t in tables {
        let rows = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(&t)
            .fetch_all(pool)
            .await
            .unwrap();
        let cols = rows
            .iter()
            .map(|r| {
                let name: String = r.get(0);
                let ty: String = r.get(1);
                let not_null = r.get::<i64, _>(2) != 0 || r.get::<i64, _>(3) != 0;
                (name, kind(&ty), !not_null)
            })
            .collect();
        schema.insert(t, cols);
    }
    let indexes =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .fetch_all(pool)
            .await
            .unwrap();
    (schema, indexes)
}

async fn postgres_schema(pool: &sqlx::AnyPool) -> (Schema, Vec<String>) {
    let rows = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for r in rows {
        let (t, c, ty, nullable): (String, String, String, String) = (r.get(0), r.get(1), r.get(2), r.get(3));
        schema.entry(t).or_default().push((c, kind(&ty), nullable == "YES"));
    }
    // Indexes made by hand (not the ones behind PRIMARY KEY and UNIQUE).
    let indexes = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'
         AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key' ORDER BY indexname",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (schema, indexes)
}

#[tokio::test]
async fn both_engines_have_the_same_schema() {
    let Some(_) = server() else { return };
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.db");
    hawaf::store::Store::open(&file).await.unwrap();
    let pg = new_postgres_database().await;
    hawaf::store::Store::connect(&pg).await.unwrap();
    let hawaf::store::Location::Postgres(pg_url) = pg else { unreachable!() };

    let lite = sqlx::AnyPool::connect(&format!("sqlite://{}", file.display())).await.unwrap();
    let post = sqlx::AnyPool::connect(&pg_url).await.unwrap();
    let (lite_tables, lite_indexes) = sqlite_schema(&lite).await;
    let (pg_tables, pg_indexes) = postgres_schema(&post).await;
    assert_eq!(lite_tables.keys().collect::<Vec<_>>(), pg_tables.keys().collect::<Vec<_>>(), "the same tables");
    for (table, cols) in &lite_tables {
        assert_eq!(cols, &pg_tables[table], "table {table}: the same columns, kinds and nullability");
    }
    assert_eq!(lite_indexes, pg_indexes, "the same indexes");
    assert!(lite_tables.contains_key("appliance_migrations"), "the whole schema: {:?}", lite_tables.keys());
}

#[tokio::test]
async fn an_sqlite_database_moves_to_postgresql_with_its_secrets_and_lab() {
    let Some(_) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hawaf.db");
    // The SQLite server keeps its key in hawaf.key beside the file (an empty
    // HAWAF_SECRET_KEY counts as unset).
    let no_key = [("HAWAF_SECRET_KEY", "")];
    let token = operator_token(&file);
    let first = start_with(&file, &no_key);
    let (status, _) = api(&first, &token, reqwest::Method::POST, "/stacks", Some(json!({"name": "mover"}))).await;
    assert_eq!(status, 201);
    let (_, started) = api(&first, &token, reqwest::Method::POST, "/stacks/mover/apply", None).await;
    let id = started["build_id"].as_i64().unwrap();
    let done = until(&first, &token, &format!("/builds/{id}"), "the build ends", |b| b["status"] != "running").await;
    assert_eq!(done["status"], "succeeded", "{done:#}");
    let (status, off) = api(
        &first,
        &token,
        reqwest::Method::POST,
        "/stacks/mover/nodes/ha-utm-right/waf",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{off}");
    // Let the lab save its state (within 50 ms of a change), as a running server would.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    drop(first);

    let pg = new_postgres_database().await;
    let hawaf::store::Location::Postgres(pg_url) = &pg else { unreachable!() };
    let out = hawaf().args(["db", "migrate-from-sqlite"]).arg(&file).args(["--db", pg_url]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("row counts checked") && said.contains("HAWAF_SECRET_KEY"), "{said}");
    let stacks_line = said.lines().find(|l| l.starts_with("stacks ")).expect("a line per table");
    assert!(stacks_line.trim_end().ends_with(" 1"), "{stacks_line}");

    let again = hawaf().args(["db", "migrate-from-sqlite"]).arg(&file).args(["--db", pg_url]).output().unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(err.contains("not empty") && err.contains("stacks: 1 rows"), "{err}");

    let no_key_start = hawaf()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("HAWAF_DB", pg_url)
        .env("HAWAF_SECRET_KEY", "")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&no_key_start.stderr);
    assert!(!no_key_start.status.success() && err.contains("HAWAF_SECRET_KEY"), "{err}");

    let key = std::fs::read_to_string(dir.path().join("hawaf.key")).unwrap();
    let second = start_with(pg_url, &[("HAWAF_SECRET_KEY", key.trim())]);
    // The token, the stack and its history came across.
    let (status, build) = api(&second, &token, reqwest::Method::GET, &format!("/builds/{id}"), None).await;
    assert_eq!((status, &build["status"]), (200, &json!("succeeded")), "{build}");
    // The lab comes back from its saved state on the new store, the switched-off
    // node still off (read from the node with its sealed token: the key works).
    let h = until(&second, &token, "/stacks/mover/health", "the lab serves again from PostgreSQL", |h| {
        h["tiers"]["internal"]["in_service"] == 2 && h["waf"]["ha-utm-right"]["enabled"] == false
    })
    .await;
    assert_eq!(h["waf"]["ha-utm-left"]["enabled"], true, "{h:#}");
    let (status, on) = api(
        &second,
        &token,
        reqwest::Method::POST,
        "/stacks/mover/nodes/ha-utm-right/waf",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200, "{on}");
    let (status, created) =
        api(&second, &token, reqwest::Method::POST, "/stacks", Some(json!({"name": "after-the-move"}))).await;
    assert_eq!(status, 201, "new rows get ids after the copied ones: {created}");
}

#[tokio::test]
async fn an_unreachable_postgresql_is_named_without_its_password() {
    let out = hawaf().args(["user", "list", "--db", "postgres://hawaf:s3cret-pw@127.0.0.1:1/hawaf"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("cannot open the database postgres://hawaf:***@127.0.0.1:1/hawaf"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
    let out = hawaf().args(["user", "list", "--db", "postgres://hawaf@db.internal"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("names no database"), "{err}");
}

async fn cut_off(server_url: &str, db: &str, cut: bool) {
    let mut admin = sqlx::postgres::PgConnection::connect(&format!("{server_url}/postgres")).await.unwrap();
    sqlx::query(&format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS {}", if cut { "false" } else { "true" }))
        .execute(&mut admin)
        .await
        .unwrap();
    if cut {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(db)
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

async fn healthz(base: &str) -> (u16, String) {
    let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The database goes away under a serving leader: /healthz says so within
/// seconds, static files still load, and it all comes back without a
/// restart. Gone for longer than the lease allows, the leader exits rather
/// than go on without it.
#[tokio::test]
async fn a_lost_database_is_answered_503_recovered_from_and_past_the_lease_ends_the_leader() {
    let Some(server_url) = server() else { return };
    let db = new_postgres_database().await;
    let hawaf::store::Location::Postgres(url) = &db else { unreachable!() };
    let name = url.rsplit('/').next().unwrap().to_owned();
    let mut leader = start_with(url, &[("HAWAF_SECRET_KEY", "Zm9yLXRoZS1vdXRhZ2UtdGVzdC0zMi1ieXRlcyEhISE=")]);
    let login = reqwest::get(format!("{}/login", leader.base)).await.unwrap().text().await.unwrap();
    let css = login
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|h| h.starts_with("/static/"))
        .unwrap()
        .to_owned();
    assert_eq!(healthz(&leader.base).await.0, 200);

    cut_off(&server_url, &name, true).await;
    let asked = std::time::Instant::now();
    let (status, body) = healthz(&leader.base).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database unreachable"), "{body}");
    assert!(asked.elapsed() < std::time::Duration::from_secs(4), "answered within {:?}", asked.elapsed());
    let asset = reqwest::get(format!("{}{css}", leader.base)).await.unwrap();
    assert_eq!(asset.status(), 200, "static files need no database");
    cut_off(&server_url, &name, false).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while healthz(&leader.base).await.0 != 200 {
        assert!(std::time::Instant::now() < deadline, "back without a restart");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(leader.child.try_wait().unwrap().is_none(), "a short outage does not end the leader");

    // Longer than STEP_DOWN: the leader can no longer be sure of its lease.
    cut_off(&server_url, &name, true).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = leader.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the leader exits once it cannot renew its lease");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    cut_off(&server_url, &name, false).await;
    assert_eq!(status.code(), Some(1));
}

/// A leader paused past its lease (here: its lease simply ran out and a peer
/// took it) cannot write once it resumes: its write transactions check the
/// lease's generation.
#[tokio::test]
async fn a_leader_that_lost_its_lease_is_fenced_off_writes() {
    let Some(_) = server() else { return };
    use hawaf::store::{Store, StoreError};
    let db = new_postgres_database().await;
    let old = Store::connect(&db).await.unwrap();
    let new = Store::connect(&db).await.unwrap();
    let lease = old.claim_lease("leader", "old", "http://old", -1).await.unwrap();
    old.set_fence("old", lease.generation);
    old.create_stack("before", "{}", "test").await.expect("the leader writes while its lease is current");
    let taken = new.claim_lease("leader", "new", "http://new", 60_000).await.unwrap();
    assert_eq!((taken.owner.as_str(), taken.generation), ("new", lease.generation + 1));
    new.set_fence("new", taken.generation);

    match old.create_stack("after", "{}", "test").await {
        Err(StoreError::Fenced { generation }) => assert_eq!(generation, lease.generation),
        other => panic!("the old leader must be fenced: {other:?}"),
    }
    assert!(matches!(old.save_lab_snapshot("stale").await, Err(StoreError::Fenced { .. })), "nor overwrite the lab");
    new.create_stack("after", "{}", "test").await.expect("the new leader writes");
    assert!(new.stack("after").await.unwrap().is_some());
}

/// Promotion to admin and the last-admin guard, on PostgreSQL (whose SQL
/// refused the SQLite-only `AND 1`).
#[tokio::test]
async fn roles_change_and_the_last_admin_stays_on_postgresql() {
    let Some(_) = server() else { return };
    use hawaf::store::{Changed, Store, UserChange};
    let store = Store::connect(&new_postgres_database().await).await.unwrap();
    store.create_user("boss", "x", "admin", false).await.unwrap();
    store.create_user("ops", "x", "operator", false).await.unwrap();
    assert_eq!(store.change_user("ops", UserChange::Role("admin")).await.unwrap(), Changed::Done);
    assert_eq!(store.change_user("boss", UserChange::Role("viewer")).await.unwrap(), Changed::Done);
    assert_eq!(store.change_user("ops", UserChange::Disable).await.unwrap(), Changed::LastAdmin);
    assert_eq!(store.user_by_name("ops").await.unwrap().unwrap().role, "admin");
}
