//! The use cases of invitations, one per endpoint: each checks the rules ([`super::rules`]),
//! takes its limits and runs one transaction holding the change, its audit event and email.

use super::lifecycle;
use super::rules::{self, CreateError, Inviter};
use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::ratelimit::{self, ClientLimit};
use crate::settings;
use crate::state::AppState;
use crate::storage::models::{InvitationRow, OrganizationRow, utc};
use crate::storage::{self, invitations, invitations::ListFilter};
use crate::tokens::{Purpose, hash_token};
use invitegate_core::ErrorCode;
use invitegate_core::FieldCode;
use invitegate_core::api::{
    CreateInvitationRequest, Invitation, InvitationPreview, InvitationWithToken, MAX_EXPIRY_DAYS,
};
use invitegate_core::model::{ActorRef, AuditAction, InvitationState, Scope};
use std::collections::HashMap;
use std::sync::Arc;

/// What a token grants, without consuming it (mail scanners open links: supabase/auth #368);
/// failures are counted against the client. Errors: 400 `invalid_invitation`, 410
/// `invitation_expired` / `invitation_revoked` / `invitation_used`, 429 `rate_limited`.
pub async fn verify(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
) -> ApiResult<InvitationPreview> {
    let found = (state.limits)
        .guarded(
            state,
            ClientLimit::VerifyFailures,
            meta,
            rules::resolve(state, token),
            |e| {
                let entry = AuditEntry::failure(AuditAction::InvitationVerified)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidInvitation)
            },
        )
        .await?;
    let preview = rules::preview_of(&found, &state.base_url);
    let id = found.row.id;
    state
        .audit
        .record(
            AuditEntry::success(AuditAction::InvitationVerified).target("invitation", id),
            meta,
        )
        .await;
    Ok(preview)
}

