//! Queries on `invitations`. Every state change is one guarded statement, so concurrent
//! callers can never move an invitation past its limits.

mod invitee;
mod preview;
mod row;
mod statistics;

pub use invitee::{decline, organization_of, pending_for_account};
pub use preview::{
    Previewed, find_previewed, find_previewed_by_token_hash, find_previewed_by_token_hashes,
};
pub use row::InvitationRow;
pub use statistics::{analyze, statistics_stale};

use crate::storage::prepared::Prepared;
use crate::storage::schema::invitations::dsl as i;
use crate::storage::{DbConn, like_escape};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use invitegate_core::model::InvitationState;

/// Filters of the invitation list.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    /// Only this state.
    pub state: Option<InvitationState>,
    /// Email contains this text (case-insensitive; emails are stored lower-case).
    pub email: Option<String>,
    /// Only this inviter.
    pub inviter_id: Option<String>,
    /// Only invitations into this organisation.
    pub organization_id: Option<String>,
}

/// Inserts a new invitation.
pub fn insert(conn: &mut DbConn, row: &InvitationRow) -> QueryResult<()> {
    diesel::insert_into(i::invitations)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Inserts many invitations (bulk creation, seeding; see [`crate::storage::insert_all`]).
pub fn insert_many(conn: &mut DbConn, rows: &[InvitationRow]) -> QueryResult<()> {
    crate::storage::insert_all!(conn, i::invitations, rows)
}

/// The invitation with this token hash.
pub fn find_by_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<InvitationRow>> {
    i::invitations
        .filter(i::token_hash.eq(hash))
        .first(conn)
        .optional()
}

/// The invitation with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<InvitationRow>> {
    i::invitations.find(id).first(conn).optional()
}

/// The live invitation reserved for `email`, if any, as of `now`.
pub fn find_pending_for_email(
    conn: &mut DbConn,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<InvitationRow>> {
    i::invitations
        .filter(i::pending_email.eq(email))
        .filter(i::expires_at.gt(now))
        .first(conn)
        .optional()
}

/// Releases the address reservation of expired invitations for `email`, so a new one can be made.
pub fn release_expired_reservation(
    conn: &mut DbConn,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        i::invitations
            .filter(i::pending_email.eq(email))
            .filter(i::expires_at.le(now)),
    )
    .set(i::pending_email.eq(None::<String>))
    .execute(conn)
}

/// [`release_expired_reservation`] for many addresses in one statement.
pub fn release_expired_reservations(
    conn: &mut DbConn,
    emails: &[String],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        i::invitations
            .filter(i::pending_email.eq_any(emails))
            .filter(i::expires_at.le(now)),
    )
    .set(i::pending_email.eq(None::<String>))
    .execute(conn)
}

/// The live reservations among `emails`: address → id of the invitation holding it.
pub fn pending_for_emails(
    conn: &mut DbConn,
    emails: &[String],
    now: NaiveDateTime,
) -> QueryResult<std::collections::HashMap<String, String>> {
    let found: Vec<(Option<String>, String)> = i::invitations
        .filter(i::pending_email.eq_any(emails))
        .filter(i::expires_at.gt(now))
        .select((i::pending_email, i::id))
        .load(conn)?;
    Ok(found
        .into_iter()
        .filter_map(|(email, id)| Some((email?, id)))
        .collect())
}

/// The invitation `id` (or any of `any ids`) if a use of it may be taken at `now` (a filter of
/// `invitations`): the guard of [`redeem`], shared with the registrations written in one
/// statement.
macro_rules! redeemable {
    (any $ids:expr, $now:expr) => {
        $crate::storage::invitations::redeemable!(
            @where $crate::storage::schema::invitations::id.eq_any($ids), $now
        )
    };
    (@where $which:expr, $now:expr) => {{
        use $crate::storage::schema::invitations::dsl as i;
        i::invitations
            .filter($which)
            .filter(i::uses.lt(i::max_uses))
            .filter(i::revoked_at.is_null())
            .filter(i::expires_at.gt($now))
    }};
    ($id:expr, $now:expr) => {
        $crate::storage::invitations::redeemable!(
            @where $crate::storage::schema::invitations::id.eq($id), $now
        )
    };
}
pub(crate) use redeemable;

