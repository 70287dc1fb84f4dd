//! The signed-in person's own account: password, sessions, data export, deletion
//! (`/api/v1/me/...`). Sessions only: an API key has no account of its own.

pub mod service;

use crate::auth::Principal;
use crate::auth::session;
use crate::error::ApiResult;
use crate::http::{Json, RequestMeta};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use invitegate_core::api::{
    AccountExport, ChangePasswordRequest, DeleteAccountRequest, Problem, SessionInfo,
    SessionResponse,
};

/// Changes the password. Every session ends, this one included, and a new one starts (a new
/// access token and refresh cookie); pending password-reset links stop working.
#[utoipa::path(
    operation_id = "changePassword",
    tag = "account",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; the new session (sets a new refresh cookie)", body = SessionResponse),
        (status = 401, description = "`invalid_credentials` (wrong current password) or no valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`new_password`: `too_short`, `too_long`, `too_common`, `contains_email`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (wrong passwords count like failed sign-ins, per client and per account)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let (user, _) = principal.require_session()?;
    let started = service::change_password(&state, &meta, user, body.into_inner()).await?;
    Ok(started.respond(&state))
}

/// The caller's live sessions, newest first; `current` marks the one making the request.
#[utoipa::path(
    operation_id = "listMySessions",
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Live sessions", body = Vec<SessionInfo>),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no sessions", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<Vec<SessionInfo>>> {
    let (user, sid) = principal.require_session()?;
    Ok(web::Json(service::list_sessions(&state, user, sid).await?))
}

/// Ends one of the caller's sessions: its access and refresh tokens stop working, and the
/// OpenID Connect grants made in it end.
#[utoipa::path(
    operation_id = "endMySession",
    tag = "account",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no sessions", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no live session of yours has this id", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/me/sessions/{id}")]
pub async fn end_session(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let (user, _) = principal.require_session()?;
    service::end_session(&state, &meta, user, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Everything Invitegate holds about the caller, as a JSON download: the account, memberships,
/// sessions, invitations sent and received, audit events (GDPR articles 15 and 20).
#[utoipa::path(
    operation_id = "exportMyData",
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The export (`Content-Disposition: attachment`)", body = AccountExport),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/export")]
pub async fn export(state: web::Data<AppState>, principal: Principal) -> ApiResult<HttpResponse> {
    let (user, _) = principal.require_session()?;
    let export = service::export(&state, user).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"invitegate-export.json\"",
        ))
        .json(export))
}

/// Deletes the caller's account, after the password: as `DELETE /users/{id}` (sessions end,
/// pending invitations and created API keys are revoked, audit events keep only the id).
#[utoipa::path(
    operation_id = "deleteMyAccount",
    tag = "account",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted; the refresh cookie is cleared"),
        (status = 401, description = "`invalid_credentials` or no valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_admin`; `last_owner` of an organisation with other members", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[delete("/me")]
pub async fn delete_account(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<DeleteAccountRequest>,
) -> ApiResult<HttpResponse> {
    let (user, _) = principal.require_session()?;
    service::delete(&state, &meta, user, body.into_inner().password).await?;
    Ok(HttpResponse::NoContent()
        .cookie(session::clear_cookie(&state))
        .finish())
}
