//! The one SQLite file: WAL, foreign keys on, migrations embedded and applied at open.
//! A database written by a newer Postwerk is refused before anything writes to it.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqlitePool};

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database {path} was written by a newer version of Postwerk (schema {found}; this version knows up to {known}). \
         It was left untouched. Update Postwerk, or use another data folder (POSTWERK_DATA_DIR or --data-dir)."
    )]
    NewerDatabase {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// Handle to the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// The file (none for an in-memory store).
    path: Option<std::path::PathBuf>,
}

impl Store {
    /// Opens (creating when missing) the database file, refusing one from a newer Postwerk,
    /// then applies this version's migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if path.exists() {
            refuse_newer(path).await?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .optimize_on_close(true, None);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        MIGRATOR.run(&pool).await?;
        tracing::debug!(path = %path.display(), "store opened");
        Ok(Self {
            pool,
            path: Some(path.to_path_buf()),
        })
    }

    /// A private in-memory database with all migrations (unit tests).
    pub async fn in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to :memory: is a separate database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, path: None })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A read-only connection of its own, outside the pool, to tell when *another*
    /// connection (another process, or this one's pool) committed: SQLite's `data_version`
    /// changes then. `None` for an in-memory store.
    pub async fn watcher(&self) -> Result<Option<Watcher>, StoreError> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(Duration::from_secs(5));
        let mut conn = sqlx::ConnectOptions::connect(&options).await?;
        let version = data_version(&mut conn).await?;
        Ok(Some(Watcher { conn, version }))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// See [`Store::watcher`].
#[derive(Debug)]
pub struct Watcher {
    conn: sqlx::SqliteConnection,
    version: i64,
}

impl Watcher {
    /// Whether anything was committed by another connection since the last call.
    pub async fn changed(&mut self) -> Result<bool, StoreError> {
        let now = data_version(&mut self.conn).await?;
        let changed = now != self.version;
        self.version = now;
        Ok(changed)
    }
}

async fn data_version(conn: &mut sqlx::SqliteConnection) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(conn)
        .await?)
}

/// The highest schema version this build knows.
pub fn known_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Reads the applied migrations through a read-only connection and refuses a database that
/// has any migration this build does not know.
async fn refuse_newer(path: &Path) -> Result<(), StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(open_err)?;
    let has_table: bool = sqlx::query_scalar(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(open_err)?;
    let applied: Vec<i64> = if has_table {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .map_err(open_err)?
    } else {
        Vec::new()
    };
    conn.close().await.map_err(open_err)?;
    let known = known_schema_version();
    if let Some(&found) = applied
        .iter()
        .find(|v| !MIGRATOR.iter().any(|m| m.version == **v))
    {
        let found = applied.iter().copied().max().unwrap_or(found);
        return Err(StoreError::NewerDatabase {
            path: path.to_path_buf(),
            found,
            known,
        });
    }
    Ok(())
}

/// Current time as stored: RFC 3339 in UTC with millisecond precision.
pub(crate) fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
