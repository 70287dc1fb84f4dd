//! Organisation endpoints: create, list, get, update, members, change a member's role, remove
//! a member (or leave). Non-members get 404 for an organisation.

pub mod acceptance;
pub mod proof;
pub mod service;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::{Json, RequestMeta};
use crate::paging::PageRequest;
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use invitegate_core::ErrorCode;
use invitegate_core::api::{
    AcceptInvitationRequest, CreateOrganizationRequest, Invitation, MemberListQuery, Membership,
    Organization, OrganizationListQuery, Page, Problem, StatusResponse, UpdateMembershipRequest,
    UpdateOrganizationRequest,
};
use service::MemberChange;

/// Creates an organisation; when a user creates it, they become its owner.
#[utoipa::path(
    operation_id = "createOrganization",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, description = "Created", body = Organization),
        (status = 403, description = "Needs an administrator or `organizations:write`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`name` or `slug`: `invalid`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<CreateOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    let org = service::create(&state, &principal, body.into_inner(), &meta).await?;
    Ok(HttpResponse::Created().json(org))
}

/// Lists organisations, newest first: all of them for administrators and keys with
/// `organizations:read`, the caller's own for everyone else.
#[utoipa::path(
    operation_id = "listOrganizations",
    tag = "organizations",
    security(("bearer" = ["organizations:read"])),
    params(OrganizationListQuery),
    responses(
        (status = 200, description = "A page of organisations", body = Page<Organization>),
        (status = 403, description = "An API key without `organizations:read`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<OrganizationListQuery>,
) -> ApiResult<web::Json<Page<Organization>>> {
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = service::list(&state, &principal, q.q, &page).await?;
    Ok(web::Json(page.page(rows, |o| &o.id, Clone::clone)))
}

/// One organisation, for its members and administrators.
#[utoipa::path(
    operation_id = "getOrganization",
    tag = "organizations",
    security(("bearer" = ["organizations:read"])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = Organization),
        (status = 404, description = "`not_found`, also for non-members", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<Organization>> {
    Ok(web::Json(
        service::get(&state, &principal, id.into_inner()).await?,
    ))
}

/// Renames an organisation or changes whether its members may invite; for its owners and
/// admins and instance administrators.
#[utoipa::path(
    operation_id = "updateOrganization",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    params(("id" = String, Path, description = "Organisation id")),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, description = "The organisation after the change", body = Organization),
        (status = 403, description = "Members may not change it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`, also for non-members", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`name`: `invalid`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<UpdateOrganizationRequest>,
) -> ApiResult<web::Json<Organization>> {
    let org = service::update(
        &state,
        &principal,
        id.into_inner(),
        body.into_inner(),
        &meta,
    )
    .await?;
    Ok(web::Json(org))
}

/// An organisation's members, with their roles.
#[utoipa::path(
    operation_id = "listOrganizationMembers",
    tag = "organizations",
    security(("bearer" = ["organizations:read"])),
    params(("id" = String, Path, description = "Organisation id"), MemberListQuery),
    responses(
        (status = 200, description = "A page of memberships", body = Page<Membership>),
        (status = 404, description = "`not_found`, also for non-members", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/members")]
pub async fn members(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    query: web::Query<MemberListQuery>,
) -> ApiResult<web::Json<Page<Membership>>> {
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = service::members(&state, &principal, id.into_inner(), &page).await?;
    Ok(web::Json(page.page(rows, |m| &m.user.id, Clone::clone)))
}

/// Changes a member's role. Owners and admins change members' roles; only owners (and
/// instance administrators) make or unmake owners; the last owner cannot be demoted.
#[utoipa::path(
    operation_id = "updateOrganizationMember",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    params(("id" = String, Path, description = "Organisation id"), ("user_id" = String, Path, description = "Member's user id")),
    request_body = UpdateMembershipRequest,
    responses(
        (status = 200, description = "The membership after the change", body = Membership),
        (status = 403, description = "`forbidden`: members, or admins touching owners", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_owner`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizations/{id}/members/{user_id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: Json<UpdateMembershipRequest>,
) -> ApiResult<web::Json<Membership>> {
    let (org, user) = path.into_inner();
    let change = MemberChange::Role(body.role);
    let m = service::change_member(&state, &principal, org, user, change, &meta).await?;
    Ok(web::Json(
        m.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?,
    ))
}

/// Removes a member, or leaves (a member removing themselves). The last owner cannot leave.
#[utoipa::path(
    operation_id = "removeOrganizationMember",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    params(("id" = String, Path, description = "Organisation id"), ("user_id" = String, Path, description = "Member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`forbidden`: members removing others, or admins removing owners", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_owner`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (org, user) = path.into_inner();
    service::change_member(&state, &principal, org, user, MemberChange::Remove, &meta).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The pending organisation invitations addressed to the signed-in account's email.
#[utoipa::path(
    operation_id = "listMyInvitations",
    tag = "organizations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pending invitations, newest first (at most 100)", body = Vec<Invitation>),
        (status = 403, description = "API keys have no account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/invitations")]
pub async fn my_invitations(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<Vec<Invitation>>> {
    Ok(web::Json(acceptance::mine(&state, &principal).await?))
}

/// Accepts, signed in, an organisation invitation: by id, one addressed to the account; by the
/// token of its link, one addressed to the account's email, to its domain, or to anyone; by the
/// token of a proof-of-ownership link, the one that link was sent for. The invitation is used
/// and the membership made in one transaction. A link's token for an invitation bound to
/// another address answers 202 and emails that address a proof-of-ownership link (seed 003),
/// which only the same signed-in account can complete.
#[utoipa::path(
    operation_id = "acceptInvitation",
    tag = "organizations",
    security(("bearer" = [])),
    request_body = AcceptInvitationRequest,
    responses(
        (status = 200, description = "The new membership", body = Membership),
        (status = 202, description = "`verification_pending`: the invitation names another address; a link to complete the acceptance went there", body = StatusResponse),
        (status = 400, description = "`invalid_invitation`: the token is malformed, forged or unknown; `invalid_token`: the same for a proof-of-ownership link, or it was used", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`email_mismatch`: a domain invitation for another domain; `forbidden`: another account asked for this proof-of-ownership link, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such invitation addressed to this account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_member`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`, `invitation_revoked`, `invitation_declined`, `invitation_used`, or `token_expired` (the proof-of-ownership link)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of `invitation_id`, `token` and `verification_token`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many failed tokens from this client", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<AcceptInvitationRequest>,
) -> ApiResult<HttpResponse> {
    let which = acceptance::Which::parse(body.into_inner())?;
    Ok(
        match acceptance::accept(&state.into_inner(), &principal, which, &meta).await? {
            acceptance::Accepted::Member(m) => HttpResponse::Ok().json(m),
            acceptance::Accepted::ProofSent => HttpResponse::Accepted().json(StatusResponse {
                status: "verification_pending".into(),
            }),
        },
    )
}

/// Declines an invitation addressed to the signed-in account: its link stops working at once,
/// and it no longer counts against its inviter's quota.
#[utoipa::path(
    operation_id = "declineInvitation",
    tag = "organizations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "The invitation, now `declined`", body = Invitation),
        (status = 403, description = "API keys have no account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such invitation addressed to this account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/invitations/{id}/decline")]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<web::Json<Invitation>> {
    let inv = acceptance::decline(&state, &principal, id.into_inner(), &meta).await?;
    Ok(web::Json(inv))
}
