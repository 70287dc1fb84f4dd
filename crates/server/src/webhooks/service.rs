//! The rules of webhook endpoints: only globally reachable targets (unless configured
//! otherwise), known event names, a `whsec_` secret shown once; each change is one transaction
//! with its audit event.

use crate::audit_trail::AuditEntry;
use crate::egress::check_target;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::{OutboxRow, WebhookEndpointRow};
use crate::storage::{self, outbox, webhooks};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use invitegate_core::ErrorCode;
use invitegate_core::FieldCode;
use invitegate_core::api::CreateWebhookRequest;
use invitegate_core::model::{ActorRef, AuditAction};

const EVENT_NAMES_HINT: &str = "events are audit action names such as `invitation.created`, or `*`";

/// Creates an endpoint; returns it and its secret. Errors: 422 `url` `invalid` or
/// `private_address`, 422 `events` `invalid` or `empty`.
pub async fn create(
    state: &AppState,
    body: CreateWebhookRequest,
    actor: ActorRef,
    meta: &RequestMeta,
) -> ApiResult<(WebhookEndpointRow, String)> {
    if let Err(why) = check_target(&body.url, state.config.webhook_allow_private_targets).await {
        let code = if why.contains("private") {
            FieldCode::PrivateAddress
        } else {
            FieldCode::Invalid
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
                ..ApiError::field("events", FieldCode::Invalid)
            });
        }
        if !events.contains(e) {
            events.push(e.clone());
        }
    }
    if events.is_empty() {
        return Err(ApiError {
            detail: Some(EVENT_NAMES_HINT.into()),
            ..ApiError::field("events", FieldCode::Empty)
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
    let r = row.clone();
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                webhooks::insert(conn, &r)?;
                AuditEntry::success(AuditAction::WebhookCreated)
                    .actor(Some(actor))
                    .target("webhook_endpoint", r.id.clone())
                    .details(serde_json::json!({"url": r.url, "events": events}))
                    .write(conn, &m)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    let secret = row.secret.clone();
    Ok((row, secret))
}

/// Every active endpoint, without secrets.
pub async fn list(state: &AppState) -> ApiResult<Vec<WebhookEndpointRow>> {
    state.db(|conn| Ok(webhooks::active(conn)?)).await
}

/// Deletes endpoint `id`; its pending deliveries are abandoned. Errors: 404 `not_found`.
pub async fn remove(
    state: &AppState,
    id: String,
    actor: ActorRef,
    meta: &RequestMeta,
) -> ApiResult<()> {
    let meta = meta.clone();
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
        .await
}

/// The newest 100 deliveries of endpoint `id`. Errors: 404 `not_found`.
pub async fn deliveries(state: &AppState, id: String) -> ApiResult<Vec<OutboxRow>> {
    state
        .db(move |conn| {
            webhooks::find_active(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
            Ok(webhooks::deliveries(conn, &id, 100)?)
        })
        .await
}

/// Queues delivery `delivery` of endpoint `id` again, with the same `webhook-id`. Errors: 404
/// `not_found`.
pub async fn replay(state: &AppState, id: String, delivery: String) -> ApiResult<()> {
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
    Ok(())
}
