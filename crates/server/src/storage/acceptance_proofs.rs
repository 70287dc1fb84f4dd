//! Queries on `acceptance_proofs`: emailed, single-use links by which a signed-in account proves
//! it owns the address an invitation names (seed 003). Stored as hashes.

use super::DbConn;
use super::models::*;
use super::schema::acceptance_proofs::dsl as p;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `acceptance_proofs`: account `user_id` asked to accept `invitation_id`, which names
/// another address; following the link emailed there proves the account's holder owns it.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = acceptance_proofs)]
pub struct AcceptanceProofRow {
    pub id: String,
    pub token_hash: String,
    pub invitation_id: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

/// Inserts a proof.
pub fn insert(conn: &mut DbConn, row: &AcceptanceProofRow) -> QueryResult<()> {
    diesel::insert_into(p::acceptance_proofs)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The proof with this token hash.
pub fn find_by_token_hash(
    conn: &mut DbConn,
    hash: &str,
) -> QueryResult<Option<AcceptanceProofRow>> {
    p::acceptance_proofs
        .filter(p::token_hash.eq(hash))
        .first(conn)
        .optional()
}

/// Consumes it if still unconsumed and unexpired; returns whether this call did (of two
/// concurrent uses, one wins).
pub fn consume(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        p::acceptance_proofs
            .filter(p::id.eq(id))
            .filter(p::expires_at.gt(now))
            .filter(p::consumed_at.is_null()),
    )
    .set(p::consumed_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends every open proof `user` asked for on `invitation` (a new request replaces them).
pub fn consume_open(
    conn: &mut DbConn,
    invitation: &str,
    user: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        p::acceptance_proofs
            .filter(p::invitation_id.eq(invitation))
            .filter(p::user_id.eq(user))
            .filter(p::consumed_at.is_null()),
    )
    .set(p::consumed_at.eq(Some(now)))
    .execute(conn)
}
