//! The rules of the insights: the period (default the last 30 days, at most 366) and the
//! funnel's figures.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::{self, insights};
use invitegate_core::FieldCode;
use invitegate_core::api::{Funnel, InsightsQuery, MAX_INSIGHTS_DAYS};

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
    let rows = state
        .db(move |conn| Ok(insights::funnel(conn, &period, storage::now())?))
        .await?;
    let [
        created,
        delivered,
        opened,
        accepted,
        expired,
        revoked,
        declined,
    ] = rows.counts.map(|n| n.max(0) as u64);
    Ok(Funnel {
        created,
        delivered,
        opened,
        accepted,
        expired,
        revoked,
        declined,
        median_seconds_to_accept: median(rows.delays),
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
    use super::median;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0]), Some(5.0));
        assert_eq!(median(vec![9.0, 1.0, 4.0]), Some(4.0));
        assert_eq!(median(vec![4.0, 1.0, 10.0, 2.0]), Some(3.0));
    }
}
