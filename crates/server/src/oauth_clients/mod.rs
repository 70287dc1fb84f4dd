//! Relying parties of the OpenID Provider: registered by administrators (an admin session or
//! an `admin` key), listed and deleted. A confidential client's secret is shown once.

pub mod redirect_uri;
pub mod service;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, RequestMeta};
use crate::state::AppState;
use crate::storage::models::OAuthClientRow;
use actix_web::{HttpResponse, delete, get, post, web};
use invitegate_core::api::{CreateOAuthClientRequest, CreatedOAuthClient, OAuthClient, Problem};
use invitegate_core::model::Scope;
use service::NewOAuthClient;

/// Registers a relying party. The response is the only place its `client_secret` appears.
#[utoipa::path(
    operation_id = "createOAuthClient",
    tag = "oauth_clients",
    security(("bearer" = ["admin"])),
    request_body = CreateOAuthClientRequest,
    responses(
        (status = 201, description = "Registered; `client_secret` is shown once", body = CreatedOAuthClient),
        (status = 403, description = "Needs an administrator or an `admin` key", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name, URI or algorithm is not acceptable; `errors` names each", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oauth-clients")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<CreateOAuthClientRequest>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::Admin)?;
    let new = NewOAuthClient::parse(&body)?;
    let (row, client_secret) = service::create(&state, new, Some(principal.actor()), &meta).await?;
    Ok(HttpResponse::Created().json(CreatedOAuthClient {
        client: row.to_api(),
        client_secret,
    }))
}

/// Lists the registered relying parties (without secrets), newest first.
#[utoipa::path(
    operation_id = "listOAuthClients",
    tag = "oauth_clients",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Every client", body = Vec<OAuthClient>),
        (status = 403, description = "Needs an administrator or an `admin` key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/oauth-clients")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<Vec<OAuthClient>>> {
    principal.require(Scope::Admin)?;
    let rows = service::list(&state).await?;
    Ok(web::Json(rows.iter().map(OAuthClientRow::to_api).collect()))
}

/// Deletes a relying party and every grant made to it: its refresh tokens stop working at
/// once, its access tokens at their next use.
#[utoipa::path(
    operation_id = "deleteOAuthClient",
    tag = "oauth_clients",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "The client's `id` or `client_id`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Needs an administrator or an `admin` key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/oauth-clients/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::Admin)?;
    service::delete(&state, id.into_inner(), Some(principal.actor()), &meta).await?;
    Ok(HttpResponse::NoContent().finish())
}
