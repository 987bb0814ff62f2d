//! The command line's grammar.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::auth::Role;

#[derive(Parser, Debug)]
#[command(name = "hawaf", version, about = "Control plane for the highly-available WAF pattern on AWS")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `hawaf` with no subcommand: serve, with settings from the environment.
#[derive(Parser, Debug)]
pub(super) struct ServeOnly {
    #[command(flatten)]
    pub(super) args: ServeArgs,
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
    /// Drill schedules, through a running server's API.
    Schedule(ScheduleArgs),
    /// The safety lever: stop every drill, or allow them again.
    Lever(LeverArgs),
    /// The database itself (opens it directly).
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Copy an SQLite database (users, stacks, builds, drills, audit, sealed
    /// secrets, lab state) into an empty PostgreSQL one given by --db, and
    /// check the row counts.
    MigrateFromSqlite {
        /// The SQLite file to copy (brought up to date first, as a start would).
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Args, Debug)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

#[derive(Subcommand, Debug)]
pub enum ScheduleCommand {
    /// A stack's schedules with their next runs and latest slots.
    List {
        name: String,
    },
    /// Run SCENARIO on NAME at CRON (five fields, UTC), e.g. `0 3 * * mon-fri`.
    Add {
        name: String,
        scenario: String,
        cron: String,
        /// A window with no runs, e.g. `sat,sun 00:00-24:00` or `22:00-06:00` (UTC); repeatable.
        #[arg(long = "blackout")]
        blackouts: Vec<String>,
        /// Add it suspended.
        #[arg(long)]
        suspended: bool,
    },
    Suspend {
        id: i64,
    },
    /// Resume; it counts from now (missed slots are not run).
    Resume {
        id: i64,
    },
    Delete {
        id: i64,
    },
}

#[derive(Args, Debug)]
pub struct LeverArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub command: LeverCommand,
}

#[derive(Subcommand, Debug)]
pub enum LeverCommand {
    /// Whether drills may run.
    Show,
    /// Halt every running drill and refuse new ones until released.
    Engage {
        reason: String,
    },
    Release,
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
        /// D1 balance, D2 web node down, D3 each WAF node down, D4 both WAFs down, D5 AZ evacuation.
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
        /// Run even if the drift check before it finds the stack drifted.
        #[arg(long)]
        allow_drift: bool,
    },
    /// Show one drill's status, figures and verdict.
    Show { id: i64 },
    /// Halt a running drill; it restores what it changed.
    Halt { id: i64 },
    /// A stack's drills with their verdicts.
    List { name: String },
    /// Save a custom drill for STACK from a JSON file (name, title,
    /// hypothesis, method); run it with `drill run STACK NAME`.
    Define {
        stack: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// A stack's custom drills.
    Definitions { stack: String },
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
    /// A token Prometheus must send (`Authorization: Bearer …`) to read /metrics; open without it.
    #[arg(long, env = "HAWAF_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Days the audit log keeps an entry.
    #[arg(long, env = "HAWAF_AUDIT_DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub audit_days: u32,
    /// Live streams (open pages) one user may hold at once; more answer 429.
    #[arg(long, env = "HAWAF_MAX_STREAMS_PER_USER", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_streams_per_user: u64,
    /// Live streams all users together may hold at once; more answer 429.
    #[arg(long, env = "HAWAF_MAX_STREAMS", default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_streams: u64,
    /// A URL prefix stacks may send AWS calls to in plain http (an emulator on another host); repeatable.
    #[arg(long = "allow-endpoint", env = "HAWAF_ALLOW_ENDPOINTS", value_delimiter = ',')]
    pub allow_endpoints: Vec<String>,
    /// A proxy (CIDR) in front of hawaf whose X-Forwarded-For and X-Forwarded-Proto are believed; repeatable.
    #[arg(long = "trusted-proxy", env = "HAWAF_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Minutes between drift checks of every built stack (0: only on demand and before drills).
    #[arg(long, env = "HAWAF_DRIFT_EVERY", default_value_t = 15, value_parser = clap::value_parser!(u64).range(0..=10_080))]
    pub drift_every: u64,
    /// With PostgreSQL: the URL the other replicas reach this one at (default: http:// and the bound address).
    #[arg(long, env = "HAWAF_ADVERTISE_URL")]
    pub advertise_url: Option<url::Url>,
}

#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// SQLite database file (created on first start), or a postgres:// URL
    /// that several replicas share.
    #[arg(long, env = "HAWAF_DB", default_value = "hawaf.db", hide_env_values = true)]
    pub db: crate::store::Location,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Every user, with role and state.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Add a user. The password is read from stdin with --password-stdin, else generated, printed,
    /// and to be changed at the first sign-in.
    Add {
        name: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Viewer)]
        role: RoleArg,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Change a user's role; their sessions end. The last enabled admin keeps theirs.
    Role {
        name: String,
        #[arg(value_enum)]
        role: RoleArg,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable a user: their sessions and tokens end at once.
    Disable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Let a disabled user sign in again.
    Enable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Delete a user with their sessions and tokens (the audit log keeps their name).
    Delete {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Reset a password (read from stdin with --password-stdin, else generated and printed);
    /// the user changes it at the next sign-in.
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// API tokens: one user's, or everyone's.
    List {
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Create an API token for a user and print it (only its hash is stored).
    Create {
        #[arg(long)]
        user: String,
        /// A label to recognise the token by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// How long it lasts (1 to 365 days).
        #[arg(long, default_value_t = crate::auth::DEFAULT_TOKEN_DAYS)]
        days: u32,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by its id (see `token list`): its next use answers 401.
    Revoke {
        id: i64,
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
    /// Take over a stack built by hand: look for its resources by the names
    /// used in the console (the seed's, or a JSON file's), and with --yes tag
    /// them as the stack's and record them as built.
    Adopt {
        name: String,
        /// Definition fields (as for `stack new`) naming what was built.
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, value_enum)]
        provider: Option<ProviderArg>,
        /// Adopt what was found; without it, only report.
        #[arg(long)]
        yes: bool,
    },
    /// Move the stack's classic tiers to application or network load
    /// balancers, blue/green: without --yes, show the plan; with it, build the
    /// new tiers beside the old ones and run D1 through them. --finish --yes
    /// removes the old tiers once clients follow the new DNS name. `--to
    /// sfos` replaces the UTM 9 WAF nodes with Sophos Firewall ones, one at
    /// a time, and follows the run.
    Migrate {
        name: String,
        #[arg(long, value_enum, default_value = "application")]
        to: MigrateTo,
        /// Only this tier (default: both).
        #[arg(long, value_enum)]
        tier: Option<TierArg>,
        /// `--to sfos`: the Sophos Firewall AMI (on the lab, its own by default).
        #[arg(long)]
        image: Option<String>,
        /// Remove the old tiers of a migration.
        #[arg(long)]
        finish: bool,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum MigrateTo {
    Application,
    Network,
    Sfos,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum TierArg {
    External,
    Internal,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ProviderArg {
    Lab,
    Aws,
}
