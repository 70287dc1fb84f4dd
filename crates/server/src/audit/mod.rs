//! The audit log's endpoints: filtered list and streamed export (JSON Lines or CSV).

pub mod service;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::paging::PageRequest;
use crate::state::AppState;
use crate::storage::audit::AuditFilter;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use invitegate_core::api::{AuditEvent, Page, Problem};
use invitegate_core::model::{Outcome, Scope};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Export format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// Query of the audit endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Exact action, e.g. `login.failed`.
    pub action: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<Outcome>,
    /// Actor id.
    pub actor_id: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1 to 500 (default 50); ignored by the export.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page; ignored by the export.
    pub cursor: Option<String>,
    /// Export format: `jsonl` (default) or `csv`; only for the export.
    pub format: Option<ExportFormat>,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        let short = |s: &Option<String>| {
            s.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| v.chars().take(200).collect())
        };
        AuditFilter {
            action: short(&self.action),
            outcome: self.outcome.map(|o| o.as_str().to_string()),
            actor_id: short(&self.actor_id),
            target_id: short(&self.target_id),
            since: self.since.map(|t| t.naive_utc()),
            until: self.until.map(|t| t.naive_utc()),
        }
    }
}

/// Lists audit events, newest first.
#[utoipa::path(
    operation_id = "listAuditEvents",
    tag = "audit",
    security(("bearer" = ["audit:read"])),
    params(AuditQuery),
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
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEvent>>> {
    principal.require(Scope::AuditRead)?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = query.filter();
    let rows = service::list(&state, filter, &page).await?;
    Ok(web::Json(page.page(rows, |r| &r.id, |r| r.to_api())))
}

/// Streams every matching event, newest first, as JSON Lines or CSV.
#[utoipa::path(
    operation_id = "exportAuditEvents",
    tag = "audit",
    security(("bearer" = ["audit:read"])),
    params(AuditQuery),
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
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    principal.require(Scope::AuditRead)?;
    let format = query.format.unwrap_or_default();
    let stream = service::export(state.into_inner(), query.filter(), format);
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
