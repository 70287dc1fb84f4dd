//! Invitation endpoints: verify, create, bulk create, list, get, revoke, resend.

pub mod bulk;
pub mod lifecycle;
#[cfg(test)]
mod rules_tests;
pub mod service;

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, OptionalJson};
use crate::paging::PageRequest;
use crate::ratelimit::{self, ClientLimit};
use crate::settings;
use crate::state::AppState;
use crate::storage::models::utc;
use crate::storage::{self, invitations, invitations::ListFilter};
use crate::tokens::{Purpose, hash_token};
use actix_web::{HttpResponse, get, post, web};
use diesel::Connection;
use invitegate_core::ErrorCode;
use invitegate_core::api::{
    CreateInvitationRequest, Invitation, InvitationWithToken, MAX_EXPIRY_DAYS, Page, Problem,
    ResendInvitationRequest, TokenRequest, VerifyInvitationResponse,
};
use invitegate_core::model::{AuditAction, InvitationState, Scope};
use serde::Deserialize;
use service::{CreateError, Inviter};
use utoipa::IntoParams;

/// Checks an invitation token and shows what it grants. Never consumes it: mail scanners open
/// links (supabase/auth #368).
#[utoipa::path(
    operation_id = "verifyInvitation",
    tag = "invitations",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The token is valid", body = VerifyInvitationResponse),
        (status = 400, description = "`invalid_invitation`: malformed, forged or unknown (one response for all)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`, `invitation_revoked` or `invitation_used`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/invitations/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<TokenRequest>,
) -> ApiResult<web::Json<VerifyInvitationResponse>> {
    let row = (state.limits)
        .guarded(
            &state,
            ClientLimit::VerifyFailures,
            &meta,
            service::resolve_token(&state, &body.token),
            |e| {
                let entry = AuditEntry::failure(AuditAction::InvitationVerified)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidInvitation)
            },
        )
        .await?;
    let preview = state
        .db(move |conn| {
            let preview = service::preview(conn, &row)?;
            AuditEntry::success(AuditAction::InvitationVerified)
                .target("invitation", row.id.clone())
                .write(conn, &meta)?;
            Ok(preview)
        })
        .await?;
    Ok(web::Json(VerifyInvitationResponse {
        invitation: preview,
    }))
}

/// Creates an invitation and returns its token and link (shown only here).
#[utoipa::path(
    operation_id = "createInvitation",
    tag = "invitations",
    security(("bearer" = ["invitations:write"])),
    request_body = CreateInvitationRequest,
    responses(
        (status = 201, description = "Created", body = InvitationWithToken),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden` or `invite_quota_exceeded`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_registered`, or `invitation_pending` with `invitation_id`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/invitations")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<CreateInvitationRequest>,
) -> ApiResult<HttpResponse> {
    let settings = settings::current(&state).await?;
    let new = service::parse_create(&body, &settings).map_err(ApiError::fields)?;
    service::authorize_create(&principal, &new)?;
    ratelimit::take_invitation(&state, &principal.actor().id).await?;
    let inviter = Inviter::of(&principal, &settings);
    let st = state.clone().into_inner();
    let email = match &new.binding {
        service::Binding::Email(e) => Some(e.as_str().to_string()),
        _ => None,
    };
    let result = state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |conn| {
                service::create_in_tx(conn, &st, &inviter, &new, false, &meta)
            })
            .map(|(row, token)| service::with_token(&st, &row, token, storage::now())))
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
            Ok(HttpResponse::Created().json(created))
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

/// Query of `GET /invitations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only invitations in this state.
    pub state: Option<InvitationState>,
    /// Email or domain contains this text.
    pub email: Option<String>,
    /// Only invitations issued by this actor id.
    pub inviter_id: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists invitations, newest first. Members see only their own.
