//! Request and response bodies of HTTP API v1 (see `shared/api.md`). Times are RFC 3339 UTC.
//!
//! Requests refuse unknown fields, so a misspelt option (`expire_in_days`) is a 422-class
//! error instead of a silently ignored value.

use crate::model::{ActorRef, InvitationState, Outcome, Role, Scope, SignupMode, TargetRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Longest token accepted anywhere, in bytes; longer ones are refused before any work.
pub const MAX_TOKEN_LENGTH: usize = 512;
/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_LENGTH: usize = 100;
/// Longest invitation note, in characters.
pub const MAX_NOTE_LENGTH: usize = 1000;
/// Most items in one bulk creation request.
pub const MAX_BULK_ITEMS: usize = 10_000;
/// Default page size of list endpoints.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// Largest page size of list endpoints.
pub const MAX_PAGE_LIMIT: u32 = 500;
/// Longest `max_uses` of an invitation.
pub const MAX_INVITATION_USES: i32 = 100_000;
/// Longest expiry of an invitation, in days.
pub const MAX_EXPIRY_DAYS: i64 = 365;

/// RFC 9457 problem details with Invitegate's stable `code`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    /// A URI naming the problem type: `https://invitegate.dev/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary, constant per code.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Stable machine code (see `ErrorCode`).
    pub code: String,
    /// Human-readable explanation for this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// On 422: field name → list of field codes (`invalid`, `too_short`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// On 409 `invitation_pending`: the id of the pending invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<String>,
}

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

/// A body carrying one token: `{"token": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the link's fragment.
    pub token: String,
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

/// What an invitee may see about their invitation before redeeming it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitationPreview {
    /// Invitation id.
    pub id: String,
    /// The bound email address, if any (the registration form locks it).
    pub email: Option<String>,
    /// The bound email domain, if any.
    pub email_domain: Option<String>,
    /// Role granted on acceptance.
    pub role: Role,
    /// When the invitation stops working.
    pub expires_at: DateTime<Utc>,
    /// Who invited: a user's display name or email, an API key's name, or the server.
    pub inviter_display_name: Option<String>,
    /// Whether registering with it first emails a confirmation link (domain and open
    /// invitations): the registration form then asks only for the email, and the password is
    /// chosen on the `/verify-email` page (security.md, pre-hijacking).
    #[serde(default)]
    pub email_verification_required: bool,
}

/// `POST /api/v1/invitations/verify` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerifyInvitationResponse {
    /// The invitation the token belongs to.
    pub invitation: InvitationPreview,
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

/// 202 body: the email must be verified before the account exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StatusResponse {
    /// `verification_pending` or `accepted`.
    pub status: String,
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

/// `POST /api/v1/invitations` body. Set `email` (single address, `max_uses` 1), or
/// `email_domain` (any address at that domain), or neither (an open link).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    /// Bind the invitation to this address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Bind the invitation to addresses at this domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_domain: Option<String>,
    /// Redemptions allowed, 1 to 100000; must be 1 (the default) for email-bound invitations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<i32>,
    /// Days until expiry, 1 to 365; default `invite_link_expiry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
    /// Role granted on acceptance (default `member`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Free text shown to the invitee (at most 1000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Email the link to the invitee (default true when `email` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_email: Option<bool>,
}

/// An invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Invitation {
    /// Invitation id.
    pub id: String,
    /// Bound address, if any.
    pub email: Option<String>,
    /// Bound domain, if any.
    pub email_domain: Option<String>,
    /// Current state, derived from uses, expiry and revocation.
    pub state: InvitationState,
    /// Role granted on acceptance.
    pub role: Role,
    /// Redemptions allowed.
    pub max_uses: i32,
    /// Redemptions so far.
    pub uses: i32,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the last allowed redemption happened.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who issued it.
    pub inviter: ActorRef,
    /// The inviter as people know them (a user's display name or email, an API key's name);
    /// filled in lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_name: Option<String>,
    /// Note for the invitee.
    pub note: Option<String>,
}

/// An invitation with its freshly minted token: only in create, bulk create and resend.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitationWithToken {
    /// The invitation.
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The raw token; never stored, never shown again.
    pub token: String,
    /// `{public_base_url}/invite#token=<token>`.
    pub url: String,
}

/// `POST /api/v1/invitations/{id}/resend` body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResendInvitationRequest {
    /// Days until the new expiry, 1 to 365; default `invite_link_expiry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
}

/// `POST /api/v1/invitations/bulk` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkCreateRequest {
    /// At most 10,000 create bodies.
    pub invitations: Vec<CreateInvitationRequest>,
    /// Report what would happen without creating anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// The result of one bulk row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulkStatus {
    /// Created (or, in a dry run, would be).
    Created,
    /// A pending invitation exists for that email (or an earlier row has the same email).
    AlreadyInvited,
    /// That email already has an account.
    AlreadyRegistered,
    /// The row is not valid; see `error`.
    Invalid,
}

