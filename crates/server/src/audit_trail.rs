//! The audit trail's writer. Audit events: who did what to which object, from where, with what outcome. Written in the
//! same transaction as the change they record; failures are written on their own.

use crate::http::RequestMeta;
use crate::storage::models::AuditRow;
use crate::storage::{self, DbConn};
use invitegate_core::model::{ActorRef, AuditAction, Outcome};
use serde_json::Value;

/// An audit event about to be written.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// What happened.
    pub action: AuditAction,
    /// Whether it worked.
    pub outcome: Outcome,
    /// Who did it.
    pub actor: Option<ActorRef>,
    /// What it was done to: `(kind, id)`.
    pub target: Option<(String, String)>,
    /// Details; never a token, password or key.
    pub details: Value,
}

impl AuditEntry {
    /// A successful action.
    pub fn success(action: AuditAction) -> Self {
        Self {
            action,
            outcome: Outcome::Success,
            actor: None,
            target: None,
            details: Value::Object(Default::default()),
        }
    }

    /// A failed action.
    pub fn failure(action: AuditAction) -> Self {
        Self {
            outcome: Outcome::Failure,
            ..Self::success(action)
        }
    }

    /// Sets the actor.
    pub fn actor(mut self, actor: Option<ActorRef>) -> Self {
        self.actor = actor;
        self
    }

    /// Sets the target.
    pub fn target(mut self, kind: &str, id: impl Into<String>) -> Self {
        self.target = Some((kind.to_string(), id.into()));
        self
    }

    /// Sets the details object.
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// Writes the event on `conn` (inside the caller's transaction when there is one).
    pub fn write(self, conn: &mut DbConn, meta: &RequestMeta) -> crate::storage::DbResult<()> {
        write_row(conn, &self.into_row(meta))
    }

    /// The row to store, stamped now.
    pub fn into_row(self, meta: &RequestMeta) -> AuditRow {
        AuditRow {
            id: storage::new_id(),
            occurred_at: storage::now(),
            action: self.action.as_str().to_string(),
            outcome: self.outcome.as_str().to_string(),
            actor_type: self.actor.as_ref().map(|a| a.kind.as_str().to_string()),
            actor_id: self.actor.as_ref().map(|a| a.id.clone()),
            target_type: self.target.as_ref().map(|t| t.0.clone()),
            target_id: self.target.map(|t| t.1),
            ip: meta.ip.map(|ip| ip.to_string()),
            user_agent: meta.user_agent.clone(),
            details: self.details.to_string(),
        }
    }
}

/// Writes an event stamped earlier ([`AuditEntry::into_row`]) on `conn` and queues its
/// webhooks, inside the caller's transaction when there is one.
pub fn write_row(conn: &mut DbConn, row: &AuditRow) -> crate::storage::DbResult<()> {
    storage::audit::insert(conn, row)?;
    storage::webhooks::enqueue_for(conn, row)
}
