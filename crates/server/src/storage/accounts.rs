//! Queries that span every table holding an account's data: erasing it, and gathering it for
//! an export.

use super::DbConn;
use super::models::*;
use super::schema::{
    acceptance_proofs as ap, audit_events as a, email_verifications as v, invitations as i,
    join_requests as j, membership_exits as x, memberships as m, oauth_grants as g,
    oauth_refresh_tokens as rt, outbox as o, password_resets as r, sessions as s, users as u,
};
use diesel::prelude::*;
use invitegate_core::model::OutboxKind;

diesel::define_sql_function! {
    /// SQL `replace(text, from, to)`: the same on PostgreSQL and SQLite.
    fn replace(text: diesel::sql_types::Text, from: diesel::sql_types::Text, to: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// What audit events say in place of an erased account's email address.
pub const ERASED_EMAIL: &str = "[deleted]";

/// Erases account `id` (whose normalised email is `email`) and everything that exists only
/// for it: sessions with their OpenID Connect grants, memberships and the record of leaving,
/// join requests, password-reset, acceptance and verification links, emails to it not yet sent.
/// Audit events keep the id; the email in their details, and in queued webhook payloads,
/// becomes [`ERASED_EMAIL`]. Returns whether the account
/// existed. Its invitations and API keys are the caller's (they are revoked, not erased).
pub fn erase(conn: &mut DbConn, id: &str, email: &str) -> QueryResult<bool> {
    let grants = g::table.filter(g::user_id.eq(id)).select(g::id);
    diesel::delete(rt::table.filter(rt::grant_id.eq_any(grants))).execute(conn)?;
    diesel::delete(g::table.filter(g::user_id.eq(id))).execute(conn)?;
    diesel::delete(s::table.filter(s::user_id.eq(id))).execute(conn)?;
    diesel::delete(m::table.filter(m::user_id.eq(id))).execute(conn)?;
    diesel::delete(x::table.filter(x::user_id.eq(id))).execute(conn)?;
    diesel::delete(j::table.filter(j::user_id.eq(id))).execute(conn)?;
    diesel::delete(r::table.filter(r::user_id.eq(id))).execute(conn)?;
    diesel::delete(ap::table.filter(ap::user_id.eq(id))).execute(conn)?;
    diesel::delete(v::table.filter(v::email.eq(email))).execute(conn)?;
    // As a JSON string, so only whole values are replaced (never part of a longer address).
    let quoted = serde_json::Value::from(email).to_string();
    let erased = serde_json::Value::from(ERASED_EMAIL).to_string();
    let mentions = format!("%{}%", super::like_escape(&quoted));
    diesel::update(a::table.filter(a::details.like(&mentions).escape('\\')))
        .set(a::details.eq(replace(a::details, &quoted, &erased)))
        .execute(conn)?;
    // Emails to the account that are not sent yet are not sent; every other queued payload
    // (webhook deliveries copy audit events) loses the address like the audit log.
    let addressed = format!("%{}%", super::like_escape(&format!("\"to\":{quoted}")));
    diesel::delete(
        o::table
            .filter(o::kind.eq(OutboxKind::Email))
            .filter(o::status.ne(super::outbox::SENT))
            .filter(o::payload.like(addressed).escape('\\')),
    )
    .execute(conn)?;
    diesel::update(o::table.filter(o::payload.like(&mentions).escape('\\')))
        .set(o::payload.eq(replace(o::payload, &quoted, &erased)))
        .execute(conn)?;
    Ok(diesel::delete(u::table.filter(u::id.eq(id))).execute(conn)? == 1)
}

/// Most rows of each kind an export carries.
pub const EXPORT_LIMIT: i64 = 10_000;

/// An account's rows for an export, newest first, at most [`EXPORT_LIMIT`] of each kind.
#[derive(Debug)]
pub struct ExportRows {
    /// Every session, live or ended.
    pub sessions: Vec<SessionRow>,
    /// Invitations it sent.
    pub sent: Vec<InvitationRow>,
    /// Invitations addressed to its email, and the one it registered with.
    pub received: Vec<InvitationRow>,
    /// Audit events where it is the actor or the target.
    pub audit: Vec<AuditRow>,
}

/// Gathers [`ExportRows`] for `user`.
pub fn export_rows(conn: &mut DbConn, user: &UserRow) -> QueryResult<ExportRows> {
    let sessions = s::table
        .filter(s::user_id.eq(&user.id))
        .order(s::id.desc())
        .limit(EXPORT_LIMIT)
        .load(conn)?;
    let sent = i::table
        .filter(i::inviter_id.eq(&user.id))
        .order(i::id.desc())
        .limit(EXPORT_LIMIT)
        .load(conn)?;
    let registered_with = user.invitation_id.clone().unwrap_or_default();
    let received = i::table
        .filter(i::email.eq(&user.email).or(i::id.eq(registered_with)))
        .order(i::id.desc())
        .limit(EXPORT_LIMIT)
        .load(conn)?;
    let audit = a::table
        .filter(a::actor_id.eq(&user.id).or(a::target_id.eq(&user.id)))
        .order(a::id.desc())
        .limit(EXPORT_LIMIT)
        .load(conn)?;
    Ok(ExportRows {
        sessions,
        sent,
        received,
        audit,
    })
}
