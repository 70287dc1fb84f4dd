//! Queries on `audit_events`.

use super::DbConn;
use super::models::*;
use super::schema::audit_events::dsl as a;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `audit_events`.
#[derive(Debug, Clone, Queryable, Insertable)]
// `None` binds NULL (no column here has another default): one INSERT text, kept prepared.
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub action: String,
    // Text, not enums: the log must still read rows that another version wrote.
    pub outcome: String,
    pub actor_type: Option<String>,
    pub actor_id: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: String,
}

impl AuditRow {
    /// The API object.
    pub fn to_api(&self) -> api::AuditEvent {
        api::AuditEvent {
            id: self.id.clone(),
            occurred_at: utc(self.occurred_at),
            action: self.action.clone(),
            outcome: self.outcome.parse().unwrap_or(Outcome::Failure),
            actor: actor(
                self.actor_type.as_deref().and_then(|t| t.parse().ok()),
                self.actor_id.as_deref(),
            ),
            target: match (&self.target_type, &self.target_id) {
                (Some(k), Some(i)) => Some(TargetRef {
                    kind: k.clone(),
                    id: i.clone(),
                }),
                _ => None,
            },
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            details: serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// Filters of the audit log.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    /// Exact action, e.g. `login.failed`.
    pub action: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<invitegate_core::model::Outcome>,
    /// Actor id.
    pub actor_id: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// At or after.
    pub since: Option<NaiveDateTime>,
    /// Before.
    pub until: Option<NaiveDateTime>,
}

/// Appends an event.
pub fn insert(conn: &mut DbConn, row: &AuditRow) -> QueryResult<()> {
    diesel::insert_into(a::audit_events)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Appends two events in one statement. A fixed count keeps its SQL text fixed, so PostgreSQL
/// keeps it prepared (diesel prepares no insert of a slice of rows).
pub fn insert_two(conn: &mut DbConn, rows: &[AuditRow; 2]) -> QueryResult<()> {
    super::insert_rows!(conn, a::audit_events, rows).map(|_| ())
}

/// Inserts events (see [`super::insert_all`]).
pub fn insert_many(conn: &mut DbConn, rows: &[AuditRow]) -> QueryResult<()> {
    super::insert_all!(conn, a::audit_events, rows)
}

/// One page, newest first, `limit + 1` rows.
pub fn list(
    conn: &mut DbConn,
    f: &AuditFilter,
    limit: i64,
    cursor: Option<&str>,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = a::audit_events.into_boxed();
    if let Some(c) = cursor {
        q = q.filter(a::id.lt(c.to_string()));
    }
    if let Some(v) = &f.action {
        q = q.filter(a::action.eq(v.clone()));
    }
    if let Some(v) = f.outcome {
        q = q.filter(a::outcome.eq(v));
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(a::actor_id.eq(v.clone()));
    }
    if let Some(v) = &f.target_id {
        q = q.filter(a::target_id.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(a::occurred_at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(a::occurred_at.lt(v));
    }
    q.order(a::id.desc()).limit(limit + 1).load(conn)
}
