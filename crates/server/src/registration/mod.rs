//! Registration endpoints: register, confirm an email verification, resend its link. The rules
//! are in [`service`]; see its docs.

mod accounts;
pub mod group_commit;
pub(crate) mod rules;
#[cfg(test)]
mod rules_tests;
pub mod service;

use crate::auth::session::{self, SignedIn};
use crate::error::ApiResult;
use crate::http::Json;
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::UserRow;
use actix_web::{HttpResponse, post, web};
use invitegate_core::api::{
    ConfirmEmailRequest, Problem, RegisterRequest, ResendVerificationRequest, SessionResponse,
    StatusResponse,
};
use service::RegisterOutcome;

/// Creates an account (201, signed in) or starts email verification (202): an email-bound
/// invitation whose token only its invitee or a trusted inviter held signs in at once; domain,
/// open and allowlist registrations (and those of a member's invitation) first prove the
/// address by email, and the password is chosen on the emailed link's page. An address that
/// already has an account gets the same 202 and an email saying so.
#[utoipa::path(
    operation_id = "register",
    tag = "registration",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in (email-bound invitation); sets the refresh cookie", body = SessionResponse),
        (status = 202, description = "`verification_pending`: check your email (also when the address already has an account)", body = StatusResponse),
        (status = 400, description = "`invalid_invitation`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`invitation_required`, `signup_closed` or `email_mismatch`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`, `invitation_revoked` or `invitation_used`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field errors: `email`: `invalid`; `password`: `too_short`, `too_long`, `too_common`, `contains_email`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/register")]
pub async fn register(
    state: web::Data<AppState>,
    group: web::Data<group_commit::GroupCommit>,
    meta: RequestMeta,
    body: Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let result = service::register(&state, &group, &meta, body.into_inner()).await?;
    match result {
        RegisterOutcome::SignedIn(user, sid, refresh) => {
            Ok(account_created(&state, &user, &sid, &refresh))
        }
        RegisterOutcome::VerificationSent | RegisterOutcome::ExistingAccount => {
            state.outbox_wakeup.notify_one();
            Ok(HttpResponse::Accepted().json(StatusResponse {
                status: "verification_pending".into(),
            }))
        }
    }
}

// Pre-hijacking (security.md): the password is never taken before the address is proven.
/// Completes a registration whose email had to be proven: whoever holds the emailed link
/// chooses the password here, on an explicit submit; the account is created, the invitation
/// (if any) redeemed and the session started in one transaction. A missing or weak password
/// creates nothing and leaves the link usable.
#[utoipa::path(
    operation_id = "confirmEmailVerification",
    tag = "registration",
    request_body = ConfirmEmailRequest,
    responses(
        (status = 201, description = "Account created and signed in; sets the refresh cookie", body = SessionResponse),
        (status = 400, description = "`invalid_token`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`signup_closed` or `invitation_required` (settings changed since)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_registered`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`token_expired`, or the invitation can no longer be used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Field errors: `password`: `required`, `too_short`, `too_long`, `too_common`, `contains_email`; `display_name`: `too_long`, `invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/email-verifications/confirm")]
pub async fn confirm_email(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<ConfirmEmailRequest>,
) -> ApiResult<HttpResponse> {
    let (user, sid, refresh) = service::confirm(&state, &meta, body.into_inner()).await?;
    Ok(account_created(&state, &user, &sid, &refresh))
}

/// 201 with the session body and refresh cookie of a new account.
fn account_created(state: &AppState, user: &UserRow, sid: &str, refresh: &str) -> HttpResponse {
    state
        .metrics
        .events
        .with_label_values(&["registration.succeeded", "success"])
        .inc();
    let SignedIn { body, cookie } = session::signed_in(state, user, sid, refresh);
    HttpResponse::Created().cookie(cookie).json(body)
}

/// Sends the verification link of a pending registration again, with a new token (the old
/// link stops working). Always 202 with the same body, whether or not such a registration
/// exists, so it reveals nothing about accounts.
#[utoipa::path(
    operation_id = "resendEmailVerification",
    tag = "registration",
    request_body = ResendVerificationRequest,
    responses(
        (status = 202, description = "`accepted`, whether or not a registration is pending", body = StatusResponse),
        (status = 422, description = "`email`: `invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (per IP and per address)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/email-verifications/resend")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<ResendVerificationRequest>,
) -> ApiResult<HttpResponse> {
    service::resend_verification(&state, &meta, &body.email).await?;
    Ok(HttpResponse::Accepted().json(StatusResponse {
        status: "accepted".into(),
    }))
}
