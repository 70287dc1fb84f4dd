//! Audit events written off the request path, for the routes where a commit per request
//! would be the cost of the request (verifying an invitation). Events go through a bounded
//! channel (a full one makes requests wait, never drops) to one writer that stores up to
//! [`MAX_BATCH`] of them in one transaction, at most [`MAX_DELAY`] after the first arrived, with
//! their webhook deliveries. [`AuditBatcher::flush`] waits until everything sent is stored:
//! the server calls it on a clean shutdown.

use crate::audit_trail::AuditEntry;
use crate::http::RequestMeta;
use crate::storage::models::AuditRow;
use crate::storage::{self, DbPool};
use invitegate_core::model::{AuditAction, Outcome};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};

/// Events stored in one transaction at most.
pub const MAX_BATCH: usize = 500;
/// How long the first event of a batch waits for company.
pub const MAX_DELAY: Duration = Duration::from_millis(50);
const CAPACITY: usize = 10_000;

enum Message {
    Event(Box<AuditRow>),
    Flush(oneshot::Sender<()>),
}

/// The sending side, shared by every request.
#[derive(Clone)]
pub struct AuditBatcher {
    tx: mpsc::Sender<Message>,
}

impl AuditBatcher {
    /// Starts the writer on the current runtime.
    pub fn start(pool: DbPool, outbox_wakeup: Arc<Notify>) -> Self {
        let (tx, rx) = mpsc::channel(CAPACITY);
        tokio::spawn(run(pool, outbox_wakeup, rx));
        Self { tx }
    }

    /// Queues `entry`, stamped now; it is stored within about [`MAX_DELAY`].
    pub async fn record(&self, entry: AuditEntry, meta: &RequestMeta) {
        let row = Box::new(entry.into_row(meta));
        if self.tx.send(Message::Event(row)).await.is_err() {
            tracing::error!("the audit writer has stopped; an event was not stored");
        }
    }

    /// Returns once every event queued before the call is stored (or failed to be).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(pool: DbPool, outbox_wakeup: Arc<Notify>, mut rx: mpsc::Receiver<Message>) {
    while let Some(first) = rx.recv().await {
        let mut rows = Vec::new();
        let mut waiters = Vec::new();
        let mut next = Some(first);
        let deadline = tokio::time::Instant::now() + MAX_DELAY;
        while let Some(m) = next.take() {
            match m {
                Message::Event(row) => rows.push(*row),
                // A flush stores what came before it at once.
                Message::Flush(done) => {
                    waiters.push(done);
                    break;
                }
            }
            if rows.len() >= MAX_BATCH {
                break;
            }
            next = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .ok()
                .flatten();
        }
        if !rows.is_empty() {
            store(&pool, rows).await;
            outbox_wakeup.notify_one();
        }
        for done in waiters {
            let _ = done.send(());
        }
    }
}

/// Stores a batch in one transaction, trying three times over about a second before giving
/// up (logged, with the count lost).
async fn store(pool: &DbPool, rows: Vec<AuditRow>) {
    let rows = Arc::new(rows);
    for attempt in 0..3u32 {
        let (pool, batch) = (pool.clone(), rows.clone());
        let stored = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut conn = pool.get()?;
            let stored = storage::write_tx(&mut conn, |conn| {
                storage::audit::insert_many(conn, &batch)?;
                storage::webhooks::enqueue_for_all(conn, &batch)?;
                // The funnel's "opened": the first successful verification of each invitation.
                let opened: Vec<String> = batch
                    .iter()
                    .filter(|r| r.action == AuditAction::InvitationVerified.as_str())
                    .filter(|r| r.outcome == Outcome::Success.as_str())
                    .filter(|r| r.target_type.as_deref() == Some("invitation"))
                    .filter_map(|r| r.target_id.clone())
                    .collect();
                let first = batch.first().map_or_else(storage::now, |r| r.occurred_at);
                storage::invitations::mark_opened(conn, &opened, first)?;
                Ok::<_, storage::DbError>(())
            });
            conn.report(stored.is_ok());
            Ok(stored?)
        })
        .await;
        match stored {
            Ok(Ok(())) => return,
            Ok(Err(e)) => tracing::warn!(error = %e, attempt, "audit batch not stored yet"),
            Err(e) => tracing::warn!(error = %e, attempt, "audit batch writer failed"),
        }
        tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt + 1))).await;
    }
    tracing::error!(lost = rows.len(), "audit events could not be stored");
}
