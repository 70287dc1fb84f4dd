//! Invitation rules: parsing a create request, quota, creation, verification, revocation and
//! resending. Each change is one transaction holding its audit event and outbox email.

use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::RequestMeta;
use crate::mail;
use crate::ratelimit::{EmailClass, email_budget};
use crate::settings::RuntimeSettings;
use crate::state::AppState;
use crate::storage::models::{InvitationRow, utc};
use crate::storage::{self, DbConn, invitations, users};
use crate::tokens::{Purpose, hash_token};
use chrono::NaiveDateTime;
use invitegate_core::FieldCode;
use invitegate_core::api::{
    CreateInvitationRequest, InvitationPreview, InvitationWithToken, MAX_EXPIRY_DAYS,
    MAX_INVITATION_USES, MAX_NOTE_LENGTH,
};
use invitegate_core::model::{ActorRef, ActorType, AuditAction, InvitationState, Role, Scope};
use invitegate_core::{Email, ErrorCode, email};

/// Who may redeem an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Only this address.
    Email(Email),
    /// Any address at this domain.
    Domain(String),
    /// Anyone holding the link.
    Open,
}

/// A validated create request.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// Who may redeem it.
    pub binding: Binding,
    /// Role granted.
    pub role: Role,
    /// Redemptions allowed.
    pub max_uses: i32,
    /// Lifetime in days.
    pub expires_in_days: i64,
    /// Note for the invitee.
    pub note: Option<String>,
    /// Email the link.
    pub send_email: bool,
}

fn push(errors: &mut FieldErrors, field: &str, code: FieldCode) {
    errors.entry(field.to_string()).or_default().push(code);
}

/// Validates a create body against the settings; field errors otherwise.
pub fn parse_create(
    req: &CreateInvitationRequest,
    settings: &RuntimeSettings,
) -> Result<NewInvitation, FieldErrors> {
    let mut errors = FieldErrors::new();
    let binding = match (&req.email, &req.email_domain) {
        (Some(_), Some(_)) => {
            push(&mut errors, "email_domain", FieldCode::ConflictsWithEmail);
            Binding::Open
        }
        (Some(e), None) => match Email::parse(e) {
            Ok(e) => Binding::Email(e),
            Err(_) => {
                push(&mut errors, "email", FieldCode::Invalid);
                Binding::Open
            }
        },
        (None, Some(d)) => match email::parse_domain(d) {
            Some(d) => Binding::Domain(d),
            None => {
                push(&mut errors, "email_domain", FieldCode::Invalid);
                Binding::Open
            }
        },
        (None, None) => Binding::Open,
    };
    let max_uses = req.max_uses.unwrap_or(1);
    if !(1..=MAX_INVITATION_USES).contains(&max_uses) {
        push(&mut errors, "max_uses", FieldCode::OutOfRange);
    } else if req.email.is_some() && max_uses != 1 {
        push(&mut errors, "max_uses", FieldCode::MustBe1ForEmail);
    }
    let expires_in_days = req.expires_in_days.unwrap_or(settings.invite_link_expiry);
    if !(1..=MAX_EXPIRY_DAYS).contains(&expires_in_days) {
        push(&mut errors, "expires_in_days", FieldCode::OutOfRange);
    }
    let note = req
        .note
        .as_ref()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if let Some(n) = &note {
        if n.chars().count() > MAX_NOTE_LENGTH {
            push(&mut errors, "note", FieldCode::TooLong);
        } else if n.chars().any(|c| c.is_control() && c != '\n') {
            push(&mut errors, "note", FieldCode::Invalid);
        }
    }
    let is_email = matches!(binding, Binding::Email(_));
    if req.send_email == Some(true) && req.email.is_none() {
        push(&mut errors, "send_email", FieldCode::RequiresEmail);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewInvitation {
        binding,
        role: req.role.unwrap_or(Role::Member),
        max_uses,
        expires_in_days,
        note,
        send_email: req.send_email.unwrap_or(is_email),
    })
}

/// Checks who may create `new`: admins and API keys with `invitations:write` may create any
/// invitation, except that `role: admin` needs an admin session or an `admin` key
/// ([`Principal::may_grant`]); members only single-use, email-bound member invitations.
/// 403 `forbidden` otherwise.
pub fn authorize_create(principal: &Principal, new: &NewInvitation) -> ApiResult<()> {
    if !principal.may_grant(new.role) {
        return Err(forbidden_role());
    }
    if principal.has_scope(Scope::InvitationsWrite) {
        return Ok(());
    }
    match principal {
        Principal::User { .. }
            if matches!(new.binding, Binding::Email(_))
                && new.role == Role::Member
                && new.max_uses == 1 =>
        {
            Ok(())
        }
        Principal::User { .. } => Err(ApiError::new(ErrorCode::Forbidden)
            .detail("Members may invite one email address at a time, as members.")),
        Principal::ApiKey(_) => Err(ApiError::new(ErrorCode::Forbidden)),
    }
}

