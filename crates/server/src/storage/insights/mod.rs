//! Queries behind the insights: what became of the invitations created in a period.

mod counts;

use super::DbConn;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use counts::{compact, funnel, inviters};

/// The period and filters of an insights query, parsed.
#[derive(Debug, Clone)]
pub struct Period {
    /// Start, inclusive.
    pub since: NaiveDateTime,
    /// End, exclusive.
    pub until: NaiveDateTime,
    /// Only this organisation.
    pub organization_id: Option<String>,
    /// Only this inviter.
    pub inviter_id: Option<String>,
}

/// The funnel's counts and the median acceptance delay.
#[derive(Debug, Default, QueryableByName)]
pub struct FunnelRow {
    /// Invitations created.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub created: i64,
    /// Of those, delivered.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub delivered: i64,
    /// Opened (verified or used).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub opened: i64,
    /// Used at least once.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub accepted: i64,
    /// Never used, not revoked, past their expiry.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub expired: i64,
    /// Revoked, not declined.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub revoked: i64,
    /// Declined.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub declined: i64,
    /// Median seconds from creation to acceptance; computed by PostgreSQL, `None` on SQLite
    /// (see [`acceptance_delays`]).
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    pub median: Option<f64>,
}

/// Seconds from creation to acceptance of each accepted invitation created in `period`,
/// unsorted: SQLite has no percentile function, so the service takes the median.
pub fn acceptance_delays(conn: &mut DbConn, period: &Period) -> QueryResult<Vec<f64>> {
    let mut binds = Vec::new();
    let filter = created_where(period, &mut binds);
    let sql = format!(
        "SELECT created_at, accepted_at FROM invitations \
         WHERE {filter} AND accepted_at IS NOT NULL"
    );
    let rows: Vec<Accepted> = load(conn, &sql, binds)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.accepted_at - r.created_at).num_milliseconds() as f64 / 1000.0)
        .collect())
}

/// An accepted invitation's creation and acceptance.
#[derive(QueryableByName)]
struct Accepted {
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    accepted_at: NaiveDateTime,
}

/// Which rows a time series counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// `users.created_at`.
    Registrations,
    /// `invitations.created_at` (owner invitation excluded).
    InvitationsCreated,
    /// `audit_events.occurred_at` with outcome `failure` (alerts excluded), aggregated rows
    /// counting their `failures`.
    FailedAttempts,
}

/// The bucket width of a time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// `YYYY-MM-DD`.
    Day,
    /// `YYYY-MM-DD HH`.
    Hour,
}

/// The SQL that turns `column` into its bucket's key, `YYYY-MM-DD` or `YYYY-MM-DD HH`, on
/// either backend (SQLite keeps timestamps as `YYYY-MM-DD HH:MM:SS.ffffff` text): a function
/// of [`bucket_group`], so a query groups by that and formats each group once.
fn bucket_key(conn: &DbConn, column: &str, bucket: Bucket) -> String {
    let group = bucket_group(conn, column, bucket);
    match (conn, bucket) {
        (DbConn::Pg(_), Bucket::Day) => format!("to_char({group}, 'YYYY-MM-DD')"),
        (DbConn::Pg(_), Bucket::Hour) => format!("to_char({group}, 'YYYY-MM-DD HH24')"),
        (DbConn::Sqlite(_), _) => group,
    }
}

/// The SQL of the bucket holding `column`: PostgreSQL's `date_trunc` is several times cheaper
/// per row than formatting (a month of 250,000 registrations: 65 instead of 110 ms).
fn bucket_group(conn: &DbConn, column: &str, bucket: Bucket) -> String {
    match (conn, bucket) {
        (DbConn::Pg(_), Bucket::Day) => format!("date_trunc('day', {column})"),
        (DbConn::Pg(_), Bucket::Hour) => format!("date_trunc('hour', {column})"),
        (DbConn::Sqlite(_), Bucket::Day) => format!("substr({column}, 1, 10)"),
        (DbConn::Sqlite(_), Bucket::Hour) => format!("substr({column}, 1, 13)"),
    }
}

/// A value bound into the insights' SQL.
enum Bind {
    At(NaiveDateTime),
    Text(String),
    Int(i64),
}

/// The `WHERE` of the invitations created in `period` (owner invitation excluded), over the
/// columns of `invitations`, with its binds.
fn created_where(period: &Period, binds: &mut Vec<Bind>) -> String {
    binds.push(Bind::At(period.since));
    binds.push(Bind::At(period.until));
    let mut sql = String::from("created_at >= ? AND created_at < ? AND bootstrap = FALSE");
    filter_invitations(period, &mut sql, binds);
    sql
}

/// Appends the organisation and inviter filters on `invitations` columns.
fn filter_invitations(period: &Period, sql: &mut String, binds: &mut Vec<Bind>) {
    if let Some(org) = &period.organization_id {
        sql.push_str(" AND organization_id = ?");
        binds.push(Bind::Text(org.clone()));
    }
    if let Some(inviter) = &period.inviter_id {
        sql.push_str(" AND inviter_id = ?");
        binds.push(Bind::Text(inviter.clone()));
    }
}

