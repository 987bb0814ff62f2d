//! SQLite persistence. All SQL lives below this module, one file per aggregate.

mod appliance;
mod audit;
mod builds;
mod drift;
mod drills;
mod health;
mod holds;
mod lab;
mod practice;
mod recent;
mod stacks;
mod users;
mod webhooks;

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use appliance::ApplianceRunRow;
pub use audit::{AuditEntry, AuditFilter, NewAudit};
pub use builds::{BuildRow, CallRow, ResourceRow, StepRow, WafNodeRow};
pub use drills::{DrillRow, NewDrill, PendingRestoreRow, ProbeRow};
pub use health::{HealthEventRow, NewHealthEvent};
pub use holds::{HoldRow, NewHold};
pub use practice::{LeverRow, ScheduleRow, ScheduleRunRow};
pub use stacks::{StackRow, StackVersionRow, VersionOutcome};
pub use users::{ApiTokenRow, Changed, SessionRow, TokenRow, UserChange, UserRow};
pub use webhooks::{DeliveryRow, WebhookRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Reads go to a pool of connections; every write goes through one
/// connection, so writers queue in the pool instead of failing with
/// SQLITE_BUSY when a deferred transaction would have to upgrade its lock.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    writer: SqlitePool,
    /// Sessions and API tokens as recently read; see `recent`.
    sessions: std::sync::Arc<recent::Recent<SessionRow>>,
    tokens: std::sync::Arc<recent::Recent<ApiTokenRow>>,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        owner_only(path)
            .map_err(|e| StoreError::Open { path: path.display().to_string(), source: sqlx::Error::Io(e) })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL lets the dashboard read while a build or drill writes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let open_err = |source| StoreError::Open { path: path.display().to_string(), source };
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        // No ping before each use: an SQLite connection is a file handle in
        // this process, not a socket that can drop, and the ping was a second
        // round trip to the connection's worker thread on every query (a quarter
        // of the server's time under load; scripts/bench, measure 2).
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        Ok(Store { pool, writer, sessions: Default::default(), tokens: Default::default() })
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }
}

pub use crate::clock::now_ms;

/// The database holds session and token hashes and sealed secrets: it is
/// created readable by its owner only (0600), and an existing one is made
/// so. SQLite gives its -wal and -shm files the database file's mode.
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !path.exists() {
            std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
