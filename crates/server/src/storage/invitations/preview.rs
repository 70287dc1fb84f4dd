//! An invitation with what its preview shows, read in one statement: the verify path's only
//! read.

use super::InvitationRow;
use crate::storage::DbConn;
use crate::storage::organizations::OrganizationRow;
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
    /// The organisation it invites into.
    pub organization: Option<OrganizationRow>,
    /// The app it continues to: its name and initiate-login URI.
    pub app: Option<(String, Option<String>)>,
}

type Joined = (
    InvitationRow,
    Option<(Option<String>, String)>,
    Option<String>,
    Option<OrganizationRow>,
    Option<(String, Option<String>)>,
);

impl From<Joined> for Previewed {
    fn from((row, inviter_user, inviter_key, organization, app): Joined) -> Self {
        Self {
            row,
            inviter_user,
            inviter_key,
            organization,
            app,
        }
    }
}

/// The invitation `$filter` selects, joined with what its preview shows: one statement, run
/// on the backend's own connection rather than through the `MultiConnection`, which writes the
/// whole SQL text again on every execution even when the prepared statement is cached (a
/// tenth of a valid verification's CPU on SQLite).
macro_rules! previewed {
    ($conn:expr, $filter:expr) => {{
        macro_rules! query {
            () => {
                i::invitations
                    .left_join(
                        u::users.on(u::id
                            .eq(i::inviter_id)
                            .and(i::inviter_type.eq(ActorType::User))),
                    )
                    .left_join(
                        k::api_keys.on(k::id
                            .eq(i::inviter_id)
                            .and(i::inviter_type.eq(ActorType::ApiKey))),
                    )
                    .left_join(o::organizations.on(o::id.nullable().eq(i::organization_id)))
                    .left_join(c::oauth_clients.on(c::client_id.nullable().eq(i::client_id)))
                    .filter($filter)
                    .select((
                        i::invitations::all_columns(),
                        (u::display_name, u::email).nullable(),
                        k::name.nullable(),
                        o::organizations::all_columns().nullable(),
                        (c::name, c::initiate_login_uri).nullable(),
                    ))
            };
        }
        let found: Option<Joined> = match $conn {
            DbConn::Pg(pg) => query!().first(pg).optional()?,
            DbConn::Sqlite(lite) => query!().first(lite).optional()?,
        };
        Ok(found.map(Previewed::from))
    }};
}

/// The invitation with this token hash and what its preview shows, by the unique index on
/// `token_hash` and primary keys: one statement, one round trip.
pub fn find_previewed_by_token_hash(
    conn: &mut DbConn,
    hash: &str,
) -> QueryResult<Option<Previewed>> {
    previewed!(conn, i::token_hash.eq(hash))
}

/// The invitation with this id and what its preview shows (one statement).
pub fn find_previewed(conn: &mut DbConn, id: &str) -> QueryResult<Option<Previewed>> {
    previewed!(conn, i::id.eq(id))
}
