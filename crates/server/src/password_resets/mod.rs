//! Password resets: `POST /password-resets` always answers 202 with the same body and the same
//! work (one transaction) whether or not the account exists (ASVS 6.3.8); existing accounts get
//! a single-use, short-lived link by email. Confirming sets the password under the sign-up
//! policy, ends every other session (ASVS 7.4.3) and signs in.

pub mod service;

use crate::error::ApiResult;
use crate::http::Json;
use crate::http::RequestMeta;
use crate::state::AppState;
use actix_web::{HttpResponse, post, web};
use invitegate_core::api::{
    PasswordResetConfirm, PasswordResetRequest, Problem, SessionResponse, StatusResponse,
};

/// Emails a reset link to the account, if there is one. Always 202.
#[utoipa::path(
    operation_id = "requestPasswordReset",
    tag = "sessions",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "`accepted`, whether or not the account exists", body = StatusResponse),
        (status = 422, description = "`email`: `invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/password-resets")]
pub async fn request_reset(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetRequest>,
) -> ApiResult<HttpResponse> {
    service::request(&state.into_inner(), &meta, &body.email).await?;
    Ok(HttpResponse::Accepted().json(StatusResponse {
        status: "accepted".into(),
    }))
}

/// Sets a new password with a reset link's token, ends every other session, and signs in.
#[utoipa::path(
    operation_id = "confirmPasswordReset",
    tag = "sessions",
    request_body = PasswordResetConfirm,
    responses(
        (status = 200, description = "Password changed and signed in; sets the refresh cookie", body = SessionResponse),
        (status = 400, description = "`invalid_token` (malformed, forged, unknown or already used)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`token_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`password`: `too_short`, `too_long`, `too_common`, `contains_email`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/password-resets/confirm")]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetConfirm>,
) -> ApiResult<HttpResponse> {
    let started = service::confirm(&state, &meta, body.into_inner()).await?;
    Ok(started.respond(&state))
}
