use hawaf::SharedApp;
use hawaf::auth::Role;
use hawaf::config::Config;
use hawaf::contract::{
    Build, BuildAccepted, BuildStatus, Drill, DrillAccepted, DrillRequest, DrillStatus, Health, StackView, WafRequest,
    WafState,
};
use hawaf::startup::Application;
use hawaf::store::Location;
use reqwest::{Client, Response, redirect};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sqlx::Connection as _;

pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub base: String,
    pub app: SharedApp,
    /// A browser: keeps cookies, does not follow redirects (tests look at them).
    pub browser: Client,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    if std::env::var_os("HAWAF_TEST_LOG").is_some() {
        hawaf::telemetry::init();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir.path().join("hawaf.db"));
    if let Some(db) = postgres_database().await {
        config.db = db;
    }
    config.admin_password = Some(ADMIN_PASSWORD.into());
    // Lab health checks ten times faster than AWS: a 6 s interval runs every 0.6 s.
    config.lab_speedup = 10;
    adjust(&mut config);
    let application = Application::build(config).await.expect("app builds");
    let addr = application.local_addr();
    let app = application.app();
    tokio::spawn(application.run());
    TestApp { base: format!("http://{addr}"), app, browser: browser(), _dir: dir }
}

/// With `HAWAF_TEST_STORE=postgres` (scripts/test's second pass), each app
/// gets a new database on the PostgreSQL server at `HAWAF_TEST_POSTGRES`;
/// tests that set `config.db` to a file keep SQLite.
pub async fn postgres_database() -> Option<Location> {
    if std::env::var("HAWAF_TEST_STORE").ok()? != "postgres" {
        return None;
    }
    Some(new_postgres_database().await)
}

