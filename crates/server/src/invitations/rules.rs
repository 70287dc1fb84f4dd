//! Invitation rules: parsing a create request, who may grant what, token resolution, the
//! invitee's preview and who may manage an invitation. Creation itself is in [`super::creation`].

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::settings::RuntimeSettings;
use crate::state::AppState;
use crate::storage::models::{InvitationRow, utc};

pub use super::creation::{CreateError, Inviter, create_in_tx};
use crate::storage::invitations::Previewed;
use crate::storage::{self, DbConn, invitations, users};
use crate::tokens::{Purpose, hash_token};
use chrono::NaiveDateTime;
use invitegate_core::FieldCode;
use invitegate_core::api::{
    CreateInvitationRequest, InvitationApp, InvitationPreview, InvitationWithToken,
    MAX_EXPIRY_DAYS, MAX_INVITATION_USES, MAX_NOTE_LENGTH, OrganizationRef,
};
use invitegate_core::model::{ActorRef, ActorType, InvitationState, OrganizationRole, Role, Scope};
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
    /// The organisation (id) it invites into, and the role there.
    pub organization: Option<(String, OrganizationRole)>,
    /// The app (OAuth `client_id`) the invitee continues to.
    pub client_id: Option<String>,
}

impl NewInvitation {
    /// The address it is bound to, if any.
    pub fn email(&self) -> Option<&Email> {
        match &self.binding {
            Binding::Email(e) => Some(e),
            _ => None,
        }
    }
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
    let organization = match (&req.organization_id, req.organization_role) {
        (Some(id), role) => Some((id.clone(), role.unwrap_or(OrganizationRole::Member))),
        (None, Some(_)) => {
            push(&mut errors, "organization_role", FieldCode::Invalid);
            None
        }
        (None, None) => None,
    };
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
        organization,
        client_id: req.client_id.clone(),
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

/// The API object with its token and link.
pub fn with_token(
    conn: &mut DbConn,
    state: &AppState,
    row: &InvitationRow,
    token: String,
    now: NaiveDateTime,
) -> crate::storage::DbResult<InvitationWithToken> {
    let org = invitations::organization_of(conn, row)?;
    Ok(InvitationWithToken {
        invitation: row.to_api_in(now, org.as_ref()),
        url: state.link("/invite", &token),
        token,
    })
}

/// Why a presented invitation token cannot be used.
pub fn state_error(state: InvitationState) -> Option<ApiError> {
    match state {
        InvitationState::Pending => None,
        InvitationState::Accepted => Some(ApiError::new(ErrorCode::InvitationUsed)),
        InvitationState::Expired => Some(ApiError::new(ErrorCode::InvitationExpired)),
        InvitationState::Revoked => Some(ApiError::new(ErrorCode::InvitationRevoked)),
        InvitationState::Declined => Some(ApiError::new(ErrorCode::InvitationDeclined)),
    }
}

/// Looks up the invitation a token names, after checking its signature without touching the
/// database. 400 `invalid_invitation` (one response for malformed, forged and unknown tokens);
/// 410 for tokens whose signature verified but whose invitation cannot be used.
pub async fn resolve_token(state: &AppState, token: &str) -> ApiResult<InvitationRow> {
    Ok(resolve(state, token).await?.row)
}

/// [`resolve_token`] with what the invitation's preview shows, read in the same statement.
pub async fn resolve(state: &AppState, token: &str) -> ApiResult<Previewed> {
    let found = find(state, token)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidInvitation))?;
    usable(found)
}

/// The invitation a token names with what its preview shows, after checking the token's
/// signature without touching the database; none for a malformed, forged or unknown token.
/// Errors: 503 `unavailable` (no connection within the wait, connection lost, too many
/// lookups waiting), 500 `internal` (`lookup_batch::TokenLookups::find`).
pub async fn find(state: &AppState, token: &str) -> ApiResult<Option<Previewed>> {
    if state.keys.verify(Purpose::Invitation, token).is_err() {
        return Ok(None);
    }
    let hash = hash_token(token);
    match &state.token_lookups {
        Some(batched) => batched.find(hash).await,
        None => {
            state
                .db_read(move |conn| Ok(invitations::find_previewed_by_token_hash(conn, &hash)?))
                .await
        }
    }
}

/// `found` if it can still be used, else 410 (`invitation_used`, `_expired`, `_revoked`,
/// `_declined`), naming whom to ask for a new invitation except when it was revoked.
pub fn usable(found: Previewed) -> ApiResult<Previewed> {
    let now = storage::now();
    let Some(dead) = state_error(found.row.state(now)) else {
        return Ok(found);
    };
    // No dead ends: whoever holds a used, expired or declined link learns whom to ask for a new
    // one (the name a valid link's preview shows). A revoked link may have been withdrawn
    // because it leaked, so it names no one.
    if found.row.state(now) == InvitationState::Revoked {
        return Err(dead);
    }
    let name = match found.row.inviter_type {
        ActorType::System => Some("your administrator".to_string()),
        _ => shown_inviter(&found),
    };
    Err(match name {
        Some(n) => dead.detail(format!("Ask {n} for a new invitation.")),
        None => dead,
    })
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

/// [`inviter_name`] of an invitation read with its preview.
fn shown_inviter(p: &Previewed) -> Option<String> {
    match p.row.inviter_type {
        ActorType::User => p
            .inviter_user
            .clone()
            .map(|(name, email)| name.unwrap_or(email)),
        ActorType::ApiKey => p.inviter_key.clone(),
        ActorType::System => Some("The administrator".into()),
    }
}

/// What the invitee sees before redeeming, with `issuer` (this server's public base URL) for
/// the app an invitation continues to.
pub fn preview(
    conn: &mut DbConn,
    row: &InvitationRow,
    issuer: &str,
) -> crate::storage::DbResult<InvitationPreview> {
    let found = invitations::find_previewed(conn, &row.id)?;
    Ok(preview_of(
        &found.unwrap_or_else(|| Previewed {
            row: row.clone(),
            inviter_user: None,
            inviter_key: None,
            organization: None,
            app: None,
            signup_mode: None,
        }),
        issuer,
    ))
}

/// [`preview`] of an invitation read with what it shows.
pub fn preview_of(p: &Previewed, issuer: &str) -> InvitationPreview {
    let row = &p.row;
    InvitationPreview {
        id: row.id.clone(),
        email: row.email.clone(),
        email_domain: row.email_domain.clone(),
        role: row.role(),
        expires_at: utc(row.expires_at),
        inviter_display_name: shown_inviter(p),
        email_verification_required: !row.signs_in_at_once(),
        organization: row
            .organization_id
            .clone()
            .zip(p.organization.clone())
            .map(|(id, (name, slug))| OrganizationRef { id, name, slug }),
        app: p.app.as_ref().and_then(|(name, initiate_login_uri)| {
            Some(InvitationApp {
                initiate_login_uri: initiate_login_uri.clone()?,
                name: name.clone(),
                issuer: issuer.to_string(),
            })
        }),
    }
}

/// Whether `principal` may see and manage `row`: admins and keys with `scope`, and the member
/// who issued it.
pub fn may_manage(principal: &Principal, row: &InvitationRow, scope: Scope) -> bool {
    principal.has_scope(scope)
        || matches!(principal, Principal::User { user, .. } if row.inviter_type == ActorType::User && row.inviter_id == user.id)
}
