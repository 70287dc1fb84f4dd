//! The funnel, the invitations-created series and the inviter ranking, read from the counts the
//! database keeps (migration `2026-12-05-000003_invitation_counts`): the whole hours (or days)
//! of a period from `invitation_counts_hourly` (or `_daily`, the one that knows inviters) plus
//! the deltas not yet folded in, and the part-hour (or part-day) at each end of the period from
//! `invitations` itself. A year is then ~8,800 rows per organisation instead of every
//! invitation; by inviter, at most one row per inviter and day.

use super::{Bind, Bucket, FunnelRow, InviterCounts, Period, bucket_group, bucket_key};
use super::{DbConn, created_where};
use super::{filter_invitations, load};
use chrono::{NaiveDateTime, Timelike};
use diesel::QueryResult;

/// The counts each row of the count tables holds.
const COUNTS: &str = "created, delivered, opened, accepted, expired, revoked, declined";

/// `sql` of each of [`COUNTS`], comma-separated.
fn each_count(sql: impl Fn(&str) -> String) -> String {
    COUNTS.split(", ").map(sql).collect::<Vec<_>>().join(", ")
}

/// The width of the rows a query sums.
#[derive(Debug, Clone, Copy)]
enum Grain {
    /// `invitation_counts_hourly`: per hour and organisation.
    Hour,
    /// `invitation_counts_daily`: per day, organisation and inviter.
    Day,
}

impl Grain {
    /// The start of the hour or day holding `t`.
    fn floor(self, t: NaiveDateTime) -> NaiveDateTime {
        let hour = match self {
            Grain::Hour => t.hour(),
            Grain::Day => 0,
        };
        t.date().and_hms_opt(hour, 0, 0).unwrap_or(t)
    }

    /// The first start of an hour or day at or after `t`.
    fn ceil(self, t: NaiveDateTime) -> NaiveDateTime {
        let floor = self.floor(t);
        if floor == t {
            return t;
        }
        floor
            + match self {
                Grain::Hour => chrono::Duration::hours(1),
                Grain::Day => chrono::Duration::days(1),
            }
    }

    /// The table and its time column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Grain::Hour => ("invitation_counts_hourly", "hour"),
            Grain::Day => ("invitation_counts_daily", "day"),
        }
    }

    /// The rows that can answer `period`: only the daily ones know inviters.
    fn for_period(period: &Period) -> Grain {
        if period.inviter_id.is_some() {
            Grain::Day
        } else {
            Grain::Hour
        }
    }
}

/// A period cut into whole hours or days (`counted`, read from the count tables) and the
/// `edges` before and after them (read from `invitations`).
struct Split {
    counted: Option<(NaiveDateTime, NaiveDateTime)>,
    edges: Vec<(NaiveDateTime, NaiveDateTime)>,
}

fn split(period: &Period, grain: Grain) -> Split {
    let (lo, hi) = (grain.ceil(period.since), grain.floor(period.until));
    if lo >= hi {
        return Split {
            counted: None,
            edges: vec![(period.since, period.until)],
        };
    }
    let edges = [(period.since, lo), (hi, period.until)]
        .into_iter()
        .filter(|(a, b)| a < b)
        .collect();
    Split {
        counted: Some((lo, hi)),
        edges,
    }
}

/// `SELECT {columns} FROM` the count table and the deltas over the whole hours or days of the
/// split, filtered; `columns` gets the name of the time column. `None` when there are none.
fn counted_rows(
    split: &Split,
    grain: Grain,
    period: &Period,
    columns: impl Fn(&str) -> String,
    binds: &mut Vec<Bind>,
) -> Option<String> {
    let (lo, hi) = split.counted?;
    let (table, key) = grain.table();
    let mut parts = Vec::new();
    for (from, key) in [(table, key), ("invitation_count_deltas", "hour")] {
        binds.push(Bind::At(lo));
        binds.push(Bind::At(hi));
        let mut sql = format!(
            "SELECT {} FROM {from} WHERE {key} >= ? AND {key} < ?",
            columns(key)
        );
        // The count tables name their columns as invitations does.
        filter_invitations(period, &mut sql, binds);
        parts.push(sql);
    }
    Some(parts.join(" UNION ALL "))
}

