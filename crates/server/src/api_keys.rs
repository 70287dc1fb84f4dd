//! API keys: `igk_` + 256 random bits, stored as SHA-256, shown once. Managed by administrators
//! in a session only (a key cannot mint keys).

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::{API_KEY_PREFIX, Principal};
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::state::AppState;
use crate::storage::models::ApiKeyRow;
use crate::storage::{self, DbConn, api_keys};
use crate::tokens::{hash_token, opaque_secret};
use actix_web::{HttpResponse, delete, get, post, web};
use invitegate_core::ErrorCode;
use invitegate_core::api::{ApiKey, CreateApiKeyRequest, CreatedApiKey, Problem};
use invitegate_core::model::{ActorRef, AuditAction, Scope};

/// Validates a key request: name 1 to 100 characters without control characters, 1 to 7
/// distinct scopes.
pub fn validate(name: &str, scopes: &[Scope]) -> ApiResult<(String, Vec<Scope>)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::field("name", "invalid"));
    }
    let mut distinct: Vec<Scope> = Vec::new();
    for s in scopes {
        if !distinct.contains(s) {
            distinct.push(*s);
        }
    }
    if distinct.is_empty() {
        return Err(ApiError::field("scopes", "empty"));
    }
    Ok((name.to_string(), distinct))
}

/// Creates a key on `conn` with its audit event; returns the row and the secret key.
pub fn create_in_tx(
    conn: &mut DbConn,
    name: String,
    scopes: &[Scope],
    creator: Option<ActorRef>,
    meta: &RequestMeta,
) -> diesel::QueryResult<(ApiKeyRow, String)> {
    let key = format!("{API_KEY_PREFIX}{}", opaque_secret());
    let row = ApiKeyRow {
        id: storage::new_id(),
        name,
        prefix: key.chars().take(12).collect(),
        key_hash: hash_token(&key),
        scopes: scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        created_at: storage::now(),
        created_by: creator.as_ref().map(|c| c.id.clone()),
        last_used_at: None,
        revoked_at: None,
    };
    api_keys::insert(conn, &row)?;
    AuditEntry::success(AuditAction::ApiKeyCreated)
        .actor(creator)
        .target("api_key", row.id.clone())
        .details(serde_json::json!({"name": row.name, "scopes": row.scopes()}))
        .write(conn, meta)?;
    Ok((row, key))
}

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
    let (name, scopes) = validate(&body.name, &body.scopes)?;
    let actor = principal.actor();
    let (row, key) = state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                Ok::<_, ApiError>(create_in_tx(conn, name, &scopes, Some(actor), &meta)?)
            })
        })
        .await?;
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
    let rows = state.db(|conn| Ok(api_keys::list(conn)?)).await?;
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
    let id = id.into_inner();
    let actor = principal.actor();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                api_keys::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                if api_keys::revoke(conn, &id, storage::now())? {
                    AuditEntry::success(AuditAction::ApiKeyRevoked)
                        .actor(Some(actor.clone()))
                        .target("api_key", id.clone())
                        .write(conn, &meta)?;
                    crate::invitations::lifecycle::revoke_all_of_inviter(
                        conn,
                        &id,
                        &actor,
                        "api_key_revoked",
                        &meta,
                    )?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
