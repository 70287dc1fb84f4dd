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
/// its id (one listed by `GET /api/v1/me/invitations`) or by the token of its link. Exactly one
/// of the two.
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
}
