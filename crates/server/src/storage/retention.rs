//! Deleting what is kept no longer: old audit events, ended sessions, and verification,
//! reset and acceptance links past their use. Each call deletes at most `batch` rows found by
//! a bounded read, so no statement holds locks for long; the jobs call again next round.

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
    let ids: Vec<String> = a::table
        .filter(a::occurred_at.lt(before))
        .select(a::id)
        .limit(batch)
        .load(conn)?;
    delete_ids(conn, ids, |conn, ids| {
        diesel::delete(a::table.filter(a::id.eq_any(ids))).execute(conn)
    })
}

/// Sessions that expired before `before` (a revoked session ends at its expiry too: until
/// then its refresh token's reuse is recognised), unless an OpenID Connect grant still names
/// them (grants are purged on their own schedule).
pub fn sessions(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let ids: Vec<String> = s::table
        .filter(s::expires_at.lt(before))
        .filter(not(exists(g::table.filter(g::session_id.eq(s::id)))))
        .select(s::id)
        .limit(batch)
        .load(conn)?;
    delete_ids(conn, ids, |conn, ids| {
        diesel::delete(s::table.filter(s::id.eq_any(ids))).execute(conn)
    })
}

/// Email-verification, password-reset and acceptance links that expired before `before`,
/// used or not (a used link's row only told "already used" until its expiry).
pub fn links(conn: &mut DbConn, before: NaiveDateTime, batch: i64) -> QueryResult<usize> {
    let verifications: Vec<String> = v::table
        .filter(v::expires_at.lt(before))
        .select(v::id)
        .limit(batch)
        .load(conn)?;
    let mut n = delete_ids(conn, verifications, |conn, ids| {
        diesel::delete(v::table.filter(v::id.eq_any(ids))).execute(conn)
    })?;
    let resets: Vec<String> = r::table
        .filter(r::expires_at.lt(before))
        .select(r::id)
        .limit(batch)
        .load(conn)?;
    n += delete_ids(conn, resets, |conn, ids| {
        diesel::delete(r::table.filter(r::id.eq_any(ids))).execute(conn)
    })?;
    let proofs: Vec<String> = ap::table
        .filter(ap::expires_at.lt(before))
        .select(ap::id)
        .limit(batch)
        .load(conn)?;
    n += delete_ids(conn, proofs, |conn, ids| {
        diesel::delete(ap::table.filter(ap::id.eq_any(ids))).execute(conn)
    })?;
    Ok(n)
}

fn delete_ids(
    conn: &mut DbConn,
    ids: Vec<String>,
    delete: impl FnOnce(&mut DbConn, &[String]) -> QueryResult<usize>,
) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    delete(conn, &ids)
}
