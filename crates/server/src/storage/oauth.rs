//! Queries on `oauth_clients` and `oauth_grants`. A grant's code is consumed and its refresh
//! token rotated by guarded updates, so each works once however many requests race.

use super::DbConn;
use super::models::*;
use super::schema::oauth_clients::dsl as c;
use super::schema::oauth_grants::dsl as g;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `oauth_clients`. URI lists are stored one per line.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = oauth_clients)]
pub struct OAuthClientRow {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub initiate_login_uri: Option<String>,
    pub id_token_signed_response_alg: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

impl OAuthClientRow {
    /// Whether the client is public (no secret).
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> Vec<String> {
        lines(&self.redirect_uris)
    }

    /// The registered post-logout redirect URIs.
    pub fn post_logout_redirect_uris(&self) -> Vec<String> {
        lines(&self.post_logout_redirect_uris)
    }

    /// The API object.
    pub fn to_api(&self) -> api::OAuthClient {
        api::OAuthClient {
            id: self.id.clone(),
            client_id: self.client_id.clone(),
            name: self.name.clone(),
            public: self.is_public(),
            redirect_uris: self.redirect_uris(),
            post_logout_redirect_uris: self.post_logout_redirect_uris(),
            initiate_login_uri: self.initiate_login_uri.clone(),
            id_token_signed_response_alg: self.id_token_signed_response_alg.clone(),
            created_at: utc(self.created_at),
        }
    }
}

/// A row of `oauth_grants`: one authorization, from its code to its last refresh.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = oauth_grants)]
pub struct OAuthGrantRow {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub auth_time: NaiveDateTime,
    pub code_hash: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub code_expires_at: NaiveDateTime,
    pub code_used_at: Option<NaiveDateTime>,
    pub refresh_token_hash: Option<String>,
    pub previous_refresh_token_hash: Option<String>,
    pub refresh_expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Registers a client.
pub fn insert_client(conn: &mut DbConn, row: &OAuthClientRow) -> QueryResult<()> {
    diesel::insert_into(c::oauth_clients)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The client with this OAuth `client_id`.
pub fn client_by_client_id(
    conn: &mut DbConn,
    client_id: &str,
) -> QueryResult<Option<OAuthClientRow>> {
    c::oauth_clients
        .filter(c::client_id.eq(client_id))
        .first(conn)
        .optional()
}

/// The client with row id `id`.
pub fn client(conn: &mut DbConn, id: &str) -> QueryResult<Option<OAuthClientRow>> {
    c::oauth_clients.find(id).first(conn).optional()
}

/// Every client, newest first.
pub fn clients(conn: &mut DbConn) -> QueryResult<Vec<OAuthClientRow>> {
    c::oauth_clients.order(c::id.desc()).load(conn)
}

/// Deletes a client and its grants; returns whether it existed.
pub fn delete_client(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    use super::schema::oauth_refresh_tokens::dsl as r;
    let grants = g::oauth_grants.filter(g::client_id.eq(id)).select(g::id);
    diesel::delete(r::oauth_refresh_tokens.filter(r::grant_id.eq_any(grants))).execute(conn)?;
    diesel::delete(g::oauth_grants.filter(g::client_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(c::oauth_clients.find(id)).execute(conn)? == 1)
}

/// Records a grant with its (hashed) code.
pub fn insert_grant(conn: &mut DbConn, row: &OAuthGrantRow) -> QueryResult<()> {
    diesel::insert_into(g::oauth_grants)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The grant whose code hashes to `code_hash`, used or not.
pub fn grant_by_code(conn: &mut DbConn, code_hash: &str) -> QueryResult<Option<OAuthGrantRow>> {
    g::oauth_grants
        .filter(g::code_hash.eq(code_hash))
        .first(conn)
        .optional()
}

/// The grant `id`.
pub fn grant(conn: &mut DbConn, id: &str) -> QueryResult<Option<OAuthGrantRow>> {
    g::oauth_grants.find(id).first(conn).optional()
}

/// Uses the grant's code: true for exactly one caller, while the code is unused, unexpired and
/// the grant unrevoked; sets the refresh token (hash and expiry) when one is issued.
pub fn consume_code(
    conn: &mut DbConn,
    id: &str,
    refresh: Option<(&str, NaiveDateTime)>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        g::oauth_grants
            .filter(g::id.eq(id))
            .filter(g::code_used_at.is_null())
            .filter(g::revoked_at.is_null())
            .filter(g::code_expires_at.gt(now)),
    )
    .set((
        g::code_used_at.eq(Some(now)),
        g::refresh_token_hash.eq(refresh.map(|r| r.0.to_string())),
        g::refresh_expires_at.eq(refresh.map(|r| r.1)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Replaces refresh token `old_hash` by `new_hash` on a live grant of `client`; returns the
/// grant. At most one caller rotates a given token.
pub fn rotate_refresh(
    conn: &mut DbConn,
    client: &str,
    old_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<OAuthGrantRow>> {
    diesel::update(
        g::oauth_grants
            .filter(g::refresh_token_hash.eq(old_hash))
            .filter(g::client_id.eq(client))
            .filter(g::revoked_at.is_null())
            .filter(g::refresh_expires_at.gt(now)),
    )
    .set(g::refresh_token_hash.eq(Some(new_hash)))
    .get_result(conn)
    .optional()
}

/// Records a refresh token (hash) given to grant `grant_id`.
pub fn record_refresh(
    conn: &mut DbConn,
    grant_id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use super::schema::oauth_refresh_tokens::dsl as r;
    diesel::insert_into(r::oauth_refresh_tokens)
        .values((
            r::token_hash.eq(hash),
            r::grant_id.eq(grant_id),
            r::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Revokes the grant that was once given refresh token `old_hash` (a replayed, rotated token,
/// however long ago: RFC 9700 §4.14.2); returns whether one was.
pub fn revoke_by_used_refresh(
    conn: &mut DbConn,
    old_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use super::schema::oauth_refresh_tokens::dsl as r;
    let grant: Option<String> = r::oauth_refresh_tokens
        .filter(r::token_hash.eq(old_hash))
        .select(r::grant_id)
        .first(conn)
        .optional()?;
    let Some(grant) = grant else {
        return Ok(false);
    };
    diesel::update(
        g::oauth_grants
            .filter(g::id.eq(grant))
            .filter(g::revoked_at.is_null()),
    )
    .set(g::revoked_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n > 0)
}

/// Deletes up to `limit` grants that can no longer be used — codes never exchanged, grants
/// revoked, refresh tokens expired, grants without one whose access tokens have expired —
/// once `keep` has passed, with their refresh tokens. Returns how many.
pub fn purge_dead_grants(
    conn: &mut DbConn,
    now: NaiveDateTime,
    keep: chrono::Duration,
    limit: i64,
) -> QueryResult<usize> {
    use super::schema::oauth_refresh_tokens::dsl as r;
    let before = now - keep;
    let dead: Vec<String> = g::oauth_grants
        .filter(
            g::revoked_at
                .lt(before)
                .or(g::code_used_at.is_null().and(g::code_expires_at.lt(before)))
                .or(g::refresh_expires_at.lt(before))
                .or(g::code_used_at
                    .is_not_null()
                    .and(g::refresh_expires_at.is_null())
                    .and(g::created_at.lt(before))),
        )
        .select(g::id)
        .limit(limit)
        .load(conn)?;
    if dead.is_empty() {
        return Ok(0);
    }
    diesel::delete(r::oauth_refresh_tokens.filter(r::grant_id.eq_any(&dead))).execute(conn)?;
    diesel::delete(g::oauth_grants.filter(g::id.eq_any(&dead))).execute(conn)
}

/// Revokes grant `id`.
pub fn revoke_grant(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        g::oauth_grants
            .filter(g::id.eq(id))
            .filter(g::revoked_at.is_null()),
    )
    .set(g::revoked_at.eq(Some(now)))
    .execute(conn)
    .map(|_| ())
}

/// Revokes every grant made in session `session_id`; returns how many.
pub fn revoke_grants_of_session(
    conn: &mut DbConn,
    session_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        g::oauth_grants
            .filter(g::session_id.eq(session_id))
            .filter(g::revoked_at.is_null()),
    )
    .set(g::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// The live grant `id` (unrevoked, code used, its session not ended) and its active user:
/// what an access token needs to still be honoured.
pub fn live_grant_user(
    conn: &mut DbConn,
    id: &str,
) -> QueryResult<Option<(OAuthGrantRow, UserRow)>> {
    use super::schema::users;
    g::oauth_grants
        .inner_join(users::table)
        .filter(g::id.eq(id))
        .filter(g::revoked_at.is_null())
        .filter(g::code_used_at.is_not_null())
        .filter(users::disabled_at.is_null())
        .filter(diesel::dsl::exists(
            super::schema::sessions::table
                .filter(super::schema::sessions::id.eq(g::session_id))
                .filter(super::schema::sessions::revoked_at.is_null()),
        ))
        .select((g::oauth_grants::all_columns(), users::all_columns))
        .first(conn)
        .optional()
}
