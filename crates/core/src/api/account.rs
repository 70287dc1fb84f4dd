//! Sign-up, email verification, sign-in, password resets and the signed-in account.

use super::*;

/// `GET /api/v1/signup-policy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"mode": "invite_only", "password_min_length": 8, "password_max_length": 64, "product_name": "Invitegate"})))]
pub struct SignupPolicy {
    /// Current sign-up mode.
    pub mode: SignupMode,
    /// Fewest characters (Unicode code points after NFKC) a password may have.
    pub password_min_length: u32,
    /// Most characters a password may have.
    pub password_max_length: u32,
    /// The product name people see (configuration `product_name`).
    #[serde(default)]
    pub product_name: String,
}

/// `POST /api/v1/email-verifications/confirm` body: the emailed token and the password chosen
/// on the verification page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"token": "k202611251234.Rk9yZ2VkIGV4YW1wbGU.c2lnbmF0dXJlLWV4YW1wbGU", "password": "correct horse battery staple", "display_name": "Ann Lee"})))]
pub struct ConfirmEmailRequest {
    /// The token from the link's fragment.
    pub token: String,
    /// The new account's password, per the sign-up policy (422 `password`: `required` when
    /// absent; nothing is created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Name shown to others (at most 100 characters); replaces one given at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `POST /api/v1/register` body (the seed's `CreateUser` schema, plus a display name).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "ann@example.com", "password": "correct horse battery staple", "invite_token": "k202611251234.Rk9yZ2VkIGV4YW1wbGU.c2lnbmF0dXJlLWV4YW1wbGU", "display_name": "Ann Lee"})))]
pub struct RegisterRequest {
    /// Email address of the new account.
    pub email: String,
    /// Password per the sign-up policy. Required (422 `password`: `required`) when the
    /// invitation proves the email (email-bound or the owner invitation, answered 201); in
    /// every 202 case it is ignored and never stored: the password is chosen after the email
    /// is verified (`POST /email-verifications/confirm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Invitation token; required in `invite_only` mode unless the email is allowlisted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_token: Option<String>,
    /// Name shown to others (at most 100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// An account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee", "role": "member", "created_at": "2026-11-25T09:30:00Z", "invited_by": {"type": "user", "id": "01936b2e-0000-7000-8000-000000000001"}, "invitation_id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "disabled_at": null})))]
pub struct User {
    /// User id.
    pub id: String,
    /// Normalised email address.
    pub email: String,
    /// Display name, if set.
    pub display_name: Option<String>,
    /// Role.
    pub role: Role,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Who invited this user (the inviter of the redeemed invitation).
    pub invited_by: Option<ActorRef>,
    /// The invitation redeemed to create this account.
    pub invitation_id: Option<String>,
    /// When the account was disabled, if it is.
    #[serde(default)]
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A signed-in session: 201 on registration, 200 on login and refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"user": {"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee", "role": "member", "created_at": "2026-11-25T09:30:00Z", "invited_by": {"type": "user", "id": "01936b2e-0000-7000-8000-000000000001"}, "invitation_id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "disabled_at": null}, "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl", "token_type": "Bearer", "expires_in": 900})))]
pub struct SessionResponse {
    /// The signed-in user.
    pub user: User,
    /// Short-lived JWT access token (HS256) for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// `POST /api/v1/auth/login` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "ann@example.com", "password": "correct horse battery staple"})))]
pub struct LoginRequest {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// How many invitations the caller may still issue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"limit": 5, "used": 2, "remaining": 3})))]
pub struct InviteQuota {
    /// `max_invites_per_user` for members; null (unlimited) for admins.
    pub limit: Option<u32>,
    /// Invitations issued that count: pending and accepted.
    pub used: u32,
    /// `limit - used`, or null when unlimited.
    pub remaining: Option<u32>,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"user": {"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee", "role": "member", "created_at": "2026-11-25T09:30:00Z", "invited_by": {"type": "user", "id": "01936b2e-0000-7000-8000-000000000001"}, "invitation_id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "disabled_at": null}, "invite_quota": {"limit": 5, "used": 2, "remaining": 3}, "memberships": [{"organization": {"id": "01936b40-0000-7000-8000-0000000000ac", "name": "Acme", "slug": "acme"}, "user": {"id": "01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01", "email": "ann@example.com", "display_name": "Ann Lee"}, "role": "member", "joined_at": "2026-11-25T09:30:00Z", "invited_by": null}]})))]
pub struct MeResponse {
    /// The signed-in user.
    pub user: User,
    /// Their invitation quota.
    pub invite_quota: InviteQuota,
    /// The organisations they belong to, with their role in each (not in the access token,
    /// which stays small).
    #[serde(default)]
    pub memberships: Vec<Membership>,
}

/// `POST /api/v1/password-resets` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "ann@example.com"})))]
pub struct PasswordResetRequest {
    /// The account's email address.
    pub email: String,
}

/// `POST /api/v1/password-resets/confirm` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"token": "k202611251234.Rk9yZ2VkIGV4YW1wbGU.c2lnbmF0dXJlLWV4YW1wbGU", "password": "a new long passphrase"})))]
pub struct PasswordResetConfirm {
    /// The token from the reset link's fragment.
    pub token: String,
    /// The new password, per the sign-up policy.
    pub password: String,
}

/// `POST /api/v1/email-verifications/resend` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "ann@example.com"})))]
pub struct ResendVerificationRequest {
    /// The address that registered.
    pub email: String,
}
