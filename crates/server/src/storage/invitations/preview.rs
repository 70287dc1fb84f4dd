//! Invitations with what their previews show, read in one statement: the verify path's only
//! read.

use super::InvitationRow;
use crate::storage::DbConn;
use crate::storage::schema::{
    api_keys::dsl as k, invitations::dsl as i, oauth_clients::dsl as c, organizations::dsl as o,
    users::dsl as u,
};
use diesel::prelude::*;
use invitegate_core::model::ActorType;

/// An invitation with its inviter's name, its organisation and its app.
#[derive(Debug, Clone)]
pub struct Previewed {
    /// The invitation.
    pub row: InvitationRow,
    /// A user inviter's display name (if set) and email.
    pub inviter_user: Option<(Option<String>, String)>,
    /// An API key inviter's name.
    pub inviter_key: Option<String>,
    /// The name and slug of the organisation it invites into (its id is the row's).
    pub organization: Option<(String, String)>,
    /// The app it continues to: its name and initiate-login URI.
    pub app: Option<(String, Option<String>)>,
}

type Read = (
    InvitationRow,
    (Option<String>, Option<String>),
    Option<String>,
    (Option<String>, Option<String>),
    (Option<String>, Option<String>),
);

impl From<Read> for Previewed {
    fn from((row, (user_name, user_email), key, (org_name, org_slug), (app, uri)): Read) -> Self {
        Self {
            row,
            inviter_user: user_email.map(|email| (user_name, email)),
            inviter_key: key,
            organization: org_name.zip(org_slug),
            app: app.map(|name| (name, uri)),
        }
    }
}

/// The invitations `$filter` selects, each with what its preview shows as scalar subqueries
/// on unique keys (a user's or key's only when the inviter is one). Joins would let the
/// planner hash whole tables once a statement reads several invitations (measured: a seq
/// scan of `users` for 16 invitations); a subquery per row stays an index lookup at any size.
/// Run on the backend's own connection rather than through the `MultiConnection`, which
/// writes the whole SQL text again on every execution even when the prepared statement is
/// cached (a tenth of a valid verification's CPU on SQLite).
macro_rules! previewed {
    ($conn:expr, $filter:expr, $finish:ident) => {{
        macro_rules! query {
            () => {
                i::invitations.filter($filter).select((
                    i::invitations::all_columns(),
                    (
                        u::users
                            .filter(u::id.eq(i::inviter_id))
                            .filter(i::inviter_type.eq(ActorType::User))
                            .select(u::display_name)
                            .single_value(),
                        u::users
                            .filter(u::id.eq(i::inviter_id))
                            .filter(i::inviter_type.eq(ActorType::User))
                            .select(u::email)
                            .single_value(),
                    ),
                    k::api_keys
                        .filter(k::id.eq(i::inviter_id))
                        .filter(i::inviter_type.eq(ActorType::ApiKey))
                        .select(k::name)
                        .single_value(),
                    (
                        o::organizations
                            .filter(o::id.nullable().eq(i::organization_id))
                            .select(o::name)
                            .single_value(),
                        o::organizations
                            .filter(o::id.nullable().eq(i::organization_id))
                            .select(o::slug)
                            .single_value(),
                    ),
                    (
                        c::oauth_clients
                            .filter(c::client_id.nullable().eq(i::client_id))
                            .select(c::name)
                            .single_value(),
                        c::oauth_clients
                            .filter(c::client_id.nullable().eq(i::client_id))
                            .select(c::initiate_login_uri)
                            .single_value(),
                    ),
                ))
            };
        }
        match $conn {
            DbConn::Pg(pg) => previewed!(@$finish, query!(), pg),
            DbConn::Sqlite(lite) => previewed!(@$finish, query!(), lite),
        }
    }};
    (@first, $query:expr, $conn:expr) => {
        $query.first::<Read>($conn).optional()?.map(Previewed::from)
    };
    (@load, $query:expr, $conn:expr) => {
        $query
            .load::<Read>($conn)?
            .into_iter()
            .map(Previewed::from)
            .collect()
    };
}

/// The invitation with this token hash and what its preview shows, by the unique index on
/// `token_hash` and unique keys: one statement, one round trip.
pub fn find_previewed_by_token_hash(
    conn: &mut DbConn,
    hash: &str,
) -> QueryResult<Option<Previewed>> {
    Ok(previewed!(conn, i::token_hash.eq(hash), first))
}

/// The invitations with these token hashes and what their previews show, in no particular
/// order (a hash no invitation has is left out): one statement whatever their number, which
/// on PostgreSQL (`token_hash = ANY($1)`) is one prepared statement. A lone hash is read with
/// `token_hash = $1`: PostgreSQL plans `= ANY($1)` again at each execution (a custom plan for
/// the array at hand always looks cheaper than the generic one), about 0.3 ms of its CPU with
/// the preview's subqueries, and keeps the generic plan of `= $1` after five.
pub fn find_previewed_by_token_hashes(
    conn: &mut DbConn,
    hashes: &[String],
) -> QueryResult<Vec<Previewed>> {
    Ok(match hashes {
        [one] => previewed!(conn, i::token_hash.eq(one), load),
        _ => previewed!(conn, i::token_hash.eq_any(hashes), load),
    })
}

/// The invitation with this id and what its preview shows (one statement).
pub fn find_previewed(conn: &mut DbConn, id: &str) -> QueryResult<Option<Previewed>> {
    Ok(previewed!(conn, i::id.eq(id), first))
}
