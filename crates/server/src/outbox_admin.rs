//! The delivery queue as administrators see it: pending, sent and dead items, and a retry
//! action for dead ones.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::storage::{self, outbox};
use actix_web::{HttpResponse, get, post, web};
use invitegate_core::ErrorCode;
use invitegate_core::api::{OutboxItem, Problem};
use invitegate_core::model::Scope;
use serde::Deserialize;
use utoipa::IntoParams;

/// Query of `GET /outbox`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `dead`.
    pub status: Option<String>,
    /// How many, 1 to 500 (default 50), newest first.
    pub limit: Option<u32>,
}

/// Lists queued, delivered and dead emails and webhook deliveries (without their content).
#[utoipa::path(
    operation_id = "listOutboxItems",
    tag = "outbox",
    security(("bearer" = ["admin"])),
    params(OutboxQuery),
    responses(
        (status = 200, description = "Items, newest first", body = Vec<OutboxItem>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/outbox")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<OutboxQuery>,
) -> ApiResult<web::Json<Vec<OutboxItem>>> {
    principal.require(Scope::Admin)?;
    let q = query.into_inner();
    let status = q.status.filter(|s| !s.is_empty());
    if status
        .as_deref()
        .is_some_and(|s| ![outbox::PENDING, outbox::SENT, outbox::DEAD].contains(&s))
    {
        return Err(ApiError::field("status", "invalid"));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range"));
    }
    let rows = state
        .db(move |conn| Ok(outbox::list(conn, status.as_deref(), i64::from(limit))?))
        .await?;
    Ok(web::Json(rows.iter().map(|r| r.to_item()).collect()))
}

/// Queues an item again for an immediate attempt, with a fresh set of attempts.
#[utoipa::path(
    operation_id = "retryOutboxItem",
    tag = "outbox",
    security(("bearer" = ["admin"])),
    params(("id" = String, Path, description = "Item id")),
    responses(
        (status = 202, description = "Queued"),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/outbox/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::Admin)?;
    let id = id.into_inner();
    state
        .db(move |conn| {
            if outbox::requeue(conn, &id, None, storage::now())? {
                Ok(())
            } else {
                Err(ApiError::new(ErrorCode::NotFound))
            }
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Accepted().finish())
}