/// 403 `forbidden` for an invitation granting a role the caller may not grant.
pub fn forbidden_role() -> ApiError {
    ApiError::new(ErrorCode::Forbidden)
        .detail("Only an administrator or an `admin` API key may invite administrators.")
}

/// Why a creation did not happen.
#[derive(Debug)]
pub enum CreateError {
    /// The address already has an account.
    EmailRegistered,
    /// The address has a live invitation (its id when known).
    InvitationPending(Option<String>),
    /// The member's quota is used up.
    QuotaExceeded,
    /// Database failure.
    Db(crate::storage::DbError),
}

impl From<crate::storage::DbError> for CreateError {
    fn from(e: crate::storage::DbError) -> Self {
        Self::Db(e)
    }
}

impl From<CreateError> for ApiError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::EmailRegistered => ApiError::new(ErrorCode::EmailRegistered),
            CreateError::InvitationPending(id) => ApiError {
                invitation_id: id,
                ..ApiError::new(ErrorCode::InvitationPending)
            },
            CreateError::QuotaExceeded => ApiError::new(ErrorCode::InviteQuotaExceeded),
            CreateError::Db(e) => e.into(),
        }
    }
}

/// What the transaction needs to know about the inviter.
#[derive(Debug, Clone)]
pub struct Inviter {
    /// Actor reference stored on the invitation.
    pub actor: ActorRef,
    /// Quota limit when the inviter is a member.
    pub quota: Option<u32>,
    /// Name shown in the email.
    pub display_name: String,
    /// A member: untrusted with other people's addresses. They must not learn whether an
    /// address has an account or another inviter's invitation (such an address gets an
    /// invitation as usual, the owner of an existing account a sign-in notice, never a 409),
    /// and the token they hold must not let them choose the invitee's password (redeeming it
    /// proves the address by email first).
    pub conceals_accounts: bool,
}

impl Inviter {
    /// The inviter for `principal` under `settings`.
    pub fn of(principal: &Principal, settings: &RuntimeSettings) -> Self {
        match principal {
            Principal::User { user, .. } => Self {
                actor: principal.actor(),
                quota: (user.role() == Role::Member).then_some(settings.max_invites_per_user),
                display_name: user.shown_name(),
                conceals_accounts: user.role() == Role::Member,
            },
            Principal::ApiKey(k) => Self {
                actor: principal.actor(),
                quota: None,
                display_name: k.name.clone(),
                conceals_accounts: false,
            },
        }
    }

    /// The server itself (bootstrap, CLI).
    pub fn system() -> Self {
        Self {
            actor: ActorRef {
                kind: ActorType::System,
                id: "system".into(),
            },
            quota: None,
            display_name: "The administrator".into(),
            conceals_accounts: false,
        }
    }
}

/// Creates one invitation on `conn`, inside the caller's transaction: quota (serialised by the
/// inviter's row lock), account and pending checks, insert, audit event, outbox email.
/// Returns the row and its raw token.
pub fn create_in_tx(
    conn: &mut DbConn,
    state: &AppState,
    inviter: &Inviter,
    new: &NewInvitation,
    bootstrap: bool,
    meta: &RequestMeta,
) -> Result<(InvitationRow, String), CreateError> {
    let now = storage::now();
    if let Some(limit) = inviter.quota {
        users::lock_for_quota(conn, &inviter.actor.id)?;
        if invitations::count_for_quota(conn, &inviter.actor.id, now)? >= i64::from(limit) {
            return Err(CreateError::QuotaExceeded);
        }
    }
    let (email, domain) = match &new.binding {
        Binding::Email(e) => (Some(e.as_str().to_string()), None),
        Binding::Domain(d) => (None, Some(d.clone())),
        Binding::Open => (None, None),
    };
    // Whether the invitation reserves its address (one live invitation per address) and
    // whether its email is an existing-account notice instead of an invitation.
    let (mut reserve, mut registered) = (email.is_some(), false);
    if let Some(e) = &email {
        registered = users::email_exists(conn, e)?;
        if registered && !inviter.conceals_accounts {
            return Err(CreateError::EmailRegistered);
        }
        invitations::release_expired_reservation(conn, e, now)?;
        if let Some(existing) = invitations::find_pending_for_email(conn, e, now)? {
            if !inviter.conceals_accounts {
                return Err(CreateError::InvitationPending(Some(existing.id)));
            }
            reserve = false;
        }
        reserve &= !registered;
    }
    let token = state.keys.issue(Purpose::Invitation);
    let mut row = InvitationRow {
        id: storage::new_id(),
        token_hash: hash_token(&token),
        email: email.clone(),
        pending_email: email.clone().filter(|_| reserve),
        email_domain: domain.clone(),
        role: new.role,
        max_uses: new.max_uses,
        uses: 0,
        expires_at: now + chrono::Duration::days(new.expires_in_days),
        created_at: now,
        accepted_at: None,
        revoked_at: None,
        inviter_type: inviter.actor.kind,
        inviter_id: inviter.actor.id.clone(),
        note: new.note.clone(),
        bootstrap,
        reminded_at: None,
        expired_at: None,
        email_proof_required: inviter.conceals_accounts,
    };
    // A savepoint, so a lost race on the address reservation leaves the outer transaction usable.
    let inserted = crate::storage::savepoint(conn, |conn| invitations::insert(conn, &row));
    match inserted {
        Err(e) if storage::is_unique_violation(&e) && inviter.conceals_accounts => {
            row.pending_email = None;
            invitations::insert(conn, &row)?;
        }
        Err(e) if storage::is_unique_violation(&e) => {
            return Err(CreateError::InvitationPending(None));
        }
        other => other?,
    }
    AuditEntry::success(AuditAction::InvitationCreated)
        .actor(Some(inviter.actor.clone()))
        .target("invitation", row.id.clone())
        .details(serde_json::json!({
            "email": email, "email_domain": domain, "role": new.role, "max_uses": new.max_uses,
            "expires_at": utc(row.expires_at), "bootstrap": bootstrap,
        }))
        .write(conn, meta)?;
    // Every invitation email draws on the address's budget, so no inviter (a member revoking
    // and re-inviting, say) can flood a mailbox; an existing account gets a sign-in notice.
    if new.send_email
        && let Some(e) = &email
        && email_budget(conn, state, e, EmailClass::Invitation)?
    {
        let message = if registered {
            state.templates.existing_account(e, &state.login_link(e))
        } else {
            state.templates.invitation(
                e,
                &inviter.display_name,
                &state.link("/invite", &token),
                utc(row.expires_at),
                row.note.as_deref(),
            )
        };
        mail::enqueue(conn, &message)?;
    }
    Ok((row, token))
}

