//! Reading the audit log: filtered pages, and the streamed export in pages of
//! [`EXPORT_PAGE`] events, so memory stays flat however long the log is.

use crate::error::{ApiError, ApiResult};
use crate::paging::PageRequest;
use crate::state::AppState;
use crate::storage::audit::{self, AuditFilter};
use crate::storage::models::AuditRow;
use actix_web::web::Bytes;
use futures_util::Stream;
use invitegate_core::api::{AuditEvent, AuditEventQuery, ExportFormat};
use invitegate_core::spreadsheet::safe_cell;
use std::sync::Arc;

/// The storage filter of a query: empty texts filter nothing, and at most 200 characters of
/// each count.
pub fn filter_of(q: &AuditEventQuery) -> AuditFilter {
    let short = |s: &Option<String>| {
        s.as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| v.chars().take(200).collect())
    };
    AuditFilter {
        action: short(&q.action),
        outcome: q.outcome,
        actor_id: short(&q.actor_id),
        target_id: short(&q.target_id),
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    }
}

/// One page of events matching `filter`, newest first (one row more when there is a next page).
pub async fn list(
    state: &AppState,
    filter: AuditFilter,
    page: &PageRequest,
) -> ApiResult<Vec<AuditRow>> {
    let p = page.clone();
    state
        .db(move |conn| Ok(audit::list(conn, &filter, p.limit, p.after_id.as_deref())?))
        .await
}

/// Every event matching `filter`, newest first, encoded as `format` in chunks of at most
/// [`EXPORT_PAGE`] events; the CSV header comes first. A database error ends the stream.
pub fn export(
    state: Arc<AppState>,
    filter: AuditFilter,
    format: ExportFormat,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    let filter = Arc::new(filter);
    futures_util::stream::unfold(Some((None::<String>, true)), move |cursor| {
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
    })
}

/// Events per database read of the export.
pub const EXPORT_PAGE: i64 = 1000;
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
