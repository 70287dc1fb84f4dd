//! Invitations: creation (single and bulk), verification, resend, the invitation object.

use super::*;

/// What an invitee may see about their invitation before redeeming it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "email": "ann@example.com", "email_domain": null, "role": "member", "expires_at": "2026-12-02T09:30:00Z", "inviter_display_name": "CRM sync", "email_verification_required": false})))]
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
    /// chosen on the `/verify-email` page, so that nobody chooses it before the address is proven.
    #[serde(default)]
    pub email_verification_required: bool,
    /// The organisation it invites into, if any ("Ann invited you to join Acme").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationRef>,
    /// The app the invitee continues to after registering, if the invitation was made for one
    /// (its `initiate_login_uri`, OpenID Connect Core §4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<InvitationApp>,
}

/// An app an invitation was made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Team wiki", "initiate_login_uri": "https://wiki.example.com/login", "issuer": "https://invite.example.com"})))]
pub struct InvitationApp {
    /// The app's name.
    pub name: String,
    /// The `iss` to send (this server's issuer, whatever name the page was opened under).
    pub issuer: String,
    /// Where the invitee is sent, with `iss`, `login_hint` and `target_link_uri`, to be signed
    /// in to the app.
    pub initiate_login_uri: String,
}

/// `POST /api/v1/invitations/verify` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"invitation": {"id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "email": "ann@example.com", "email_domain": null, "role": "member", "expires_at": "2026-12-02T09:30:00Z", "inviter_display_name": "CRM sync", "email_verification_required": false}})))]
pub struct VerifyInvitationResponse {
    /// The invitation the token belongs to.
    pub invitation: InvitationPreview,
}

/// `POST /api/v1/invitations` body. Set `email` (single address, `max_uses` 1), or
/// `email_domain` (any address at that domain), or neither (an open link).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"email": "ann@example.com", "expires_in_days": 7, "role": "member", "note": "Welcome to the beta", "send_email": true})))]
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
    /// Invite into this organisation (its id): accepting makes the invitee a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// The role in that organisation (default `member`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_role: Option<crate::model::OrganizationRole>,
    /// Email the link to the invitee (default true when `email` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_email: Option<bool>,
    /// An app (OAuth `client_id` of a registered client with an `initiate_login_uri`): after
    /// registering, the invitee is sent there and lands in the app signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// An invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "email": "ann@example.com", "email_domain": null, "state": "pending", "role": "member", "max_uses": 1, "uses": 0, "expires_at": "2026-12-02T09:30:00Z", "created_at": "2026-11-25T09:30:00Z", "accepted_at": null, "revoked_at": null, "inviter": {"type": "api_key", "id": "01936b30-0000-7abc-8def-0123456789ab"}, "inviter_name": "CRM sync", "note": "Welcome to the beta"})))]
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
    /// The organisation it invites into, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationRef>,
    /// The role in that organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_role: Option<crate::model::OrganizationRole>,
}

/// An invitation with its freshly minted token: only in create, bulk create and resend.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "email": "ann@example.com", "email_domain": null, "state": "pending", "role": "member", "max_uses": 1, "uses": 0, "expires_at": "2026-12-02T09:30:00Z", "created_at": "2026-11-25T09:30:00Z", "accepted_at": null, "revoked_at": null, "inviter": {"type": "api_key", "id": "01936b30-0000-7abc-8def-0123456789ab"}, "inviter_name": "CRM sync", "note": "Welcome to the beta", "token": "k202611251234.Rk9yZ2VkIGV4YW1wbGU.c2lnbmF0dXJlLWV4YW1wbGU", "url": "https://invite.example.com/invite#token=k202611251234.Rk9yZ2VkIGV4YW1wbGU.c2lnbmF0dXJlLWV4YW1wbGU"})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"expires_in_days": 14})))]
pub struct ResendInvitationRequest {
    /// Days until the new expiry, 1 to 365; default `invite_link_expiry`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
}

/// `POST /api/v1/invitations/bulk` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"invitations": [{"email": "ann@example.com"}, {"email": "bo@example.com", "role": "member", "note": "From the spring cohort"}], "dry_run": true})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"index": 1, "email": "bo@example", "status": "invalid", "error": {"email": ["invalid"]}})))]
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
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, Vec<crate::error::FieldCode>>>))]
    pub error: Option<BTreeMap<String, Vec<String>>>,
}

/// Counts per status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"created": 1, "already_invited": 0, "already_registered": 0, "invalid": 1})))]
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
#[cfg_attr(feature = "openapi", schema(example = json!({"results": [{"index": 0, "email": "ann@example.com", "status": "created"}, {"index": 1, "email": "bo@example", "status": "invalid", "error": {"email": ["invalid"]}}], "summary": {"created": 1, "already_invited": 0, "already_registered": 0, "invalid": 1}, "dry_run": true})))]
pub struct BulkCreateResponse {
    /// One result per request row, in order.
    pub results: Vec<BulkResult>,
    /// Totals.
    pub summary: BulkSummary,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// Longest `external_id` of a headless redemption, in characters.
pub const MAX_EXTERNAL_ID_LENGTH: usize = 200;

/// `POST /api/v1/invitations/redeem` body: a host app that keeps its own accounts uses one use
/// of an invitation in its own sign-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"token": "k202611251234.Rk9yZ2VkIGV4YW1wbGU.c2lnbmF0dXJlLWV4YW1wbGU", "email": "ann@example.com", "external_id": "user_8412"})))]
#[serde(deny_unknown_fields)]
pub struct RedeemInvitationRequest {
    /// The invitation token the person brought to the host app.
    pub token: String,
    /// The address the person signs up with in the host app; must match an email-bound or
    /// domain invitation.
    pub email: String,
    /// The host app's id for the new account (at most 200 characters), kept with the
    /// redemption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// One headless use of an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b50-0000-7000-8000-0000000000aa", "email": "ann@example.com", "external_id": "user_8412", "redeemed_at": "2026-11-25T09:30:00Z"})))]
pub struct Redemption {
    /// Redemption id.
    pub id: String,
    /// The address it was redeemed for (lower-case).
    pub email: String,
    /// The host app's id for the account, if given.
    pub external_id: Option<String>,
    /// When.
    pub redeemed_at: DateTime<Utc>,
}

/// 200 body of `POST /api/v1/invitations/redeem`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"invitation": {"id": "01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f", "email": "ann@example.com", "email_domain": null, "state": "accepted", "role": "member", "max_uses": 1, "uses": 1, "expires_at": "2026-12-02T09:30:00Z", "created_at": "2026-11-25T09:30:00Z", "accepted_at": "2026-11-26T10:00:00Z", "revoked_at": null, "inviter": {"type": "api_key", "id": "01936b30-0000-7abc-8def-0123456789ab"}, "inviter_name": "CRM sync", "note": null}, "redemption": {"id": "01936b50-0000-7000-8000-0000000000aa", "email": "ann@example.com", "external_id": "user_8412", "redeemed_at": "2026-11-26T10:00:00Z"}})))]
pub struct RedeemInvitationResponse {
    /// The invitation after the use.
    pub invitation: Invitation,
    /// The use.
    pub redemption: Redemption,
}
