//! Transactions: savepoints, and write transactions that take SQLite's write lock when they
//! begin.

use super::{BUSY_TIMEOUT_MS, DbConn, DbError, PoolConn, prepared, schema};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;

/// Runs `f` in a savepoint of the caller's transaction (or a transaction of its own outside
/// one): an error rolls back only what `f` did, so the outer transaction stays usable.
pub fn savepoint<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<DbError>,
{
    conn.transaction(f)
}

/// The error a transaction body returns to be rolled back without it being a failure; see
/// [`is_rollback`].
pub fn rollback() -> DbError {
    DbError::RollbackTransaction
}

/// Whether `e` is the [`rollback`] a transaction body asked for.
pub fn is_rollback(e: &DbError) -> bool {
    matches!(e, DbError::RollbackTransaction)
}

/// Whether `e` means the connection is gone (a 503, not a 500).
pub fn is_connection_lost(e: &DbError) -> bool {
    use diesel::result::DatabaseErrorKind as Kind;
    matches!(
        e,
        DbError::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _)
            | DbError::BrokenTransactionManager
    )
}

/// Runs `f` in a write transaction. On SQLite the transaction takes the database write lock
/// when it begins (`BEGIN IMMEDIATE`), so a transaction that reads before it writes can never
/// fail with `SQLITE_BUSY` on lock upgrade, and one that writes nothing writes nothing to the
/// WAL. Inside a caller's transaction it is a savepoint that writes `write_lock`, which takes
/// the lock if the caller's transaction does not hold it yet. On PostgreSQL row locks do the
/// serialising.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    match AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        Ok(()) => end_begun(conn, f),
        Err(DbError::AlreadyInTransaction) => conn.transaction(|conn| {
            bump_write_lock(conn)?;
            f(conn)
        }),
        Err(e) => Err(e.into()),
    }
}

/// [`write_tx`] on SQLite when no other connection holds the write lock now, outside any
/// transaction of the caller: `Ok` with what the transaction returned, or `Err(f)`, with `f`
/// not run, when the lock is taken (`SQLITE_BUSY` at once instead of waiting up to
/// [`BUSY_TIMEOUT_MS`]), when the connection is already in a transaction, on any error
/// beginning, and always on PostgreSQL. For a caller that must not wait, such as an HTTP worker,
/// and does the work elsewhere when refused. Should the busy timeout not be restored after
/// the lock was tried, `f` is handed back and the connection marked suspect: its next checkout
/// sets the timeout again ([`ConnectionManager`](super::ConnectionManager)'s `is_valid`).
pub fn try_write_tx<T, E, F>(conn: &mut PoolConn, f: F) -> Result<Result<T, E>, F>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<DbError>,
{
    let DbConn::Sqlite(sqlite) = &mut conn.conn else {
        return Err(f);
    };
    if sqlite.batch_execute("PRAGMA busy_timeout = 0").is_err() {
        return Err(f);
    }
    let begun = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE");
    // Once the lock is held, the transaction's statements and its commit wait for no other
    // connection in WAL mode; a later user of this connection waits as every connection does.
    if sqlite.batch_execute(&restore_busy_timeout()).is_err() {
        conn.suspect = true;
        if begun.is_ok() {
            let _ = Manager::rollback_transaction(&mut conn.conn);
        }
        return Err(f);
    }
    match begun {
        Ok(()) => Ok(end_begun(&mut conn.conn, f)),
        Err(_) => Err(f),
    }
}

/// The statement that sets a SQLite connection's busy timeout to [`BUSY_TIMEOUT_MS`].
pub(super) fn restore_busy_timeout() -> String {
    format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
}

type Manager = <DbConn as diesel::Connection>::TransactionManager;

/// Runs `f` in the transaction just begun on `conn` and ends it, as diesel's
/// `Connection::transaction` ends what it began: commits on `Ok`, rolls back on `Err`.
fn end_begun<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<DbError>,
{
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(DbError::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Writes the one row of `write_lock`: on SQLite that takes the database's write lock where
/// the transaction does not hold it yet, on PostgreSQL the row's. `RETURNING` makes it a
/// query, which diesel keeps prepared ([`prepared`]).
pub(crate) fn bump_write_lock(conn: &mut DbConn) -> QueryResult<()> {
    use schema::write_lock::dsl::*;
    prepared::Prepared(
        diesel::update(write_lock)
            .set(counter.eq(counter + 1))
            .returning(counter),
    )
    .get_result::<i64, _>(conn)
    .map(|_| ())
}
