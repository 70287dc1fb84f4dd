//! Account lifecycle: what an administrator changes on an account, and what a signed-in
//! person does with their own (password, sessions, export, deletion).

use super::*;

/// `PATCH /api/v1/users/{id}` body: only the fields present change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"role": "admin", "display_name": "Ann Lee"})))]
pub struct UpdateUserRequest {
    /// The new role. Demoting the last active administrator is 409 `last_admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The new display name (at most 100 characters; empty clears it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `POST /api/v1/me/password` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"current_password": "correct horse battery staple", "new_password": "a new long passphrase"})))]
pub struct ChangePasswordRequest {
    /// The password in use now (401 `invalid_credentials` when wrong).
    pub current_password: String,
    /// The new password, per the sign-up policy (422 `new_password` with its codes).
    pub new_password: String,
}

/// `DELETE /api/v1/me` body: the password again, so a borrowed session cannot erase the account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"password": "correct horse battery staple"})))]
pub struct DeleteAccountRequest {
    /// The account's password (401 `invalid_credentials` when wrong).
    pub password: String,
}

/// One of the caller's live sessions (`GET /api/v1/me/sessions`), newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b2e-9000-7000-8000-000000000042", "created_at": "2026-11-25T09:30:00Z", "last_used_at": "2026-11-25T10:02:11Z", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "current": true})))]
pub struct SessionInfo {
    /// Session id (ends it with `DELETE /api/v1/me/sessions/{id}`).
    pub id: String,
    /// When it signed in.
    pub created_at: DateTime<Utc>,
    /// When its refresh token was last used (sign-in time until then).
    pub last_used_at: DateTime<Utc>,
    /// The client address it signed in from, if known.
    pub ip: Option<String>,
    /// The browser's `User-Agent` at sign-in (at most 512 characters), if sent.
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// `GET /api/v1/me/export`: everything Invitegate holds about the caller, as a download (GDPR
/// art. 15 right of access, art. 20 portability).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"exported_at": "2026-12-05T10:00:00Z", "user": {"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee", "role": "member", "created_at": "2026-11-25T09:30:00Z", "invited_by": {"type": "user", "id": "01936b2e-0000-7000-8000-000000000001"}, "invitation_id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "disabled_at": null}, "memberships": [], "sessions": [{"id": "01936b2e-9000-7000-8000-000000000042", "created_at": "2026-11-25T09:30:00Z", "last_used_at": "2026-11-25T10:02:11Z", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "current": false}], "invitations_sent": [], "invitations_received": [], "audit_events": [{"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f02", "occurred_at": "2026-11-25T09:30:00Z", "action": "registration.succeeded", "outcome": "success", "actor": {"type": "user", "id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01"}, "target": {"type": "user", "id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01"}, "ip": "203.0.113.7", "user_agent": null, "details": {"basis": "invitation"}}]})))]
pub struct AccountExport {
    /// When the export was made.
    pub exported_at: DateTime<Utc>,
    /// The account.
    pub user: User,
    /// Its organisation memberships.
    pub memberships: Vec<Membership>,
    /// Its live and ended sessions (`current` is false in an export).
    pub sessions: Vec<SessionInfo>,
    /// Invitations it sent (without tokens: they are never stored).
    pub invitations_sent: Vec<Invitation>,
    /// Invitations addressed to its email, and the one it registered with.
    pub invitations_received: Vec<Invitation>,
    /// Audit events it acted in or that are about it, newest first (at most 10,000).
    pub audit_events: Vec<AuditEvent>,
}

/// Most accounts an invite tree shows; a larger branch is cut off (`truncated`).
pub const INVITE_TREE_MAX: usize = 500;

/// One account of an invite tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InviteTreeNode {
    /// The account.
    pub user: MemberUser,
    /// The account whose invitation it registered with; null for the tree's root.
    pub parent_id: Option<String>,
    /// Steps from the root: 0 for the root, 1 for those it invited, and so on.
    pub depth: u32,
    /// `member` or `admin`.
    pub role: Role,
    /// When it registered.
    pub created_at: DateTime<Utc>,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Its invitations still pending (not used up, revoked or expired).
    pub pending_invitations: u64,
}

/// `GET /api/v1/users/{id}/invite-tree`: who the account invited, who they invited, and so on,
/// as a flat list in depth-first order (each account followed by those it brought in, oldest
/// first), so a deep branch stays a shallow document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"nodes": [{"user": {"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee"}, "parent_id": null, "depth": 0, "role": "member", "created_at": "2026-11-25T09:30:00Z", "disabled": false, "pending_invitations": 1}], "truncated": false})))]
pub struct InviteTree {
    /// The root first, then the branch in depth-first order.
    pub nodes: Vec<InviteTreeNode>,
    /// Whether the branch holds more than the 500 accounts shown (the nearest levels are).
    pub truncated: bool,
}

/// `POST /api/v1/users/{id}/invite-tree/revoke`: what revoking a branch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"accounts_disabled": 3, "invitations_revoked": 5})))]
pub struct InviteTreeRevoked {
    /// Accounts disabled (those already disabled are not counted).
    pub accounts_disabled: u64,
    /// Invitations revoked (neither used up nor already revoked), of those accounts and of
    /// the API keys they made.
    pub invitations_revoked: u64,
}