/// The `WHERE` of the invitations created in the split's edges (owner invitation excluded),
/// filtered. `None` when the period is whole hours or days.
fn edges_where(split: &Split, period: &Period, binds: &mut Vec<Bind>) -> Option<String> {
    if split.edges.is_empty() {
        return None;
    }
    let ranges: Vec<&str> = split
        .edges
        .iter()
        .map(|(from, to)| {
            binds.push(Bind::At(*from));
            binds.push(Bind::At(*to));
            "(created_at >= ? AND created_at < ?)"
        })
        .collect();
    let mut sql = format!("({}) AND bootstrap = FALSE", ranges.join(" OR "));
    filter_invitations(period, &mut sql, binds);
    Some(sql)
}

/// What became of the invitations created in `period`, as seen at `now`, in one statement.
/// The count tables hold the invitations the expiry job marked expired; those whose time
/// passed since are counted here from a partial index. PostgreSQL also computes the median
/// delay (`percentile_cont` over an index of accepted invitations); SQLite leaves it `None`.
pub fn funnel(conn: &mut DbConn, period: &Period, now: NaiveDateTime) -> QueryResult<FunnelRow> {
    let mut binds = Vec::new();
    let median = match conn {
        DbConn::Pg(_) => format!(
            "(SELECT percentile_cont(0.5) WITHIN GROUP \
             (ORDER BY date_part('epoch', accepted_at - created_at)) \
             FROM invitations WHERE {} AND accepted_at IS NOT NULL)",
            created_where(period, &mut binds)
        ),
        DbConn::Sqlite(_) => "NULL".into(),
    };
    let grain = Grain::for_period(period);
    let split = split(period, grain);
    let mut parts: Vec<String> = counted_rows(&split, grain, period, |_| COUNTS.into(), &mut binds)
        .into_iter()
        .collect();
    if let Some((lo, hi)) = split.counted {
        binds.extend([Bind::At(now), Bind::At(lo), Bind::At(hi)]);
        let mut sql = String::from(
            "SELECT 0 AS created, 0 AS delivered, 0 AS opened, 0 AS accepted, \
             COUNT(*) AS expired, 0 AS revoked, 0 AS declined FROM invitations WHERE expired_at IS NULL \
             AND revoked_at IS NULL AND uses = 0 AND bootstrap = FALSE AND expires_at <= ? \
             AND created_at >= ? AND created_at < ?",
        );
        filter_invitations(period, &mut sql, &mut binds);
        parts.push(sql);
    }
    let mut edge_binds = vec![Bind::At(now)];
    if let Some(filter) = edges_where(&split, period, &mut edge_binds) {
        parts.push(format!(
            "SELECT COUNT(*) AS created, COUNT(delivered_at) AS delivered, \
             COUNT(CASE WHEN opened_at IS NOT NULL OR uses > 0 THEN 1 END) AS opened, \
             COUNT(CASE WHEN uses > 0 THEN 1 END) AS accepted, \
             COUNT(CASE WHEN uses = 0 AND revoked_at IS NULL AND expires_at <= ? THEN 1 END) \
             AS expired, \
             COUNT(CASE WHEN revoked_at IS NOT NULL AND declined_at IS NULL THEN 1 END) \
             AS revoked, COUNT(declined_at) AS declined FROM invitations WHERE {filter}"
        ));
        binds.extend(edge_binds);
    }
    let sql = format!(
        "SELECT {}, CAST({median} AS DOUBLE PRECISION) AS median FROM ({}) t",
        each_count(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")),
        parts.join(" UNION ALL ")
    );
    Ok(load(conn, &sql, binds)?.pop().unwrap_or_default())
}

/// Invitations created per bucket key (`YYYY-MM-DD` or `YYYY-MM-DD HH`) in `period`; buckets
/// without invitations are absent. `None` when the count tables cannot answer: hourly
/// buckets for one inviter (the per-inviter rows are daily).
pub fn invitations_created(
    conn: &mut DbConn,
    bucket: Bucket,
    period: &Period,
) -> Option<QueryResult<Vec<(String, i64)>>> {
    let grain = Grain::for_period(period);
    if matches!((grain, bucket), (Grain::Day, Bucket::Hour)) {
        return None;
    }
    let split = split(period, grain);
    let mut binds = Vec::new();
    let mut parts: Vec<String> = counted_rows(
        &split,
        grain,
        period,
        |key| format!("{} AS bucket, created AS n", bucket_key(conn, key, bucket)),
        &mut binds,
    )
    .into_iter()
    .collect();
    if let Some(filter) = edges_where(&split, period, &mut binds) {
        parts.push(format!(
            "SELECT {} AS bucket, COUNT(*) AS n FROM invitations WHERE {filter} GROUP BY {}",
            bucket_key(conn, "created_at", bucket),
            bucket_group(conn, "created_at", bucket)
        ));
    }
    let sql = format!(
        "SELECT bucket, CAST(SUM(n) AS BIGINT) AS n FROM ({}) t GROUP BY bucket",
        parts.join(" UNION ALL ")
    );
    Some(
        load::<super::BucketCount>(conn, &sql, binds)
            .map(|rows| rows.into_iter().map(|r| (r.bucket, r.n)).collect()),
    )
}

/// The `limit` inviters of the invitations created in `period`, by accepted (used at least
/// once) then sent, most first.
pub fn inviters(conn: &mut DbConn, period: &Period, limit: i64) -> QueryResult<Vec<InviterCounts>> {
    let split = split(period, Grain::Day);
    let mut binds = Vec::new();
    let mut parts: Vec<String> = counted_rows(
        &split,
        Grain::Day,
        period,
        |_| "inviter_type, inviter_id, created AS sent, accepted".into(),
        &mut binds,
    )
    .into_iter()
    .collect();
    if let Some(filter) = edges_where(&split, period, &mut binds) {
        parts.push(format!(
            "SELECT inviter_type, inviter_id, COUNT(*) AS sent, \
             COUNT(CASE WHEN uses > 0 THEN 1 END) AS accepted \
             FROM invitations WHERE {filter} GROUP BY inviter_type, inviter_id"
        ));
    }
    binds.push(Bind::Int(limit));
    let sql = format!(
        "SELECT inviter_type, inviter_id, CAST(SUM(sent) AS BIGINT) AS sent, \
         CAST(SUM(accepted) AS BIGINT) AS accepted FROM ({}) t \
         GROUP BY inviter_type, inviter_id HAVING SUM(sent) > 0 \
         ORDER BY accepted DESC, sent DESC, inviter_id LIMIT ?",
        parts.join(" UNION ALL ")
    );
    load(conn, &sql, binds)
}

/// Folds up to `limit` deltas into the count tables in one transaction and returns how many.
/// Several processes may run it at once: each delta is deleted, and so counted, once.
/// SQLite's triggers update the count tables directly, so there it has nothing to do.
pub fn compact(conn: &mut DbConn, limit: i64) -> QueryResult<usize> {
    if matches!(conn, DbConn::Sqlite(_)) {
        return Ok(0);
    }
    let add = each_count(|c| format!("{c} = t.{c} + EXCLUDED.{c}"));
    let sums = each_count(|c| format!("SUM({c})"));
    let sql = format!(
        "WITH moved AS (DELETE FROM invitation_count_deltas WHERE id IN \
           (SELECT id FROM invitation_count_deltas ORDER BY id LIMIT ?) RETURNING *), \
         hourly AS (INSERT INTO invitation_counts_hourly AS t (hour, organization_id, {COUNTS}) \
           SELECT hour, organization_id, {sums} FROM moved GROUP BY 1, 2 ORDER BY 1, 2 \
           ON CONFLICT (hour, organization_id) DO UPDATE SET {add}), \
         daily AS (INSERT INTO invitation_counts_daily AS t \
           (day, organization_id, inviter_type, inviter_id, {COUNTS}) \
           SELECT date_trunc('day', hour), organization_id, inviter_type, inviter_id, {sums} \
           FROM moved GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 \
           ON CONFLICT (day, organization_id, inviter_type, inviter_id) DO UPDATE SET {add}) \
         SELECT COUNT(*) AS n FROM moved"
    );
    let rows: Vec<Folded> = load(conn, &sql, vec![Bind::Int(limit)])?;
    Ok(rows.first().map_or(0, |r| r.n as usize))
}

#[derive(diesel::QueryableByName)]
struct Folded {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
