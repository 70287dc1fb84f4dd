//! Registrations with invitations written in one statement on PostgreSQL.
//!
//! The transaction the registration service runs (take the use, insert the user, its two audit
//! events and its session) is eight round trips there: `BEGIN`, six statements, `COMMIT`. Each
//! costs the database a wake-up and the server a send and a receive while the hashing threads
//! wait for the cores, and it shows: hashing held 87–89 % of the machine while registrations
//! ran, against the 94 % the argon2 ceiling needs (docs/performance.md). When nothing else
//! joins in (no organisation, no domain that would add a membership, no webhook endpoint to
//! notify), the same rows of several registrations (each with its own invitation) go in one
//! statement of data-modifying CTEs, a transaction of its own:
//!
//! ```sql
//! WITH inv AS (UPDATE invitations SET <redemption>
//!              WHERE id = ANY(<ids>) AND <redeemable> AND <nothing joins in> RETURNING id),
//!      u AS (INSERT INTO users (…) SELECT … FROM inv WHERE inv.id = <its invitation>
//!            UNION ALL … RETURNING id),
//!      a AS (INSERT INTO audit_events (…) SELECT … FROM u WHERE u.id = <its user> UNION ALL …),
//!      s AS (INSERT INTO sessions (…) SELECT … FROM u WHERE u.id = <its user> UNION ALL …)
//! SELECT ARRAY(SELECT id FROM inv), EXISTS (SELECT 1 FROM webhook_endpoints WHERE …)
//! ```
//!
//! Every insert reads the row the update returned, so a refused use writes nothing of its
//! registration, and a unique violation (an address that has an account) fails the whole
//! statement as it fails the transaction. The rows are the same [`Insertable`] values the
//! transaction inserts.

use super::DbConn;
use super::audit::AuditRow;
use super::invitations::{redeemable, redemption};
use super::prepared::Prepared;
use super::schema::{
    audit_events, organization_domains as d, sessions, users, webhook_endpoints as w,
};
use super::sessions::SessionRow;
use super::users::UserRow;
use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::insertable::InsertValues;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Text};
use invitegate_core::model::DomainPolicy;

/// What a registration with an invitation writes: the use of invitation `invitation_id` taken
/// at `now`, the user (whose address is at `email_domain`), its two audit events (the
/// redemption, then the new account) and its session.
pub struct InvitedAccount<'a> {
    /// The invitation whose use is taken.
    pub invitation_id: &'a str,
    /// When (UTC).
    pub now: NaiveDateTime,
    /// The domain of the user's address, whose `auto_join` policy would add a membership.
    pub email_domain: &'a str,
    /// The new user.
    pub user: &'a UserRow,
    /// `invitation.redeemed`, then `registration.succeeded`.
    pub events: &'a [AuditRow; 2],
    /// The user's first session.
    pub session: &'a SessionRow,
}

/// What [`insert_at_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtOnce {
    /// The invitations whose accounts were written, in no order; the others wrote nothing.
    pub written: Vec<String>,
    /// Whether a webhook endpoint exists: then nothing was written, and every registration
    /// will be refused until none does.
    pub webhooks: bool,
}

/// Registrations written in one statement at most; the statement's text differs with the
/// count, and each count stays prepared on the connection.
pub const MAX_AT_ONCE: usize = 16;