/// Creates an invitation under the inviter's rules, quota and limits, and returns it with its
/// token and link (shown only here). Errors: 422 per field, 403 `forbidden` /
/// `invite_quota_exceeded`, 409 `invitation_pending` (naming the pending invitation when the
/// caller may see it) / `email_registered`, 429 `rate_limited`.
pub async fn create(
    state: &Arc<AppState>,
    principal: &Principal,
    body: &CreateInvitationRequest,
    meta: &RequestMeta,
) -> ApiResult<InvitationWithToken> {
    let settings = settings::current(state).await?;
    let new = rules::parse_create(body, &settings).map_err(ApiError::fields)?;
    rules::authorize_create(principal, &new)?;
    ratelimit::take_invitation(state, &principal.actor().id).await?;
    let inviter = Inviter::of(principal, &settings);
    let st = state.clone();
    let meta = meta.clone();
    let email = match &new.binding {
        rules::Binding::Email(e) => Some(e.as_str().to_string()),
        _ => None,
    };
    let result = state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |conn| {
                rules::create_in_tx(conn, &st, &inviter, &new, false, &meta)
            })
            .and_then(|(row, token)| {
                Ok(rules::with_token(conn, &st, &row, token, storage::now())?)
            }))
        })
        .await?;
    match result {
        Ok(created) => {
            state.outbox_wakeup.notify_one();
            state
                .metrics
                .events
                .with_label_values(&["invitation.created", "success"])
                .inc();
            Ok(created)
        }
        Err(CreateError::InvitationPending(None)) => {
            let email = email.unwrap_or_default();
            let id = state
                .db(move |conn| {
                    Ok(invitations::find_pending_for_email(
                        conn,
                        &email,
                        storage::now(),
                    )?)
                })
                .await?
                .map(|r| r.id);
            Err(CreateError::InvitationPending(id).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// A page of invitations as [`list`] found them.
pub struct Listed {
    /// The rows, one more than the page when there is a next page.
    pub rows: Vec<InvitationRow>,
    names: HashMap<String, Option<String>>,
    organizations: HashMap<String, OrganizationRow>,
    now: chrono::NaiveDateTime,
}

impl Listed {
    /// The API object of `row`, with its inviter's name and its organisation.
    pub fn view(&self, row: &InvitationRow) -> Invitation {
        let org = row
            .organization_id
            .as_ref()
            .and_then(|id| self.organizations.get(id));
        Invitation {
            inviter_name: self.names.get(&row.inviter_id).cloned().flatten(),
            ..row.to_api_in(self.now, org)
        }
    }
}

/// The API object of one invitation, naming its organisation.
pub async fn view(state: &AppState, row: InvitationRow) -> ApiResult<Invitation> {
    state
        .db(move |conn| {
            let org = invitations::organization_of(conn, &row)?;
            Ok(row.to_api_in(storage::now(), org.as_ref()))
        })
        .await
}

/// One page of invitations, newest first, with each inviter's display name and organisation;
/// callers without `invitations:read` see only their own. Errors: 403 `forbidden` for a key
/// without the scope.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    mut filter: ListFilter,
    page: &crate::paging::PageRequest,
) -> ApiResult<Listed> {
    filter.email = filter
        .email
        .filter(|e| !e.is_empty())
        .map(|e| e.chars().take(254).collect());
    if !principal.has_scope(Scope::InvitationsRead) {
        match principal.user() {
            Some(user) => filter.inviter_id = Some(user.id.clone()),
            None => return Err(ApiError::new(ErrorCode::Forbidden)),
        }
    }
    list_filtered(state, filter, page).await
}

/// [`list`] for a caller who may read every invitation (the operators' command line).
pub async fn list_filtered(
    state: &AppState,
    filter: ListFilter,
    page: &crate::paging::PageRequest,
) -> ApiResult<Listed> {
    let now = storage::now();
    let p = page.clone();
    state
        .db(move |conn| {
            let rows = invitations::list(conn, &filter, now, p.limit, p.after_id.as_deref())?;
            let mut names = HashMap::new();
            let mut organizations = HashMap::new();
            for r in &rows {
                if !names.contains_key(&r.inviter_id) {
                    names.insert(
                        r.inviter_id.clone(),
                        rules::inviter_name(conn, &r.inviter())?,
                    );
                }
                if let Some(id) = &r.organization_id
                    && !organizations.contains_key(id)
                    && let Some(org) = invitations::organization_of(conn, r)?
                {
                    organizations.insert(id.clone(), org);
                }
            }
            Ok(Listed {
                rows,
                names,
                organizations,
                now,
            })
        })
        .await
}

/// The invitation `id` if `principal` may manage it with `scope`; 404 `not_found` otherwise,
/// so invitations of others are not revealed.
pub async fn load_managed(
    state: &AppState,
    principal: &Principal,
    id: String,
    scope: Scope,
) -> ApiResult<InvitationRow> {
    let row = state
        .db(move |conn| Ok(invitations::find(conn, &id)?))
        .await?;
    match row {
        Some(r) if rules::may_manage(principal, &r, scope) => Ok(r),
        _ => Err(ApiError::new(ErrorCode::NotFound)),
    }
}

/// Revokes a pending invitation; revoking a revoked one changes nothing. Errors: 404
/// `not_found`, 409 `invitation_not_pending`.
pub async fn revoke(
    state: &AppState,
    principal: &Principal,
    id: String,
    meta: &RequestMeta,
) -> ApiResult<InvitationRow> {
    let row = load_managed(state, principal, id, Scope::InvitationsWrite).await?;
    revoke_as(state, row.id, principal.actor(), meta).await
}

/// [`revoke`] for an `actor` who may manage every invitation (the operators' command line).
/// Errors: 404 `not_found`, 409 `invitation_not_pending`.
pub async fn revoke_as(
    state: &AppState,
    id: String,
    actor: ActorRef,
    meta: &RequestMeta,
) -> ApiResult<InvitationRow> {
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let current = invitations::find(conn, &id)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                match current.state(now) {
                    InvitationState::Revoked => return Ok(current),
                    InvitationState::Pending => {}
                    _ => return Err(ApiError::new(ErrorCode::InvitationNotPending)),
                }
                if !invitations::revoke(conn, &current.id, now)? {
                    return Err(ApiError::new(ErrorCode::InvitationNotPending));
                }
                AuditEntry::success(AuditAction::InvitationRevoked)
                    .actor(Some(actor))
                    .target("invitation", current.id.clone())
                    .write(conn, &meta)?;
                Ok(invitations::find(conn, &current.id)?.unwrap_or(current))
            })
        })
        .await
}

