//! Deleting what is kept no longer: old audit events, sessions that ended long ago, and
//! verification, reset and acceptance links once they cannot matter. Each call reads at most
//! `batch` ids and deletes those still matching (the condition is repeated in the delete, so a
//! row revived meanwhile stays), in short statements; the jobs call again next round.

use super::DbConn;
use super::schema::{
    acceptance_proofs as ap, audit_events as a, email_verifications as v, oauth_grants as g,
    password_resets as r, sessions as s,
};
use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;

/// Audit events that occurred before `before`.
pub fn audit_events(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let old = a::occurred_at.lt(before);
    let ids: Vec<String> = a::table.filter(old).select(a::id).limit(batch).load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(a::table.filter(a::id.eq_any(&ids)).filter(old)).execute(conn)
}

/// Sessions that expired before `before`, unless an OpenID Connect grant still names them
/// (grants are purged on their own schedule). Callers pass a time well before now: ended
/// sessions remember the clients an account signed in from, which the per-account login
/// limit trusts.
pub fn sessions(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let ended = s::expires_at
        .lt(before)
        .and(not(exists(g::table.filter(g::session_id.eq(s::id)))));
    let ids: Vec<String> = s::table
        .filter(ended)
        .select(s::id)
        .limit(batch)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(s::table.filter(s::id.eq_any(&ids)).filter(ended)).execute(conn)
}

/// Email-verification, password-reset and acceptance links that were used before `now`, or
/// expired before `stale` unused. Callers pass a `stale` well before now: an expired, unused
/// verification can still be renewed by "send a new link", and an expired link answers
/// `token_expired` rather than `invalid_token` while its row exists.
pub fn links(
    conn: &mut DbConn,
    now: NaiveDateTime,
    stale: NaiveDateTime,
    batch: i64,
) -> QueryResult<usize> {
    macro_rules! prune {
        ($t:ident) => {{
            let done = $t::consumed_at.lt(now).or($t::expires_at.lt(stale));
            let ids: Vec<String> = $t::table
                .filter(done)
                .select($t::id)
                .limit(batch)
                .load(conn)?;
            if ids.is_empty() {
                0
            } else {
                diesel::delete($t::table.filter($t::id.eq_any(&ids)).filter(done)).execute(conn)?
            }
        }};
    }
    Ok(prune!(v) + prune!(r) + prune!(ap))
}