/// Runs `sql` (with `?` placeholders, numbered for PostgreSQL) with `binds` on either backend;
/// on PostgreSQL in a transaction that gives it 32 MB of sort and hash memory.
fn load<T>(conn: &mut DbConn, sql: &str, binds: Vec<Bind>) -> QueryResult<Vec<T>>
where
    T: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    use diesel::sql_types::{BigInt, Text, Timestamp};
    macro_rules! run {
        ($c:expr, $backend:ty, $sql:expr) => {{
            let mut q = diesel::sql_query($sql).into_boxed::<$backend>();
            for b in binds {
                q = match b {
                    Bind::At(t) => q.bind::<Timestamp, _>(t),
                    Bind::Text(s) => q.bind::<Text, _>(s),
                    Bind::Int(n) => q.bind::<BigInt, _>(n),
                };
            }
            q.load($c)
        }};
    }
    match conn {
        DbConn::Pg(c) => {
            let mut numbered = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    numbered.push_str(&format!("${n}"));
                } else {
                    numbered.push(ch);
                }
            }
            // A year's inviter ranking hashes ~10⁵ count rows and the median sorts every
            // acceptance of the period: with the default 4 MB both spill to disk.
            c.transaction(|c| {
                diesel::sql_query("SET LOCAL work_mem = '32MB'").execute(c)?;
                run!(c, diesel::pg::Pg, numbered)
            })
        }
        DbConn::Sqlite(c) => run!(c, diesel::sqlite::Sqlite, sql.to_owned()),
    }
}

/// A bucket's key and count.
#[derive(QueryableByName)]
struct BucketCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    bucket: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Counts per bucket key (`YYYY-MM-DD` or `YYYY-MM-DD HH`) of `series` in `period`; buckets
/// without rows are absent. Invitations created come from the count tables (see
/// [`counts`]) when they can answer; the rest is one index range scan and a group-by.
pub fn timeseries(
    conn: &mut DbConn,
    series: Series,
    bucket: Bucket,
    period: &Period,
) -> QueryResult<Vec<(String, i64)>> {
    if series == Series::InvitationsCreated
        && let Some(counted) = counts::invitations_created(conn, bucket, period)
    {
        return counted;
    }
    let mut binds = Vec::new();
    const COUNT: &str = "COUNT(*)";
    let (column, from, filter, value) = match series {
        Series::InvitationsCreated => (
            "created_at",
            "invitations",
            created_where(period, &mut binds),
            COUNT.to_string(),
        ),
        Series::Registrations => {
            binds.push(Bind::At(period.since));
            binds.push(Bind::At(period.until));
            let mut sql = String::from("created_at >= ? AND created_at < ?");
            if let Some(inviter) = &period.inviter_id {
                sql.push_str(" AND invited_by_id = ?");
                binds.push(Bind::Text(inviter.clone()));
            }
            if let Some(org) = &period.organization_id {
                sql.push_str(
                    " AND invitation_id IN (SELECT id FROM invitations WHERE organization_id = ?)",
                );
                binds.push(Bind::Text(org.clone()));
            }
            ("created_at", "users", sql, COUNT.to_string())
        }
        Series::FailedAttempts => {
            binds.push(Bind::At(period.since));
            binds.push(Bind::At(period.until));
            let mut sql = String::from(
                "occurred_at >= ? AND occurred_at < ? AND outcome = 'failure' \
                 AND action <> 'security.alert'",
            );
            // Failures with forged tokens are audited as one row per client and sync period,
            // holding their number (ratelimit::sync): each counts as many attempts.
            let (reason, failures) = match conn {
                DbConn::Pg(_) => (
                    "details::jsonb->>'reason'",
                    "(details::jsonb->>'failures')::bigint",
                ),
                DbConn::Sqlite(_) => (
                    "json_extract(details, '$.reason')",
                    "CAST(json_extract(details, '$.failures') AS INTEGER)",
                ),
            };
            let value = format!(
                "CAST(SUM(CASE WHEN details LIKE '%\"aggregated\"%' AND {reason} = 'aggregated' \
                 THEN COALESCE({failures}, 1) ELSE 1 END) AS BIGINT)"
            );
            if period.organization_id.is_some() || period.inviter_id.is_some() {
                sql.push_str(
                    " AND target_type = 'invitation' AND target_id IN \
                     (SELECT id FROM invitations WHERE TRUE",
                );
                filter_invitations(period, &mut sql, &mut binds);
                sql.push(')');
            }
            ("occurred_at", "audit_events", sql, value)
        }
    };
    let key = bucket_key(conn, column, bucket);
    let group = bucket_group(conn, column, bucket);
    let sql =
        format!("SELECT {key} AS bucket, {value} AS n FROM {from} WHERE {filter} GROUP BY {group}");
    let rows: Vec<BucketCount> = load(conn, &sql, binds)?;
    Ok(rows.into_iter().map(|r| (r.bucket, r.n)).collect())
}

/// One inviter's counts in the period.
#[derive(Debug, QueryableByName)]
pub struct InviterCounts {
    /// `user` or `api_key`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub inviter_type: String,
    /// The user's or key's id.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub inviter_id: String,
    /// Invitations created.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub sent: i64,
    /// Of those, used at least once.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub accepted: i64,
}

/// The names to show for these users (display name, else email) and API keys (name), by id.
pub fn inviter_names(
    conn: &mut DbConn,
    user_ids: Vec<String>,
    key_ids: Vec<String>,
) -> QueryResult<std::collections::HashMap<String, String>> {
    use super::schema::api_keys::dsl as k;
    use super::schema::users::dsl as u;
    let users: Vec<(String, Option<String>, String)> = u::users
        .filter(u::id.eq_any(user_ids))
        .select((u::id, u::display_name, u::email))
        .load(conn)?;
    let keys: Vec<(String, String)> = k::api_keys
        .filter(k::id.eq_any(key_ids))
        .select((k::id, k::name))
        .load(conn)?;
    Ok(users
        .into_iter()
        .map(|(id, name, email)| (id, name.unwrap_or(email)))
        .chain(keys)
        .collect())
}
