//! The command line: `hawaf serve` (the default), local bootstrap commands
//! that open the database directly (`user add`, `token create`), and client
//! commands that talk to a running server over the JSON API.
//!
//! `args` is the grammar (clap), `client` the HTTP client and its errors,
//! and one file per command group.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::config::Config;
use crate::startup::Application;

/// `println!` for command output. A reader that went away (`| head -1`,
/// `| true`) ends the command quietly with status 0, as Unix tools do,
/// where `println!` would panic on the closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_line(format_args!($($arg)*))
    };
}

pub(crate) fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(args).and_then(|()| stdout.write_all(b"\n")).and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        // Nobody reads any more: what was asked for has been delivered.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("hawaf: {}", crate::i18n::text_with("cli-stdout-failed", &[("error", &e)]));
            std::process::exit(1)
        }
    }
}

/// A line that carries a secret shown once (a generated password, a new
/// token): if nobody reads it, the secret is lost, and that is a failure.
pub(crate) fn secret_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.write_all(b"\n")).and_then(|()| stdout.flush()) {
        eprintln!("hawaf: {}", crate::i18n::text_with("cli-secret-lost", &[("error", &e)]));
        std::process::exit(1)
    }
}

mod accounts;
mod args;
mod client;
mod drill;
mod ops;
mod stack;

pub use args::*;

/// A failure the CLI reports as one line on stderr with its exit code:
/// 1 for a failed operation, 2 for bad input.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Failure { code: 2, message: message.into() }
    }
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Failure { code: 1, message: message.into() }
    }
}

pub async fn run(cli: Cli) -> ExitCode {
    // The server's pages follow each reader; the command line follows its
    // shell's locale. Times it prints stay UTC, as in scripts.
    let locale = crate::i18n::Locale { lang: crate::i18n::Lang::from_env(), zone: chrono_tz::UTC };
    crate::i18n::scope(locale, run_in_locale(cli)).await
}

async fn run_in_locale(cli: Cli) -> ExitCode {
    let command = match cli.command {
        Some(c) => c,
        None => Command::Serve(ServeOnly::parse_from(["hawaf"]).args),
    };
    let result = match command {
        Command::Serve(args) => serve(args).await,
        Command::User(command) => accounts::user(command).await,
        Command::Token(command) => accounts::token(command).await,
        Command::Stack(args) => stack::stack(args).await,
        Command::Waf(args) => ops::waf(args).await,
        Command::Fault(args) => ops::fault(args).await,
        Command::Drill(args) => drill::drill(args).await,
        Command::Schedule(args) => drill::schedule(args).await,
        Command::Lever(args) => drill::lever(args).await,
        Command::Db(command) => accounts::db(command).await,
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
    config.metrics_token = args.metrics_token.filter(|t| !t.is_empty());
    config.audit_days = args.audit_days;
    config.max_streams_per_user = usize::try_from(args.max_streams_per_user).unwrap_or(usize::MAX);
    config.max_streams = usize::try_from(args.max_streams).unwrap_or(usize::MAX);
    config.outbound = crate::stack::Outbound { allow: args.allow_endpoints };
    config.trusted_proxies = args.trusted_proxies;
    config.drift_every = Duration::from_secs(args.drift_every * 60);
    config.advertise_url = args.advertise_url.map(|u| u.as_str().trim_end_matches('/').to_owned());
    let app = Application::build(config).await.map_err(|e| Failure::failed(e.to_string()))?;
    tracing::info!("hawaf listening on http://{}", app.local_addr());
    app.run().await.map_err(|e| Failure::failed(crate::i18n::text_with("cli-server-stopped", &[("error", &e)])))
}
