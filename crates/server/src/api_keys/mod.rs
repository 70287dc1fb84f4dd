//! API keys: `igk_` + 256 random bits, stored as SHA-256, shown once. Managed by administrators
//! in a session only (a key cannot mint keys).

pub mod service;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::Json;
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::ApiKeyRow;
use actix_web::{HttpResponse, delete, get, post, web};
use invitegate_core::api::{ApiKey, CreateApiKeyRequest, CreatedApiKey, Problem};
use service::NewApiKey;

/// Creates an API key; the response is the only place the key appears.
#[utoipa::path(
    operation_id = "createApiKey",
    tag = "api_keys",
    security(("bearer" = ["admin"])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; `key` is shown once", body = CreatedApiKey),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an administrator's session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or scopes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<CreateApiKeyRequest>,
) -> ApiResult<HttpResponse> {
    principal.require_admin_session()?;
    let new = NewApiKey::parse(&body.name, &body.scopes)?;
    let (row, key) = service::create(&state, new, Some(principal.actor()), &meta).await?;
    Ok(HttpResponse::Created().json(CreatedApiKey {
        api_key: row.to_api(),
        key,
    }))
}

/// Lists API keys (without their secrets), newest first.
#[utoipa::path(
    operation_id = "listApiKeys",
    tag = "api_keys",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Every key", body = Vec<ApiKey>),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an administrator's session", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api-keys")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<Vec<ApiKey>>> {
    principal.require_admin_session()?;
    let rows = service::list(&state).await?;
    Ok(web::Json(rows.iter().map(ApiKeyRow::to_api).collect()))
}

/// Revokes an API key; it stops working at once, and so do the invitations it issued that are
/// still pending.
#[utoipa::path(
    operation_id = "revokeApiKey",
    tag = "api_keys",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "API key id")),
    responses(
        (status = 204, description = "Revoked (or already revoked)"),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an administrator's session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api-keys/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    principal.require_admin_session()?;
    service::revoke(&state, id.into_inner(), principal.actor(), &meta).await?;
    Ok(HttpResponse::NoContent().finish())
}
