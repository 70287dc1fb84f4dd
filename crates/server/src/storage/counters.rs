//! Queries on `rate_counters`: fixed-window counters shared by every node. Times are Unix
//! seconds; a window is `[window_start, window_end)`.

use super::DbConn;
use diesel::prelude::*;
use diesel::sql_query;
use diesel::sql_types::{BigInt, Text};
use std::collections::HashMap;

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
    let mut totals = add_many(conn, &[(key.to_string(), n)], window_start, window_end)?;
    totals.remove(key).ok_or(diesel::result::Error::NotFound)
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// [`add`] for many counters of one window in one statement: `adds` pairs distinct keys with
/// their increments; returns each key's new value.
pub fn add_many(
    conn: &mut DbConn,
    adds: &[(String, i64)],
    window_start: i64,
    window_end: i64,
) -> QueryResult<HashMap<String, i64>> {
    if adds.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders = |numbered: bool| {
        (0..adds.len())
            .map(|r| match numbered {
                true => format!(
                    "(${}, ${}, ${}, ${})",
                    4 * r + 1,
                    4 * r + 2,
                    4 * r + 3,
                    4 * r + 4
                ),
                false => "(?, ?, ?, ?)".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let upsert = |values: String| {
        format!(
            "INSERT INTO rate_counters (key, window_start, window_end, count) VALUES {values} \
             ON CONFLICT (key, window_start) \
             DO UPDATE SET count = rate_counters.count + excluded.count RETURNING key, count"
        )
    };
    // The same binds for either backend's boxed query.
    macro_rules! load {
        ($c:expr, $backend:ty, $numbered:expr) => {{
            let mut q = sql_query(upsert(placeholders($numbered))).into_boxed::<$backend>();
            for (key, n) in adds {
                q = q
                    .bind::<Text, _>(key.clone())
                    .bind::<BigInt, _>(window_start)
                    .bind::<BigInt, _>(window_end)
                    .bind::<BigInt, _>(*n);
            }
            q.load($c)?
        }};
    }
    let rows: Vec<KeyCount> = match conn {
        DbConn::Pg(c) => load!(c, diesel::pg::Pg, true),
        DbConn::Sqlite(c) => load!(c, diesel::sqlite::Sqlite, false),
    };
    Ok(rows.into_iter().map(|r| (r.key, r.count)).collect())
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
