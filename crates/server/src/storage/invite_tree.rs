//! Queries behind invite trees: the accounts an account brought in, transitively.

use super::DbConn;
use super::schema::invitations::dsl as i;
use super::schema::users::dsl as u;
use super::users::UserRow;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::{HashMap, HashSet};

/// Ids per `IN (...)` list: well under SQLite's and PostgreSQL's bind limits.
const CHUNK: usize = 500;

/// An account of a branch and the account it came in through (`None` for the root).
pub type Member = (UserRow, Option<String>);

/// Account `root` and the accounts that came in through it, level by level: registered with
/// its invitations or with those of an API key it made, then through theirs, and so on; at
/// most `max` in all, each with the account it came through (`None` for the root). `None`
/// when `root` does not exist; the flag says whether the branch holds more than `max`.
pub fn branch(
    conn: &mut DbConn,
    root: &str,
    max: usize,
) -> QueryResult<Option<(Vec<Member>, bool)>> {
    let Some(first) = u::users
        .filter(u::id.eq(root))
        .first::<UserRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let mut seen: HashSet<String> = HashSet::from([first.id.clone()]);
    let mut frontier = vec![first.id.clone()];
    let mut all = vec![(first, None)];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for (user, parent) in invitees(conn, &frontier)? {
            if !seen.insert(user.id.clone()) {
                continue;
            }
            if all.len() == max {
                return Ok(Some((all, true)));
            }
            next.push(user.id.clone());
            all.push((user, Some(parent)));
        }
        frontier = next;
    }
    Ok(Some((all, false)))
}

/// The accounts registered with an invitation of one of `inviters` (user ids) or of an API
/// key one of them created, each with that user's id; oldest first per chunk of ids.
pub fn invitees(conn: &mut DbConn, inviters: &[String]) -> QueryResult<Vec<(UserRow, String)>> {
    use super::schema::api_keys::dsl as k;
    let mut found = Vec::new();
    for ids in inviters.chunks(CHUNK) {
        let keys: HashMap<String, String> = k::api_keys
            .filter(k::created_by.eq_any(ids))
            .select((k::id, k::created_by.assume_not_null()))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
        let key_ids: Vec<&String> = keys.keys().collect();
        let level: Vec<UserRow> = u::users
            .filter(
                u::invited_by_type
                    .eq("user")
                    .and(u::invited_by_id.eq_any(ids))
                    .or(u::invited_by_type
                        .eq("api_key")
                        .and(u::invited_by_id.eq_any(key_ids))),
            )
            .order((u::created_at, u::id))
            .load(conn)?;
        for user in level {
            let through = user.invited_by_id.clone().unwrap_or_default();
            let parent = keys.get(&through).cloned().unwrap_or(through);
            found.push((user, parent));
        }
    }
    Ok(found)
}

/// How many invitations of each of `inviters` are pending at `now`, by inviter id (absent: 0).
pub fn pending_counts(
    conn: &mut DbConn,
    inviters: &[String],
    now: NaiveDateTime,
) -> QueryResult<HashMap<String, i64>> {
    let mut counts = HashMap::new();
    for ids in inviters.chunks(CHUNK) {
        let rows: Vec<(String, i64)> = i::invitations
            .filter(i::inviter_type.eq("user"))
            .filter(i::inviter_id.eq_any(ids))
            .filter(i::revoked_at.is_null())
            .filter(i::uses.lt(i::max_uses))
            .filter(i::expires_at.gt(now))
            .group_by(i::inviter_id)
            .select((i::inviter_id, diesel::dsl::count_star()))
            .load(conn)?;
        counts.extend(rows);
    }
    Ok(counts)
}
