//! Queries on `webhook_endpoints` and on the webhook deliveries in `outbox`.

use super::DbConn;
use super::models::*;
use super::outbox;
use super::schema::outbox::dsl as o;
use super::schema::webhook_endpoints::dsl as w;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `webhook_endpoints`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct WebhookEndpointRow {
    pub id: String,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

impl WebhookEndpointRow {
    /// Whether this endpoint receives `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events
            .split_whitespace()
            .any(|e| e == "*" || e == event)
    }

    /// The API object (no secret).
    pub fn to_api(&self) -> api::WebhookEndpoint {
        api::WebhookEndpoint {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.split_whitespace().map(String::from).collect(),
            created_at: utc(self.created_at),
        }
    }
}

/// Inserts an endpoint.
pub fn insert(conn: &mut DbConn, row: &WebhookEndpointRow) -> QueryResult<()> {
    diesel::insert_into(w::webhook_endpoints)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Endpoints not deleted, newest first.
pub fn active(conn: &mut DbConn) -> QueryResult<Vec<WebhookEndpointRow>> {
    w::webhook_endpoints
        .filter(w::deleted_at.is_null())
        .order(w::id.desc())
        .load(conn)
}

/// The endpoint with this id, if not deleted.
pub fn find_active(conn: &mut DbConn, id: &str) -> QueryResult<Option<WebhookEndpointRow>> {
    w::webhook_endpoints
        .filter(w::id.eq(id))
        .filter(w::deleted_at.is_null())
        .first(conn)
        .optional()
}

/// Deletes (softly) an endpoint; returns whether it existed.
pub fn delete(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        w::webhook_endpoints
            .filter(w::id.eq(id))
            .filter(w::deleted_at.is_null()),
    )
    .set(w::deleted_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The newest deliveries of an endpoint.
pub fn deliveries(conn: &mut DbConn, endpoint_id: &str, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    o::outbox
        .filter(o::endpoint_id.eq(endpoint_id))
        .order(o::id.desc())
        .limit(limit)
        .load(conn)
}

/// Records the HTTP status of the last attempt.
pub fn set_response_status(conn: &mut DbConn, id: &str, status: Option<i32>) -> QueryResult<()> {
    diesel::update(o::outbox.filter(o::id.eq(id)))
        .set(o::response_status.eq(status))
        .execute(conn)
        .map(|_| ())
}

/// Queues a delivery of `event` to every active endpoint subscribed to its action.
pub fn enqueue_for(conn: &mut DbConn, event: &AuditRow) -> diesel::QueryResult<()> {
    enqueue_for_all(conn, std::slice::from_ref(event))
}

/// Queues a delivery of each of `events` to every active endpoint subscribed to its action:
/// one read of the endpoints and one insert for all of them.
pub fn enqueue_for_all(conn: &mut DbConn, events: &[AuditRow]) -> diesel::QueryResult<()> {
    let endpoints = active(conn)?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::new();
    for event in events {
        let api = event.to_api();
        let payload =
            serde_json::json!({"type": event.action, "timestamp": api.occurred_at, "data": api})
                .to_string();
        for endpoint in endpoints.iter().filter(|e| e.wants(&event.action)) {
            rows.push(OutboxRow::pending(
                format!("msg_{}", super::new_id().replace('-', "")),
                OutboxKind::Webhook,
                payload.clone(),
                Some(endpoint.id.clone()),
            ));
        }
    }
    outbox::insert_many(conn, &rows)
}
