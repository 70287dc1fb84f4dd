//! Queries on `email_verifications`: registrations waiting for the email to be proven. No user
//! row exists until the link is followed.

use super::DbConn;
use super::models::*;
use super::schema::email_verifications::dsl as v;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `email_verifications`: a registration waiting for its email to be proven.
#[derive(Debug, Clone, Queryable, Insertable)]
// `None` binds NULL (no column here has another default): one INSERT text, kept prepared.
#[diesel(table_name = email_verifications, treat_none_as_default_value = false)]
pub struct VerificationRow {
    pub id: String,
    pub token_hash: String,
    pub email: String,
    pub display_name: Option<String>,
    pub invitation_id: Option<String>,
    pub basis: RegistrationBasis,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

/// Inserts a pending registration.
pub fn insert(conn: &mut DbConn, row: &VerificationRow) -> QueryResult<()> {
    diesel::insert_into(v::email_verifications)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The pending registration with this token hash.
pub fn find_by_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<VerificationRow>> {
    v::email_verifications
        .filter(v::token_hash.eq(hash))
        .first(conn)
        .optional()
}

/// Marks it consumed if it still holds `token_hash`, unexpired and unconsumed; returns
/// whether this call consumed it (a resend that replaced the token meanwhile wins).
pub fn consume(
    conn: &mut DbConn,
    id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        v::email_verifications
            .filter(v::id.eq(id))
            .filter(v::token_hash.eq(token_hash))
            .filter(v::expires_at.gt(now))
            .filter(v::consumed_at.is_null()),
    )
    .set(v::consumed_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The newest unconsumed pending registration for `email`.
pub fn latest_open_for_email(
    conn: &mut DbConn,
    email: &str,
) -> QueryResult<Option<VerificationRow>> {
    v::email_verifications
        .filter(v::email.eq(email))
        .filter(v::consumed_at.is_null())
        .order(v::created_at.desc())
        .first(conn)
        .optional()
}

/// Gives a pending registration a new token and expiry (the old link stops working).
pub fn replace_token(
    conn: &mut DbConn,
    id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        v::email_verifications
            .filter(v::id.eq(id))
            .filter(v::consumed_at.is_null()),
    )
    .set((v::token_hash.eq(token_hash), v::expires_at.eq(expires_at)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends every unconsumed pending registration of an invitation (its token was replaced);
/// returns how many.
pub fn cancel_for_invitation(
    conn: &mut DbConn,
    invitation_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        v::email_verifications
            .filter(v::invitation_id.eq(invitation_id))
            .filter(v::consumed_at.is_null()),
    )
    .set(v::consumed_at.eq(Some(now)))
    .execute(conn)
}
