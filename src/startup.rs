//! Builds the application from a `Config`: what `hawaf serve` runs and what
//! the integration tests start on an ephemeral port.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::{self, Role};
use crate::config::Config;
use crate::events::Bus;
use crate::health::{Intervals, Monitors};
use crate::lab::LabConfig;
use crate::providers::{Providers, start_lab};
use crate::replica::{self, Replica};
use crate::secret::SecretBox;
use crate::store::{Engine, Store};
use crate::web;
use crate::{App, SharedApp};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot create the first admin user: {0}")]
    Admin(#[from] auth::AuthError),
    #[error("cannot load the secret key: {0}")]
    Secret(#[from] crate::secret::SecretError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(
        "listening on {bind} with PostgreSQL: give the URL other replicas reach this one at with --advertise-url (HAWAF_ADVERTISE_URL)"
    )]
    NoAdvertiseUrl { bind: SocketAddr },
    #[error("cannot claim or read the leader lease: {0}")]
    Lease(String),
}

pub struct Application {
    listener: TcpListener,
    app: SharedApp,
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, StartError> {
        let store = Store::connect(&config.db).await?;
        ensure_admin(&store, config.admin_password.as_deref()).await?;
        let secrets = SecretBox::for_location(&config.db)?;
        let listener =
            TcpListener::bind(config.bind).await.map_err(|source| StartError::Bind { addr: config.bind, source })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind { addr: config.bind, source })?;
        let shared = store.engine() == Engine::Postgres;
        let url = match &config.advertise_url {
            Some(url) => url.clone(),
            None if shared && local.ip().is_unspecified() => return Err(StartError::NoAdvertiseUrl { bind: local }),
            None => format!("http://{local}"),
        };
        let replica =
            Replica::new(url, if shared { replica::Role::Follower { leader: None } } else { replica::Role::Single });
        let lab_config = LabConfig { speedup: config.lab_speedup.max(1), ..LabConfig::default() };
        let app = Arc::new(App {
            store,
            bus: Bus::default(),
            providers: Providers::new(lab_config, config.aws, config.outbound.clone()),
            health: Monitors::new(Intervals::default()),
            secrets,
            config,
            drills: crate::drill::Registry::default(),
            node_locks: Default::default(),
            replica,
        });
        if shared {
            let claimed_at = std::time::Instant::now();
            let generation = app.replica.claim(&app.store).await.map_err(StartError::Lease)?;
            // The renewals start before the leader's work does: that work
            // (undoing a crashed drill's faults on AWS) may outlast the lease.
            let runner = app.clone();
            tokio::spawn(async move {
                let leader = runner.clone();
                runner
                    .replica
                    .run(runner.store.clone(), generation.is_some(), claimed_at, move || async move {
                        if let Err(e) = lead(&leader).await {
                            // Half a leader is worse than none: let a peer or the supervisor retry.
                            tracing::error!(error = %e, "cannot take up the work of the leader; exiting");
                            std::process::exit(1);
                        }
                    })
                    .await;
            });
            match generation {
                Some(generation) => {
                    lead(&app).await?;
                    app.replica.started(generation);
                }
                None => {
                    tracing::info!(replica = %app.replica.id, leader = ?app.replica.role(), "another replica leads; forwarding requests to it")
                }
            }
        } else {
            lead(&app).await?;
        }
        Ok(Application { listener, app })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has a local address; fall back to the configured one.
        self.listener.local_addr().unwrap_or(self.app.config.bind)
    }

    pub fn app(&self) -> SharedApp {
        self.app.clone()
    }

    /// Serves until ctrl-c / SIGTERM, then finishes in-flight requests.
    pub async fn run(self) -> std::io::Result<()> {
        let router = web::router(self.app.clone(), self.local_addr());
        axum::serve(self.listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        // Stopped cleanly: a follower takes over at its next renewal instead of after the lease's expiry.
        self.app.replica.release(&self.app.store).await;
        Ok(())
    }
}

