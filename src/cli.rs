//! The command line: `hawaf serve` (the default), local bootstrap commands
//! that open the database directly (`user add`, `token create`), and client
//! commands that talk to a running server over the JSON API.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::auth::{self, Role};
use crate::config::Config;
use crate::startup::Application;
use crate::store::Store;

/// `println!` for command output. A reader that went away (`| head -1`,
/// `| true`) ends the command quietly with status 0, as Unix tools do,
/// where `println!` would panic on the closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        write_line(format_args!($($arg)*))
    };
}

fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(args).and_then(|()| stdout.write_all(b"\n")).and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        // Nobody reads any more: what was asked for has been delivered.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("hawaf: cannot write to standard output: {e}");
            std::process::exit(1)
        }
    }
}

#[derive(Parser, Debug)]
#[command(name = "hawaf", version, about = "Control plane for the highly-available WAF pattern on AWS")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `hawaf` with no subcommand: serve, with settings from the environment.
#[derive(Parser, Debug)]
struct ServeOnly {
    #[command(flatten)]
    args: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the dashboard and API (the default).
    Serve(ServeArgs),
    /// Local user management (opens the database directly).
    #[command(subcommand)]
    User(UserCommand),
    /// Local API token management (opens the database directly).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Stack definitions, builds and health, through a running server's API.
    Stack(StackArgs),
    /// Switch a WAF node's virtual webserver on or off (read back from the node).
    Waf(WafArgs),
    /// Inject or undo a fault on a node.
    Fault(FaultArgs),
    /// Failover drills, through a running server's API.
    Drill(DrillArgs),
}

#[derive(Args, Debug)]
pub struct WafArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    pub stack: String,
    pub node: String,
    pub action: WafAction,
    /// Confirm taking the last in-service WAF node down.
    #[arg(long)]
    pub yes: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum WafAction {
    Enable,
    Disable,
}

#[derive(Args, Debug)]
pub struct FaultArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    pub stack: String,
    pub node: String,
    /// stop-httpd, start-httpd, stop-instance, start-instance, isolate or unisolate
    pub fault: String,
    /// Confirm taking the last path of the node's tier down (its last in-service WAF node or web server).
    #[arg(long)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct DrillArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: DrillCommand,
}

#[derive(Subcommand, Debug)]
pub enum DrillCommand {
    /// Run a drill and follow it to the end: exit 0 on pass, 1 otherwise.
    Run {
        name: String,
        /// D1 balance, D2 web node down, D3 each WAF node down, D4 both WAFs down.
        scenario: String,
        /// Confirm a drill that takes every WAF node down (D4).
        #[arg(long)]
        yes: bool,
        /// Probes per second (default 20).
        #[arg(long)]
        rate: Option<u32>,
        #[arg(long)]
        baseline_ms: Option<u64>,
        #[arg(long)]
        hold_ms: Option<u64>,
        #[arg(long)]
        verify_ms: Option<u64>,
        #[arg(long)]
        phase_timeout_ms: Option<u64>,
    },
    /// Show one drill's status, figures and verdict.
    Show { id: i64 },
    /// Halt a running drill; it restores what it changed.
    Halt { id: i64 },
    /// A stack's drills with their verdicts.
    List { name: String },
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on; keep it on loopback unless a TLS proxy is in front.
    #[arg(long, env = "HAWAF_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub db: DbArgs,
    /// The URL users reach the dashboard at, if not the bind address (https:// turns on Secure cookies).
    #[arg(long, env = "HAWAF_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Hours a sign-in lasts.
    #[arg(long, env = "HAWAF_SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=720))]
    pub session_hours: u64,
    /// Run the lab's health checks this many times faster than AWS would (demos, tests).
    #[arg(long, env = "HAWAF_LAB_SPEEDUP", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub lab_speedup: u32,
    /// Build one step and one instance at a time (a baseline for benchmarks; never faster).
    #[arg(long, env = "HAWAF_BUILD_SERIAL", default_value_t = false, value_parser = clap::builder::BoolishValueParser::new())]
    pub build_serial: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// SQLite database file (created on first start).
    #[arg(long, env = "HAWAF_DB", default_value = "hawaf.db")]
    pub db: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user. The password is read from stdin with --password-stdin, else generated and printed.
    Add {
        name: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Viewer)]
        role: RoleArg,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (only its hash is stored).
    Create {
        #[arg(long)]
        user: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    Viewer,
    Operator,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Operator => Role::Operator,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Args, Debug)]