/// A new, empty database on the test PostgreSQL server.
pub async fn new_postgres_database() -> Location {
    let server = std::env::var("HAWAF_TEST_POSTGRES").expect("HAWAF_TEST_POSTGRES names the test PostgreSQL server");
    let name = format!("hawaf_{}_{}", std::process::id(), rand_suffix());
    let mut admin =
        sqlx::postgres::PgConnection::connect(&format!("{server}/postgres")).await.expect("test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
    format!("{server}/{name}").parse().unwrap()
}

/// The app's database, opened beside it for what a test reads or changes
/// behind its back (SQL with `$n` parameters, for both engines).
pub async fn raw_db(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = match &app.app.config.db {
        Location::File(path) => format!("sqlite://{}", path.display()),
        Location::Postgres(url) => url.clone(),
    };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

pub fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(redirect::Policy::none()).build().unwrap()
}

/// The value of the first `name="csrf_token" value="…"` in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.browser.get(self.url(path)).send().await.unwrap()
    }

    pub async fn page(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.text().await.unwrap()
    }

    /// Signs the browser in; returns the answer to the sign-in POST.
    pub async fn sign_in_as(&self, username: &str, password: &str) -> Response {
        let form = self.page("/login").await;
        let csrf = csrf_in(&form);
        self.browser
            .post(self.url("/login"))
            .form(&[("username", username), ("password", password), ("csrf_token", &csrf), ("next", "/stacks")])
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in_admin(&self) {
        let res = self.sign_in_as("admin", ADMIN_PASSWORD).await;
        assert_eq!(res.status(), 303, "admin signs in");
    }

    pub async fn add_user(&self, name: &str, role: Role) {
        hawaf::auth::add_user(&self.app.store, "test", name, ADMIN_PASSWORD, role).await.unwrap();
    }

    /// The session's CSRF token, read from a page as a browser would.
    pub async fn csrf(&self) -> String {
        csrf_in(&self.page("/stacks").await)
    }

    /// POSTs a form with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &csrf));
        self.browser.post(self.url(path)).form(&all).send().await.unwrap()
    }

    /// A user with `role` and an API token for them.
    pub async fn token(&self, role: Role) -> String {
        let name = format!("{}-{}", role, rand_suffix());
        self.add_user(&name, role).await;
        hawaf::auth::create_api_token(&self.app.store, "test", &name, "tests").await.unwrap()
    }

    pub fn api(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        Client::new().request(method, self.url(&format!("/api/v1{path}"))).bearer_auth(token)
    }

    pub async fn api_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.api(method, path, token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn audit_actions(&self) -> Vec<(String, String, String, String)> {
        self.app
            .store
            .audit_entries(None, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action, e.target, e.outcome))
            .collect()
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// The seed preset's form fields as the new-stack page renders them, with
/// `name` set: what a user submits after typing only a name.
pub async fn preset_form(app: &TestApp, name: &str) -> Vec<(String, String)> {
    let html = app.page("/stacks/new").await;
    let mut fields = Vec::new();
    for chunk in html.split("<input ").skip(1) {
        let attr = |key: &str| {
            let marker = format!("{key}=\"");
            chunk.find(&marker).map(|i| chunk[i + marker.len()..].split('"').next().unwrap().to_owned())
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value"))
            && n != "csrf_token"
        {
            fields.push((n, unescape(&v)));
        }
    }
    for chunk in html.split("<select ").skip(1) {
        let name = chunk.split("name=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let value = chunk.split("<option selected>").nth(1).map(|s| s.split('<').next().unwrap().to_owned());
        fields.push((name, value.unwrap_or_default()));
    }
    for f in fields.iter_mut() {
        if f.0 == "name" {
            f.1 = name.to_owned();
        }
    }
    fields
}

pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
}

/// Named helpers per endpoint, answering the contract's types: a test reads
/// as what it does (`app.apply(&token, "demo")`) and a field it names is
/// checked by the compiler. Each asserts the status the call must answer;
/// tests about refusals use `api_json`.
impl TestApp {
    /// `POST` or `GET` with a typed body and answer, asserting the status.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&B>,
        expect: u16,
    ) -> T {
        let mut req = self.api(method.clone(), path, token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let raw: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, expect, "{method} {path}: {raw:#}");
        serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{method} {path}: {e}: {raw:#}"))
    }

    /// `POST /stacks` with only a name: the seed preset.
    pub async fn create_stack(&self, token: &str, name: &str) -> StackView {
        self.call(reqwest::Method::POST, "/stacks", token, Some(&json!({"name": name})), 201).await
    }

    pub async fn stack(&self, token: &str, name: &str) -> StackView {
        self.call(reqwest::Method::GET, &format!("/stacks/{name}"), token, NO_BODY, 200).await
    }

    /// `POST /stacks/{name}/apply`, waiting (bounded) until the build ends.
    pub async fn apply(&self, token: &str, name: &str) -> Build {
        self.run_build(token, &format!("/stacks/{name}/apply")).await
    }

    /// `POST /stacks/{name}/destroy`, waiting (bounded) until the build ends.
    pub async fn destroy(&self, token: &str, name: &str) -> Build {
        self.run_build(token, &format!("/stacks/{name}/destroy")).await
    }

    /// `POST /builds/{id}/resume`, waiting (bounded) until the build ends.
    pub async fn resume(&self, token: &str, id: i64) -> Build {
        self.run_build(token, &format!("/builds/{id}/resume")).await
    }

    pub async fn build(&self, token: &str, id: i64) -> Build {
        self.call(reqwest::Method::GET, &format!("/builds/{id}"), token, NO_BODY, 200).await
    }

    pub async fn health(&self, token: &str, name: &str) -> Health {
        self.call(reqwest::Method::GET, &format!("/stacks/{name}/health"), token, NO_BODY, 200).await
    }

    /// `POST /stacks/{name}/drills`; answers the new drill's id.
    pub async fn start_drill(&self, token: &str, name: &str, req: &DrillRequest) -> i64 {
        let started: DrillAccepted =
            self.call(reqwest::Method::POST, &format!("/stacks/{name}/drills"), token, Some(req), 202).await;
        started.drill_id
    }

    pub async fn drill(&self, token: &str, id: i64) -> Drill {
        self.call(reqwest::Method::GET, &format!("/drills/{id}"), token, NO_BODY, 200).await
    }

    /// `POST /stacks/{name}/nodes/{node}/waf`, expecting it done.
    pub async fn switch_waf(&self, token: &str, name: &str, node: &str, req: &WafRequest) -> WafState {
        self.call(reqwest::Method::POST, &format!("/stacks/{name}/nodes/{node}/waf"), token, Some(req), 200).await
    }

    /// Starts a build through the API and waits (bounded) until it ends.
    pub async fn run_build(&self, token: &str, path: &str) -> Build {
        let started: BuildAccepted = self.call(reqwest::Method::POST, path, token, NO_BODY, 202).await;
        self.wait_build(token, started.build_id).await
    }

    /// A lab stack defined and built by a new operator; returns the operator's token.
    pub async fn built_stack(&self, name: &str) -> String {
        let token = self.token(Role::Operator).await;
        self.create_stack(&token, name).await;
        let build = self.apply(&token, name).await;
        assert_eq!(build.status, BuildStatus::Succeeded, "{build:#?}");
        token
    }

    /// Waits (bounded) until a drill is no longer running; returns its answer.
    pub async fn wait_drill(&self, token: &str, id: i64) -> Drill {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        loop {
            let d = self.drill(token, id).await;
            if d.status != DrillStatus::Running {
                return d;
            }
            assert!(std::time::Instant::now() < deadline, "drill {id} still running: {d:#?}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    pub async fn wait_build(&self, token: &str, id: i64) -> Build {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        loop {
            let build = self.build(token, id).await;
            if build.status != BuildStatus::Running {
                return build;
            }
            assert!(std::time::Instant::now() < deadline, "build {id} still running: {build:#?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// A lab stack's live instance by its Name tag.
pub async fn lab_instance(app: &TestApp, stack: &str, node: &str) -> hawaf::cloud::Instance {
    use hawaf::cloud::{Cloud, Filter, TAG_NAME, TAG_STACK};
    let ours = Filter::tags([(TAG_STACK.to_owned(), stack.to_owned())].into());
    app.app
        .providers
        .lab()
        .describe_instances(&ours)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.tags.get(TAG_NAME).is_some_and(|n| n == node) && i.state != hawaf::cloud::InstanceState::Terminated)
        .unwrap_or_else(|| panic!("{stack} has no instance named {node}"))
}

/// For calls without a body.
pub const NO_BODY: Option<&()> = None;

/// The names of the calls a build made, e.g. `CreateVpc`.
pub fn operations(build: &Build) -> Vec<String> {
    build.steps.iter().flat_map(|s| s.calls.iter().map(|c| c.operation.clone())).collect()
}

/// A drill with short phases, for tests.
pub fn fast(scenario: &str) -> hawaf::contract::DrillRequest {
    hawaf::contract::DrillRequest {
        scenario: scenario.into(),
        rate: Some(20),
        baseline_ms: Some(1000),
        hold_ms: Some(1000),
        verify_ms: Some(1000),
        phase_timeout_ms: Some(20000),
        ..Default::default()
    }
}
