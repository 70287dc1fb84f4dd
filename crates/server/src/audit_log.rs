//! Audit log endpoints: filtered list and streamed export (JSON Lines or CSV).

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::paging::PageRequest;
use crate::state::AppState;
use crate::storage::audit::{self, AuditFilter};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use invitegate_core::api::{AuditEvent, Page, Problem};
use invitegate_core::model::{Outcome, Scope};
use invitegate_core::spreadsheet::safe_cell;
use serde::Deserialize;
use std::sync::Arc;
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
    let p = page.clone();
    let rows = state
        .db(move |conn| Ok(audit::list(conn, &filter, p.limit, p.after_id.as_deref())?))
        .await?;
    Ok(web::Json(page.page(rows, |r| &r.id, |r| r.to_api())))
}

const EXPORT_PAGE: i64 = 1000;
const CSV_HEADER: [&str; 11] = [
    "id",
    "occurred_at",
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "details",
];

/// Encodes a page of events; CSV cells go through [`safe_cell`] (user agents are the
/// client's words).
fn encode(events: &[AuditEvent], format: ExportFormat, header: bool) -> Result<Vec<u8>, ApiError> {
    match format {
        ExportFormat::Jsonl => {
            let mut out = Vec::new();
            for e in events {
                serde_json::to_writer(&mut out, e).map_err(ApiError::internal)?;
                out.push(b'\n');
            }
            Ok(out)
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            if header {
                w.write_record(CSV_HEADER).map_err(ApiError::internal)?;
            }
            for e in events {
                let actor = e.actor.as_ref();
                let target = e.target.as_ref();
                let details = e.details.to_string();
                let cells = [
                    e.id.as_str(),
                    &e.occurred_at.to_rfc3339(),
                    &e.action,
                    e.outcome.as_str(),
                    actor.map(|a| a.kind.as_str()).unwrap_or_default(),
                    actor.map(|a| a.id.as_str()).unwrap_or_default(),
                    target.map(|t| t.kind.as_str()).unwrap_or_default(),
                    target.map(|t| t.id.as_str()).unwrap_or_default(),
                    e.ip.as_deref().unwrap_or_default(),
                    e.user_agent.as_deref().unwrap_or_default(),
                    &details,
                ];
                w.write_record(cells.iter().map(|c| safe_cell(c).into_owned()))
                    .map_err(ApiError::internal)?;
            }
            w.into_inner().map_err(ApiError::internal)
        }
    }
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
    let filter = Arc::new(query.filter());
    let state = state.into_inner();
    let stream = futures_util::stream::unfold(Some((None::<String>, true)), move |cursor| {
        let state = state.clone();
        let filter = filter.clone();
        async move {
            let (after, first) = cursor?;
            let f = filter.clone();
            let rows = state
                .db(move |conn| Ok(audit::list(conn, &f, EXPORT_PAGE - 1, after.as_deref())?))
                .await;
            let rows = match rows {
                Ok(r) => r,
                Err(e) => return Some((Err(actix_web::Error::from(e)), None)),
            };
            let events: Vec<AuditEvent> = rows.iter().map(|r| r.to_api()).collect();
            let next = (rows.len() as i64 == EXPORT_PAGE)
                .then(|| (rows.last().map(|r| r.id.clone()), false));
            match encode(&events, format, first) {
                Ok(bytes) => Some((Ok(Bytes::from(bytes)), next)),
                Err(e) => Some((Err(e.into()), None)),
            }
        }
    });
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
