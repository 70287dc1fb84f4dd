//! Statements kept prepared on their connection.
//!
//! diesel keys its per-connection statement cache by a query's Rust type, and prepares afresh
//! each time a statement whose type can stand for several SQL texts: every UPDATE (a
//! changeset may skip `None` fields) and every `Insertable` INSERT whose `None` may become
//! `DEFAULT`. PostgreSQL then parses and plans it on each execution: a registration's
//! transaction cost the database 1.4–1.75 ms of CPU so, 0.86–0.95 ms prepared (pgbench on
//! this machine, docs/performance.md). The hot statements avoid it two ways:
//! - the row types written on hot paths bind `None` as NULL
//!   (`treat_none_as_default_value = false`): one text per INSERT;
//! - an `UPDATE … RETURNING`, which diesel runs as a query, goes through [`Prepared`], keyed
//!   by its SQL text instead. (diesel hands a statement it only executes on by reference,
//!   which drops the override below: there the wrapper would change nothing.)

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `Q`, cached by its SQL text and bind types. Only for statements whose text takes a few
/// forms whatever the values (not multi-row inserts, whose text grows with the row count:
/// every count would stay in the cache).
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    /// The cache key is the SQL text (no static query id below), so a text that differs with
    /// the values is a different entry, never a wrong one.
    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}
