//! User administration: list, disable, enable, change (role, display name), delete, and
//! invite trees (see and revoke a branch).

pub mod service;
pub mod tree;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::Json;
use crate::http::RequestMeta;
use crate::paging::PageRequest;
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use invitegate_core::api::{
    InviteTree, InviteTreeRevoked, Page, Problem, UpdateUserRequest, User, UserListQuery,
};
use invitegate_core::model::Scope;

/// Lists users, newest first.
#[utoipa::path(
    operation_id = "listUsers",
    tag = "users",
    security(("bearer" = ["users:read"])),
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `users:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<UserListQuery>,
) -> ApiResult<web::Json<Page<User>>> {
    principal.require(Scope::UsersRead)?;
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = service::list(&state, q.email, &page).await?;
    Ok(web::Json(page.page(rows, |r| &r.id, |r| r.to_api())))
}

// GitLab 222349; security.md, "Revocation is complete".
/// Disables an account: its sessions end, its pending invitations are revoked, and so are the
/// API keys it created with their pending invitations, in one transaction.
#[utoipa::path(
    operation_id = "disableUser",
    tag = "users",
    security(("bearer" = ["users:write"])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The disabled user", body = User),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `users:write` (`admin` for an administrator's account); you cannot disable yourself", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_admin`: the last active administrator stays enabled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/disable")]
pub async fn disable(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<web::Json<User>> {
    principal.require(Scope::UsersWrite)?;
    let own_id = principal.user().map(|u| u.id.as_str());
    let may_manage_admins = principal.has_scope(Scope::Admin);
    let user = service::disable(
        &state,
        id.into_inner(),
        principal.actor(),
        own_id,
        may_manage_admins,
        &meta,
    )
    .await?;
    Ok(web::Json(user.to_api()))
}

/// Enables a disabled account: sign-in works again. What disabling revoked (sessions,
/// invitations, API keys) stays revoked. An administrator's account needs the `admin` scope.
#[utoipa::path(
    operation_id = "enableUser",
    tag = "users",
    security(("bearer" = ["users:write"])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The enabled user", body = User),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `users:write` (`admin` for an administrator's account)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<web::Json<User>> {
    principal.require(Scope::UsersWrite)?;
    let may_grant_admin = principal.has_scope(Scope::Admin);
    let user = service::enable(
        &state,
        id.into_inner(),
        principal.actor(),
        may_grant_admin,
        &meta,
    )
    .await?;
    Ok(web::Json(user.to_api()))
}

/// Changes an account's role or display name (only the fields sent). The last active
/// administrator cannot be demoted.
#[utoipa::path(
    operation_id = "updateUser",
    tag = "users",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The changed user", body = User),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin session or an `admin` key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_admin`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`display_name`: `too_long`, `invalid`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<UpdateUserRequest>,
) -> ApiResult<web::Json<User>> {
    principal.require(Scope::Admin)?;
    let change = service::UserUpdate::parse(body.into_inner())?;
    let user = service::update(&state, id.into_inner(), change, principal.actor(), &meta).await?;
    Ok(web::Json(user.to_api()))
}

/// Deletes an account: it and its sessions are gone, its pending invitations and the API keys
/// it created are revoked; audit events keep its id but not its email (GDPR art. 17).
#[utoipa::path(
    operation_id = "deleteUser",
    tag = "users",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin session or an `admin` key; your own account is deleted with `DELETE /me`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_admin`; `last_owner` of an organisation with other members", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::Admin)?;
    let own_id = principal.user().map(|u| u.id.as_str());
    service::delete(&state, id.into_inner(), principal.actor(), own_id, &meta).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The account's invite tree: the accounts registered with its invitations, then with theirs,
/// depth-first (at most 500; `truncated` when the branch holds more).
#[utoipa::path(
    operation_id = "getInviteTree",
    tag = "users",
    security(("bearer" = ["users:read"])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The branch, root first", body = InviteTree),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `users:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}/invite-tree")]
pub async fn invite_tree(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<InviteTree>> {
    principal.require(Scope::UsersRead)?;
    Ok(web::Json(tree::tree(&state, id.into_inner()).await?))
}

/// Revokes the account's whole branch: it and every account that came in through it,
/// transitively, are disabled (sessions end; their pending invitations and the keys they made
/// are revoked), in one transaction.
#[utoipa::path(
    operation_id = "revokeInviteTree",
    tag = "users",
    security(("bearer" = ["users:write"])),
    params(("id" = String, Path, description = "User id: the root of the branch")),
    responses(
        (status = 200, description = "What was revoked", body = InviteTreeRevoked),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `users:write` (`admin` when the branch holds an administrator); your own account cannot be in the branch", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`last_admin`: the branch holds every active administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/invite-tree/revoke")]
pub async fn revoke_invite_tree(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<web::Json<InviteTreeRevoked>> {
    principal.require(Scope::UsersWrite)?;
    let own_id = principal.user().map(|u| u.id.clone());
    let may_manage_admins = principal.has_scope(Scope::Admin);
    let done = tree::revoke(
        &state,
        id.into_inner(),
        principal.actor(),
        own_id,
        may_manage_admins,
        &meta,
    )
    .await?;
    Ok(web::Json(done))
}
