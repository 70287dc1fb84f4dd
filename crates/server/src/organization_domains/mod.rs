//! Organisation domains (as WorkOS, Clerk, Logto and Keycloak offer them) and requests to join
//! through them: `invite_only` does nothing automatic, `suggest` shows matching accounts
//! "Join Acme?" and lets them ask, `auto_join` makes them members once their email is verified.

pub mod join_requests;
pub mod service;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, RequestMeta};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use invitegate_core::api::{
    AddDomainRequest, JoinRequest, Membership, Organization, OrganizationDomain, Problem,
};
use join_requests::{Decided, Decision};

/// Adds an email domain to an organisation, with what it does for accounts at it.
#[utoipa::path(
    operation_id = "addOrganizationDomain",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    params(("id" = String, Path, description = "Organisation id")),
    request_body = AddDomainRequest,
    responses(
        (status = 201, description = "Added", body = OrganizationDomain),
        (status = 403, description = "`forbidden`: only owners and instance administrators add domains", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`, also for non-members", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`domain_taken`: an organisation already has it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`domain`: `invalid` or `public_email_domain`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/domains")]
pub async fn add_domain(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<AddDomainRequest>,
) -> ApiResult<HttpResponse> {
    let d = service::add(
        &state,
        &principal,
        id.into_inner(),
        body.into_inner(),
        &meta,
    )
    .await?;
    Ok(HttpResponse::Created().json(d))
}

/// An organisation's email domains, alphabetically.
#[utoipa::path(
    operation_id = "listOrganizationDomains",
    tag = "organizations",
    security(("bearer" = ["organizations:read"])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Its domains", body = Vec<OrganizationDomain>),
        (status = 403, description = "`forbidden`: members who are not owners or admins", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`, also for non-members", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/domains")]
pub async fn list_domains(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<OrganizationDomain>>> {
    Ok(web::Json(
        service::list(&state, &principal, id.into_inner()).await?,
    ))
}

/// Removes an email domain from an organisation; memberships made through it stay.
#[utoipa::path(
    operation_id = "removeOrganizationDomain",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    params(("id" = String, Path, description = "Organisation id"), ("domain" = String, Path, description = "The domain")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`forbidden`: members who are not owners or admins", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such organisation, or it does not have this domain", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organizations/{id}/domains/{domain}")]
pub async fn remove_domain(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (org, domain) = path.into_inner();
    service::remove(&state, &principal, org, domain, &meta).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The organisations whose `suggest` domain matches the signed-in account's email and that it
/// does not belong to.
#[utoipa::path(
    operation_id = "listMySuggestions",
    tag = "organizations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Organisations the account may ask to join", body = Vec<Organization>),
        (status = 403, description = "API keys have no account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me/suggestions")]
pub async fn my_suggestions(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<Vec<Organization>>> {
    Ok(web::Json(service::suggestions(&state, &principal).await?))
}

/// Asks to join an organisation whose `suggest` domain matches the signed-in account's email;
/// an owner or admin decides. Asking again returns the pending request.
#[utoipa::path(
    operation_id = "createJoinRequest",
    tag = "organizations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 202, description = "The pending request", body = JoinRequest),
        (status = 403, description = "`forbidden`: no `suggest` domain of the organisation matches the account's email, or an API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_member`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/join-requests")]
pub async fn create_join_request(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let r = join_requests::create(&state, &principal, id.into_inner(), &meta).await?;
    Ok(HttpResponse::Accepted().json(r))
}

/// An organisation's pending join requests, newest first (at most 200).
#[utoipa::path(
    operation_id = "listJoinRequests",
    tag = "organizations",
    security(("bearer" = ["organizations:read"])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Pending requests", body = Vec<JoinRequest>),
        (status = 403, description = "`forbidden`: members who are not owners or admins", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`, also for non-members", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/join-requests")]
pub async fn list_join_requests(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<JoinRequest>>> {
    Ok(web::Json(
        join_requests::pending(&state, &principal, id.into_inner()).await?,
    ))
}

async fn decide(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    decision: Decision,
) -> ApiResult<HttpResponse> {
    let (org, rid) = path.into_inner();
    Ok(
        match join_requests::decide(&state, &principal, org, rid, decision, &meta).await? {
            Decided::Member(m) => HttpResponse::Ok().json(m),
            Decided::Rejected(r) => HttpResponse::Ok().json(r),
        },
    )
}

/// Approves a join request: the account becomes a `member`.
#[utoipa::path(
    operation_id = "approveJoinRequest",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    params(("id" = String, Path, description = "Organisation id"), ("rid" = String, Path, description = "Join request id")),
    responses(
        (status = 200, description = "The new membership", body = Membership),
        (status = 403, description = "`forbidden`: members who are not owners or admins", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`join_request_not_pending`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/join-requests/{rid}/approve")]
pub async fn approve_join_request(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    decide(state, principal, meta, path, Decision::Approve).await
}

/// Rejects a join request.
#[utoipa::path(
    operation_id = "rejectJoinRequest",
    tag = "organizations",
    security(("bearer" = ["organizations:write"])),
    params(("id" = String, Path, description = "Organisation id"), ("rid" = String, Path, description = "Join request id")),
    responses(
        (status = 200, description = "The request, now `rejected`", body = JoinRequest),
        (status = 403, description = "`forbidden`: members who are not owners or admins", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`join_request_not_pending`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations/{id}/join-requests/{rid}/reject")]
pub async fn reject_join_request(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    decide(state, principal, meta, path, Decision::Reject).await
}
