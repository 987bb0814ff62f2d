//! Persistence on SQLite (embedded, the default) or PostgreSQL (shared by
//! replicas). All SQL lives below this module, one file per aggregate, and is
//! written once for both engines: `$n` parameters, integers for flags and times.

mod appliance;
mod audit;
mod builds;
pub mod copy;
mod drift;
mod drills;
mod health;
mod holds;
mod lab;
mod leases;
mod location;
mod practice;
mod recent;
mod stacks;
mod users;
mod webhooks;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions as _, Executor as _};

pub use appliance::ApplianceRunRow;
pub use audit::{AuditEntry, AuditFilter, NewAudit};
pub use builds::{BuildRow, CallRow, ResourceRow, StepRow, WafNodeRow};
pub use drills::{DrillRow, NewDrill, PendingRestoreRow, ProbeRow};
pub use health::{HealthEventRow, NewHealthEvent};
pub use holds::{HoldRow, NewHold};
pub use leases::LeaseRow;
pub use location::{Engine, Location};
pub use practice::{LeverRow, ScheduleRow, ScheduleRunRow};
pub use stacks::{StackRow, StackVersionRow, VersionOutcome};
pub use users::{ApiTokenRow, Changed, SessionRow, TokenRow, UserChange, UserRow};
pub use webhooks::{DeliveryRow, WebhookRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `path` is a file name or a PostgreSQL URL without its password.
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Another replica took the leader lease over: this one must not write
    /// what only the leader may (fencing by the lease's generation).
    #[error("this replica no longer holds the leader lease (its generation {generation} was taken over)")]
    Fenced { generation: i64 },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Every write transaction on PostgreSQL first takes this advisory lock, so
/// writes are serialised across replicas as SQLite serialises them in one
/// process: the check-then-insert guards (one running build, drill or
/// migration per stack) hold on both engines without rewriting each one.
const WRITE_LOCK: i64 = 0x6861_7761_6600; // "hawaf"

/// Reads go to a pool of connections. On SQLite every write goes through one
/// connection, so writers queue in the pool instead of failing with
/// SQLITE_BUSY when a deferred transaction would have to upgrade its lock; on
/// PostgreSQL both are the same pool and `begin_write` takes `WRITE_LOCK`.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    writer: AnyPool,
    engine: Engine,
    /// Sessions and API tokens as recently read; see `recent`.
    sessions: std::sync::Arc<recent::Recent<SessionRow>>,
    tokens: std::sync::Arc<recent::Recent<ApiTokenRow>>,
    /// (owner, generation) of the leader lease while this replica leads on
    /// PostgreSQL: every write transaction checks the lease still is so.
    fence: std::sync::Arc<std::sync::RwLock<Option<(String, i64)>>>,
}

impl Store {
    /// Opens (creating if needed) an SQLite file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        Store::connect(&Location::File(path.to_path_buf())).await
    }

    /// Opens the database at `location` (an SQLite file or a PostgreSQL URL)
    /// and brings its schema up to date.
    pub async fn connect(location: &Location) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let open_err = |source| StoreError::Open { path: location.to_string(), source };
        match location {
            Location::File(path) => {
                owner_only(path).map_err(|e| open_err(sqlx::Error::Io(e)))?;
                let absolute = std::path::absolute(path).map_err(|e| open_err(sqlx::Error::Io(e)))?;
                let url = SqliteConnectOptions::new().filename(&absolute).create_if_missing(true).to_url_lossy();
                let options = AnyConnectOptions::from_url(&url).map_err(open_err)?;
                let writer = sqlite_pool(1).connect_with(options.clone()).await.map_err(open_err)?;
                // WAL lets the dashboard read while a build or drill writes;
                // the mode is kept in the file, so setting it once is enough.
                writer.execute("PRAGMA journal_mode = WAL").await.map_err(open_err)?;
                sqlx::migrate!("./migrations").run(&writer).await?;
                let pool = sqlite_pool(8).connect_with(options).await.map_err(open_err)?;
                Ok(Store::over(pool, writer, Engine::Sqlite))
            }
            Location::Postgres(url) => {
                let options: AnyConnectOptions = url.parse().map_err(open_err)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(options)
                    .await
                    .map_err(open_err)?;
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                Ok(Store::over(pool.clone(), pool, Engine::Postgres))
            }
        }
    }

    fn over(pool: AnyPool, writer: AnyPool, engine: Engine) -> Store {
        Store {
            pool,
            writer,
            engine,
            sessions: Default::default(),
            tokens: Default::default(),
            fence: Default::default(),
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.writer).await?;
        Ok(())
    }

    /// Fences this store's write transactions with the leader lease `owner`
    /// holds at `generation` (see `begin_write`).
    pub fn set_fence(&self, owner: &str, generation: i64) {
        *self.fence.write().unwrap_or_else(|e| e.into_inner()) = Some((owner.to_owned(), generation));
    }

    /// A write transaction; see `WRITE_LOCK`. Once fenced, it fails with
    /// `Fenced` if the lease changed hands: a leader paused past its lease
    /// (a stopped VM, a long GC-like stall) finds out before it writes, not
    /// at its next renewal.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.writer.begin().await?;
        if self.engine == Engine::Postgres {
            sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut *tx).await?;
            let fence = self.fence.read().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some((owner, generation)) = fence {
                let held: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM leases WHERE name = 'leader' AND owner = $1 AND generation = $2",
                )
                .bind(owner)
                .bind(generation)
                .fetch_one(&mut *tx)
                .await?;
                if held == 0 {
                    return Err(StoreError::Fenced { generation });
                }
            }
        }
        Ok(tx)
    }
}

/// SQLite connections: foreign keys on and a 5 s busy wait (sqlx's defaults
/// for SQLite), and NORMAL sync, which WAL makes safe against corruption.
fn sqlite_pool(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        // No ping before each use: an SQLite connection is a file handle in
        // this process, not a socket that can drop, and the ping was a second
        // round trip to the connection's worker thread on every query (a quarter
        // of the server's time under load; scripts/bench, measure 2).
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000")
                    .await?;
                Ok(())
            })
        })
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

/// Flags are INTEGER 0/1 on both engines: SQLite has no boolean type, and
/// the `any` driver decodes no integer as a bool. Row fields stay `bool`
/// through `#[sqlx(try_from = "Flag")]`; binds pass `i64::from(flag)`.
pub(crate) struct Flag(bool);

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        Ok(Flag(<i64 as sqlx::Decode<sqlx::Any>>::decode(value)? != 0))
    }
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
