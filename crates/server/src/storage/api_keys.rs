//! Queries on `api_keys`. Keys are stored as SHA-256 hashes.

use super::DbConn;
use super::models::*;
use super::schema::api_keys::dsl as k;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `api_keys`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    /// Scopes, parsed from the space-separated column.
    pub fn scopes(&self) -> Vec<Scope> {
        self.scopes
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// The API object (no secret).
    pub fn to_api(&self) -> api::ApiKey {
        api::ApiKey {
            id: self.id.clone(),
            name: self.name.clone(),
            scopes: self.scopes(),
            prefix: self.prefix.clone(),
            created_at: utc(self.created_at),
            last_used_at: self.last_used_at.map(utc),
            revoked_at: self.revoked_at.map(utc),
        }
    }
}

/// Inserts a key.
pub fn insert(conn: &mut DbConn, row: &ApiKeyRow) -> QueryResult<()> {
    diesel::insert_into(k::api_keys)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The unrevoked key with this hash.
pub fn find_active_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ApiKeyRow>> {
    k::api_keys
        .filter(k::key_hash.eq(hash))
        .filter(k::revoked_at.is_null())
        .first(conn)
        .optional()
}

/// The key with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApiKeyRow>> {
    k::api_keys.find(id).first(conn).optional()
}

/// Every key, newest first.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ApiKeyRow>> {
    k::api_keys.order(k::id.desc()).load(conn)
}

/// Revokes a key; returns whether it was active.
pub fn revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        k::api_keys
            .filter(k::id.eq(id))
            .filter(k::revoked_at.is_null()),
    )
    .set(k::revoked_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records use, at most once a minute per key.
pub fn touch(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<()> {
    let stale = now - chrono::Duration::seconds(60);
    diesel::update(
        k::api_keys
            .filter(k::id.eq(id))
            .filter(k::last_used_at.is_null().or(k::last_used_at.lt(stale))),
    )
    .set(k::last_used_at.eq(Some(now)))
    .execute(conn)
    .map(|_| ())
}

/// Revokes every active key created by `user_id`; returns their ids.
pub fn revoke_all_created_by(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    diesel::update(
        k::api_keys
            .filter(k::created_by.eq(user_id))
            .filter(k::revoked_at.is_null()),
    )
    .set(k::revoked_at.eq(Some(now)))
    .returning(k::id)
    .get_results(conn)
}
