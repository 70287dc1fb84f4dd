//! Webhooks: every audit event is offered to the subscribed endpoints as a signed POST, queued in
//! the outbox in the same transaction as the event, delivered with retries (Standard Webhooks:
//! `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `id.timestamp.body`). Payloads are the audit event object, which never holds a token,
//! password or key. Targets outside globally reachable addresses are refused unless
//! `webhook_allow_private_targets` is set ([`crate::egress`]: the connection goes only to
//! addresses its resolver let through, so DNS rebinding cannot reach an internal host).

mod delivery;
pub mod service;

pub use delivery::{deliver, signature};

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::http::{Json, RequestMeta};
use crate::state::AppState;
use crate::storage::models::{OutboxRow, WebhookEndpointRow};
use actix_web::{HttpResponse, delete, get, post, web};
use invitegate_core::api::{
    CreateWebhookRequest, CreatedWebhook, Problem, WebhookDelivery, WebhookEndpoint,
};
use invitegate_core::model::Scope;

/// Creates a webhook endpoint; its secret is shown once.
#[utoipa::path(
    operation_id = "createWebhook",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "Created; `secret` is shown once", body = CreatedWebhook),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`url`: `invalid` or `private_address`; `events`: `invalid`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    body: Json<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::Admin)?;
    let (row, secret) =
        service::create(&state, body.into_inner(), principal.actor(), &meta).await?;
    Ok(HttpResponse::Created().json(CreatedWebhook {
        endpoint: row.to_api(),
        secret,
    }))
}

/// Lists webhook endpoints (without secrets).
#[utoipa::path(
    operation_id = "listWebhooks",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    responses(
        (status = 200, description = "Endpoints", body = Vec<WebhookEndpoint>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<Vec<WebhookEndpoint>>> {
    principal.require(Scope::Admin)?;
    let rows = service::list(&state).await?;
    Ok(web::Json(
        rows.iter().map(WebhookEndpointRow::to_api).collect(),
    ))
}

/// Deletes an endpoint; pending deliveries to it are abandoned.
#[utoipa::path(
    operation_id = "deleteWebhook",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    principal: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::Admin)?;
    service::remove(&state, id.into_inner(), principal.actor(), &meta).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The newest 100 deliveries of an endpoint: status, response code, attempts, next attempt.
#[utoipa::path(
    operation_id = "listWebhookDeliveries",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "Deliveries, newest first", body = Vec<WebhookDelivery>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> ApiResult<web::Json<Vec<WebhookDelivery>>> {
    principal.require(Scope::Admin)?;
    let rows = service::deliveries(&state, id.into_inner()).await?;
    Ok(web::Json(rows.iter().map(OutboxRow::to_delivery).collect()))
}

/// Queues a delivery again (same `webhook-id`, so receivers can de-duplicate).
#[utoipa::path(
    operation_id = "replayWebhookDelivery",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "Endpoint id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued for an immediate attempt"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::Admin)?;
    let (id, delivery) = path.into_inner();
    service::replay(&state, id, delivery).await?;
    Ok(HttpResponse::Accepted().finish())
}
