//! Organisations (teams, workspaces, customer accounts inside the host app) and memberships.

use super::*;
use crate::model::OrganizationRole;

/// An organisation as other objects name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b40-0000-7000-8000-0000000000ac", "name": "Acme", "slug": "acme"})))]
pub struct OrganizationRef {
    /// Organisation id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique URL-safe name: lower-case letters, digits and `-`.
    pub slug: String,
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b40-0000-7000-8000-0000000000ac", "name": "Acme", "slug": "acme", "created_at": "2026-11-25T09:30:00Z", "member_count": 12, "members_can_invite": true})))]
pub struct Organization {
    /// Organisation id.
    pub id: String,
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Unique URL-safe name: lower-case letters, digits and `-`, 2 to 63 characters.
    pub slug: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Members, owners and admins included.
    pub member_count: u64,
    /// Whether plain members may invite others (as `member`, from their quota).
    pub members_can_invite: bool,
}

/// A user as a member list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee"})))]
pub struct MemberUser {
    /// User id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Display name, if set.
    pub display_name: Option<String>,
}

/// A user's membership of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"organization": {"id": "01936b40-0000-7000-8000-0000000000ac", "name": "Acme", "slug": "acme"}, "user": {"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee"}, "role": "member", "joined_at": "2026-11-25T09:30:00Z", "invited_by": {"type": "user", "id": "01936b2e-0000-7000-8000-000000000001"}})))]
pub struct Membership {
    /// The organisation.
    pub organization: OrganizationRef,
    /// The member.
    pub user: MemberUser,
    /// Their role in it.
    pub role: OrganizationRole,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// Who invited them, when they joined by invitation.
    pub invited_by: Option<ActorRef>,
}

/// `POST /api/v1/organizations` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Acme", "slug": "acme", "members_can_invite": true})))]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    /// Display name, 1 to 100 characters.
    pub name: String,
    /// Unique URL-safe name; default derived from `name`.
    #[serde(default)]
    pub slug: Option<String>,
    /// Whether plain members may invite others (default true).
    #[serde(default)]
    pub members_can_invite: Option<bool>,
}

/// `PATCH /api/v1/organizations/{id}` body: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Acme Corp"})))]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether plain members may invite others.
    #[serde(default)]
    pub members_can_invite: Option<bool>,
}

/// `PATCH /api/v1/organizations/{id}/members/{user_id}` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"role": "admin"})))]
#[serde(deny_unknown_fields)]
pub struct UpdateMembershipRequest {
    /// The new role.
    pub role: OrganizationRole,
}

/// Query of `GET /api/v1/organizations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct OrganizationListQuery {
    /// Name or slug contains this text (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Query of `GET /api/v1/organizations/{id}/members`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct MemberListQuery {
    /// Page size, 1 to 500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `POST /api/v1/invitations/accept` body: accept, signed in, an organisation invitation by
/// its id (one listed by `GET /api/v1/me/invitations`), by the token of its link, or by the
/// token of a proof-of-ownership link. Exactly one of the three.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"invitation_id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f"})))]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The invitation's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<String>,
    /// The token of the invitation's link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The token of an `/accept-invitation` link: the proof, emailed to the invited address,
    /// that the signed-in account's holder owns it (seed 003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_token: Option<String>,
}

/// An email domain of an organisation and what it does for accounts at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"domain": "acme.example", "policy": "suggest", "created_at": "2026-11-25T09:30:00Z"})))]
pub struct OrganizationDomain {
    /// The domain, lower-case (`acme.example`); at most one organisation has it.
    pub domain: String,
    /// What it does: `invite_only`, `suggest` or `auto_join`.
    pub policy: crate::model::DomainPolicy,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/organizations/{id}/domains` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"domain": "acme.example", "policy": "suggest"})))]
#[serde(deny_unknown_fields)]
pub struct AddDomainRequest {
    /// A domain name (`acme.example`); public mail domains (gmail.com, outlook.com, ...) are
    /// refused with `public_email_domain`.
    pub domain: String,
    /// What it does for accounts at it.
    pub policy: crate::model::DomainPolicy,
}

/// A signed-in account's request to join an organisation whose `suggest` domain matches its
/// verified email; an owner or admin of the organisation approves or rejects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b41-0000-7000-8000-0000000000aa", "state": "pending", "organization": {"id": "01936b40-0000-7000-8000-0000000000ac", "name": "Acme", "slug": "acme"}, "user": {"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@acme.example", "display_name": "Ann Lee"}, "created_at": "2026-11-25T09:30:00Z", "decided_at": null})))]
pub struct JoinRequest {
    /// Request id.
    pub id: String,
    /// `pending`, `approved` or `rejected`.
    pub state: crate::model::JoinRequestState,
    /// The organisation asked to join.
    pub organization: OrganizationRef,
    /// Who asked.
    pub user: MemberUser,
    /// When they asked.
    pub created_at: DateTime<Utc>,
    /// When an owner or admin decided, if they did.
    pub decided_at: Option<DateTime<Utc>>,
}
