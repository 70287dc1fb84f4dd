//! Queries on `settings`: runtime settings as JSON values by key.

use super::DbConn;
use super::schema::settings::dsl as s;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The key of the sign-up mode, which an invitation lookup also reads
/// (`invitations::Previewed::signup_mode`).
pub const SIGNUP_MODE: &str = "signup_mode";

/// Every stored `(key, value)`.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    s::settings.select((s::key, s::value)).load(conn)
}

/// Stores `value` under `key`, replacing any previous value.
pub fn put(conn: &mut DbConn, key: &str, value: &str, now: NaiveDateTime) -> QueryResult<()> {
    let n = diesel::update(s::settings.filter(s::key.eq(key)))
        .set((s::value.eq(value), s::updated_at.eq(now)))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(s::settings)
            .values((s::key.eq(key), s::value.eq(value), s::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}
