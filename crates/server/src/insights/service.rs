//! The rules of the insights: the period (default the last 30 days, at most 366), the funnel's
//! figures, zero-filled time series and the inviter ranking.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::{self, insights};
use chrono::{NaiveDateTime, Timelike};
use invitegate_core::FieldCode;
use invitegate_core::api::{
    Funnel, INVITERS_DEFAULT_LIMIT, INVITERS_MAX_LIMIT, InsightsInterval, InsightsMetric,
    InsightsQuery, Inviter, InviterFigures, InviterRanking, MAX_INSIGHTS_DAYS, Timeseries,
    TimeseriesPoint,
};
use invitegate_core::model::ActorType;
use std::collections::HashMap;

/// Parses the period and filters. Errors: 422 `until` `out_of_range` when `until` is not after
/// `since` or the period is longer than 366 days.
pub fn period(q: &InsightsQuery) -> ApiResult<insights::Period> {
    let until = q.until.unwrap_or_else(chrono::Utc::now);
    let since = q.since.unwrap_or(until - chrono::Duration::days(30));
    if until <= since || until - since > chrono::Duration::days(MAX_INSIGHTS_DAYS) {
        return Err(ApiError::field("until", FieldCode::OutOfRange));
    }
    let id = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Ok(insights::Period {
        since: since.naive_utc(),
        until: until.naive_utc(),
        organization_id: id(&q.organization_id),
        inviter_id: id(&q.inviter_id),
    })
}

/// The funnel of the invitations created in `period`.
pub async fn funnel(state: &AppState, period: insights::Period) -> ApiResult<Funnel> {
    let (row, delays) = state
        .db(move |conn| {
            let row = insights::funnel(conn, &period, storage::now())?;
            let sqlite = matches!(conn, storage::DbConn::Sqlite(_));
            let delays = if sqlite && row.accepted > 0 {
                insights::acceptance_delays(conn, &period)?
            } else {
                Vec::new()
            };
            Ok((row, delays))
        })
        .await?;
    let n = |v: i64| v.max(0) as u64;
    Ok(Funnel {
        created: n(row.created),
        delivered: n(row.delivered),
        opened: n(row.opened),
        accepted: n(row.accepted),
        expired: n(row.expired),
        revoked: n(row.revoked),
        declined: n(row.declined),
        median_seconds_to_accept: row.median.or_else(|| median(delays)),
    })
}

/// The time series of `metric` in `period`, one point per bucket, zero-filled.
pub async fn timeseries(
    state: &AppState,
    period: insights::Period,
    metric: InsightsMetric,
    interval: InsightsInterval,
) -> ApiResult<Timeseries> {
    let series = match metric {
        InsightsMetric::Registrations => insights::Series::Registrations,
        InsightsMetric::InvitationsCreated => insights::Series::InvitationsCreated,
        InsightsMetric::FailedAttempts => insights::Series::FailedAttempts,
    };
    let bucket = match interval {
        InsightsInterval::Day => insights::Bucket::Day,
        InsightsInterval::Hour => insights::Bucket::Hour,
    };
    let (since, until) = (period.since, period.until);
    let counts: HashMap<String, i64> = state
        .db(move |conn| Ok(insights::timeseries(conn, series, bucket, &period)?))
        .await?
        .into_iter()
        .collect();
    Ok(Timeseries {
        metric,
        interval,
        points: buckets(since, until, interval)
            .map(|t| TimeseriesPoint {
                value: counts.get(&key(t, interval)).copied().unwrap_or(0).max(0) as u64,
                t: t.and_utc(),
            })
            .collect(),
    })
}

/// The starts of the buckets that meet `[since, until)`, oldest first.
fn buckets(
    since: NaiveDateTime,
    until: NaiveDateTime,
    interval: InsightsInterval,
) -> impl Iterator<Item = NaiveDateTime> {
    let (first, step) = match interval {
        InsightsInterval::Day => (
            since.date().and_hms_opt(0, 0, 0).unwrap_or(since),
            chrono::Duration::days(1),
        ),
        InsightsInterval::Hour => (
            since
                .date()
                .and_hms_opt(since.hour(), 0, 0)
                .unwrap_or(since),
            chrono::Duration::hours(1),
        ),
    };
    std::iter::successors(Some(first), move |t| Some(*t + step)).take_while(move |t| *t < until)
}

/// A bucket's key as storage writes it: `YYYY-MM-DD` or `YYYY-MM-DD HH`.
fn key(t: NaiveDateTime, interval: InsightsInterval) -> String {
    match interval {
        InsightsInterval::Day => t.format("%Y-%m-%d").to_string(),
        InsightsInterval::Hour => t.format("%Y-%m-%d %H").to_string(),
    }
}

/// The `limit` (1–100, default 10) inviters of `period`, ranked by accepted then sent, with
/// their names. Errors: 422 `limit` `out_of_range`.
pub async fn inviters(
    state: &AppState,
    period: insights::Period,
    limit: Option<u32>,
) -> ApiResult<InviterRanking> {
    let limit = limit.unwrap_or(INVITERS_DEFAULT_LIMIT);
    if !(1..=INVITERS_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", FieldCode::OutOfRange));
    }
    let (rows, names) = state
        .db(move |conn| {
            let rows = insights::inviters(conn, &period, i64::from(limit))?;
            let ids = |kind: ActorType| {
                rows.iter()
                    .filter(|r| r.inviter_type == kind.as_str())
                    .map(|r| r.inviter_id.clone())
                    .collect()
            };
            let names =
                insights::inviter_names(conn, ids(ActorType::User), ids(ActorType::ApiKey))?;
            Ok((rows, names))
        })
        .await?;
    Ok(InviterRanking {
        data: rows
            .into_iter()
            .map(|r| InviterFigures {
                inviter: Inviter {
                    kind: r.inviter_type.parse().unwrap_or(ActorType::System),
                    display_name: names.get(&r.inviter_id).cloned(),
                    id: r.inviter_id,
                },
                sent: r.sent.max(0) as u64,
                accepted: r.accepted.max(0) as u64,
            })
            .collect(),
    })
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::{InsightsInterval, buckets, median};

    #[test]
    fn buckets_start_on_the_day_or_hour_holding_since_and_stop_before_until() {
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let days: Vec<_> = buckets(
            at("2026-12-01 13:30"),
            at("2026-12-03 00:00"),
            InsightsInterval::Day,
        )
        .collect();
        assert_eq!(days, vec![at("2026-12-01 00:00"), at("2026-12-02 00:00")]);
        let hours: Vec<_> = buckets(
            at("2026-12-01 13:30"),
            at("2026-12-01 15:01"),
            InsightsInterval::Hour,
        )
        .collect();
        assert_eq!(
            hours,
            vec![
                at("2026-12-01 13:00"),
                at("2026-12-01 14:00"),
                at("2026-12-01 15:00")
            ]
        );
    }

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0]), Some(5.0));
        assert_eq!(median(vec![9.0, 1.0, 4.0]), Some(4.0));
        assert_eq!(median(vec![4.0, 1.0, 10.0, 2.0]), Some(3.0));
    }
}