pub struct StackArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: StackCommand,
}

#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// The server to talk to.
    #[arg(long, env = "HAWAF_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    /// An API token (`hawaf token create`).
    #[arg(long, env = "HAWAF_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the server's JSON instead of a summary.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum StackCommand {
    /// Define a new stack from the seed preset, optionally overridden by a JSON file.
    New {
        name: String,
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, value_enum)]
        provider: Option<ProviderArg>,
    },
    /// List stacks.
    List,
    /// Show one stack's current definition.
    Show { name: String },
    /// Build the stack (the eight steps), with a progress bar until done.
    Apply { name: String },
    /// Tear the stack down, in reverse order.
    Destroy {
        name: String,
        /// Required: a teardown deletes every resource of the stack.
        #[arg(long)]
        yes: bool,
    },
    /// Both load-balancer tiers and the WAF switches, as the monitor sees them.
    Health { name: String },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ProviderArg {
    Lab,
    Aws,
}

/// A failure the CLI reports as one line on stderr with its exit code:
/// 1 for a failed operation, 2 for bad input.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Failure { code: 2, message: message.into() }
    }
    fn failed(message: impl Into<String>) -> Self {
        Failure { code: 1, message: message.into() }
    }
}

pub async fn run(cli: Cli) -> ExitCode {
    let command = match cli.command {
        Some(c) => c,
        None => Command::Serve(ServeOnly::parse_from(["hawaf"]).args),
    };
    let result = match command {
        Command::Serve(args) => serve(args).await,
        Command::User(UserCommand::Add { name, role, password_stdin, db }) => {
            user_add(&db, &name, role.into(), password_stdin).await
        }
        Command::Token(TokenCommand::Create { user, name, db }) => token_create(&db, &user, &name).await,
        Command::Stack(args) => stack(args).await,
        Command::Waf(args) => waf(args).await,
        Command::Fault(args) => fault(args).await,
        Command::Drill(args) => drill(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("hawaf: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), Failure> {
    crate::telemetry::init();
    let mut config = Config::new(args.bind, args.db.db);
    config.admin_password = std::env::var("HAWAF_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty());
    config.public_url = args.public_url;
    config.session_ttl = Duration::from_secs(args.session_hours * 3600);
    config.lab_speedup = args.lab_speedup;
    config.build_serial = args.build_serial;
    let app = Application::build(config).await.map_err(|e| Failure::failed(e.to_string()))?;
    tracing::info!("hawaf listening on http://{}", app.local_addr());
    app.run().await.map_err(|e| Failure::failed(format!("server stopped: {e}")))
}

async fn open(db: &DbArgs) -> Result<Store, Failure> {
    Store::open(&db.db).await.map_err(|e| Failure::failed(e.to_string()))
}

async fn user_add(db: &DbArgs, name: &str, role: Role, password_stdin: bool) -> Result<(), Failure> {
    let store = open(db).await?;
    let (password, generated) = if password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::input(format!("cannot read the password from stdin: {e}")))?;
        (s.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (auth::generate_password(), true)
    };
    auth::add_user(&store, "cli", name, &password, role).await.map_err(|e| match e {
        auth::AuthError::Store(crate::store::StoreError::Duplicate(_)) => {
            Failure::input(format!("user {name} already exists"))
        }
        auth::AuthError::Store(s) => Failure::failed(s.to_string()),
        other => Failure::input(other.to_string()),
    })?;
    if generated {
        out!("created {role} {name} with password {password}");
    } else {
        out!("created {role} {name}");
    }
    Ok(())
}

async fn token_create(db: &DbArgs, user: &str, name: &str) -> Result<(), Failure> {
    let store = open(db).await?;
    let token = auth::create_api_token(&store, "cli", user, name).await.map_err(|e| match e {
        auth::AuthError::NoSuchUser(_) => Failure::input(e.to_string()),
        other => Failure::failed(other.to_string()),
    })?;
    out!("{token}");
    Ok(())
}

// ---------- client commands ----------

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(args: &ClientArgs) -> Result<Client, Failure> {
        let token = args.token.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
            Failure::input(
                "no API token: set HAWAF_TOKEN or pass --token (create one with `hawaf token create --user NAME`)",
            )
        })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Failure::failed(e.to_string()))?;
        Ok(Client { http, base: args.url.trim_end_matches('/').to_owned(), token })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.map_err(|e| Failure::failed(format!("cannot reach {}: {e}", self.base)))?;
        let status = res.status();
        let value: Value = res.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let mut message = value["error"]["message"].as_str().unwrap_or("no message").to_owned();
        if let Some(fields) = value["errors"].as_array() {
            let list: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f["field"].as_str().unwrap_or("?"), f["message"].as_str().unwrap_or("?")))
                .collect();
            message = list.join("; ");
        }
        let message = format!("{} ({status})", message);
        // The caller's input was at fault for these; the rest are failures of the operation.
        Err(match status.as_u16() {
            400 | 404 | 409 | 413 | 415 | 422 => Failure::input(message),
            _ => Failure::failed(message),
        })
    }
}

