//! Queries on `outbox`: messages written in the same transaction as the change that caused
//! them, delivered later by a worker. An item is claimed with a guarded update (a lease), so
//! two workers never deliver it at the same time.

use super::DbConn;
use super::models::*;
use super::schema::outbox::dsl as o;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use invitegate_core::model::{OutboxKind, OutboxStatus};

/// A row of `outbox`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct OutboxRow {
    pub id: String,
    pub kind: OutboxKind,
    pub payload: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub endpoint_id: Option<String>,
    pub response_status: Option<i32>,
}

impl OutboxRow {
    /// A new item of `kind`, due now (`endpoint_id`: the webhook endpoint it goes to).
    pub fn pending(
        id: String,
        kind: OutboxKind,
        payload: String,
        endpoint_id: Option<String>,
    ) -> Self {
        let now = super::now();
        Self {
            id,
            kind,
            payload,
            status: PENDING,
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            created_at: now,
            sent_at: None,
            last_error: None,
            endpoint_id,
            response_status: None,
        }
    }

    /// The queue item as shown to administrators (no content).
    pub fn to_item(&self) -> api::OutboxItem {
        let payload = serde_json::from_str::<serde_json::Value>(&self.payload).unwrap_or_default();
        let (recipient, summary) = match self.kind {
            OutboxKind::Email => (
                payload["to"].as_str().map(String::from),
                payload["subject"].as_str().map(String::from),
            ),
            OutboxKind::Webhook => (
                self.endpoint_id.clone(),
                payload["type"].as_str().map(String::from),
            ),
        };
        api::OutboxItem {
            id: self.id.clone(),
            kind: self.kind,
            status: self.status,
            recipient,
            summary,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            next_attempt_at: (self.status == OutboxStatus::Pending)
                .then(|| utc(self.next_attempt_at)),
            created_at: utc(self.created_at),
            sent_at: self.sent_at.map(utc),
        }
    }

    /// A webhook delivery as shown to administrators.
    pub fn to_delivery(&self) -> api::WebhookDelivery {
        let event = serde_json::from_str::<serde_json::Value>(&self.payload)
            .ok()
            .and_then(|v| v["type"].as_str().map(String::from))
            .unwrap_or_default();
        api::WebhookDelivery {
            id: self.id.clone(),
            event,
            status: self.status,
            attempts: self.attempts,
            response_status: self.response_status,
            last_error: self.last_error.clone(),
            next_attempt_at: (self.status == OutboxStatus::Pending)
                .then(|| utc(self.next_attempt_at)),
            created_at: utc(self.created_at),
            delivered_at: self.sent_at.map(utc),
        }
    }
}

/// Status of an item waiting for delivery.
pub const PENDING: OutboxStatus = OutboxStatus::Pending;
/// Status of a delivered item.
pub const SENT: OutboxStatus = OutboxStatus::Sent;
/// Status of an item that failed its last allowed attempt.
pub const DEAD: OutboxStatus = OutboxStatus::Dead;

/// Enqueues an item.
pub fn insert(conn: &mut DbConn, row: &OutboxRow) -> QueryResult<()> {
    diesel::insert_into(o::outbox)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Enqueues items. One item is one INSERT (a `COPY` costs a round trip more); more are one
/// binary `COPY` on PostgreSQL and a statement per 1,000 on SQLite ([`super::insert_all`]): a
/// bulk creation's chunk of 200 emails (the chunk then) took 8 ms as a multi-row INSERT,
/// which PostgreSQL parsed and planned afresh each time.
pub fn insert_many(conn: &mut DbConn, rows: &[OutboxRow]) -> QueryResult<()> {
    if let [row] = rows {
        return insert(conn, row);
    }
    super::insert_all!(conn, o::outbox, rows)
}

/// Ids of up to `limit` items due at `now` whose lease is free.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    o::outbox
        .filter(o::status.eq(PENDING))
        .filter(o::next_attempt_at.le(now))
        .filter(o::locked_until.is_null().or(o::locked_until.lt(now)))
        .select(o::id)
        .order(o::next_attempt_at.asc())
        .limit(limit)
        .load(conn)
}