/// One row of a bulk result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BulkResult {
    /// Position in the request, from 0.
    pub index: usize,
    /// The row's email as given (normalised when valid).
    pub email: Option<String>,
    /// What happened.
    pub status: BulkStatus,
    /// The created invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
    /// Its token (not in dry runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Its link (not in dry runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For `invalid` rows: the field codes, e.g. `{"email": ["invalid"]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<BTreeMap<String, Vec<String>>>,
}

/// Counts per status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BulkSummary {
    /// Rows created.
    pub created: usize,
    /// Rows already invited.
    pub already_invited: usize,
    /// Rows already registered.
    pub already_registered: usize,
    /// Invalid rows.
    pub invalid: usize,
}

/// `POST /api/v1/invitations/bulk` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BulkCreateResponse {
    /// One result per request row, in order.
    pub results: Vec<BulkResult>,
    /// Totals.
    pub summary: BulkSummary,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// A page of a list: `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    /// Items, newest first.
    pub data: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// An audit event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    /// Event id (UUIDv7: sorts by time).
    pub id: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Action name, e.g. `invitation.created`.
    pub action: String,
    /// Success or failure.
    pub outcome: Outcome,
    /// Who did it, when known.
    pub actor: Option<ActorRef>,
    /// What it was done to.
    pub target: Option<TargetRef>,
    /// Client IP address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// Action-specific details; never a token, password or key.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
}

/// `POST /api/v1/api-keys` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A name to recognise the key by (1 to 100 characters).
    pub name: String,
    /// Scopes granted; at least one.
    pub scopes: Vec<Scope>,
}

/// An API key, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKey {
    /// Key id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// First characters of the key, to recognise it (`igk_ab12…`).
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A newly created API key: the only response that contains `key`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedApiKey {
    /// The key's metadata.
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The secret key (`igk_...`), shown once.
    pub key: String,
}

/// Runtime settings (the seed's options plus the sign-up mode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SettingsView {
    /// Whether an invitation is required (`signup_mode == invite_only`).
    pub enable_invite_only: bool,
    /// Sign-up mode.
    pub signup_mode: SignupMode,
    /// Default days an invitation stays valid.
    pub invite_link_expiry: i64,
    /// Invitations a member may issue (pending + accepted).
    pub max_invites_per_user: u32,
    /// Domains or addresses that may register without an invitation, after verifying their email.
    pub invitation_whitelist_emails: Vec<String>,
}

/// `PATCH /api/v1/settings` body: any subset of the settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// `true` sets `invite_only`; `false` sets `open` (unless `signup_mode` is given too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_invite_only: Option<bool>,
    /// Sign-up mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signup_mode: Option<SignupMode>,
    /// Default expiry in days, 1 to 365.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_link_expiry: Option<i64>,
    /// Member quota, 0 to 100000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_invites_per_user: Option<u32>,
    /// Allowlist of domains (`example.com`) and addresses, at most 1000 entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_whitelist_emails: Option<Vec<String>>,
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

/// `POST /api/v1/webhooks` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where to POST events: an `https://` (or `http://`) URL, at most 2000 characters.
    pub url: String,
    /// Event types (audit action names such as `invitation.created`), or `["*"]` for all.
    pub events: Vec<String>,
}

/// A webhook endpoint, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookEndpoint {
    /// Endpoint id.
    pub id: String,
    /// Target URL.
    pub url: String,
    /// Subscribed event types.
    pub events: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A newly created endpoint: the only response that contains `secret`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedWebhook {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// Signing secret (`whsec_` + base64), shown once. Verify `webhook-signature` with it as
    /// the Standard Webhooks specification describes.
    pub secret: String,
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookDelivery {
    /// Delivery id; also the `webhook-id` header, stable across retries.
    pub id: String,
    /// Event type.
    pub event: String,
    /// `pending`, `sent` or `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// HTTP status of the last response, if any.
    pub response_status: Option<i32>,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the event was queued.
    pub created_at: DateTime<Utc>,
    /// When the endpoint accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// An item of the delivery queue (emails and webhook deliveries), without its content: emails
/// hold links with tokens, which are shown only when minted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OutboxItem {
    /// Item id.
    pub id: String,
    /// `email` or `webhook`.
    pub kind: String,
    /// `pending`, `sent` or `dead` (no attempts left; retry it to try again).
    pub status: String,
    /// Recipient address, or webhook endpoint id.
    pub recipient: Option<String>,
    /// Email subject, or webhook event type.
    pub summary: Option<String>,
    /// Attempts made.
    pub attempts: i32,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending items).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/email-verifications/resend` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResendVerificationRequest {
    /// The address that registered.
    pub email: String,
}