#[utoipa::path(
    operation_id = "listInvitations",
    tag = "invitations",
    security(("bearer" = ["invitations:read"])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of invitations", body = Page<Invitation>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API key without `invitations:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/invitations")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<ListQuery>,
) -> ApiResult<web::Json<Page<Invitation>>> {
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut filter = ListFilter {
        state: q.state,
        email: q
            .email
            .filter(|e| !e.is_empty())
            .map(|e| e.chars().take(254).collect()),
        inviter_id: q.inviter_id,
    };
    if !principal.has_scope(Scope::InvitationsRead) {
        match principal.user() {
            Some(user) => filter.inviter_id = Some(user.id.clone()),
            None => return Err(ApiError::new(ErrorCode::Forbidden)),
        }
    }
    let now = storage::now();
    let p = page.clone();
    let rows = state
        .db(move |conn| {
            let rows = invitations::list(conn, &filter, now, p.limit, p.after_id.as_deref())?;
            let mut names = std::collections::HashMap::new();
            for r in &rows {
                if !names.contains_key(&r.inviter_id) {
                    names.insert(
                        r.inviter_id.clone(),
                        service::inviter_name(conn, &r.inviter())?,
                    );
                }
            }
            Ok((rows, names))
        })
        .await?;
    let (rows, names) = rows;
    Ok(web::Json(page.page(
        rows,
        |r| &r.id,
        |r| Invitation {
            inviter_name: names.get(&r.inviter_id).cloned().flatten(),
            ..r.to_api(now)
        },
    )))
}

async fn load_managed(
    state: &AppState,
    principal: &Principal,
    id: String,
    scope: Scope,
) -> ApiResult<storage::models::InvitationRow> {
    let row = state
        .db(move |conn| Ok(invitations::find(conn, &id)?))
        .await?;
    match row {
        Some(r) if service::may_manage(principal, &r, scope) => Ok(r),
        _ => Err(ApiError::new(ErrorCode::NotFound)),
    }
}

/// One invitation.
#[utoipa::path(
    operation_id = "getInvitation",
    tag = "invitations",
    security(("bearer" = ["invitations:read"])),
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "The invitation", body = Invitation),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found` (or not yours)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/invitations/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<Invitation>> {
    let row = load_managed(&state, &principal, id.into_inner(), Scope::InvitationsRead).await?;
    Ok(web::Json(row.to_api(storage::now())))
}

/// Revokes a pending invitation: its token stops working at once. Revoking a revoked
/// invitation is a no-op.
#[utoipa::path(
    operation_id = "revokeInvitation",
    tag = "invitations",
    security(("bearer" = ["invitations:write"])),
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "Revoked", body = Invitation),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending` (accepted or expired)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<web::Json<Invitation>> {
    let row = load_managed(&state, &principal, id.into_inner(), Scope::InvitationsWrite).await?;
    let actor = principal.actor();
    let updated = state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let current = invitations::find(conn, &row.id)?
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
        .await?;
    Ok(web::Json(updated.to_api(storage::now())))
}

/// Issues a new token for a pending (or expired) invitation and restarts its expiry; the old
/// token stops working at once (Mattermost #8235), and so do the email verifications started
/// with it. Reviving an expired member's invitation needs room in their quota (403
/// `invite_quota_exceeded`); an `admin` invitation needs an admin (403 `forbidden`).
#[utoipa::path(
    operation_id = "resendInvitation",
    tag = "invitations",
    security(("bearer" = ["invitations:write"])),
    params(("id" = String, Path, description = "Invitation id")),
    request_body(content = Option<ResendInvitationRequest>, description = "Optional new lifetime"),
    responses(
        (status = 200, description = "New token and link", body = InvitationWithToken),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden` (an `admin` invitation and no admin) or `invite_quota_exceeded` (an expired invitation and a full quota)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending` (accepted or revoked), or `invitation_pending` (another live invitation holds the address)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: OptionalJson<ResendInvitationRequest>,
) -> ApiResult<web::Json<InvitationWithToken>> {
    let settings = settings::current(&state).await?;
    let days = match body.0.and_then(|b| b.expires_in_days) {
        Some(d) if !(1..=MAX_EXPIRY_DAYS).contains(&d) => {
            return Err(ApiError::field("expires_in_days", "out_of_range"));
        }
        Some(d) => d,
        None => settings.invite_link_expiry,
    };
    let row = load_managed(&state, &principal, id.into_inner(), Scope::InvitationsWrite).await?;
    if !principal.may_grant(row.role()) {
        return Err(service::forbidden_role());
    }
    ratelimit::take_invitation(&state, &principal.actor().id).await?;
    let actor = principal.actor();
    let inviter_name = match principal.user() {
        Some(u) => u.shown_name(),
        None => "The administrator".to_string(),
    };
    let st = state.clone().into_inner();
    let result = state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let current = invitations::find(conn, &row.id)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                match current.state(now) {
                    InvitationState::Revoked | InvitationState::Accepted => {
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
                    conn.transaction(|conn| {
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
                    crate::mail::enqueue(conn, &message)?;
                }
                Ok(service::with_token(&st, &updated, token, now))
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(web::Json(result))
}
