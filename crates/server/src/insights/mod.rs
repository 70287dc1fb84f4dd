//! Insights: how invitations turn into members (`/api/v1/insights/...`). Administrators and keys
//! with `audit:read`.

pub mod service;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use invitegate_core::api::{Funnel, InsightsQuery, Problem};
use invitegate_core::model::Scope;

/// What became of the invitations created in the period: created, delivered, opened (verified
/// at least once; no tracking pixels), accepted, expired, revoked, declined, and the median
/// time to acceptance.
#[utoipa::path(
    operation_id = "getInsightsFunnel",
    tag = "insights",
    security(("bearer" = ["audit:read"])),
    params(InsightsQuery),
    responses(
        (status = 200, description = "The funnel of the period", body = Funnel),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `audit:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`until` `out_of_range`: not after `since`, or more than 366 days after it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/insights/funnel")]
pub async fn funnel(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<InsightsQuery>,
) -> ApiResult<web::Json<Funnel>> {
    principal.require(Scope::AuditRead)?;
    let period = service::period(&query)?;
    Ok(web::Json(service::funnel(&state, period).await?))
}
