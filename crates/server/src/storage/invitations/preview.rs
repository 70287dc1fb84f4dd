//! Invitations with what their previews show, read in one statement: the verify path's only
//! read, and with the sign-up mode a registration's.

use super::InvitationRow;
use crate::storage::DbConn;
use crate::storage::schema::{
    api_keys::dsl as k, invitations::dsl as i, oauth_clients::dsl as c, organizations::dsl as o,
    settings::dsl as s, users::dsl as u,
};
use crate::storage::settings::SIGNUP_MODE;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Nullable, Text};
use invitegate_core::model::ActorType;

/// An invitation with its inviter's name, its organisation and its app, and the sign-up mode.
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
    /// The stored `signup_mode` setting (JSON text; none when unset), read in the same
    /// statement so that a registration with an invitation reads nothing else before hashing
    /// (`settings::RuntimeSettings::signup_mode_of`).
    pub signup_mode: Option<String>,
}

type Read = (
    InvitationRow,
    (Option<String>, Option<String>),
    Option<String>,
    (Option<String>, Option<String>),
    (Option<String>, Option<String>),
    Option<String>,
);

impl From<Read> for Previewed {
    fn from(
        (row, (user_name, user_email), key, (org_name, org_slug), (app, uri), signup_mode): Read,
    ) -> Self {
        Self {
            row,
            inviter_user: user_email.map(|email| (user_name, email)),
            inviter_key: key,
            organization: org_name.zip(org_slug),
            app: app.map(|name| (name, uri)),
            signup_mode,
        }
    }
}

/// What a preview shows besides the invitation, and the sign-up mode, as scalar subqueries on
/// unique keys (a user's or key's only when the inviter is one). Joins would let the planner
/// hash whole tables once a statement reads several invitations (measured: a seq scan of
/// `users` for 16 invitations); a subquery per row stays an index lookup at any size.
macro_rules! preview_columns {
    () => {
        (
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
            s::settings
                .filter(s::key.eq(SIGNUP_MODE))
                .select(s::value)
                .single_value(),
        )
    };
}

/// The invitations `$filter` selects, each with [`preview_columns`]. Run on the backend's own
/// connection rather than through the `MultiConnection`, which writes the whole SQL text again
/// on every execution even when the prepared statement is cached (a tenth of a valid
/// verification's CPU on SQLite).
macro_rules! previewed {
    ($conn:expr, $filter:expr, $finish:ident) => {{
        match $conn {
            DbConn::Pg(pg) => previewed!(@$finish, i::invitations.filter($filter).select(preview_columns!()), pg),
            DbConn::Sqlite(lite) => previewed!(@$finish, i::invitations.filter($filter).select(preview_columns!()), lite),
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
/// order (a hash no invitation has is left out), in one statement whatever their number. A
/// lone hash is read with `token_hash = $1`, whose generic plan PostgreSQL keeps after five
/// executions. Several are read on PostgreSQL by [`EachByIndex`], on SQLite with
/// `token_hash IN (…)`.
pub fn find_previewed_by_token_hashes(
    conn: &mut DbConn,
    hashes: &[String],
) -> QueryResult<Vec<Previewed>> {
    Ok(match (conn, hashes) {
        (conn, [one]) => previewed!(conn, i::token_hash.eq(one), load),
        (DbConn::Pg(pg), _) => EachByIndex {
            columns: preview_columns!(),
            hashes,
        }
        .load::<Read>(pg)?
        .into_iter()
        .map(Previewed::from)
        .collect(),
        (conn, _) => previewed!(conn, i::token_hash.eq_any(hashes), load),
    })
}

/// How many hashes [`EachByIndex`] binds for `n`: the next power of two, at least 2, so that
/// six statement texts serve batches of up to 64.
fn padded_len(n: usize) -> usize {
    n.next_power_of_two().max(2)
}

/// `SELECT columns FROM unnest(ARRAY[$a, $b, …]) AS wanted(hash) CROSS JOIN LATERAL (SELECT *
/// FROM invitations WHERE token_hash = wanted.hash LIMIT 1) AS invitations`, the hashes bound
/// one by one after the columns' own parameters and padded with NULLs (which equal nothing)
/// up to [`padded_len`]: each hash read by the unique index on its own (PostgreSQL only). A
/// hash given twice is read twice: callers pass each once.
///
/// `token_hash = ANY($n)` left the plan to the table's statistics, and PostgreSQL's generic
/// plan for an array of unknown length read a table of 1,000 invitations whole for each batch
/// of lookups (0.61 ms a batch, against 0.09 ms by the index; docs/performance.md). The
/// subquery with `LIMIT 1` cannot be merged into a join, so the only choice left is how to
/// find one row by its unique key.
///
/// The hashes are bound one by one, not as one array, so that the generic plan knows how many
/// there are. Costed for `unnest` of an array parameter (ten rows), it lost to the custom
/// plans of smaller batches, and every batch was planned afresh, at about twice the CPU of
/// executing it (docs/performance.md). With the count in the text, the generic plan costs what
/// a custom one does, less the planning that PostgreSQL charges custom plans, so from the
/// sixth execution on it is used (`choose_custom_plan` in PostgreSQL's `plancache.c`).
struct EachByIndex<'a, S> {
    columns: S,
    hashes: &'a [String],
}

/// What pads a batch: `token_hash = NULL` is never true.
const NO_HASH: Option<&str> = None;

impl<S: QueryFragment<Pg>> QueryFragment<Pg> for EachByIndex<'_, S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        self.columns.walk_ast(out.reborrow())?;
        out.push_sql(" FROM unnest(ARRAY[");
        for i in 0..padded_len(self.hashes.len()) {
            if i > 0 {
                out.push_sql(", ");
            }
            match self.hashes.get(i) {
                Some(hash) => out.push_bind_param::<Nullable<Text>, _>(hash)?,
                None => out.push_bind_param::<Nullable<Text>, _>(&NO_HASH)?,
            }
        }
        out.push_sql(
            "]) AS \"wanted\"(\"hash\") CROSS JOIN LATERAL (SELECT * FROM \"invitations\" \
             WHERE \"token_hash\" = \"wanted\".\"hash\" LIMIT 1) AS \"invitations\"",
        );
        Ok(())
    }
}

/// The text differs with the number of hashes: the statement cache keys it by its text.
impl<S> QueryId for EachByIndex<'_, S> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<S: Expression> Query for EachByIndex<'_, S> {
    type SqlType = S::SqlType;
}

impl<S, C> RunQueryDsl<C> for EachByIndex<'_, S> {}

/// The invitation with this id and what its preview shows (one statement).
pub fn find_previewed(conn: &mut DbConn, id: &str) -> QueryResult<Option<Previewed>> {
    Ok(previewed!(conn, i::id.eq(id), first))
}
