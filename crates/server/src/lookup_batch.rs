//! Invitations found by token hash in batches, for verifications and registrations on
//! PostgreSQL (on SQLite a lookup is a read on the caller's worker: `AppState::db_read`).
//!
//! On PostgreSQL every statement costs the database a round trip, an executor start and a
//! context switch on each side, whatever it reads. Lookups that arrive while others run share
//! the next statement (`token_hash = ANY($1)`): each of [`LANES`] threads takes everything
//! waiting, up to [`MAX_BATCH`], reads it in one statement and answers every caller from the
//! result. Measured with pgbench on 2 cores: 16 previews in one statement cost the database
//! about what 2 cost one at a time (docs/performance.md).
//!
//! Nobody waits for company: a lone lookup is read at once, so batches form only while lanes
//! are busy. Each lookup is read by a statement that starts after its request was queued, so
//! it sees every commit before that (a redemption included), as a read of its own would.

use crate::error::{ApiError, ApiResult};
use crate::storage::invitations::{self, Previewed};
use crate::storage::{DbPool, StorageError};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::oneshot;

/// Threads reading batches, so at most this many lookup statements run at once.
pub const LANES: usize = 2;
/// Lookups read by one statement at most.
pub const MAX_BATCH: usize = 64;

/// The batched lookups of one server. Dropping it lets its lanes finish what is queued and
/// end.
pub struct TokenLookups {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a lookup is queued, and when the lookups close.
    ready: Condvar,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
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
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            ready: Condvar::new(),
        });
        for n in 0..LANES {
            let (shared, pool) = (shared.clone(), pool.clone());
            std::thread::Builder::new()
                .name(format!("token-lookup-{n}"))
                .spawn(move || lane(&shared, &pool, wait))?;
        }
        Ok(Self { shared })
    }

    /// The invitation with this token hash, with what its preview shows, or `None` when no
    /// invitation has it. Errors: 503 `unavailable` (no connection in time, connection lost),
    /// 500 `internal`.
    pub async fn find(&self, hash: String) -> ApiResult<Option<Previewed>> {
        let (reply, answer) = oneshot::channel();
        lock(&self.shared).waiting.push(Waiting { hash, reply });
        self.shared.ready.notify_one();
        answer
            .await
            .unwrap_or_else(|_| Err(ApiError::internal("a token lookup lane stopped")))
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
        answer(pool, wait, batch);
    }
}

/// The oldest lookups waiting, at most [`MAX_BATCH`]; `None` once closed and drained.
fn next_batch(shared: &Shared) -> Option<Vec<Waiting>> {
    let mut queue = lock(shared);
    loop {
        if !queue.waiting.is_empty() {
            let taken = queue.waiting.len().min(MAX_BATCH);
            let rest = queue.waiting.split_off(taken);
            return Some(std::mem::replace(&mut queue.waiting, rest));
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

fn answer(pool: &DbPool, wait: Duration, batch: Vec<Waiting>) {
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
        }
        Err(e) => {
            for w in batch {
                let _ = w.reply.send(Err(ApiError::new(e.code)));
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
