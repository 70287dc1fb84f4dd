//! The audit log's endpoints: filtered list and streamed export (JSON Lines or CSV).

pub mod service;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::paging::PageRequest;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use invitegate_core::api::{AuditEvent, AuditEventQuery, ExportFormat, Page, Problem};
use invitegate_core::model::Scope;

/// Lists audit events, newest first.
#[utoipa::path(
    operation_id = "listAuditEvents",
    tag = "audit",
    security(("bearer" = ["audit:read"])),
    params(AuditEventQuery),
    responses(
        (status = 200, description = "A page of events", body = Page<AuditEvent>),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `audit:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<AuditEventQuery>,
) -> ApiResult<web::Json<Page<AuditEvent>>> {
    principal.require(Scope::AuditRead)?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = service::filter_of(&query);
    let rows = service::list(&state, filter, &page).await?;
    Ok(web::Json(page.page(rows, |r| &r.id, |r| r.to_api())))
}

/// Streams every matching event, newest first, as JSON Lines or CSV.
#[utoipa::path(
    operation_id = "exportAuditEvents",
    tag = "audit",
    security(("bearer" = ["audit:read"])),
    params(AuditEventQuery),
    responses(
        (status = 200, description = "The events as a file: JSON Lines (`format=jsonl`, the default) or CSV (`format=csv`, cells safe to open in a spreadsheet)", content((String = "application/x-ndjson"), (String = "text/csv"))),
        (status = 401, description = "No valid credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Needs an admin or `audit:read`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events/export")]
pub async fn export(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<AuditEventQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::AuditRead)?;
    let format = query.format.unwrap_or_default();
    let stream = service::export(state.into_inner(), service::filter_of(&query), format);
    let (content_type, name) = match format {
        ExportFormat::Jsonl => ("application/x-ndjson", "audit-events.jsonl"),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "audit-events.csv"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .streaming(stream))
}
