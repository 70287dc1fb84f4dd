//! Storage: one diesel `MultiConnection` over PostgreSQL and SQLite, an r2d2 pool, embedded
//! per-backend migrations, and the query functions of each table. Only this module speaks
//! diesel.

pub mod acceptance_proofs;
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod counters;
pub mod insights;
pub mod invitations;
pub mod invite_tree;
pub mod models;
pub mod oauth;
pub mod organization_domains;
pub mod organizations;
pub mod outbox;
pub mod password_resets;
pub(crate) mod prepared;
pub mod redemptions;
pub mod registrations;
pub mod retention;
pub mod schema;
pub mod sessions;
pub mod settings;
mod transactions;
pub mod users;
pub mod verifications;
pub mod webhooks;

pub(crate) use transactions::bump_write_lock;
pub use transactions::{
    is_connection_lost, is_rollback, rollback, savepoint, try_write_tx, write_tx,
};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Inserts `$rows` (a slice of `Insertable` rows) into `$table` on `$conn`, returning the
/// `QueryResult` of the count. Multi-row inserts exist per backend only, not through the
/// MultiConnection: one statement on PostgreSQL; on SQLite one statement for rows that bind
/// `None` as NULL, else row by row inside the caller's transaction (a `None` there is a left-out
/// column). Callers keep a statement under 32,766 parameters, SQLite's limit (1,000 rows).
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let insert = diesel::insert_into($table).values($rows);
        match $conn {
            $crate::storage::DbConn::Pg(c) => insert.execute(c),
            $crate::storage::DbConn::Sqlite(c) => insert.execute(c),
        }
    }};
}
pub(crate) use insert_rows;

/// Inserts all of `$rows` (a slice of `Insertable` rows binding `None` as NULL) into `$table`
/// on `$conn`, returning `QueryResult<()>`; nothing is sent for an empty slice. On PostgreSQL
/// one binary `COPY FROM` (all or nothing; a unique violation is reported as by an INSERT),
/// on SQLite a statement per 1,000 rows ([`insert_rows`]; tables of at most 32 columns stay
/// under its 32,766 parameters), all or nothing inside the caller's transaction. Why `COPY`:
/// a multi-row INSERT's text varies with its count, so PostgreSQL parses and plans each batch
/// afresh; that was 2.6 ms of a 476-row audit batch's 6.7 ms while verifications were audited
/// at 18k/s.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            _ if rows.is_empty() => Ok(()),
            $crate::storage::DbConn::Pg(c) => diesel::prelude::ExecuteCopyFromDsl::execute(
                diesel::copy_from($table).from_insertable(rows),
                c,
            )
            .map(|_| ()),
            conn @ $crate::storage::DbConn::Sqlite(_) => rows.chunks(1_000).try_for_each(|chunk| {
                $crate::storage::insert_rows!(&mut *conn, $table, chunk).map(|_| ())
            }),
        }
    }};
}
pub(crate) use insert_all;

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL.
    Pg(diesel::PgConnection),
    /// SQLite.
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite://PATH`.
    Sqlite,
}

impl Backend {
    /// The backend named by the URL's scheme, if any.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else if url.starts_with("sqlite://") {
            Some(Self::Sqlite)
        } else {
            None
        }
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No connection could be had (database down, pool exhausted past the timeout).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Opens connections by the URL's scheme (MultiConnection's own `establish` would try each
/// backend in turn) and prepares SQLite connections for concurrent use.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    backend: Backend,
    url: String,
}

