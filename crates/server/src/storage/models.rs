//! Row types and their conversion to API objects.

use super::schema::*;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use invitegate_core::api;
use invitegate_core::model::{
    ActorRef, ActorType, InvitationState, OutboxStatus, Outcome, RegistrationBasis, Role, Scope,
    TargetRef,
};

/// `NaiveDateTime` (stored UTC) → `DateTime<Utc>`.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn actor(kind: Option<ActorType>, id: Option<&str>) -> Option<ActorRef> {
    Some(ActorRef {
        kind: kind?,
        id: id?.to_string(),
    })
}

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    pub invited_by_type: Option<ActorType>,
    pub invited_by_id: Option<String>,
    pub invitation_id: Option<String>,
    pub invitation_serial: i64,
}

impl UserRow {
    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The API object.
    pub fn to_api(&self) -> api::User {
        api::User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
            created_at: utc(self.created_at),
            invited_by: actor(self.invited_by_type, self.invited_by_id.as_deref()),
            invitation_id: self.invitation_id.clone(),
            disabled_at: self.disabled_at.map(utc),
        }
    }

    /// A name to show others: the display name, else the email.
    pub fn shown_name(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| self.email.clone())
    }
}

/// A row of `invitations`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub token_hash: String,
    pub email: Option<String>,
    pub pending_email: Option<String>,
    pub email_domain: Option<String>,
    pub role: Role,
    pub max_uses: i32,
    pub uses: i32,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub inviter_type: ActorType,
    pub inviter_id: String,
    pub note: Option<String>,
    pub bootstrap: bool,
    pub reminded_at: Option<NaiveDateTime>,
    pub expired_at: Option<NaiveDateTime>,
    /// Redeeming it proves the address by email first: its token went to an inviter (a
    /// member) who must not choose the invitee's password.
    pub email_proof_required: bool,
}

impl InvitationRow {
    /// Whether registering with it creates the account at once (201): it is the owner
    /// invitation, or email-bound and its token reached only the invitee's mailbox or a trusted
    /// inviter. Otherwise the address is proven by email first, and the password chosen then.
    pub fn signs_in_at_once(&self) -> bool {
        self.bootstrap || (self.email.is_some() && !self.email_proof_required)
    }
}

impl InvitationRow {
    /// The state at time `now`: revoked, accepted (uses == max_uses), expired, or pending.
    pub fn state(&self, now: NaiveDateTime) -> InvitationState {
        if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.uses >= self.max_uses {
            InvitationState::Accepted
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }

    /// The role granted on acceptance.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The inviter reference.
    pub fn inviter(&self) -> ActorRef {
        ActorRef {
            kind: self.inviter_type,
            id: self.inviter_id.clone(),
        }
    }

    /// The API object as seen at `now`.
    pub fn to_api(&self, now: NaiveDateTime) -> api::Invitation {
        api::Invitation {
            id: self.id.clone(),
            email: self.email.clone(),
            email_domain: self.email_domain.clone(),
            state: self.state(now),
            role: self.role(),
            max_uses: self.max_uses,
            uses: self.uses,
            expires_at: utc(self.expires_at),
            created_at: utc(self.created_at),
            accepted_at: self.accepted_at.map(utc),
            revoked_at: self.revoked_at.map(utc),
            inviter: self.inviter(),
            inviter_name: None,
            note: self.note.clone(),
        }
    }
}

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub refresh_token_hash: String,
    pub previous_refresh_token_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A row of `email_verifications`: a registration waiting for its email to be proven.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = email_verifications)]
pub struct VerificationRow {
    pub id: String,
    pub token_hash: String,
    pub email: String,
    pub display_name: Option<String>,
    pub invitation_id: Option<String>,
    pub basis: RegistrationBasis,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

/// A row of `api_keys`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    /// Scopes, parsed from the space-separated column.
    pub fn scopes(&self) -> Vec<Scope> {
        self.scopes
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// The API object (no secret).
    pub fn to_api(&self) -> api::ApiKey {
        api::ApiKey {
            id: self.id.clone(),
            name: self.name.clone(),
            scopes: self.scopes(),
            prefix: self.prefix.clone(),
            created_at: utc(self.created_at),
            last_used_at: self.last_used_at.map(utc),
            revoked_at: self.revoked_at.map(utc),
        }
    }
}

/// A row of `audit_events`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub action: String,
    pub outcome: Outcome,
    pub actor_type: Option<ActorType>,
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
            outcome: self.outcome,
            actor: actor(self.actor_type, self.actor_id.as_deref()),
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

/// A row of `outbox`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub endpoint_id: Option<String>,
    pub response_status: Option<i32>,
}

/// A row of `password_resets`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = password_resets)]
pub struct PasswordResetRow {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub consumed_at: Option<NaiveDateTime>,
}

/// A row of `webhook_endpoints`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct WebhookEndpointRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl WebhookEndpointRow {
    /// Whether this endpoint receives `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events
            .split_whitespace()
            .any(|e| e == "*" || e == event)
    }

    /// The API object (no secret).
    pub fn to_api(&self) -> api::WebhookEndpoint {
        api::WebhookEndpoint {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.split_whitespace().map(String::from).collect(),
            created_at: utc(self.created_at),
        }
    }
}

impl OutboxRow {
    /// The queue item as shown to administrators (no content).
    pub fn to_item(&self) -> api::OutboxItem {
        let payload = serde_json::from_str::<serde_json::Value>(&self.payload).unwrap_or_default();
        let (recipient, summary) = match self.kind.as_str() {
            "email" => (
                payload["to"].as_str().map(String::from),
                payload["subject"].as_str().map(String::from),
            ),
            _ => (
                self.endpoint_id.clone(),
                payload["type"].as_str().map(String::from),
            ),
        };
        api::OutboxItem {
            id: self.id.clone(),
            kind: self.kind.clone(),
            status: self.status,
            recipient,
            summary,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            next_attempt_at: (self.status == OutboxStatus::Pending)
                .then(|| utc(self.next_attempt_at)),
            created_at: utc(self.created_at),
            sent_at: self.sent_at.map(utc),
        }
    }

    /// A webhook delivery as shown to administrators.
    pub fn to_delivery(&self) -> api::WebhookDelivery {
        let event = serde_json::from_str::<serde_json::Value>(&self.payload)
            .ok()
            .and_then(|v| v["type"].as_str().map(String::from))
            .unwrap_or_default();
        api::WebhookDelivery {
            id: self.id.clone(),
            event,
            status: self.status,
            attempts: self.attempts,
            response_status: self.response_status,
            last_error: self.last_error.clone(),
            next_attempt_at: (self.status == OutboxStatus::Pending)
                .then(|| utc(self.next_attempt_at)),
            created_at: utc(self.created_at),
            delivered_at: self.sent_at.map(utc),
        }
    }
}
