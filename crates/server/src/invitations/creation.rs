//! Creating one invitation inside the caller's transaction: quota (serialised per member),
//! the address reservation, its audit event and its email.

use super::rules::{Binding, NewInvitation};
use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::mail;
use crate::ratelimit::{EmailClass, email_budget};
use crate::settings::RuntimeSettings;
use crate::state::AppState;
use crate::storage::models::{InvitationRow, utc};
use crate::storage::{self, DbConn, invitations, users};
use crate::tokens::{Purpose, hash_token};
use invitegate_core::model::{ActorRef, ActorType, AuditAction, OrganizationRole, Role, Scope};
use invitegate_core::{ErrorCode, FieldCode};

/// Why a creation did not happen.
#[derive(Debug)]
pub enum CreateError {
    /// The address already has an account.
    EmailRegistered,
    /// The address has a live invitation (its id when known).
    InvitationPending(Option<String>),
    /// The member's quota is used up.
    QuotaExceeded,
    /// The address's account already belongs to the organisation.
    AlreadyMember,
    /// The organisation does not exist, or the inviter may not see it.
    OrganizationNotFound,
    /// The inviter may not invite into the organisation, or not with that role.
    OrganizationForbidden,
    /// No registered client has this `client_id`, or it has no `initiate_login_uri`.
    ClientNotFound,
    /// The inviting account was disabled (or deleted) while the request ran.
    InviterInactive,
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
            CreateError::AlreadyMember => ApiError::new(ErrorCode::AlreadyMember),
            CreateError::OrganizationNotFound => {
                ApiError::new(ErrorCode::NotFound).detail("No such organisation.")
            }
            CreateError::OrganizationForbidden => ApiError::new(ErrorCode::Forbidden)
                .detail("You may not invite into this organisation with this role."),
            CreateError::ClientNotFound => ApiError::field("client_id", FieldCode::Invalid),
            CreateError::InviterInactive => {
                ApiError::new(ErrorCode::Forbidden).detail("Your account is disabled.")
            }
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
    /// May invite into any organisation (`invitations:write`: instance admins and keys).
    pub any_organization: bool,
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
                any_organization: principal.has_scope(Scope::InvitationsWrite),
            },
            Principal::ApiKey(k) => Self {
                actor: principal.actor(),
                quota: None,
                display_name: k.name.clone(),
                conceals_accounts: false,
                any_organization: principal.has_scope(Scope::InvitationsWrite),
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
            any_organization: true,
        }
    }
}

