//! User administration: list and disable.

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::invitations::lifecycle::revoke_all_of_inviter;
use crate::paging::PageRequest;
use crate::state::AppState;
use crate::storage::{self, sessions, users};
use actix_web::{get, post, web};
use invitegate_core::ErrorCode;
use invitegate_core::api::{Page, Problem, User};
use invitegate_core::model::{AuditAction, Scope};
use serde::Deserialize;
use utoipa::IntoParams;

/// Query of `GET /users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Email contains this text.
    pub email: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Lists users, newest first.
#[utoipa::path(
    operation_id = "listUsers",
    tag = "users",
    security(("bearer" = ["users:read"])),
    params(UserQuery),
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
    query: web::Query<UserQuery>,
) -> ApiResult<web::Json<Page<User>>> {
    principal.require(Scope::UsersRead)?;
    let q = query.into_inner();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = page.clone();
    let email = q
        .email
        .filter(|e| !e.is_empty())
        .map(|e| e.chars().take(254).collect::<String>());
    let rows = state
        .db(move |conn| {
            Ok(users::list(
                conn,
                email.as_deref(),
                p.limit,
                p.after_id.as_deref(),
            )?)
        })
        .await?;
    Ok(web::Json(page.page(rows, |r| &r.id, |r| r.to_api())))
}

/// Disables an account: its sessions end, its pending invitations are revoked, and so are the
/// API keys it created with their pending invitations, in one transaction (GitLab 222349;
/// security.md, "Revocation is complete").
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
    let id = id.into_inner();
    if principal.user().is_some_and(|u| u.id == id) {
        return Err(
            ApiError::new(ErrorCode::Forbidden).detail("You cannot disable your own account.")
        );
    }
    let actor = principal.actor();
    let user = state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                if users::disable(conn, &id, now)? {
                    let ended = sessions::revoke_all_for_user(conn, &id, now)?;
                    let revoked =
                        revoke_all_of_inviter(conn, &id, &actor, "inviter_disabled", &meta)?;
                    // The keys they created would keep their authority alive.
                    let keys = storage::api_keys::revoke_all_created_by(conn, &id, now)?;
                    for key in &keys {
                        AuditEntry::success(AuditAction::ApiKeyRevoked)
                            .actor(Some(actor.clone()))
                            .target("api_key", key.clone())
                            .details(serde_json::json!({"reason": "creator_disabled"}))
                            .write(conn, &meta)?;
                        revoke_all_of_inviter(conn, key, &actor, "api_key_revoked", &meta)?;
                    }
                    AuditEntry::success(AuditAction::UserDisabled)
                        .actor(Some(actor.clone()))
                        .target("user", id.clone())
                        .details(serde_json::json!({"sessions_ended": ended, "invitations_revoked": revoked, "api_keys_revoked": keys.len()}))
                        .write(conn, &meta)?;
                }
                users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))
            })
        })
        .await?;
    Ok(web::Json(user.to_api()))
}