/// The API object with its token and link.
pub fn with_token(
    state: &AppState,
    row: &InvitationRow,
    token: String,
    now: NaiveDateTime,
) -> InvitationWithToken {
    InvitationWithToken {
        invitation: row.to_api(now),
        url: state.link("/invite", &token),
        token,
    }
}

/// Why a presented invitation token cannot be used.
pub fn state_error(state: InvitationState) -> Option<ApiError> {
    match state {
        InvitationState::Pending => None,
        InvitationState::Accepted => Some(ApiError::new(ErrorCode::InvitationUsed)),
        InvitationState::Expired => Some(ApiError::new(ErrorCode::InvitationExpired)),
        InvitationState::Revoked => Some(ApiError::new(ErrorCode::InvitationRevoked)),
    }
}

/// Looks up the invitation a token names, after checking its signature without touching the
/// database. 400 `invalid_invitation` (one response for malformed, forged and unknown tokens);
/// 410 for tokens whose signature verified but whose invitation cannot be used.
pub async fn resolve_token(state: &AppState, token: &str) -> ApiResult<InvitationRow> {
    state
        .keys
        .verify(Purpose::Invitation, token)
        .map_err(|_| ApiError::new(ErrorCode::InvalidInvitation))?;
    let hash = hash_token(token);
    let row = state
        .db(move |conn| Ok(invitations::find_by_token_hash(conn, &hash)?))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidInvitation))?;
    match state_error(row.state(storage::now())) {
        Some(e) => Err(e),
        None => Ok(row),
    }
}

/// How people know an inviter: a user's display name or email, an API key's name.
pub fn inviter_name(
    conn: &mut DbConn,
    inviter: &ActorRef,
) -> crate::storage::DbResult<Option<String>> {
    Ok(match inviter.kind {
        ActorType::User => users::shown_name(conn, &inviter.id)?,
        ActorType::ApiKey => storage::api_keys::find(conn, &inviter.id)?.map(|k| k.name),
        ActorType::System => Some("The administrator".into()),
    })
}

/// The preview of an invitation shown to its invitee.
pub fn preview(
    conn: &mut DbConn,
    row: &InvitationRow,
) -> crate::storage::DbResult<InvitationPreview> {
    let inviter_display_name = inviter_name(conn, &row.inviter())?;
    Ok(InvitationPreview {
        id: row.id.clone(),
        email: row.email.clone(),
        email_domain: row.email_domain.clone(),
        role: row.role(),
        expires_at: utc(row.expires_at),
        inviter_display_name,
        email_verification_required: !row.signs_in_at_once(),
    })
}

/// Whether `principal` may see and manage `row`: admins and keys with `scope`, and the member
/// who issued it.
pub fn may_manage(principal: &Principal, row: &InvitationRow, scope: Scope) -> bool {
    principal.has_scope(scope)
        || matches!(principal, Principal::User { user, .. } if row.inviter_type == ActorType::User && row.inviter_id == user.id)
}
