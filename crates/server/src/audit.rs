//! Audit events: who did what to which object, from where, with what outcome. Written in the
//! same transaction as the change they record; failures are written on their own.

use crate::client_ip::TrustedProxies;
use crate::state::AppState;
use crate::storage::models::AuditRow;
use crate::storage::{self, DbConn};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use invitegate_core::model::{ActorRef, AuditAction, Outcome};
use serde_json::Value;
use std::future::{Ready, ready};
use std::net::IpAddr;

/// Where a request came from: the client IP (from `X-Forwarded-For` only when the peer is a
/// trusted proxy) and its user agent (at most 512 characters).
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Client IP.
    pub ip: Option<IpAddr>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// The client IP, or 0.0.0.0 when unknown (rate limits need a key).
    pub fn ip_or_unspecified(&self) -> IpAddr {
        self.ip.unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }
}

/// The client address (see [`TrustedProxies::client_ip`]).
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    // Lossy, not skipped: a proxy appends the real client to the line the client sent, so a
    // line with one non-ASCII byte from the client must still be walked.
    let lines: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    Some(trusted.client_ip(peer, lines.iter().map(String::as_str)))
}

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.trusted_proxies.clone())
            .unwrap_or_default();
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        ready(Ok(Self {
            ip: client_ip(req, &trusted),
            user_agent,
        }))
    }
}

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
    pub fn write(self, conn: &mut DbConn, meta: &RequestMeta) -> diesel::QueryResult<()> {
        let row = AuditRow {
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
        };
        storage::audit::insert(conn, &row)?;
        crate::webhooks::enqueue_for(conn, &row)
    }
}