/// Issues a new token for a pending (or expired) invitation and restarts its expiry (`days`, 1
/// to 365, default the settings'); the old token and the email verifications started with it
/// stop working at once (Mattermost #8235). Errors: 422 `expires_in_days` `out_of_range`, 403
/// `forbidden` (an `admin` invitation needs an admin) / `invite_quota_exceeded` (reviving an
/// expired member's invitation), 404, 409 `invitation_not_pending` / `invitation_pending`,
/// 429 `rate_limited`.
pub async fn resend(
    state: &Arc<AppState>,
    principal: &Principal,
    id: String,
    days: Option<i64>,
    meta: &RequestMeta,
) -> ApiResult<InvitationWithToken> {
    let settings = settings::current(state).await?;
    let days = match days {
        Some(d) if !(1..=MAX_EXPIRY_DAYS).contains(&d) => {
            return Err(ApiError::field("expires_in_days", FieldCode::OutOfRange));
        }
        Some(d) => d,
        None => settings.invite_link_expiry,
    };
    let row = load_managed(state, principal, id, Scope::InvitationsWrite).await?;
    if !principal.may_grant(row.role()) {
        return Err(rules::forbidden_role());
    }
    ratelimit::take_invitation(state, &principal.actor().id).await?;
    let actor = principal.actor();
    let inviter_name = match principal.user() {
        Some(u) => u.shown_name(),
        None => "The administrator".to_string(),
    };
    let st = state.clone();
    let meta = meta.clone();
    let result = state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let current = invitations::find(conn, &row.id)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                match current.state(now) {
                    InvitationState::Revoked | InvitationState::Declined | InvitationState::Accepted => {
                        return Err(ApiError::new(ErrorCode::InvitationNotPending));
                    }
                    // Reviving an expired invitation takes a place in its member's quota again.
                    InvitationState::Expired => {
                        lifecycle::check_revival_quota(conn, &current, &settings, now)?
                    }
                    InvitationState::Pending => {}
                }
                let token = st.keys.issue(Purpose::Invitation);
                let expires_at = now + chrono::Duration::days(days);
                if let Some(e) = &current.email {
                    invitations::release_expired_reservation(conn, e, now)?;
                }
                let registered = match &current.email {
                    Some(e) => storage::users::email_exists(conn, e)?,
                    None => false,
                };
                let replace = |conn: &mut storage::DbConn, reserve: Option<&str>| {
                    crate::storage::savepoint(conn, |conn| {
                        invitations::replace_token(
                            conn,
                            &current.id,
                            &hash_token(&token),
                            expires_at,
                            reserve,
                        )
                    })
                };
                // A member's invitation never reveals, by a 409, that someone else holds the
                // address: it goes without the reservation, as when it was created.
                let concealed = current.email_proof_required;
                let reserve = current.email.as_deref().filter(|_| !(concealed && registered));
                let replaced = match replace(conn, reserve) {
                    Err(e) if storage::is_unique_violation(&e) && concealed => replace(conn, None),
                    other => other,
                };
                match replaced {
                    Ok(true) => {}
                    Ok(false) => return Err(ApiError::new(ErrorCode::InvitationNotPending)),
                    Err(e) if storage::is_unique_violation(&e) => {
                        return Err(ApiError::new(ErrorCode::InvitationPending));
                    }
                    Err(e) => return Err(e.into()),
                }
                // Registrations started with the old token wait on it no longer.
                let cancelled = storage::verifications::cancel_for_invitation(conn, &current.id, now)?;
                let updated = invitations::find(conn, &current.id)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                AuditEntry::success(AuditAction::InvitationResent)
                    .actor(Some(actor))
                    .target("invitation", updated.id.clone())
                    .details(serde_json::json!({"expires_at": utc(updated.expires_at), "verifications_cancelled": cancelled}))
                    .write(conn, &meta)?;
                if let Some(e) = &updated.email
                    && ratelimit::email_budget(conn, &st, e, ratelimit::EmailClass::Invitation)?
                {
                    let message = if registered {
                        st.templates.existing_account(e, &st.login_link(e))
                    } else {
                        st.templates.invitation(
                            e,
                            &inviter_name,
                            &st.link("/invite", &token),
                            utc(updated.expires_at),
                            updated.note.as_deref(),
                        )
                    };
                    crate::mail::enqueue(conn, &message.for_invitation(&updated.id))?;
                }
                Ok(rules::with_token(conn, &st, &updated, token, now)?)
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(result)
}

pub use super::system::{AdminInvitation, admin_invitation};
