//! Invitations found by token hash in batches, for verifications and registrations on
//! PostgreSQL (on SQLite a lookup is a read on the caller's worker: `AppState::db_read`).
//!
//! On PostgreSQL every statement costs the database a round trip, an executor start and a
//! context switch on each side, whatever it reads. Lookups that arrive while others run share
//! the next statement (each hash by the unique index; `= $1` for one, see
//! `storage::invitations::find_previewed_by_token_hashes`): each of [`lanes`] threads takes
//! everything waiting, up to [`MAX_BATCH`], reads it in one statement and answers every caller
//! from the result. Measured with pgbench on 2 cores: 16 previews in one statement cost the
//! database about what 2 cost one at a time (docs/performance.md).
//!
//! Nobody waits for company: a lone lookup is read at once, so batches form only while lanes
//! are busy. Each lookup is read by a statement that starts after its request was queued, so
//! it sees every commit before that (a redemption included), as a read of its own would.

use crate::error::{ApiError, ApiResult};
use crate::storage::invitations::{self, Previewed};
use crate::storage::{DbPool, StorageError};
use invitegate_core::ErrorCode;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// Threads reading batches (so at most this many lookup statements run at once): one per two
/// cores, at least one. Fewer lanes make larger batches, which cost the database less than
/// parallel statements gain: on 2 cores, valid verifications on PostgreSQL with 1 lane were
/// 25.6–27.1k/s, with 2 lanes 19.4–20.5k/s, with 3 15.7–16.5k/s, with 4 14.3–14.5k/s
/// (32 connections, two rounds).
pub fn lanes() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

/// Lookups read by one statement at most.
pub const MAX_BATCH: usize = 64;
/// Lookups waiting at most; past it a lookup is answered 503 at once (the database is not
/// keeping up, and a longer queue would only lengthen every wait).
pub const MAX_WAITING: usize = 4096;

/// The batched lookups of one server. Dropping it lets its lanes finish what is queued and
/// end.
pub struct TokenLookups {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a lookup is queued, and when the lookups close.
    ready: Condvar,
    /// The most lookups one statement has read since the start.
    largest_batch: AtomicUsize,
}

#[derive(Default)]
struct Queue {
    waiting: VecDeque<Waiting>,
    closed: bool,
}

struct Waiting {
    hash: String,
    reply: oneshot::Sender<ApiResult<Option<Previewed>>>,
}

impl TokenLookups {
    /// Starts the lanes, which read on `pool`'s connections, each taken within `wait` (else
    /// 503).
    pub fn start(pool: &DbPool, wait: Duration) -> std::io::Result<Self> {
        let lookups = Self {
            shared: Arc::new(Shared {
                queue: Mutex::default(),
                ready: Condvar::new(),
                largest_batch: AtomicUsize::new(0),
            }),
        };
        for n in 0..lanes() {
            let (shared, pool) = (lookups.shared.clone(), pool.clone());
            // On an error `lookups` drops, which ends the lanes already started.
            std::thread::Builder::new()
                .name(format!("token-lookup-{n}"))
                .spawn(move || lane(&shared, &pool, wait))?;
        }
        Ok(lookups)
    }

    /// The invitation with this token hash, with what its preview shows, or `None` when no
    /// invitation has it. Errors: 503 `unavailable` (no connection within the wait, connection
    /// lost, or [`MAX_WAITING`] lookups already waiting), 500 `internal`.
    pub async fn find(&self, hash: String) -> ApiResult<Option<Previewed>> {
        let (reply, answer) = oneshot::channel();
        {
            let mut queue = lock(&self.shared);
            if queue.waiting.len() >= MAX_WAITING {
                return Err(ApiError::new(ErrorCode::Unavailable));
            }
            queue.waiting.push_back(Waiting { hash, reply });
        }
        self.shared.ready.notify_one();
        answer
            .await
            .unwrap_or_else(|_| Err(ApiError::internal("a token lookup lane stopped")))
    }

    /// The most lookups one statement has read since the start (1 when none arrived together).
    pub fn largest_batch(&self) -> usize {
        self.shared.largest_batch.load(Ordering::Relaxed)
    }
}

impl Drop for TokenLookups {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.ready.notify_all();
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Queue> {
    shared.queue.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lane(shared: &Shared, pool: &DbPool, wait: Duration) {
    while let Some(batch) = next_batch(shared) {
        shared
            .largest_batch
            .fetch_max(batch.len(), Ordering::Relaxed);
        if let Err(code) = answer(pool, wait, batch) {
            // Whoever queued meanwhile would wait out the same outage: they are answered now,
            // so no request waits for a connection much longer than `wait`.
            let queued = std::mem::take(&mut lock(shared).waiting);
            for w in queued {
                let _ = w.reply.send(Err(ApiError::new(code)));
            }
        }
    }
}

/// The oldest lookups whose callers still wait, at most [`MAX_BATCH`]; `None` once closed and
/// drained.
fn next_batch(shared: &Shared) -> Option<Vec<Waiting>> {
    let mut queue = lock(shared);
    loop {
        queue.waiting.retain(|w| !w.reply.is_closed());
        if !queue.waiting.is_empty() {
            let taken = queue.waiting.len().min(MAX_BATCH);
            return Some(queue.waiting.drain(..taken).collect());
        }
        if queue.closed {
            return None;
        }
        queue = shared
            .ready
            .wait(queue)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// Reads `batch` in one statement and answers each caller; the error code when the database
/// was unavailable.
fn answer(pool: &DbPool, wait: Duration, batch: Vec<Waiting>) -> Result<(), ErrorCode> {
    let mut hashes: Vec<String> = batch.iter().map(|w| w.hash.clone()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    match read(pool, wait, &hashes) {
        Ok(rows) => {
            let found: HashMap<String, Previewed> = rows
                .into_iter()
                .map(|p| (p.row.token_hash.clone(), p))
                .collect();
            for w in batch {
                let _ = w.reply.send(Ok(found.get(&w.hash).cloned()));
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(lookups = batch.len(), code = ?e.code, "a batch of token lookups failed");
            for w in batch {
                let _ = w.reply.send(Err(ApiError::new(e.code)));
            }
            if e.code == ErrorCode::Unavailable {
                Err(e.code)
            } else {
                Ok(())
            }
        }
    }
}

/// One statement for `hashes`. A panic is a 500 for the batch, not the end of the lane; the
/// connection goes back marked suspect, so it is checked before its next use.
fn read(pool: &DbPool, wait: Duration, hashes: &[String]) -> ApiResult<Vec<Previewed>> {
    let mut conn = pool
        .get_timeout(wait)
        .map_err(|e| ApiError::from(StorageError::Unavailable(e.to_string())))?;
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        invitations::find_previewed_by_token_hashes(&mut conn, hashes)
    }));
    let result = match read {
        Ok(read) => read.map_err(ApiError::from),
        Err(_) => Err(ApiError::internal("a token lookup panicked")),
    };
    conn.report(result.is_ok());
    result
}