/// Whether `inviter` may invite into organisation `org` with `role` (api.md, "Organisations"):
/// `invitations:write` holders anywhere; the organisation's owners and admins (admins not as
/// `owner`); its members as `member` when `members_can_invite`. Returns whether the inviter
/// manages the organisation (no quota then). A missing organisation, or one the inviter does
/// not belong to, is 404.
pub(super) fn may_invite_into(
    conn: &mut DbConn,
    inviter: &Inviter,
    org: &str,
    role: OrganizationRole,
) -> Result<bool, CreateError> {
    let Some(organization) = storage::organizations::find(conn, org)? else {
        return Err(CreateError::OrganizationNotFound);
    };
    if inviter.any_organization {
        return Ok(true);
    }
    let membership = match inviter.actor.kind {
        ActorType::User => storage::organizations::membership(conn, org, &inviter.actor.id)?,
        _ => None,
    };
    match membership.map(|m| m.role) {
        None => Err(CreateError::OrganizationNotFound),
        Some(OrganizationRole::Owner) => Ok(true),
        Some(OrganizationRole::Admin) if role != OrganizationRole::Owner => Ok(true),
        Some(OrganizationRole::Member)
            if organization.members_can_invite && role == OrganizationRole::Member =>
        {
            Ok(false)
        }
        Some(_) => Err(CreateError::OrganizationForbidden),
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
    let org_manager = match &new.organization {
        Some((org, role)) => may_invite_into(conn, inviter, org, *role)?,
        None => false,
    };
    // The account's row lock: a disable racing with this request either wins (nothing is
    // made) or waits and then revokes what was (security.md, "Revocation is complete").
    if inviter.actor.kind == ActorType::User
        && !users::lock_active_inviter(conn, &inviter.actor.id)?
    {
        return Err(CreateError::InviterInactive);
    }
    // Organisation owners and admins invite into it under the rate limits, without a quota.
    if let Some(limit) = inviter.quota.filter(|_| !org_manager)
        && invitations::count_for_quota(conn, &inviter.actor.id, now)? >= i64::from(limit)
    {
        return Err(CreateError::QuotaExceeded);
    }
    let email = new.email().map(|e| e.as_str().to_string());
    // Whether the invitation reserves its address (one live invitation per address) and
    // whether its email is an existing-account notice instead of an invitation.
    let (mut reserve, mut registered) = (email.is_some(), false);
    if let Some(e) = &email {
        registered = users::email_exists(conn, e)?;
        // An organisation invitation may go to an existing account: its owner signs in and
        // accepts (api.md, "Organisations").
        if let Some((org, _)) = new.organization.as_ref().filter(|_| registered)
            && let Some(user) = users::find_by_email(conn, e)?
            && storage::organizations::membership(conn, org, &user.id)?.is_some()
            && !inviter.conceals_accounts
        {
            return Err(CreateError::AlreadyMember);
        }
        if registered && !inviter.conceals_accounts && new.organization.is_none() {
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
    if let Some(id) = &new.client_id
        && !client_accepted(conn, id)?
    {
        return Err(CreateError::ClientNotFound);
    }
    let (mut row, token) = new_row(state, inviter, new, reserve, bootstrap, now);
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
    created_event(inviter, new, &row).write(conn, meta)?;
    // Every invitation email draws on the address's budget, so no inviter (a member revoking
    // and re-inviting, say) can flood a mailbox; an existing account gets a sign-in notice.
    if new.send_email
        && let Some(e) = &email
        && email_budget(conn, state, e, EmailClass::Invitation)?
    {
        mail::enqueue(conn, &message(state, inviter, &row, &token, registered))?;
    }
    Ok((row, token))
}

/// Whether `client_id` names a registered client that invitations may continue to (one with
/// an `initiate_login_uri`).
pub(super) fn client_accepted(conn: &mut DbConn, client_id: &str) -> storage::DbResult<bool> {
    Ok(storage::oauth::client_by_client_id(conn, client_id)?
        .and_then(|c| c.initiate_login_uri)
        .is_some())
}

/// The row of `new` with a fresh token, reserving its address when `reserve`.
pub(super) fn new_row(
    state: &AppState,
    inviter: &Inviter,
    new: &NewInvitation,
    reserve: bool,
    bootstrap: bool,
    now: chrono::NaiveDateTime,
) -> (InvitationRow, String) {
    let (email, domain) = match &new.binding {
        Binding::Email(e) => (Some(e.as_str().to_string()), None),
        Binding::Domain(d) => (None, Some(d.clone())),
        Binding::Open => (None, None),
    };
    let token = state.keys.issue(Purpose::Invitation);
    let row = InvitationRow {
        id: storage::new_id(),
        token_hash: hash_token(&token),
        pending_email: email.clone().filter(|_| reserve),
        email,
        email_domain: domain,
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
        organization_id: new.organization.as_ref().map(|(id, _)| id.clone()),
        organization_role: new.organization.as_ref().map(|(_, role)| *role),
        declined_at: None,
        client_id: new.client_id.clone(),
        delivered_at: None,
        opened_at: None,
    };
    (row, token)
}

/// The `invitation.created` event of `row`.
pub(super) fn created_event(
    inviter: &Inviter,
    new: &NewInvitation,
    row: &InvitationRow,
) -> AuditEntry {
    AuditEntry::success(AuditAction::InvitationCreated)
        .actor(Some(inviter.actor.clone()))
        .target("invitation", row.id.clone())
        .details(serde_json::json!({
            "email": row.email, "email_domain": row.email_domain, "role": new.role,
            "max_uses": new.max_uses, "expires_at": utc(row.expires_at), "bootstrap": row.bootstrap,
            "organization_id": row.organization_id, "organization_role": row.organization_role,
        }))
}

/// The email of an invitation to `row.email`: the invitation itself, or a sign-in notice when
/// the address already has an account (`registered`).
pub(super) fn message(
    state: &AppState,
    inviter: &Inviter,
    row: &InvitationRow,
    token: &str,
    registered: bool,
) -> mail::OutgoingEmail {
    let to = row.email.as_deref().unwrap_or_default();
    let email = if registered {
        state.templates.existing_account(to, &state.login_link(to))
    } else {
        state.templates.invitation(
            to,
            &inviter.display_name,
            &state.link("/invite", token),
            utc(row.expires_at),
            row.note.as_deref(),
        )
    };
    email.for_invitation(&row.id)
}
