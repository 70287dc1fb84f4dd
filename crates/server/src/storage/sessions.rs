//! Queries on `sessions`. Refresh tokens are stored as hashes and rotated with one guarded
//! statement, so a refresh token works once.

use super::DbConn;
use super::models::*;
use super::prepared::Prepared;
use super::schema::sessions::dsl as s;
use super::schema::users;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Insertable)]
// `None` binds NULL (no column here has another default): one INSERT text, kept prepared.
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub refresh_token_hash: String,
    pub previous_refresh_token_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Inserts a session.
pub fn insert(conn: &mut DbConn, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(s::sessions)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The live session `id` and its active user at `now`.
pub fn find_active(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(SessionRow, UserRow)>> {
    s::sessions
        .inner_join(users::table)
        .filter(s::id.eq(id))
        .filter(s::revoked_at.is_null())
        .filter(s::expires_at.gt(now))
        .filter(users::disabled_at.is_null())
        .select((s::sessions::all_columns(), users::all_columns))
        .first(conn)
        .optional()
}

/// Rotates the refresh token: replaces `old_hash` by `new_hash` if the session is live.
/// Returns the session's id and user id.
pub fn rotate(
    conn: &mut DbConn,
    old_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(String, String)>> {
    Prepared(
        diesel::update(
            s::sessions
                .filter(s::refresh_token_hash.eq(old_hash))
                .filter(s::revoked_at.is_null())
                .filter(s::expires_at.gt(now)),
        )
        .set((
            s::refresh_token_hash.eq(new_hash),
            s::previous_refresh_token_hash.eq(Some(old_hash)),
            s::last_used_at.eq(now),
        ))
        .returning((s::id, s::user_id)),
    )
    .get_result(conn)
    .optional()
}

/// The live session whose previous refresh token is `hash` and that rotated at or after
/// `since` (the refresh grace window).
pub fn rotated_since(
    conn: &mut DbConn,
    hash: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<String>> {
    s::sessions
        .filter(s::previous_refresh_token_hash.eq(hash))
        .filter(s::revoked_at.is_null())
        .filter(s::last_used_at.ge(since))
        .select(s::id)
        .first(conn)
        .optional()
}

/// Revokes the session whose previous refresh token is `hash` (a replayed, already rotated
/// token means it was stolen: end the session). Returns how many were revoked.
pub fn revoke_by_previous_hash(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        s::sessions
            .filter(s::previous_refresh_token_hash.eq(hash))
            .filter(s::revoked_at.is_null()),
    )
    .set(s::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Revokes one session by id.
pub fn revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        s::sessions
            .filter(s::id.eq(id))
            .filter(s::revoked_at.is_null()),
    )
    .set(s::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Revokes the session holding this refresh token hash; returns its id.
pub fn revoke_by_refresh_hash(
    conn: &mut DbConn,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    diesel::update(
        s::sessions
            .filter(s::refresh_token_hash.eq(hash))
            .filter(s::revoked_at.is_null()),
    )
    .set(s::revoked_at.eq(Some(now)))
    .returning(s::id)
    .get_result(conn)
    .optional()
}

/// Revokes every session of a user.
pub fn revoke_all_for_user(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        s::sessions
            .filter(s::user_id.eq(user_id))
            .filter(s::revoked_at.is_null()),
    )
    .set(s::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// The client addresses of the user's `limit` newest sessions (ended or not): where they
/// signed in before.
pub fn recent_ips(conn: &mut DbConn, user_id: &str, limit: i64) -> QueryResult<Vec<String>> {
    s::sessions
        .filter(s::user_id.eq(user_id))
        .filter(s::ip.is_not_null())
        .order(s::created_at.desc())
        .limit(limit)
        .select(s::ip.assume_not_null())
        .load(conn)
}

/// Whether `hash` is the current or the previous refresh token of any session.
pub fn refresh_token_known(conn: &mut DbConn, hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        s::sessions.filter(
            s::refresh_token_hash
                .eq(hash)
                .or(s::previous_refresh_token_hash.eq(hash)),
        ),
    ))
    .get_result(conn)
}

/// Whether session `id` has not been ended (OAuth grants end with the sign-in they were made
/// in).
pub fn is_live(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        s::sessions
            .filter(s::id.eq(id))
            .filter(s::revoked_at.is_null()),
    ))
    .get_result(conn)
}

/// The user's live sessions at `now`, newest first (at most 500).
pub fn live_for_user(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<SessionRow>> {
    s::sessions
        .filter(s::user_id.eq(user_id))
        .filter(s::revoked_at.is_null())
        .filter(s::expires_at.gt(now))
        .order(s::id.desc())
        .limit(500)
        .load(conn)
}

/// Ends the user's live session `id`; returns whether one ended (another account's session
/// is never touched).
pub fn revoke_own(
    conn: &mut DbConn,
    user_id: &str,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        s::sessions
            .filter(s::id.eq(id))
            .filter(s::user_id.eq(user_id))
            .filter(s::revoked_at.is_null())
            .filter(s::expires_at.gt(now)),
    )
    .set(s::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends every session of the user except `keep`; returns how many ended.
pub fn revoke_others(
    conn: &mut DbConn,
    user_id: &str,
    keep: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        s::sessions
            .filter(s::user_id.eq(user_id))
            .filter(s::id.ne(keep))
            .filter(s::revoked_at.is_null()),
    )
    .set(s::revoked_at.eq(Some(now)))
    .execute(conn)
}

impl SessionRow {
    /// The API object; `current` when it is the session making the request.
    pub fn to_api(&self, current: bool) -> api::SessionInfo {
        api::SessionInfo {
            id: self.id.clone(),
            created_at: utc(self.created_at),
            last_used_at: utc(self.last_used_at),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            current,
        }
    }
}
