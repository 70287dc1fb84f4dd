//! The outbox worker: delivers queued emails and webhook calls with retries, exponential
//! backoff and leases (several processes never send one item at the same time).

use crate::mail::{self, OutgoingEmail, at_rest};
use crate::state::AppState;
use crate::storage::models::OutboxRow;
use crate::storage::{self, outbox};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Attempts before an item is marked dead.
pub const MAX_ATTEMPTS: i32 = 8;

/// Seconds before attempt `attempts + 1`: 2^attempts, at most an hour, with ±50 % jitter so
/// that items failing together do not retry together.
pub fn backoff_seconds(attempts: i32) -> i64 {
    let base = 2f64.powi(attempts.clamp(0, 12)).min(3600.0);
    let jitter = 0.5 + f64::from(crate::tokens::random_bytes::<1>()[0]) / 255.0;
    (base * jitter).round().max(1.0) as i64
}

/// Items claimed at a time.
const BATCH: usize = 20;

/// How long sent emails wait for the rest of their batch: once an item (of any kind, sent or
/// failed) ends this long after the first unrecorded one was sent, they are recorded. A slow
/// transport's batch is thus recorded in parts, each sent email within a second plus one
/// item's timeout, long before its lease (120 s) could end and another process claim it again.
const RECORD_WITHIN: Duration = Duration::from_secs(1);

/// Delivers outbox items until `stop` turns true (the server has stopped serving): wakes after
/// a commit that enqueued something, or every second, and goes on without waiting while
/// batches come back full and deliver (a bulk creation's thousands of emails leave at the
/// transport's pace, not 20 a second). Items are claimed with a lease, so several processes on
/// one database never send the same item at the same time, and an item claimed by a process
/// that died is picked up again when its lease ends.
///
/// The emails of a batch that were sent are recorded together once the batch is through (or
/// in parts, see [`RECORD_WITHIN`]): one transaction, and one funnel update of their
/// invitations, instead of one per email (on PostgreSQL a bulk creation's emails cost the
/// database about 0.9 ms each when recorded one by one, taken from registrations hashing at
/// the same time). When `stop` turns true the worker records what it sent and returns. The
/// price: a process that dies with sent emails not yet recorded sends them again when their
/// lease ends, as it already did for the one email in flight. Failures and webhook calls are
/// recorded as they happen.
pub async fn run_worker(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let mut backlog = false;
    while !*stop.borrow() {
        if !backlog {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = state.outbox_wakeup.notified() => {}
                // A dropped sender (the application is gone) stops the worker too.
                changed = stop.changed() => if changed.is_err() { return } else { continue },
            }
        }
        let claimed = state
            .db(|conn| {
                let now = storage::now();
                let lease = now + chrono::Duration::seconds(120);
                Ok(outbox::claim_due(conn, now, lease, BATCH as i64)?)
            })
            .await;
        let items = match claimed {
            Ok(items) => items,
            Err(e) => {
                tracing::debug!(error = %e, "outbox worker could not reach the database");
                backlog = false;
                continue;
            }
        };
        // Only while deliveries succeed: with the transport down, the next round waits as
        // before instead of retrying a backlog at database speed.
        let full = items.len() == BATCH;
        backlog = false;
        let mut sent = Vec::new();
        let mut first_sent = std::time::Instant::now();
        for item in items {
            // Claimed items left unsent go to another round or process when their lease ends.
            if *stop.borrow() {
                break;
            }
            let (response_status, outcome) =
                if item.kind == invitegate_core::model::OutboxKind::Webhook {
                    crate::webhooks::deliver(&state, &item).await
                } else {
                    (None, deliver(&state, &item).await)
                };
            backlog |= full && outcome.is_ok();
            if outcome.is_ok() && item.kind == invitegate_core::model::OutboxKind::Email {
                if sent.is_empty() {
                    first_sent = std::time::Instant::now();
                }
                sent.push(item);
            } else {
                record(&state, &item, response_status, outcome).await;
            }
            if !sent.is_empty() && first_sent.elapsed() >= RECORD_WITHIN {
                record_sent_emails(&state, std::mem::take(&mut sent)).await;
            }
        }
        record_sent_emails(&state, sent).await;
    }
}

/// Records one item's attempt: a webhook call's response status and outcome, or a failure
/// (the next attempt's time, or dead after [`MAX_ATTEMPTS`]).
async fn record(
    state: &AppState,
    item: &OutboxRow,
    response_status: Option<i32>,
    outcome: anyhow::Result<()>,
) {
    let id = item.id.clone();
    let attempts = item.attempts + 1;
    let kept = at_rest(item);
    let result = state
        .db(move |conn| {
            if response_status.is_some() {
                storage::webhooks::set_response_status(conn, &id, response_status)?;
            }
            match &outcome {
                Ok(()) => outbox::mark_sent(conn, &id, storage::now(), &kept)?,
                Err(e) => {
                    let next = (attempts < MAX_ATTEMPTS).then(|| {
                        storage::now() + chrono::Duration::seconds(backoff_seconds(attempts))
                    });
                    tracing::warn!(id = %id, attempts, dead = next.is_none(), error = %e, "outbox delivery failed");
                    outbox::mark_failed(conn, &id, &e.to_string(), next)?;
                }
            }
            Ok(())
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not record an outbox delivery");
    }
}

/// Records the sent emails of a batch, each with what may stay at rest, and the first
/// delivery of their invitations, in one transaction: the funnel's "delivered" is never
/// missing for a sent email. When that transaction fails, each email is recorded on its own,
/// so one bad moment does not leave the whole batch to be sent again.
async fn record_sent_emails(state: &AppState, sent: Vec<OutboxRow>) {
    if sent.is_empty() {
        return;
    }
    if let Err(e) = record_sent_together(state, &sent).await {
        tracing::warn!(error = %e, "could not record a batch of sent emails: one by one");
        for item in sent {
            if let Err(e) = record_sent_together(state, std::slice::from_ref(&item)).await {
                tracing::error!(error = %e, id = %item.id, "could not record an outbox delivery");
            }
        }
    }
}

/// One transaction marking `sent` sent, with their invitations' first delivery.
async fn record_sent_together(state: &AppState, sent: &[OutboxRow]) -> crate::error::ApiResult<()> {
    let kept: Vec<(String, String)> = sent.iter().map(|i| (i.id.clone(), at_rest(i))).collect();
    let invitations: Vec<String> = sent
        .iter()
        .filter_map(|i| serde_json::from_str::<OutgoingEmail>(&i.payload).ok())
        .filter_map(|e| e.invitation_id)
        .collect();
    state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |conn| {
                let now = storage::now();
                for (id, kept) in &kept {
                    outbox::mark_sent(conn, id, now, kept)?;
                }
                storage::invitations::mark_delivered(conn, &invitations, now)?;
                Ok::<_, storage::DbError>(())
            })?)
        })
        .await
}

async fn deliver(state: &AppState, item: &OutboxRow) -> anyhow::Result<()> {
    match item.kind.as_str() {
        "email" => {
            let email: OutgoingEmail = serde_json::from_str(&item.payload)?;
            let message = mail::build_message(&state.config.mail_from, &email)?;
            state.mail.send(message).await
        }
        other => anyhow::bail!("unknown outbox kind {other}"),
    }
}
