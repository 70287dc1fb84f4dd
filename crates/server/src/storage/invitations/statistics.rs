//! The planner's statistics of `invitations` after a bulk creation.
//!
//! A registration takes its invitation's use by `id = ANY(<ids>)` and the "nothing joins in"
//! conditions (`storage::registrations`). With no statistics PostgreSQL estimates
//! `organization_id IS NULL` at 0.5 % of the rows and may read the rows through
//! `invitations_by_organization` and `invitations_expires_at` instead of the key: with 4,000
//! invitations it read and filtered 3,989 rows a statement, and a registration cost the
//! database 0.48 ms of CPU instead of 0.41 (docs/performance.md). Autovacuum analyses a table
//! once its changes since the last analysis pass 50 rows + 10 % of it, within
//! `autovacuum_naptime` (a minute), when it runs at all; PostgreSQL's documentation advises an
//! `ANALYZE` after a bulk load ("Populating a Database", "Run ANALYZE Afterwards").

use crate::storage::DbConn;
use diesel::prelude::*;
use diesel::sql_types::Bool;

#[derive(QueryableByName)]
struct Stale {
    #[diesel(sql_type = Bool)]
    stale: bool,
}

/// After `inserted` invitations were committed in one go: on PostgreSQL (14 or later, where
/// `reltuples` is -1 until the first `VACUUM` or `ANALYZE`), whether `invitations` needs an
/// analysis ([`analyze`]): when the table was never analysed, or when `inserted` passes
/// autovacuum's rule for the rows last counted (autovacuum_analyze_threshold 50 +
/// autovacuum_analyze_scale_factor 0.1 × `reltuples`). One bulk creation is judged alone:
/// many small ones add up to autovacuum's work, as other writes do. On SQLite never
/// (`false`): its planner keeps no statistics unless asked to, and takes the key for `id = ?`
/// without them. Errors: the statement's (a lost connection).
pub fn statistics_stale(conn: &mut DbConn, inserted: usize) -> QueryResult<bool> {
    let DbConn::Pg(pg) = conn else {
        return Ok(false);
    };
    if inserted == 0 {
        return Ok(false);
    }
    Ok(diesel::sql_query(
        "SELECT reltuples < 0 OR $1 > 50 + 0.1 * reltuples AS stale \
         FROM pg_class WHERE oid = 'invitations'::regclass",
    )
    .bind::<diesel::sql_types::BigInt, _>(i64::try_from(inserted).unwrap_or(i64::MAX))
    .get_result::<Stale>(pg)?
    .stale)
}

/// `ANALYZE (SKIP_LOCKED) invitations` on PostgreSQL; nothing on SQLite.
///
/// `ANALYZE` samples at most 30,000 rows (`default_statistics_target` 100), whatever the
/// table's size, and takes a lock that registrations' writes do not wait for; with
/// `SKIP_LOCKED` it never waits for one itself (a concurrent `VACUUM` or `ANALYZE` holds it)
/// and, like a role that does not own the table, gets a warning instead of an analysis.
/// Errors: the statement's (a lost connection).
pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query("ANALYZE (SKIP_LOCKED) invitations").execute(pg)?;
    }
    Ok(())
}
