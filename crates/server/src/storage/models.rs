//! The row types, each defined next to its table's queries and gathered here, and their
//! conversion helpers.

pub use super::acceptance_proofs::AcceptanceProofRow;
pub use super::api_keys::ApiKeyRow;
pub use super::audit::AuditRow;
pub use super::invitations::InvitationRow;
pub use super::oauth::{OAuthClientRow, OAuthGrantRow};
pub use super::organization_domains::{DomainRow, JoinRequestRow};
pub use super::organizations::{MembershipRow, OrganizationRow};
pub use super::outbox::OutboxRow;
pub use super::password_resets::PasswordResetRow;
pub use super::redemptions::RedemptionRow;
pub use super::sessions::SessionRow;
pub use super::users::UserRow;
pub use super::verifications::VerificationRow;
pub use super::webhooks::WebhookEndpointRow;

pub(super) use super::schema::*;
pub(super) use chrono::{DateTime, NaiveDateTime, Utc};
pub(super) use invitegate_core::api;
pub(super) use invitegate_core::model::{
    ActorRef, ActorType, OutboxKind, Outcome, RegistrationBasis, Role, Scope, TargetRef,
};

/// `NaiveDateTime` (stored UTC) → `DateTime<Utc>`.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub(super) fn actor(kind: Option<ActorType>, id: Option<&str>) -> Option<ActorRef> {
    Some(ActorRef {
        kind: kind?,
        id: id?.to_string(),
    })
}
