//! Invitation endpoints: verify, create, bulk create, list, get, revoke, resend.

mod batch;
pub mod bulk;
mod creation;
pub mod lifecycle;
pub mod redemption;
pub mod rules;
#[cfg(test)]
mod rules_tests;
pub mod service;
mod system;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, OptionalJson, RequestMeta};
use crate::paging::PageRequest;
use crate::state::AppState;
use crate::storage::invitations::ListFilter;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use invitegate_core::api::{
    BulkCreateRequest, BulkCreateResponse, CreateInvitationRequest, Invitation,
    InvitationListQuery, InvitationWithToken, Page, Problem, RedeemInvitationRequest,
    RedeemInvitationResponse, ResendInvitationRequest, TokenRequest, VerifyInvitationResponse,
};
use invitegate_core::model::Scope;

// Mail scanners open links (supabase/auth #368).
/// Checks an invitation token and shows what it grants. Never consumes it, so a mail scanner
/// that opens the link does not use the invitation up.
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
    let preview = service::verify(&state, &meta, &body.token).await?;
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
        (status = 404, description = "`not_found`: no such organisation, or the inviter does not belong to it", body = Problem, content_type = "application/problem+json"),
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
    let created = service::create(&state, &principal, &body, &meta).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Creates up to 10,000 invitations with a result per row; `dry_run` reports without creating.
#[utoipa::path(
    operation_id = "bulkCreateInvitations",
    tag = "invitations",
    security(("bearer" = ["invitations:write"])),
    request_body = BulkCreateRequest,
    responses(
        (status = 200, description = "A result per row and a summary", body = BulkCreateResponse),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `invitations:write`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 10,000 rows, or an empty list", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/bulk")]
pub async fn bulk_create(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<web::Json<BulkCreateResponse>> {
    principal.require(Scope::InvitationsWrite)?;
    let body: BulkCreateRequest =
        crate::http::json::read_json(&req, payload, bulk::BULK_LIMIT).await?;
    Ok(web::Json(
        bulk::create_all(&state, &principal, body, &meta).await?,
    ))
}

/// Lists invitations, newest first. Members see only their own.
#[utoipa::path(
    operation_id = "listInvitations",
    tag = "invitations",
    security(("bearer" = ["invitations:read"])),
    params(InvitationListQuery),
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
    query: web::Query<InvitationListQuery>,
) -> ApiResult<web::Json<Page<Invitation>>> {
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = ListFilter {
        state: q.state,
        email: q.email,
        inviter_id: q.inviter_id,
        organization_id: q.organization_id,
    };
    let mut listed = service::list(&state, &principal, filter, &page).await?;
    let rows = std::mem::take(&mut listed.rows);
    Ok(web::Json(page.page(rows, |r| &r.id, |r| listed.view(r))))
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
    let row =
        service::load_managed(&state, &principal, id.into_inner(), Scope::InvitationsRead).await?;
    Ok(web::Json(service::view(&state, row).await?))
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
    let updated = service::revoke(&state, &principal, id.into_inner(), &meta).await?;
    Ok(web::Json(service::view(&state, updated).await?))
}

// The old token must die at once (Mattermost #8235).
/// Issues a new token for a pending (or expired) invitation and restarts its expiry; the old
/// token stops working at once, and so do the email verifications started with it. Reviving an expired member's invitation needs room in their quota (403
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
    let days = body.0.and_then(|b| b.expires_in_days);
    let result = service::resend(&state, &principal, id.into_inner(), days, &meta).await?;
    Ok(web::Json(result))
}

/// Uses one use of an invitation in a host app's own sign-up, for apps that keep their own
/// accounts: verified and used atomically like a registration (of N concurrent calls with a
/// single-use token, one succeeds), audited as `invitation.redeemed` with `"headless": true`,
/// without an Invitegate account.
#[utoipa::path(
    operation_id = "redeemInvitation",
    tag = "invitations",
    security(("bearer" = ["invitations:redeem"])),
    request_body = RedeemInvitationRequest,
    responses(
        (status = 200, description = "Used: the invitation after the use and the redemption", body = RedeemInvitationResponse),
        (status = 400, description = "`invalid_invitation`: malformed, forged or unknown (one response for all)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`email_mismatch`: an email-bound or domain invitation for another address; `forbidden`: no `invitations:redeem`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`, `invitation_revoked`, `invitation_declined` or `invitation_used`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`email` or `external_id`: `invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many failed tokens from this client", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/invitations/redeem")]
pub async fn redeem(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<RedeemInvitationRequest>,
) -> ApiResult<web::Json<RedeemInvitationResponse>> {
    Ok(web::Json(
        redemption::redeem(&state, &principal, body.into_inner(), &meta).await?,
    ))
}
