//! The row of `invitations` and what it says: its state at a given time, its role and inviter,
//! its API object.

use crate::storage::models::*;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use invitegate_core::model::InvitationState;

/// A row of `invitations`. `None` binds NULL, so a set of rows is one statement on SQLite and
/// one `COPY` on PostgreSQL ([`crate::storage::insert_all`]); a nullable column given a
/// DEFAULT would need its value here, as no `None` takes it.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = invitations, treat_none_as_default_value = false)]
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
    /// The organisation it invites into.
    pub organization_id: Option<String>,
    /// The role in that organisation.
    pub organization_role: Option<invitegate_core::model::OrganizationRole>,
    /// When the invitee declined it (it is then revoked too).
    pub declined_at: Option<NaiveDateTime>,
    /// The app (OAuth `client_id`) the invitee continues to after registering.
    pub client_id: Option<String>,
    /// When its email was accepted by the mail server (or written to a file).
    pub delivered_at: Option<NaiveDateTime>,
    /// When it was first opened (verified successfully).
    pub opened_at: Option<NaiveDateTime>,
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
    /// The state at time `now`: declined, revoked, accepted (uses == max_uses), expired, or
    /// pending.
    pub fn state(&self, now: NaiveDateTime) -> InvitationState {
        if self.declined_at.is_some() {
            InvitationState::Declined
        } else if self.revoked_at.is_some() {
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

    /// The API object as seen at `now`, naming `org` (its organisation, loaded by the caller:
    /// [`organization_of`]).
    pub fn to_api_in(
        &self,
        now: NaiveDateTime,
        org: Option<&crate::storage::organizations::OrganizationRow>,
    ) -> api::Invitation {
        api::Invitation {
            organization: org.map(|o| o.to_ref()),
            ..self.to_api(now)
        }
    }

    /// The API object as seen at `now`, without its organisation's name (see [`Self::to_api_in`]).
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
            organization: None,
            organization_role: self.organization_role,
        }
    }
}
