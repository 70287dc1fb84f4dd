//! Queries on `password_resets`: single-use, short-lived reset links, stored as hashes.

use super::DbConn;
use super::models::*;
use super::schema::password_resets::dsl as r;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `password_resets`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = password_resets)]
pub struct PasswordResetRow {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

/// Inserts a reset.
pub fn insert(conn: &mut DbConn, row: &PasswordResetRow) -> QueryResult<()> {
    diesel::insert_into(r::password_resets)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The reset with this token hash.
pub fn find_by_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<PasswordResetRow>> {
    r::password_resets
        .filter(r::token_hash.eq(hash))
        .first(conn)
        .optional()
}

/// Consumes the reset if it is unused and unexpired at `now`; returns whether this call did.
pub fn consume(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        r::password_resets
            .filter(r::id.eq(id))
            .filter(r::consumed_at.is_null())
            .filter(r::expires_at.gt(now)),
    )
    .set(r::consumed_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends every other unused reset of the user (a newer link or a completed reset makes older
/// links useless).
pub fn consume_all_for_user(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        r::password_resets
            .filter(r::user_id.eq(user_id))
            .filter(r::consumed_at.is_null()),
    )
    .set(r::consumed_at.eq(Some(now)))
    .execute(conn)
}