async fn stack(args: StackArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let json_out = args.client.json;
    match args.command {
        StackCommand::New { name, file, provider } => {
            let mut body = match file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
                    serde_json::from_str::<Value>(&text)
                        .map_err(|e| Failure::input(format!("{} is not valid JSON: {e}", path.display())))?
                }
                None => json!({}),
            };
            let Some(map) = body.as_object_mut() else {
                return Err(Failure::input("the definition file must hold a JSON object"));
            };
            map.insert("name".into(), json!(name));
            if let Some(p) = provider {
                map.insert(
                    "provider".into(),
                    json!(match p {
                        ProviderArg::Lab => "lab",
                        ProviderArg::Aws => "aws",
                    }),
                );
            }
            let created = client.call(reqwest::Method::POST, "/stacks", Some(body)).await?;
            if json_out {
                out!("{created:#}");
            } else {
                out!("created stack {} (version {})", created["name"].as_str().unwrap_or(&name), created["version"]);
                print_warnings(&created);
            }
        }
        StackCommand::List => {
            let list = client.call(reqwest::Method::GET, "/stacks", None).await?;
            if json_out {
                out!("{list:#}");
            } else {
                out!("{:<24} {:<8} {:<14} {:<8} STATE", "NAME", "PROVIDER", "REGION", "VERSION");
                for s in list.as_array().into_iter().flatten() {
                    out!(
                        "{:<24} {:<8} {:<14} {:<8} {}",
                        s["name"].as_str().unwrap_or(""),
                        s["definition"]["provider"].as_str().unwrap_or(""),
                        s["definition"]["aws"]["region"].as_str().unwrap_or(""),
                        format!("v{}", s["version"]),
                        s["build_state"].as_str().unwrap_or(""),
                    );
                }
            }
        }
        StackCommand::Show { name } => {
            let s = client.call(reqwest::Method::GET, &format!("/stacks/{name}"), None).await?;
            if json_out {
                out!("{s:#}");
            } else {
                let d = &s["definition"];
                out!("stack     {} (version {}, {})", name, s["version"], s["build_state"].as_str().unwrap_or(""));
                out!(
                    "provider  {} {}",
                    d["provider"].as_str().unwrap_or(""),
                    d["aws"]["region"].as_str().unwrap_or("")
                );
                out!(
                    "vpc       {} ({})",
                    d["vpc_cidr"].as_str().unwrap_or(""),
                    d["subnet_mode"].as_str().unwrap_or("")
                );
                for (key, sn) in d["subnets"].as_object().into_iter().flatten() {
                    if !sn.is_null() {
                        out!(
                            "subnet    {key:<9} {} {}",
                            sn["cidr"].as_str().unwrap_or(""),
                            sn["az"].as_str().unwrap_or("")
                        );
                    }
                }
                for (role, i) in d["instances"].as_object().into_iter().flatten() {
                    out!(
                        "instance  {role:<9} {} {} {}",
                        i["name"].as_str().unwrap_or(""),
                        i["instance_type"].as_str().unwrap_or(""),
                        i["private_ip"].as_str().unwrap_or("-")
                    );
                }
                let hc = &d["health_check"];
                out!(
                    "health    {} interval {} timeout {} healthy {} unhealthy {}",
                    hc["target"].as_str().unwrap_or(""),
                    hc["interval"],
                    hc["timeout"],
                    hc["healthy_threshold"],
                    hc["unhealthy_threshold"]
                );
                print_warnings(&s);
            }
        }
        StackCommand::Apply { name } => {
            let started = client.call(reqwest::Method::POST, &format!("/stacks/{name}/apply"), None).await?;
            follow_build(&client, &started, json_out).await?;
        }
        StackCommand::Destroy { name, yes } => {
            if !yes {
                return Err(Failure::input(format!(
                    "a teardown deletes every resource of {name}: add --yes to confirm"
                )));
            }
            let started = client.call(reqwest::Method::POST, &format!("/stacks/{name}/destroy"), None).await?;
            follow_build(&client, &started, json_out).await?;
        }
        StackCommand::Health { name } => {
            let h = client.call(reqwest::Method::GET, &format!("/stacks/{name}/health"), None).await?;
            if json_out {
                out!("{h:#}");
            } else {
                for tier in ["external", "internal"] {
                    let t = &h["tiers"][tier];
                    out!(
                        "{} ({tier}): {} of {} instances in service",
                        t["lb"].as_str().unwrap_or(""),
                        t["in_service"],
                        t["total"]
                    );
                    for i in t["instances"].as_array().into_iter().flatten() {
                        out!(
                            "  {:<16} {:<22} {:<13} since {} {}",
                            i["name"].as_str().unwrap_or(""),
                            i["id"].as_str().unwrap_or(""),
                            i["state"].as_str().unwrap_or(""),
                            i["since"].as_str().unwrap_or(""),
                            i["reason"].as_str().unwrap_or("")
                        );
                    }
                }
                for (node, w) in h["waf"].as_object().into_iter().flatten() {
                    let state = match w["enabled"].as_bool() {
                        Some(true) => "enabled",
                        Some(false) => "disabled",
                        None => "unknown",
                    };
                    out!("WAF {node:<16} {state:<9} since {}", w["since"].as_str().unwrap_or(""));
                }
                if let Some(e) = h["error"].as_str() {
                    out!("warning: {e}");
                }
            }
        }
    }
    Ok(())
}