impl ConnectionManager {
    /// A manager for `url`; errors on an unknown scheme.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let backend = Backend::from_url(url)
            .ok_or_else(|| anyhow::anyhow!("unsupported database URL scheme"))?;
        Ok(Self {
            backend,
            url: url.to_string(),
        })
    }

    /// Opens one connection.
    pub fn establish(&self) -> Result<DbConn, ConnectionError> {
        match self.backend {
            Backend::Postgres => Ok(DbConn::Pg(diesel::PgConnection::establish(&self.url)?)),
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                let mut conn = diesel::SqliteConnection::establish(path)?;
                // WAL lets readers run beside the one writer; busy_timeout makes writers queue
                // instead of failing; foreign keys are off by default in SQLite. A checkpoint
                // every 4,000 pages (16 MiB of WAL; SQLite's default is 1,000) copies the index
                // pages that every audit batch rewrites once for four times as many batches;
                // the commit that crosses the mark (any writer's) pays a four times longer
                // checkpoint (docs/performance.md, "checkpoints").
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA wal_autocheckpoint = 4000;",
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

/// How long a statement on SQLite waits for another connection's lock before it fails with
/// `SQLITE_BUSY` (`PRAGMA busy_timeout`), in milliseconds.
pub const BUSY_TIMEOUT_MS: u32 = 30_000;

/// How long a connection that went back to the pool after an error-free use is trusted
/// without asking the database at checkout (HikariCP's `aliveBypassWindowMs` is 500 ms too).
/// Asking costs a round trip per checkout on PostgreSQL, as much as the one query of a
/// token verification.
pub const TRUSTED_FOR: Duration = Duration::from_millis(500);

/// A pooled connection with what the pool knows of its health. Dereferences to [`DbConn`].
pub struct PoolConn {
    conn: DbConn,
    /// When it last answered a check, or its user last reported a use that worked.
    known_good_at: std::time::Instant,
    /// Its last user saw a server or connection error: the next checkout checks it first.
    suspect: bool,
}

impl PoolConn {
    /// Records how a use of this connection went. One that worked lets the next checkout
    /// within [`TRUSTED_FOR`] hand it out without asking the database (unless it is already
    /// suspect: a user's word does not clear that). One that failed in a way a dead
    /// connection could cause (a 500 or 503) makes the next checkout ask first. Users that
    /// report nothing leave it to be checked once the window has passed.
    pub fn report(&mut self, worked: bool) {
        if !worked {
            self.suspect = true;
        } else if !self.suspect {
            self.known_good_at = std::time::Instant::now();
        }
    }
}

impl std::ops::Deref for PoolConn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = PoolConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolConn, Self::Error> {
        let conn = self
            .establish()
            .map_err(diesel::r2d2::Error::ConnectionError)?;
        Ok(PoolConn {
            conn,
            known_good_at: std::time::Instant::now(),
            suspect: false,
        })
    }

    /// At checkout: trusted within [`TRUSTED_FOR`] of its last reported good use unless
    /// marked suspect; otherwise `SELECT 1` on PostgreSQL, and on SQLite the statement that
    /// sets its busy timeout ([`try_write_tx`] changes it for a moment), which also proves it
    /// answers (a failure makes r2d2 drop it and take another).
    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), Self::Error> {
        if !conn.suspect && conn.known_good_at.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        let check = match conn.conn {
            DbConn::Pg(_) => "SELECT 1".to_string(),
            DbConn::Sqlite(_) => transactions::restore_busy_timeout(),
        };
        conn.conn
            .batch_execute(&check)
            .map_err(diesel::r2d2::Error::QueryError)?;
        conn.known_good_at = std::time::Instant::now();
        conn.suspect = false;
        Ok(())
    }

    /// A connection that unwound from a panic, still holds an open transaction (on SQLite, the
    /// write lock) or whose transaction manager is in an error state never goes back to the
    /// pool: the next user would run inside a transaction that never commits.
    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        use diesel::connection::{Connection, TransactionManager};
        std::thread::panicking()
            || !matches!(
                <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(
                    &mut conn.conn
                )
                .transaction_depth(),
                Ok(None)
            )
    }
}

/// The connection pool.
pub type DbPool = Pool<ConnectionManager>;
/// A pooled connection.
pub type PooledConn = PooledConnection<ConnectionManager>;

/// Builds a pool of at most `size` connections, failing over to 503 after `timeout`. Creates
/// the SQLite file's directory when needed. Does not connect eagerly.
pub fn pool(url: &str, size: u32, timeout: Duration) -> anyhow::Result<DbPool> {
    let manager = ConnectionManager::new(url)?;
    if manager.backend == Backend::Sqlite {
        let path = std::path::Path::new(url.trim_start_matches("sqlite://"));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
    }
    Ok(Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .build_unchecked(manager))
}

/// Applies pending migrations of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConn::Pg(c) => c
            .run_pending_migrations(PG_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .len(),
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .len(),
    };
    Ok(applied)
}

/// Whether every embedded migration has been applied.
pub fn migrations_complete(conn: &mut DbConn) -> bool {
    match conn {
        DbConn::Pg(c) => c
            .has_pending_migration(PG_MIGRATIONS)
            .map(|p| !p)
            .unwrap_or(false),
        DbConn::Sqlite(c) => c
            .has_pending_migration(SQLITE_MIGRATIONS)
            .map(|p| !p)
            .unwrap_or(false),
    }
}

/// A query error. Callers outside `storage/` name it through this alias, never diesel itself.
pub type DbError = diesel::result::Error;
/// The result of a query.
pub type DbResult<T> = Result<T, DbError>;

/// The current time truncated to microseconds, so both backends store and return the same value.
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    let micros = t.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .expect("in range")
        .naive_utc()
}

/// A new UUIDv7 id as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether an error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

#[cfg(test)]
#[path = "storage_tests.rs"]
mod tests;
