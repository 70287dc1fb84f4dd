//! Queries on invitations that their invitee makes: the organisation an invitation names, the
//! invitations addressed to an existing account, declining.

use super::InvitationRow;
use crate::storage::DbConn;
use crate::storage::schema::invitations::dsl as i;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The organisation `row` invites into, if any.
pub fn organization_of(
    conn: &mut DbConn,
    row: &InvitationRow,
) -> QueryResult<Option<crate::storage::organizations::OrganizationRow>> {
    match &row.organization_id {
        Some(id) => crate::storage::organizations::find(conn, id),
        None => Ok(None),
    }
}

/// Pending organisation invitations addressed to `email` (an existing account's), newest first.
pub fn pending_for_account(
    conn: &mut DbConn,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<InvitationRow>> {
    i::invitations
        .filter(i::email.eq(email))
        .filter(i::organization_id.is_not_null())
        .filter(i::revoked_at.is_null())
        .filter(i::uses.lt(i::max_uses))
        .filter(i::expires_at.gt(now))
        .order(i::id.desc())
        .limit(100)
        .load(conn)
}

/// Declines invitation `id` if pending: it ends (revoked and declined at `now`), releases its
/// address and stops counting against its inviter's quota. Returns whether it changed.
pub fn decline(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        i::invitations
            .filter(i::id.eq(id))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses))
            .filter(i::expires_at.gt(now)),
    )
    .set((
        i::revoked_at.eq(Some(now)),
        i::declined_at.eq(Some(now)),
        i::pending_email.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
