//! User administration: list and disable.

pub mod service;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::RequestMeta;
use crate::paging::PageRequest;
use crate::state::AppState;
use actix_web::{get, post, web};
use invitegate_core::api::{Page, Problem, User, UserListQuery};
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
        (status = 403, description = "Needs an admin or `users:write`; you cannot disable yourself", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
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
    let user = service::disable(&state, id.into_inner(), principal.actor(), own_id, &meta).await?;
    Ok(web::Json(user.to_api()))
}