/// Shows a build's progress until it ends; a failed build exits 1 with the
/// failing step's error.
async fn follow_build(client: &Client, started: &Value, json_out: bool) -> Result<(), Failure> {
    let id = started["build_id"].as_i64().ok_or_else(|| Failure::failed("the server did not return a build id"))?;
    let bar = if json_out { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(8) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{bar:24}] {pos}/{len} steps {elapsed:>4} {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let build = loop {
        let b = client.call(reqwest::Method::GET, &format!("/builds/{id}"), None).await?;
        let steps = b["steps"].as_array().cloned().unwrap_or_default();
        let done =
            steps.iter().filter(|s| matches!(s["status"].as_str(), Some("succeeded" | "failed" | "skipped"))).count();
        bar.set_position(done as u64);
        let running: Vec<String> = steps
            .iter()
            .filter(|s| s["status"] == "running")
            .map(|s| {
                let progress = s["progress"].as_str().unwrap_or("");
                format!(
                    "{} {}{}",
                    s["number"],
                    s["title"].as_str().unwrap_or(""),
                    if progress.is_empty() { String::new() } else { format!(": {progress}") }
                )
            })
            .collect();
        bar.set_message(running.join(" | "));
        if b["status"] != "running" {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    bar.finish_and_clear();
    if json_out {
        out!("{build:#}");
    }
    match build["status"].as_str() {
        Some("succeeded") => {
            if !json_out {
                out!(
                    "{} build {id} of {} succeeded",
                    build["kind"].as_str().unwrap_or(""),
                    build["stack"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        _ => Err(Failure::failed(format!(
            "build {id} {}: {}",
            build["status"].as_str().unwrap_or("ended"),
            build["error"].as_str().unwrap_or("no error recorded")
        ))),
    }
}

async fn waf(args: WafArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let mut body = json!({"enabled": matches!(args.action, WafAction::Enable)});
    if args.yes {
        body["confirm"] = json!(args.stack);
    }
    let answer = client
        .call(reqwest::Method::POST, &format!("/stacks/{}/nodes/{}/waf", args.stack, args.node), Some(body))
        .await?;
    if args.client.json {
        out!("{answer:#}");
    } else {
        out!("{}: WAF {}", args.node, if answer["enabled"] == true { "enabled" } else { "disabled" });
    }
    Ok(())
}

async fn fault(args: FaultArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let mut body = json!({"node": args.node, "fault": args.fault});
    if args.yes {
        body["confirm"] = json!(args.stack);
    }
    let answer = client.call(reqwest::Method::POST, &format!("/stacks/{}/faults", args.stack), Some(body)).await?;
    if args.client.json {
        out!("{answer:#}");
    } else {
        out!("{}: {} done", args.node, args.fault);
    }
    Ok(())
}

fn print_warnings(stack: &Value) {
    for w in stack["warnings"].as_array().into_iter().flatten() {
        out!("warning   {}: {}", w["field"].as_str().unwrap_or(""), w["message"].as_str().unwrap_or(""));
    }
}

async fn drill(args: DrillArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let json_out = args.client.json;
    match args.command {
        DrillCommand::Run { name, scenario, yes, rate, baseline_ms, hold_ms, verify_ms, phase_timeout_ms } => {
            let mut body = json!({"scenario": scenario});
            if yes {
                body["confirm"] = json!(name);
            }
            for (key, value) in [
                ("rate", rate.map(u64::from)),
                ("baseline_ms", baseline_ms),
                ("hold_ms", hold_ms),
                ("verify_ms", verify_ms),
                ("phase_timeout_ms", phase_timeout_ms),
            ] {
                if let Some(v) = value {
                    body[key] = json!(v);
                }
            }
            let started = client
                .call(reqwest::Method::POST, &format!("/stacks/{name}/drills"), Some(body))
                .await
                .map_err(|f| {
                    if f.message.contains("confirm") && !yes {
                        Failure { message: format!("{} (pass --yes)", f.message), ..f }
                    } else {
                        f
                    }
                })?;
            let id =
                started["drill_id"].as_i64().ok_or_else(|| Failure::failed("the server did not return a drill id"))?;
            if !json_out {
                out!("drill {id} started: {scenario} on {name}");
            }
            // Phases and marks, in time order, each printed once.
            let mut printed = 0;
            let drill = loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let d = client.call(reqwest::Method::GET, &format!("/drills/{id}"), None).await?;
                if !json_out {
                    let mut lines: Vec<(i64, String)> = d["phases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            (
                                p["started_at"].as_i64().unwrap_or(0),
                                format!("  phase {}", p["name"].as_str().unwrap_or("?")),
                            )
                        })
                        .chain(d["marks"].as_array().into_iter().flatten().map(|m| {
                            let text = format!(
                                "    {} (round {})",
                                m["kind"].as_str().unwrap_or("?"),
                                m["round"].as_i64().unwrap_or(0) + 1
                            );
                            (m["at"].as_i64().unwrap_or(0), text)
                        }))
                        .collect();
                    lines.sort_by_key(|(at, _)| *at);
                    for (_, line) in lines.iter().skip(printed) {
                        out!("{line}");
                    }
                    printed = printed.max(lines.len());
                }
                if d["status"] != "running" {
                    break d;
                }
            };
            print_drill(&drill, json_out);
            if drill["verdict"] == "pass" {
                Ok(())
            } else {
                Err(Failure::failed(format!(
                    "drill {id} {}: verdict {}",
                    drill["status"].as_str().unwrap_or("?"),
                    drill["verdict"].as_str().unwrap_or("none")
                )))
            }
        }
        DrillCommand::Show { id } => {
            let d = client.call(reqwest::Method::GET, &format!("/drills/{id}"), None).await?;
            print_drill(&d, json_out);
            Ok(())
        }
        DrillCommand::Halt { id } => {
            let d = client.call(reqwest::Method::POST, &format!("/drills/{id}/halt"), None).await?;
            if json_out {
                out!("{d:#}");
            } else {
                out!("drill {id}: halting; it restores what it changed");
            }
            Ok(())
        }
        DrillCommand::List { name } => {
            let list = client.call(reqwest::Method::GET, &format!("/stacks/{name}/drills"), None).await?;
            if json_out {
                out!("{list:#}");
            } else {
                out!("{:<6} {:<9} {:<9} {:<8} BY", "ID", "SCENARIO", "STATUS", "VERDICT");
                for d in list.as_array().into_iter().flatten() {
                    out!(
                        "{:<6} {:<9} {:<9} {:<8} {}",
                        d["drill_id"],
                        d["scenario"].as_str().unwrap_or(""),
                        d["status"].as_str().unwrap_or(""),
                        d["verdict"].as_str().unwrap_or("-"),
                        d["started_by"].as_str().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
    }
}

fn print_drill(d: &Value, json_out: bool) {
    if json_out {
        out!("{d:#}");
        return;
    }
    out!(
        "drill {} {} on {}: {}, verdict {}",
        d["drill_id"],
        d["scenario"].as_str().unwrap_or(""),
        d["stack"].as_str().unwrap_or(""),
        d["status"].as_str().unwrap_or(""),
        d["verdict"].as_str().unwrap_or("none")
    );
    // Values are printed as text first: a JSON value ignores width and alignment.
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    out!("{:<36} {:>8} {:>8} {:>12} {:>8} {:>8}", "PHASE", "REQUESTS", "AVAIL%", "LEFT/RIGHT", "P50 MS", "P99 MS");
    for p in d["phases"].as_array().into_iter().flatten() {
        let split: Vec<String> = p["split"].as_object().into_iter().flatten().map(|(_, v)| text(v)).collect();
        out!(
            "{:<36} {:>8} {:>8} {:>12} {:>8} {:>8}",
            text(&p["name"]),
            text(&p["requests"]),
            text(&p["availability"]),
            split.join("/"),
            text(&p["p50_ms"]),
            text(&p["p99_ms"])
        );
    }
    if !d["mttd_ms"].is_null() || !d["mttr_ms"].is_null() {
        out!("time to detect {} ms, time to recover {} ms", text(&d["mttd_ms"]), text(&d["mttr_ms"]));
    }
    out!("restored {}", d["restored"]);
    for c in d["checks"].as_array().into_iter().flatten() {
        out!("  {} {}", if c["ok"] == true { "ok  " } else { "FAIL" }, c["text"].as_str().unwrap_or(""));
    }
    if let Some(note) = d["note"].as_str().filter(|n| !n.is_empty()) {
        out!("note: {note}");
    }
}
