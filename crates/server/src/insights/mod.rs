//! Insights: how invitations turn into members (`/api/v1/insights/...`). Administrators and keys
//! with `audit:read`; a member may read the funnel of their own invitations.

pub mod service;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, web};
use invitegate_core::ErrorCode;
use invitegate_core::api::{
    Funnel, InsightsQuery, InviterRanking, InvitersQuery, Problem, Timeseries, TimeseriesQuery,
};
use invitegate_core::model::Scope;

/// What became of the invitations created in the period: created, delivered, opened (verified
/// at least once; no tracking pixels), accepted, expired, revoked, declined, and the median
/// time to acceptance. A member's session sees only the invitations they sent (`inviter_id`
/// absent or their own id).
#[utoipa::path(
    operation_id = "getInsightsFunnel",
    tag = "insights",
    security(("bearer" = ["audit:read"])),
    params(InsightsQuery),
    responses(
        (status = 200, description = "The funnel of the period", body = Funnel),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `audit:read`, or a member asking about their own invitations", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`until` `out_of_range`: not after `since`, or more than 366 days after it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/insights/funnel")]
pub async fn funnel(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<InsightsQuery>,
) -> ApiResult<web::Json<Funnel>> {
    let mut query = query.into_inner();
    if !principal.has_scope(Scope::AuditRead) {
        let me = principal.require_user()?.id.clone();
        if query.inviter_id.as_ref().is_some_and(|id| *id != me) {
            return Err(ApiError::new(ErrorCode::Forbidden));
        }
        query.inviter_id = Some(me);
    }
    let period = service::period(&query)?;
    Ok(web::Json(service::funnel(&state, period).await?))
}

/// A figure per day or hour of the period, zero-filled: `registrations` (accounts created),
/// `invitations_created`, or `failed_attempts` (refused links, registrations, sign-ins and
/// credentials, each forged link counted; with a filter, those aimed at the filtered
/// invitations).
#[utoipa::path(
    operation_id = "getInsightsTimeseries",
    tag = "insights",
    security(("bearer" = ["audit:read"])),
    params(TimeseriesQuery),
    responses(
        (status = 200, description = "One point per bucket, oldest first", body = Timeseries),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `audit:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`until` `out_of_range`: not after `since`, or more than 366 days after it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/insights/timeseries")]
pub async fn timeseries(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<TimeseriesQuery>,
) -> ApiResult<web::Json<Timeseries>> {
    principal.require(Scope::AuditRead)?;
    let period = service::period(&query.filters())?;
    let interval = query.interval.unwrap_or_default();
    Ok(web::Json(
        service::timeseries(&state, period, query.metric, interval).await?,
    ))
}

/// The inviters of the period ranked by invitations accepted, then sent.
#[utoipa::path(
    operation_id = "getInsightsInviters",
    tag = "insights",
    security(("bearer" = ["audit:read"])),
    params(InvitersQuery),
    responses(
        (status = 200, description = "Best first", body = InviterRanking),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `audit:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`until` `out_of_range`, or `limit` `out_of_range` (1–100)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/insights/inviters")]
pub async fn inviters(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<InvitersQuery>,
) -> ApiResult<web::Json<InviterRanking>> {
    principal.require(Scope::AuditRead)?;
    let period = service::period(&query.filters())?;
    Ok(web::Json(
        service::inviters(&state, period, query.limit).await?,
    ))
}
