//! Administration: the audit log, API keys, settings, webhooks and the delivery queue.

use super::*;

/// An audit event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b31-0000-7000-8000-0000000000aa", "occurred_at": "2026-11-25T09:30:00Z", "action": "invitation.created", "outcome": "success", "actor": {"type": "api_key", "id": "01936b30-0000-7abc-8def-0123456789ab"}, "target": {"type": "invitation", "id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f"}, "ip": "203.0.113.7", "user_agent": "crm-sync/2.1", "details": {"email": "ann@example.com", "role": "member", "max_uses": 1}})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "CRM sync", "scopes": ["invitations:read", "invitations:write"]})))]
pub struct CreateApiKeyRequest {
    /// A name to recognise the key by (1 to 100 characters).
    pub name: String,
    /// Scopes granted; at least one.
    pub scopes: Vec<Scope>,
}

/// An API key, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b30-0000-7abc-8def-0123456789ab", "name": "CRM sync", "scopes": ["invitations:read", "invitations:write"], "prefix": "igk_Ww6oOWhl", "created_at": "2026-11-25T09:30:00Z", "last_used_at": null, "revoked_at": null})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b30-0000-7abc-8def-0123456789ab", "name": "CRM sync", "scopes": ["invitations:read", "invitations:write"], "prefix": "igk_Ww6oOWhl", "created_at": "2026-11-25T09:30:00Z", "last_used_at": null, "revoked_at": null, "key": "igk_Ww6oOWhl05n9PouOgSYD9Spu0gKw1pMzw5X-B0bdMCg"})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"enable_invite_only": true, "signup_mode": "invite_only", "invite_link_expiry": 7, "max_invites_per_user": 5, "invitation_whitelist_emails": ["example.com", "guest@partner.example"]})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"signup_mode": "invite_only", "max_invites_per_user": 10})))]
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

/// `POST /api/v1/webhooks` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"url": "https://hooks.example.com/invitegate", "events": ["invitation.created", "registration.succeeded"]})))]
pub struct CreateWebhookRequest {
    /// Where to POST events: an `https://` (or `http://`) URL, at most 2000 characters.
    pub url: String,
    /// Event types (audit action names such as `invitation.created`), or `["*"]` for all.
    pub events: Vec<String>,
}

/// A webhook endpoint, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b32-0000-7000-8000-0000000000bb", "url": "https://hooks.example.com/invitegate", "events": ["invitation.created", "registration.succeeded"], "created_at": "2026-11-25T09:30:00Z"})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b32-0000-7000-8000-0000000000bb", "url": "https://hooks.example.com/invitegate", "events": ["invitation.created", "registration.succeeded"], "created_at": "2026-11-25T09:30:00Z", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b33-0000-7000-8000-0000000000cc", "event": "invitation.created", "status": "sent", "attempts": 1, "response_status": 204, "last_error": null, "next_attempt_at": null, "created_at": "2026-11-25T09:30:00Z", "delivered_at": "2026-11-25T09:30:00Z"})))]
pub struct WebhookDelivery {
    /// Delivery id; also the `webhook-id` header, stable across retries.
    pub id: String,
    /// Event type.
    pub event: String,
    /// Where the delivery is: `pending`, `sent` or `dead`.
    pub status: crate::model::OutboxStatus,
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
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b34-0000-7000-8000-0000000000dd", "kind": "email", "status": "dead", "recipient": "ann@example.com", "summary": "You are invited to Invitegate", "attempts": 8, "last_error": "the SMTP server refused the recipient", "next_attempt_at": null, "created_at": "2026-11-25T09:30:00Z", "sent_at": null})))]
pub struct OutboxItem {
    /// Item id.
    pub id: String,
    /// What it delivers: `email` or `webhook`.
    pub kind: crate::model::OutboxKind,
    /// `pending`, `sent` or `dead` (no attempts left; retry it to try again).
    pub status: crate::model::OutboxStatus,
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