/// Writes `accounts` (at most [`MAX_AT_ONCE`], each with an invitation of its own, else
/// nothing is written) in one
/// statement when the backend has one for it (PostgreSQL) and nothing else joins in: for all
/// of them, no `auto_join` domain for any address and no webhook endpoint; for each, an
/// invitation outside any organisation that can still be used. An account that does not
/// apply writes nothing (its invitation may also have been used, expired or revoked
/// meanwhile); on SQLite nothing is written. Errors: a unique violation when an address has
/// an account (nothing written).
pub fn insert_at_once(conn: &mut DbConn, accounts: &[InvitedAccount<'_>]) -> QueryResult<AtOnce> {
    let refused = AtOnce {
        written: Vec::new(),
        webhooks: false,
    };
    let DbConn::Pg(pg) = conn else {
        return Ok(refused);
    };
    let Some(now) = accounts.iter().map(|a| a.now).max() else {
        return Ok(refused);
    };
    let ids: Vec<&str> = accounts.iter().map(|a| a.invitation_id).collect();
    // One UPDATE takes each invitation's use once, so a repeated one would make two accounts
    // of one use.
    let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
    if accounts.len() > MAX_AT_ONCE || distinct.len() != ids.len() {
        return Ok(refused);
    }
    let domains: Vec<&str> = accounts.iter().map(|a| a.email_domain).collect();
    let endpoints = || w::table.filter(w::deleted_at.is_null());
    let take_use = diesel::update(
        redeemable!(any ids, now)
            .filter(super::schema::invitations::organization_id.is_null())
            .filter(not(exists(
                d::table
                    .filter(d::domain.eq_any(domains))
                    .filter(d::policy.eq(DomainPolicy::AutoJoin)),
            )))
            .filter(not(exists(endpoints()))),
    )
    .set(redemption!(now))
    .returning(super::schema::invitations::id);
    let users = accounts
        .iter()
        .map(|a| (a.user.values().values, a.invitation_id))
        .collect();
    let events = accounts
        .iter()
        .flat_map(|a| {
            a.events
                .iter()
                .map(|e| (e.values().values, a.user.id.as_str()))
        })
        .collect();
    let sessions = accounts
        .iter()
        .map(|a| (a.session.values().values, a.user.id.as_str()))
        .collect();
    let statement = OneStatement {
        take_use,
        user: InsertSelect(users::table, users, "inv", Some("id")),
        events: InsertSelect(audit_events::table, events, "u", None),
        session: InsertSelect(sessions::table, sessions, "u", None),
        webhooks: diesel::select(exists(endpoints())),
    };
    let (written, webhooks): (Vec<String>, bool) = Prepared(statement).get_result(pg)?;
    Ok(AtOnce { written, webhooks })
}

/// The statement (see the module's documentation), which also says whether a webhook endpoint
/// exists.
struct OneStatement<'k, U, Uv, Ev, Sv, W> {
    take_use: U,
    user: InsertSelect<'k, users::table, Uv>,
    events: InsertSelect<'k, audit_events::table, Ev>,
    session: InsertSelect<'k, sessions::table, Sv>,
    webhooks: W,
}

impl<'k, U, Uv, Ev, Sv, W> QueryFragment<Pg> for OneStatement<'k, U, Uv, Ev, Sv, W>
where
    U: QueryFragment<Pg>,
    W: QueryFragment<Pg>,
    InsertSelect<'k, users::table, Uv>: QueryFragment<Pg>,
    InsertSelect<'k, audit_events::table, Ev>: QueryFragment<Pg>,
    InsertSelect<'k, sessions::table, Sv>: QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH inv AS (");
        self.take_use.walk_ast(out.reborrow())?;
        out.push_sql("), u AS (");
        self.user.walk_ast(out.reborrow())?;
        out.push_sql("), a AS (");
        self.events.walk_ast(out.reborrow())?;
        out.push_sql("), s AS (");
        self.session.walk_ast(out.reborrow())?;
        out.push_sql(") SELECT ARRAY(SELECT id FROM inv), (");
        self.webhooks.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<U, Uv, Ev, Sv, W> QueryId for OneStatement<'_, U, Uv, Ev, Sv, W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<U, Uv, Ev, Sv, W> Query for OneStatement<'_, U, Uv, Ev, Sv, W> {
    type SqlType = (Array<Text>, Bool);
}

/// `INSERT INTO table (columns) SELECT values FROM source WHERE source.id = key [UNION ALL
/// SELECT values FROM source WHERE source.id = key …] [RETURNING column]`: each row once if
/// `source` has its key. `V` is what an [`Insertable`] row's values clause holds, its columns
/// and their binds; the row types must bind `None` as NULL (`treat_none_as_default_value =
/// false`, as all three do), since a `DEFAULT` cannot stand in a `SELECT`.
struct InsertSelect<'k, T, V>(T, Vec<(V, &'k str)>, &'static str, Option<&'static str>);

impl<T, V> QueryFragment<Pg> for InsertSelect<'_, T, V>
where
    T: Table + QueryFragment<Pg>,
    V: InsertValues<Pg, T>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let InsertSelect(table, rows, source, returning) = self;
        out.push_sql("INSERT INTO ");
        table.walk_ast(out.reborrow())?;
        for (n, (row, key)) in rows.iter().enumerate() {
            if n == 0 {
                out.push_sql(" (");
                row.column_names(out.reborrow())?;
                out.push_sql(") SELECT ");
            } else {
                out.push_sql(" UNION ALL SELECT ");
            }
            row.walk_ast(out.reborrow())?;
            out.push_sql(" FROM ");
            out.push_identifier(source)?;
            out.push_sql(" WHERE ");
            out.push_identifier(source)?;
            out.push_sql(".id = ");
            out.push_bind_param::<Text, _>(key)?;
        }
        if let Some(column) = returning {
            out.push_sql(" RETURNING ");
            out.push_identifier(column)?;
        }
        Ok(())
    }
}