/// Claims the items [`due`] at `now` (at most `limit`) until `lease_until`, in the order they
/// fell due: one read and one guarded update with `RETURNING`, whatever their number. An item
/// another process claimed in between, or whose failure it recorded (moving its next attempt
/// later), fails the guard and is left out.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let ids = due(conn, now, limit)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut items: Vec<OutboxRow> = diesel::update(
        o::outbox
            .filter(o::id.eq_any(&ids))
            .filter(o::status.eq(PENDING))
            .filter(o::next_attempt_at.le(now))
            .filter(o::locked_until.is_null().or(o::locked_until.lt(now))),
    )
    .set(o::locked_until.eq(Some(lease_until)))
    .returning(super::schema::outbox::all_columns)
    .get_results(conn)?;
    items.sort_by_key(|item| ids.iter().position(|id| *id == item.id));
    Ok(items)
}

/// Marks an item delivered, replacing its payload with `kept` (what may stay at rest once
/// delivered: an email's links are live tokens).
pub fn mark_sent(conn: &mut DbConn, id: &str, now: NaiveDateTime, kept: &str) -> QueryResult<()> {
    diesel::update(o::outbox.filter(o::id.eq(id)))
        .set((
            o::status.eq(SENT),
            o::sent_at.eq(Some(now)),
            o::locked_until.eq(None::<NaiveDateTime>),
            o::attempts.eq(o::attempts + 1),
            o::payload.eq(kept),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Deletes dead items created before `before`; returns how many.
pub fn purge_dead(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        o::outbox
            .filter(o::status.eq(DEAD))
            .filter(o::created_at.lt(before)),
    )
    .execute(conn)
}

/// Records a failed attempt: schedules the next one, or marks the item dead.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    error: &str,
    next: Option<NaiveDateTime>,
) -> QueryResult<()> {
    let target = o::outbox.filter(o::id.eq(id));
    let error: String = error.chars().take(500).collect();
    match next {
        Some(at) => diesel::update(target)
            .set((
                o::attempts.eq(o::attempts + 1),
                o::last_error.eq(Some(error)),
                o::next_attempt_at.eq(at),
                o::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn),
        None => diesel::update(target)
            .set((
                o::attempts.eq(o::attempts + 1),
                o::last_error.eq(Some(error)),
                o::status.eq(DEAD),
                o::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn),
    }
    .map(|_| ())
}

/// Items not yet delivered.
pub fn pending_count(conn: &mut DbConn) -> QueryResult<i64> {
    o::outbox
        .filter(o::status.eq(PENDING))
        .count()
        .get_result(conn)
}

/// The newest items, optionally of one status.
pub fn list(
    conn: &mut DbConn,
    status: Option<OutboxStatus>,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let mut q = o::outbox.into_boxed();
    if let Some(s) = status {
        q = q.filter(o::status.eq(s));
    }
    q.order(o::created_at.desc()).limit(limit).load(conn)
}

/// Puts an item back in the queue for an immediate attempt (dead items get a fresh set of
/// attempts); `endpoint_id` restricts it to one webhook endpoint. Returns whether it existed.
pub fn requeue(
    conn: &mut DbConn,
    id: &str,
    endpoint_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    // A delivered email keeps no body (see mail::at_rest): it cannot be sent again.
    let mut q = diesel::update(o::outbox)
        .filter(o::id.eq(id.to_string()))
        .filter(o::kind.ne(OutboxKind::Email).or(o::status.ne(SENT)))
        .into_boxed();
    if let Some(e) = endpoint_id {
        q = q.filter(o::endpoint_id.eq(e.to_string()));
    }
    let n = q
        .set((
            o::status.eq(PENDING),
            o::attempts.eq(0),
            o::next_attempt_at.eq(now),
            o::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Delivered emails still holding a body (delivered before bodies were scrubbed on delivery):
/// up to `limit` of them, `(id, payload)`.
pub fn sent_with_body(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<(String, String)>> {
    o::outbox
        .filter(o::kind.eq(OutboxKind::Email))
        .filter(o::status.eq(SENT))
        .filter(o::payload.like("%#token=%"))
        .select((o::id, o::payload))
        .limit(limit)
        .load(conn)
}

/// Replaces an item's payload.
pub fn set_payload(conn: &mut DbConn, id: &str, payload: &str) -> QueryResult<()> {
    diesel::update(o::outbox.filter(o::id.eq(id)))
        .set(o::payload.eq(payload))
        .execute(conn)
        .map(|_| ())
}