/// The changes of taking one use at `now`: every right-hand side reads the row as it was, so
/// `uses + 1` is the count after this use, and the last use marks the invitation accepted and
/// frees its address.
macro_rules! redemption {
    ($now:expr) => {{
        use diesel::dsl::case_when;
        use diesel::sql_types::{Nullable, Text, Timestamp};
        use $crate::storage::schema::invitations::dsl as i;
        let last_use = (i::uses + 1).ge(i::max_uses);
        (
            i::uses.eq(i::uses + 1),
            i::accepted_at.eq(case_when(last_use, $now.into_sql::<Nullable<Timestamp>>())
                .otherwise(i::accepted_at)),
            i::pending_email.eq(
                case_when(last_use, None::<String>.into_sql::<Nullable<Text>>())
                    .otherwise(i::pending_email),
            ),
        )
    }};
}
pub(crate) use redemption;

/// Takes one use of the invitation if it is still pending at `now`:
/// `UPDATE … SET uses = uses + 1 WHERE id = ? AND uses < max_uses AND revoked_at IS NULL AND
/// expires_at > now`. Returns `(uses, max_uses)` after the update, or `None` when the guard
/// refused. The statement that takes the last use also marks the invitation accepted (and
/// frees its address), so a redemption is one round trip.
pub fn redeem(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<Option<(i32, i32)>> {
    Prepared(
        diesel::update(redeemable!(id, now))
            .set(redemption!(now))
            .returning((i::uses, i::max_uses)),
    )
    .get_result(conn)
    .optional()
}

/// Revokes the invitation if it is pending at `now`; returns whether it did.
pub fn revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        i::invitations
            .filter(i::id.eq(id))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses)),
    )
    .set((
        i::revoked_at.eq(Some(now)),
        i::pending_email.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Replaces the token hash and expiry of a not-yet-accepted, not-revoked invitation (pending or
/// expired), which kills the old token at once. Returns whether it did. It clears `expired_at`:
/// a marked expiry must lie in the past, as the insights' counts assume (`storage::insights`).
pub fn replace_token(
    conn: &mut DbConn,
    id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
    pending_email: Option<&str>,
) -> QueryResult<bool> {
    let n = diesel::update(
        i::invitations
            .filter(i::id.eq(id))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses)),
    )
    .set((
        i::token_hash.eq(token_hash),
        i::expires_at.eq(expires_at),
        i::pending_email.eq(pending_email),
        i::reminded_at.eq(None::<NaiveDateTime>),
        i::expired_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every invitation of `inviter_id` that is not accepted or revoked; returns their ids.
pub fn revoke_all_by_inviter(
    conn: &mut DbConn,
    inviter_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    diesel::update(
        i::invitations
            .filter(i::inviter_id.eq(inviter_id))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses)),
    )
    .set((
        i::revoked_at.eq(Some(now)),
        i::pending_email.eq(None::<String>),
    ))
    .returning(i::id)
    .get_results(conn)
}

/// Invitations of `inviter_id` that count against a quota at `now`: pending and accepted.
pub fn count_for_quota(
    conn: &mut DbConn,
    inviter_id: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    i::invitations
        .filter(i::inviter_id.eq(inviter_id))
        .filter(i::revoked_at.is_null())
        .filter(i::uses.ge(i::max_uses).or(i::expires_at.gt(now)))
        .count()
        .get_result(conn)
}

/// Ids of invitations whose time passed while pending and that are not yet marked expired.
pub fn newly_expired(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<String>> {
    i::invitations
        .filter(i::expired_at.is_null())
        .filter(i::expires_at.le(now))
        .filter(i::revoked_at.is_null())
        .filter(i::uses.lt(i::max_uses))
        .select(i::id)
        .limit(limit)
        .load(conn)
}

/// Marks one invitation expired (releasing its address); returns whether this call did.
pub fn mark_expired(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        i::invitations
            .filter(i::id.eq(id))
            .filter(i::expired_at.is_null())
            .filter(i::expires_at.le(now))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses)),
    )
    .set((
        i::expired_at.eq(Some(now)),
        i::pending_email.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Email-bound pending invitations expiring before `until` that had no reminder yet.
pub fn reminder_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<InvitationRow>> {
    i::invitations
        .filter(i::reminded_at.is_null())
        .filter(i::email.is_not_null())
        .filter(i::expires_at.gt(now))
        .filter(i::expires_at.le(until))
        .filter(i::revoked_at.is_null())
        .filter(i::uses.lt(i::max_uses))
        .limit(limit)
        .load(conn)
}

/// Takes the reminder of a pending invitation and gives it a new token (same expiry); returns
/// whether this call did (so two nodes never both remind).
pub fn take_reminder(
    conn: &mut DbConn,
    id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        i::invitations
            .filter(i::id.eq(id))
            .filter(i::reminded_at.is_null())
            .filter(i::expires_at.gt(now))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses)),
    )
    .set((i::reminded_at.eq(Some(now)), i::token_hash.eq(token_hash)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every owner (bootstrap) invitation that could still be redeemed.
pub fn revoke_unused_bootstrap(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        i::invitations
            .filter(i::bootstrap.eq(true))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses)),
    )
    .set(i::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// One page, newest first, after `cursor` (an id) when given. Fetches `limit + 1` rows so the
/// caller knows whether another page exists.
pub fn list(
    conn: &mut DbConn,
    filter: &ListFilter,
    now: NaiveDateTime,
    limit: i64,
    cursor: Option<&str>,
) -> QueryResult<Vec<InvitationRow>> {
    let mut q = i::invitations.into_boxed();
    if let Some(c) = cursor {
        q = q.filter(i::id.lt(c.to_string()));
    }
    if let Some(inviter) = &filter.inviter_id {
        q = q.filter(i::inviter_id.eq(inviter.clone()));
    }
    if let Some(org) = &filter.organization_id {
        q = q.filter(i::organization_id.eq(org.clone()));
    }
    if let Some(email) = &filter.email {
        let pattern = format!("%{}%", like_escape(&email.to_lowercase()));
        q = q.filter(
            i::email
                .like(pattern.clone())
                .escape('\\')
                .or(i::email_domain.like(pattern).escape('\\')),
        );
    }
    q = match filter.state {
        None => q,
        Some(InvitationState::Declined) => q.filter(i::declined_at.is_not_null()),
        Some(InvitationState::Revoked) => q
            .filter(i::revoked_at.is_not_null())
            .filter(i::declined_at.is_null()),
        Some(InvitationState::Accepted) => q
            .filter(i::revoked_at.is_null())
            .filter(i::uses.ge(i::max_uses)),
        Some(InvitationState::Pending) => q
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses))
            .filter(i::expires_at.gt(now)),
        Some(InvitationState::Expired) => q
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses))
            .filter(i::expires_at.le(now)),
    };
    q.order(i::id.desc()).limit(limit + 1).load(conn)
}

/// Records the first opening of each of `ids` (a successful verification) at `at`; later ones
/// change nothing. One statement.
pub fn mark_opened(conn: &mut DbConn, ids: &[String], at: NaiveDateTime) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        i::invitations
            .filter(i::id.eq_any(ids))
            .filter(i::opened_at.is_null()),
    )
    .set(i::opened_at.eq(Some(at)))
    .execute(conn)
}

/// Records that the emails of invitations `ids` were delivered at `at` (the first delivery
/// only: a resend's email does not move it), in one statement: on PostgreSQL the funnel's
/// count trigger runs once for all of them.
pub fn mark_delivered(conn: &mut DbConn, ids: &[String], at: NaiveDateTime) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        i::invitations
            .filter(i::id.eq_any(ids))
            .filter(i::delivered_at.is_null()),
    )
    .set(i::delivered_at.eq(Some(at)))
    .execute(conn)
}
