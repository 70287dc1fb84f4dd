//! Sign-up, email verification, sign-in, password resets and the signed-in account.

use super::*;

/// `GET /api/v1/signup-policy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
pub struct LoginRequest {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// How many invitations the caller may still issue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
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
pub struct MeResponse {
    /// The signed-in user.
    pub user: User,
    /// Their invitation quota.
    pub invite_quota: InviteQuota,
}

/// `POST /api/v1/password-resets` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The account's email address.
    pub email: String,
}

/// `POST /api/v1/password-resets/confirm` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
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
pub struct ResendVerificationRequest {
    /// The address that registered.
    pub email: String,
}
