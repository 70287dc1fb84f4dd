//! Queries on `rate_counters`: fixed-window counters shared by every node. Times are Unix
//! seconds; a window is `[window_start, window_end)`.

use super::DbConn;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// A counter's value in one window.
#[derive(Debug, Clone)]
pub struct Hot {
    /// The counter's key, e.g. `ip.verify_failures:203.0.113.9`.
    pub key: String,
    /// Start of its window.
    pub window_start: i64,
    /// Its value.
    pub count: i64,
}

/// Adds `n` to the counter `key` in the window starting at `window_start`, creating it, and
/// returns the new value. One statement, so concurrent adds from any node never lose a count.
pub fn add(
    conn: &mut DbConn,
    key: &str,
    window_start: i64,
    window_end: i64,
    n: i64,
) -> QueryResult<i64> {
    const UPSERT: &str = "INSERT INTO rate_counters (key, window_start, window_end, count) \
        VALUES ({1}, {2}, {3}, {4}) ON CONFLICT (key, window_start) \
        DO UPDATE SET count = rate_counters.count + excluded.count RETURNING count";
    let row: Count = match conn {
        DbConn::Pg(c) => sql_query(
            UPSERT
                .replace("{1}", "$1")
                .replace("{2}", "$2")
                .replace("{3}", "$3")
                .replace("{4}", "$4"),
        )
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(window_start)
        .bind::<BigInt, _>(window_end)
        .bind::<BigInt, _>(n)
        .get_result(c)?,
        DbConn::Sqlite(c) => sql_query(
            UPSERT
                .replace("{1}", "?")
                .replace("{2}", "?")
                .replace("{3}", "?")
                .replace("{4}", "?"),
        )
        .bind::<Text, _>(key)
        .bind::<BigInt, _>(window_start)
        .bind::<BigInt, _>(window_end)
        .bind::<BigInt, _>(n)
        .get_result(c)?,
    };
    Ok(row.count)
}

/// Counters of windows still open at `now` whose value reached `at_least`: what other nodes
/// counted that this node must also refuse.
pub fn hot(conn: &mut DbConn, now: i64, at_least: i64) -> QueryResult<Vec<Hot>> {
    use super::schema::rate_counters::dsl as r;
    r::rate_counters
        .filter(r::window_end.gt(now))
        .filter(r::count.ge(at_least))
        .select((r::key, r::window_start, r::count))
        .load::<(String, i64, i64)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(key, window_start, count)| Hot {
                    key,
                    window_start,
                    count,
                })
                .collect()
        })
}

/// Deletes counters whose window ended before `before`; returns how many.
pub fn prune(conn: &mut DbConn, before: i64) -> QueryResult<usize> {
    use super::schema::rate_counters::dsl as r;
    diesel::delete(r::rate_counters.filter(r::window_end.lt(before))).execute(conn)
}
