//! Statements kept prepared on their connection.
//!
//! diesel's per-connection statement cache keys a query by its Rust type when the type fixes
//! the SQL, else by the SQL text; a query that says its type may stand for several texts is
//! prepared afresh each time. On PostgreSQL that is every UPDATE (a changeset may skip `None`
//! fields) and every `Insertable` INSERT whose `None` may become `DEFAULT`, and PostgreSQL then
//! parses and plans it on each execution: a registration's transaction cost the database
//! 1.4–1.75 ms of CPU so, 0.86–0.95 ms prepared (pgbench, docs/performance.md). The hot
//! statements avoid it two ways:
//! - the row types written on hot paths bind `None` as NULL
//!   (`treat_none_as_default_value = false`): one text per INSERT;
//! - an `UPDATE … RETURNING` (and the registration written in one statement) goes through
//!   [`Prepared`], keyed by its SQL text. Only a query that returns rows can: diesel hands a
//!   statement it executes on by reference, and a reference answers diesel's "may this be
//!   cached?" by walking the statement, which says no.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::LoadQuery;
use diesel::{QueryResult, RunQueryDsl};

/// A statement that returns rows, cached by its SQL text and bind types. Only for statements
/// whose text takes a few forms whatever the values (not multi-row ones, whose text grows
/// with the row count and every count would stay in the cache, unless the count is capped:
/// `registrations::insert_at_once` writes 16 at most).
pub(crate) struct Prepared<Q>(pub Q);

impl<Q> Prepared<Q> {
    /// The statement's one row (diesel's `get_result`) on `conn`: a [`DbConn`](super::DbConn),
    /// or one backend's connection for a statement only it speaks. `NotFound` when it returns
    /// none.
    pub fn get_result<'query, U, C>(self, conn: &mut C) -> QueryResult<U>
    where
        Cached<Q>: LoadQuery<'query, C, U>,
    {
        RunQueryDsl::get_result(Cached(self.0), conn)
    }
}

/// What [`Prepared`] hands diesel: no `execute` on it (see the module's documentation).
pub(crate) struct Cached<Q>(Q);

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    /// The cache key is the SQL text (no static query id below), so a text that differs with
    /// the values is a different entry, never a wrong one.
    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Cached<Q> {}