/// Everything that must happen once among replicas, done by the one that
/// leads (at start, or on taking over from one that died): builds and
/// appliance runs cut off are marked so, the lab comes back from its saved
/// state, monitors start, a crashed drill's faults are undone, and the
/// background loops begin.
async fn lead(app: &SharedApp) -> Result<(), StartError> {
    let interrupted = app.store.interrupt_running_builds().await?;
    for b in &interrupted {
        tracing::warn!(stack = %b.stack, build = b.id, "build was interrupted by a restart; it can be resumed");
    }
    let runs = app.store.interrupt_appliance_runs().await?;
    if runs > 0 {
        tracing::warn!(runs, "WAF node replacements were interrupted by a restart; starting one again carries on");
    }
    let lab = start_lab(&app.store, app.providers.lab().config().clone(), &app.secrets).await?;
    if app.providers.set_lab(lab).is_err() {
        tracing::error!("the lab was already running on this replica");
    }
    crate::health::start_all(app).await?;
    // Before serving: a drill cut off by a crash must not leave a node down.
    crate::drill::restore::at_startup(app).await?;
    if app.replica.takeovers.load(std::sync::atomic::Ordering::Relaxed) > 0 {
        resume_after_takeover(app, &interrupted).await?;
    }
    tokio::spawn(sweep_audit(app.store.clone(), app.config.audit_days));
    tokio::spawn(crate::drift::sweep(app.clone(), app.config.drift_every));
    tokio::spawn(crate::drift::after_builds(app.clone()));
    tokio::spawn(crate::drill::schedule::run(app.clone()));
    tokio::spawn(crate::webhook::deliver(app.clone()));
    tokio::spawn(crate::webhook::health_events(app.clone()));
    Ok(())
}

/// A replica that took the lead over from one that died carries on the
/// builds it was running, from their recorded state (steps done are
/// skipped, instances found by tag), as an operator would by resuming them.
/// A single process restarted leaves that to the operator, as before.
async fn resume_after_takeover(app: &SharedApp, interrupted: &[crate::store::BuildRow]) -> Result<(), StartError> {
    const ACTOR: &str = "hawaf (takeover)";
    for b in interrupted {
        let (outcome, detail) = match crate::build::resume(app, b.id, ACTOR).await {
            Ok(id) => ("ok", format!("build {} resumed as build {id} after the leading replica stopped", b.id)),
            Err(e) => ("failed", format!("build {} cannot be resumed after the leading replica stopped: {e}", b.id)),
        };
        tracing::warn!(stack = %b.stack, build = b.id, %detail, "resuming after a takeover");
        app.store
            .audit(crate::store::NewAudit { actor: ACTOR, action: "build.resume", target: &b.stack, outcome, detail })
            .await?;
    }
    Ok(())
}

/// First start: an empty user table gets `admin`, with the configured password
/// or a generated one printed once.
async fn ensure_admin(store: &Store, password: Option<&str>) -> Result<(), StartError> {
    if store.user_count().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match password {
        Some(p) => (p.to_owned(), false),
        None => (auth::generate_password(), true),
    };
    // A generated password was printed to a terminal: it is changed at the first sign-in.
    match auth::create_user(store, "hawaf", "admin", &password, Role::Admin, generated).await {
        // Another replica starting on the same empty database made it first.
        Err(auth::AuthError::Store(crate::store::StoreError::Duplicate(_))) => return Ok(()),
        other => other?,
    };
    if generated {
        // Printed, not logged: it must not end up in log files, and it is shown only this once.
        eprintln!(
            "\n  First start: created user `admin` with password  {password}\n  (shown once; set HAWAF_ADMIN_PASSWORD to choose it)\n"
        );
    }
    Ok(())
}

/// Keeps the audit log, and finished webhook deliveries, to the audit
/// retention: once at start, then hourly.
async fn sweep_audit(store: Store, days: u32) {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let before = crate::store::now_ms() - i64::from(days) * DAY_MS;
        match store.audit_sweep(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, days, "audit entries past their retention deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot sweep the audit log"),
        }
        match store.sweep_deliveries(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, days, "finished webhook deliveries past their retention deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot sweep webhook deliveries"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
