//! Webhooks: every audit event is offered to the subscribed endpoints as a signed POST, queued in
//! the outbox in the same transaction as the event, delivered with retries (Standard Webhooks:
//! `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `id.timestamp.body`). Payloads are the audit event object, which never holds a token,
//! password or key. Targets outside globally reachable addresses are refused unless
//! `webhook_allow_private_targets` is set ([`crate::egress`]: the connection goes only to
//! addresses its resolver let through, so DNS rebinding cannot reach an internal host).

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::Principal;
use crate::egress::check_target;
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::state::AppState;
use crate::storage::models::{OutboxRow, WebhookEndpointRow};
use crate::storage::{self, outbox, webhooks};
use actix_web::{HttpResponse, delete, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use invitegate_core::ErrorCode;
use invitegate_core::api::{
    CreateWebhookRequest, CreatedWebhook, Problem, WebhookDelivery, WebhookEndpoint,
};
use invitegate_core::model::{AuditAction, Scope};
use sha2::Sha256;

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` with the key decoded from the
/// `whsec_` secret (Standard Webhooks).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = B64.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// Sends one delivery; returns the HTTP status on any response, or the transport error.
pub async fn deliver(state: &AppState, item: &OutboxRow) -> (Option<i32>, anyhow::Result<()>) {
    let endpoint_id = item.endpoint_id.clone().unwrap_or_default();
    let endpoint = match state
        .db(move |conn| Ok(webhooks::find_active(conn, &endpoint_id)?))
        .await
    {
        Ok(Some(e)) => e,
        Ok(None) => return (None, Err(anyhow::anyhow!("the endpoint was deleted"))),
        Err(e) => return (None, Err(anyhow::anyhow!("{e}"))),
    };
    if let Err(why) = check_target(&endpoint.url, state.config.webhook_allow_private_targets).await
    {
        return (None, Err(anyhow::anyhow!("refused: {why}")));
    }
    let timestamp = chrono::Utc::now().timestamp();
    let Some(sig) = signature(&endpoint.secret, &item.id, timestamp, &item.payload) else {
        return (
            None,
            Err(anyhow::anyhow!("the endpoint secret is unusable")),
        );
    };
    let sent = state
        .http
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("user-agent", "Invitegate-Webhooks/1")
        .header("webhook-id", &item.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sig)
        .body(item.payload.clone())
        .send()
        .await;
    match sent {
        Ok(res) if res.status().is_success() => (Some(i32::from(res.status().as_u16())), Ok(())),
        Ok(res) => (
            Some(i32::from(res.status().as_u16())),
            Err(anyhow::anyhow!("the endpoint answered {}", res.status())),
        ),
        Err(e) => (
            None,
            Err(anyhow::anyhow!(
                "request failed: {}",
                if e.is_timeout() {
                    "timeout"
                } else {
                    "connection error"
                }
            )),
        ),
    }
}

const EVENT_NAMES_HINT: &str = "events are audit action names such as `invitation.created`, or `*`";

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
    let body = body.into_inner();
    if let Err(why) = check_target(&body.url, state.config.webhook_allow_private_targets).await {
        let code = if why.contains("private") {
            "private_address"
        } else {
            "invalid"
        };
        return Err(ApiError {
            detail: Some(format!("`url`: {why}")),
            ..ApiError::field("url", code)
        });
    }
    let mut events: Vec<String> = Vec::new();
    for e in &body.events {
        let known = e == "*" || e.parse::<AuditAction>().is_ok();
        if !known {
            return Err(ApiError {
                detail: Some(EVENT_NAMES_HINT.into()),
                ..ApiError::field("events", "invalid")
            });
        }
        if !events.contains(e) {
            events.push(e.clone());
        }
    }
    if events.is_empty() {
        return Err(ApiError {
            detail: Some(EVENT_NAMES_HINT.into()),
            ..ApiError::field("events", "empty")
        });
    }
    let row = WebhookEndpointRow {
        id: storage::new_id(),
        url: body.url,
        events: events.join(" "),
        secret: format!("whsec_{}", B64.encode(crate::tokens::random_bytes::<32>())),
        created_at: storage::now(),
        deleted_at: None,
    };
    let actor = principal.actor();
    let r = row.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                webhooks::insert(conn, &r)?;
                AuditEntry::success(AuditAction::WebhookCreated)
                    .actor(Some(actor))
                    .target("webhook_endpoint", r.id.clone())
                    .details(serde_json::json!({"url": r.url, "events": events}))
                    .write(conn, &meta)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedWebhook {
        endpoint: row.to_api(),
        secret: row.secret,
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
    let rows = state.db(|conn| Ok(webhooks::active(conn)?)).await?;
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
    let id = id.into_inner();
    let actor = principal.actor();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if !webhooks::delete(conn, &id, storage::now())? {
                    return Err(ApiError::new(ErrorCode::NotFound));
                }
                AuditEntry::success(AuditAction::WebhookDeleted)
                    .actor(Some(actor))
                    .target("webhook_endpoint", id.clone())
                    .write(conn, &meta)?;
                Ok(())
            })
        })
        .await?;
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
    let id = id.into_inner();
    let rows = state
        .db(move |conn| {
            webhooks::find_active(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
            Ok(webhooks::deliveries(conn, &id, 100)?)
        })
        .await?;
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
    state
        .db(move |conn| {
            if outbox::requeue(conn, &delivery, Some(&id), storage::now())? {
                Ok(())
            } else {
                Err(ApiError::new(ErrorCode::NotFound))
            }
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Accepted().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // From the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
