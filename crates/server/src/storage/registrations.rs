//! A registration with an invitation written in one statement on PostgreSQL.
//!
//! The transaction the registration service runs (take the use, insert the user, its two audit
//! events and its session) is eight round trips there: `BEGIN`, six statements, `COMMIT`. Each
//! costs the database a wake-up and the server a send and a receive while the hashing threads
//! wait for the cores, and it shows: hashing held 87–89 % of the machine while registrations
//! ran, against the 94 % the argon2 ceiling needs (docs/performance.md). When nothing else
//! joins in (no organisation, no domain that would add a membership, no webhook endpoint to
//! notify), the same rows go in one statement of data-modifying CTEs, a transaction of its own:
//!
//! ```sql
//! WITH inv AS (UPDATE invitations SET <redemption>
//!              WHERE <redeemable> AND <nothing joins in> RETURNING id),
//!      u AS (INSERT INTO users (…) SELECT … FROM inv RETURNING id),
//!      a AS (INSERT INTO audit_events (…) SELECT … FROM u UNION ALL SELECT … FROM u),
//!      s AS (INSERT INTO sessions (…) SELECT … FROM u)
//! SELECT (SELECT COUNT(*) FROM u), EXISTS (SELECT 1 FROM webhook_endpoints WHERE …)
//! ```
//!
//! Every insert reads the row the update returned, so a refused use writes nothing, and the
//! user's unique address fails the whole statement as it fails the transaction. The rows are
//! the same [`Insertable`] values the transaction inserts.

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
use diesel::sql_types::{BigInt, Bool};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtOnce {
    /// The rows are in.
    Written,
    /// Nothing was written and the caller's transaction decides; `webhooks`: a webhook
    /// endpoint exists, so every registration will be refused until none does.
    Refused { webhooks: bool },
}

/// Writes `account` in one statement when the backend has one for it (PostgreSQL) and nothing
/// else joins in: an invitation outside any organisation, no `auto_join` domain for the
/// address, no webhook endpoint. When refused
/// (the invitation may also have been used, expired or revoked meanwhile) it writes nothing.
/// Errors: a unique violation when the address has an account (nothing written).
pub fn insert_at_once(conn: &mut DbConn, account: &InvitedAccount<'_>) -> QueryResult<AtOnce> {
    let DbConn::Pg(pg) = conn else {
        return Ok(AtOnce::Refused { webhooks: false });
    };
    let now = account.now;
    let endpoints = || w::table.filter(w::deleted_at.is_null());
    let take_use = diesel::update(
        redeemable!(account.invitation_id, now)
            .filter(super::schema::invitations::organization_id.is_null())
            .filter(not(exists(
                d::table
                    .filter(d::domain.eq(account.email_domain))
                    .filter(d::policy.eq(DomainPolicy::AutoJoin)),
            )))
            .filter(not(exists(endpoints()))),
    )
    .set(redemption!(now))
    .returning(super::schema::invitations::id);
    let [redeemed, succeeded] = account.events;
    let statement = OneStatement {
        take_use,
        user: InsertSelect(
            users::table,
            vec![account.user.values().values],
            "inv",
            Some("id"),
        ),
        events: InsertSelect(
            audit_events::table,
            vec![redeemed.values().values, succeeded.values().values],
            "u",
            None,
        ),
        session: InsertSelect(
            sessions::table,
            vec![account.session.values().values],
            "u",
            None,
        ),
        webhooks: diesel::select(exists(endpoints())),
    };
    let (written, webhooks): (i64, bool) = Prepared(statement).get_result(pg)?;
    Ok(match written {
        1 => AtOnce::Written,
        _ => AtOnce::Refused { webhooks },
    })
}

/// The statement (see the module's documentation), which also says whether a webhook endpoint
/// exists.
struct OneStatement<U, Uv, Ev, Sv, W> {
    take_use: U,
    user: InsertSelect<users::table, Uv>,
    events: InsertSelect<audit_events::table, Ev>,
    session: InsertSelect<sessions::table, Sv>,
    webhooks: W,
}

impl<U, Uv, Ev, Sv, W> QueryFragment<Pg> for OneStatement<U, Uv, Ev, Sv, W>
where
    U: QueryFragment<Pg>,
    W: QueryFragment<Pg>,
    InsertSelect<users::table, Uv>: QueryFragment<Pg>,
    InsertSelect<audit_events::table, Ev>: QueryFragment<Pg>,
    InsertSelect<sessions::table, Sv>: QueryFragment<Pg>,
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
        out.push_sql(") SELECT (SELECT COUNT(*) FROM u), (");
        self.webhooks.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

impl<U, Uv, Ev, Sv, W> QueryId for OneStatement<U, Uv, Ev, Sv, W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<U, Uv, Ev, Sv, W> Query for OneStatement<U, Uv, Ev, Sv, W> {
    type SqlType = (BigInt, Bool);
}

/// `INSERT INTO table (columns) SELECT values FROM source [UNION ALL SELECT values FROM
/// source …] [RETURNING column]`: each row once per row of `source`. `V` is what an
/// [`Insertable`] row's values clause holds, its columns and their binds; the row types must
/// bind `None` as NULL (`treat_none_as_default_value = false`, as all three do), since a
/// `DEFAULT` cannot stand in a `SELECT`.
struct InsertSelect<T, V>(T, Vec<V>, &'static str, Option<&'static str>);

impl<T, V> QueryFragment<Pg> for InsertSelect<T, V>
where
    T: Table + QueryFragment<Pg>,
    V: InsertValues<Pg, T>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let InsertSelect(table, rows, source, returning) = self;
        out.push_sql("INSERT INTO ");
        table.walk_ast(out.reborrow())?;
        for (n, row) in rows.iter().enumerate() {
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
        }
        if let Some(column) = returning {
            out.push_sql(" RETURNING ");
            out.push_identifier(column)?;
        }
        Ok(())
    }
}
