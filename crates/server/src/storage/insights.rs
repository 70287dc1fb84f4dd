//! Queries behind the insights: what became of the invitations created in a period.

use super::DbConn;
use super::schema::invitations::dsl as i;
use chrono::NaiveDateTime;
use diesel::prelude::*;

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

/// The funnel's counts and the acceptance delays.
#[derive(Debug, Default)]
pub struct FunnelRows {
    /// Created, delivered, opened, accepted, expired, revoked, declined.
    pub counts: [i64; 7],
    /// Seconds from creation to acceptance (the last use) of each accepted invitation, unsorted.
    pub delays: Vec<f64>,
}

/// The invitations created in `period` (the owner invitation never counts), as a boxed query.
macro_rules! created_in {
    ($period:expr) => {{
        let p = $period;
        let mut q = i::invitations
            .filter(i::created_at.ge(p.since))
            .filter(i::created_at.lt(p.until))
            .filter(i::bootstrap.eq(false))
            .into_boxed();
        if let Some(org) = &p.organization_id {
            q = q.filter(i::organization_id.eq(org.clone()));
        }
        if let Some(inviter) = &p.inviter_id {
            q = q.filter(i::inviter_id.eq(inviter.clone()));
        }
        q
    }};
}

/// What became of the invitations created in `period`, as seen at `now`: one count per stage
/// (each an index range on `created_at`), and the delays of the accepted ones.
pub fn funnel(conn: &mut DbConn, period: &Period, now: NaiveDateTime) -> QueryResult<FunnelRows> {
    let created = created_in!(period).count().get_result(conn)?;
    let delivered = created_in!(period)
        .filter(i::delivered_at.is_not_null())
        .count()
        .get_result(conn)?;
    let opened = created_in!(period)
        .filter(i::opened_at.is_not_null().or(i::uses.gt(0)))
        .count()
        .get_result(conn)?;
    let accepted = created_in!(period)
        .filter(i::uses.gt(0))
        .count()
        .get_result(conn)?;
    let expired = created_in!(period)
        .filter(i::uses.eq(0))
        .filter(i::revoked_at.is_null())
        .filter(i::expires_at.le(now))
        .count()
        .get_result(conn)?;
    let revoked = created_in!(period)
        .filter(i::revoked_at.is_not_null())
        .filter(i::declined_at.is_null())
        .count()
        .get_result(conn)?;
    let declined = created_in!(period)
        .filter(i::declined_at.is_not_null())
        .count()
        .get_result(conn)?;
    let times: Vec<(NaiveDateTime, Option<NaiveDateTime>)> = created_in!(period)
        .filter(i::accepted_at.is_not_null())
        .select((i::created_at, i::accepted_at))
        .load(conn)?;
    let delays = times
        .into_iter()
        .filter_map(|(c, a)| a.map(|a| (a - c).num_milliseconds() as f64 / 1000.0))
        .collect();
    Ok(FunnelRows {
        counts: [
            created, delivered, opened, accepted, expired, revoked, declined,
        ],
        delays,
    })
}
