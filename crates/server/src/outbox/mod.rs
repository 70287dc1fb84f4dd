//! The delivery queue of emails and webhook deliveries: its worker ([`worker`]), and as
//! administrators see it: pending, sent and dead items, and a retry
//! action for dead ones.

pub mod service;
pub mod worker;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use invitegate_core::api::{OutboxItem, OutboxListQuery, Problem};
use invitegate_core::model::Scope;

/// Lists queued, delivered and dead emails and webhook deliveries (without their content).
#[utoipa::path(
    operation_id = "listOutboxItems",
    tag = "outbox",
    security(("bearer" = ["admin"])),
    params(OutboxListQuery),
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
    req: HttpRequest,
) -> ApiResult<web::Json<Vec<OutboxItem>>> {
    // The query is read after the permission check, so only administrators learn what it
    // accepts, and an unknown status names its field, as it always has.
    principal.require(Scope::Admin)?;
    let q = web::Query::<OutboxListQuery>::from_query(req.query_string())
        .map_err(|_| service::query_error(req.query_string()))?
        .into_inner();
    let rows = service::list(&state, q.status, q.limit).await?;
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
    service::retry(&state, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().finish())
}
