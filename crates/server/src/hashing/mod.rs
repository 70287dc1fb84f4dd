//! Password hashing with argon2id on a bounded pool of dedicated threads, off the HTTP workers
//! and off the database's blocking pool, so cheap requests stay fast while registrations
//! saturate the CPU. On Linux those threads also run under `SCHED_IDLE`, so a request that
//! needs a few microseconds of CPU preempts a hash instead of queueing behind it; where Linux
//! groups CPU time by session, the hashes themselves run in worker processes of their own
//! ([`worker`]). Parameters are OWASP's minimum for argon2id or stronger.

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use std::cell::RefCell;
use std::sync::Arc;
use tokio::sync::{Semaphore, oneshot};

mod huge_pages;
mod pinning;
pub mod worker;

/// argon2id memory cost in KiB (OWASP Password Storage Cheat Sheet: m=19456, t=2, p=1).
pub const MEMORY_KIB: u32 = 19_456;
/// argon2id iterations.
pub const ITERATIONS: u32 = 2;
/// argon2id parallelism.
pub const PARALLELISM: u32 = 1;

/// The production argon2id parameters.
pub fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("valid argon2 parameters")
}

/// Errors of the hashing pool.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many hashes are waiting; the caller should answer 503.
    #[error("password hashing queue is full")]
    Busy,
    /// The hash could not be computed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// How long a caller waits for its hash before giving up with [`HashError::Busy`] (503).
pub const WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// A bounded pool of hashing threads.
#[derive(Clone)]
pub struct HasherPool {
    pool: Arc<rayon::ThreadPool>,
    queue: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

/// The result of verifying a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or no account: the dummy hash was checked).
    No,
    /// Correct, and the stored hash uses current parameters.
    Yes,
    /// Correct; the stored hash is weaker than today's parameters: store this one instead.
    YesRehashed(String),
}

impl HasherPool {
    /// `threads` workers and at most `queue` hashes waiting or running.
    pub fn new(threads: usize, queue: usize) -> anyhow::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("argon2-{i}"))
            .start_handler(|_| lower_priority())
            .build()?;
        let dummy_hash = dummy_hash()?;
        Ok(Self {
            pool: Arc::new(pool),
            queue: Arc::new(Semaphore::new(queue)),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Runs `f` on a hashing thread. The queue slot is held until the job ends, not until the
    /// caller stops waiting, so `queue` bounds the work even when clients give up; a job whose
    /// caller has gone (client timeout, [`WAIT_LIMIT`]) is skipped. Busy past `queue` jobs or
    /// after waiting [`WAIT_LIMIT`] (the threads are starved of CPU: see [`lower_priority`]).
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = self
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| HashError::Busy)?;
        let (tx, rx) = oneshot::channel();
        self.pool.spawn(move || {
            let _held = permit;
            if !tx.is_closed() {
                let _ = tx.send(f());
            }
        });
        match tokio::time::timeout(WAIT_LIMIT, rx).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(HashError::Failed("hashing thread ended".into())),
            Err(_) => Err(HashError::Busy),
        }
    }

    /// Hashes an (already NFKC-normalised) password into a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || hash_now(&password))
            .await?
            .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Verifies `password` against `stored`, or against a dummy hash when `stored` is `None`,
    /// so unknown accounts cost the same time as wrong passwords.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verified, HashError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        self.run(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return Verified::No;
            };
            if !matches(password.as_bytes(), &parsed) || !known {
                return Verified::No;
            }
            if needs_rehash(&parsed) {
                match hash_now(&password) {
                    Ok(h) => Verified::YesRehashed(h),
                    Err(_) => Verified::Yes,
                }
            } else {
                Verified::Yes
            }
        })
        .await
    }
}

/// Puts the calling thread under `SCHED_IDLE` (sched(7)): it gets the CPU time request
/// threads leave (a weight of 3 against their 1024 when both want it), and any request thread
/// that wakes up preempts it at once. Measured on 2 cores with PostgreSQL (`cargo xtask
/// bench`, verifications while 32 connections register): nice 10 left 0.9k verifications/s,
/// nice 19 1.4k, `SCHED_IDLE` 4-5k, as a woken thread waits out a niced thread's time slice
/// but not an idle one's. The cost: while requests keep every core busy, hashes (sign-ups,
/// sign-ins) wait; past `hash_queue` waiting or running jobs, or after [`WAIT_LIMIT`], the
/// caller gets 503.
/// Lowering one's own priority needs no privilege; a refusal is logged and hashing goes on.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::ThreadPriority;
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        if let Err(e) = set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        ) {
            tracing::warn!(error = ?e, "hashing thread priority not (fully) lowered");
        }
    }
}

thread_local! {
    /// This thread's argon2 work area, kept between hashes: a fresh 19 MiB per hash costs
    /// its page faults every time and leaves freed arenas behind in the allocator.
    static WORK_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// One argon2 computation: the variant, version and parameters, the password and the salt.
struct Job<'a> {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &'a [u8],
    salt: &'a [u8],
}

/// `job` into `out`. On a hashing thread: in its worker process when workers are on
/// ([`worker`]; in an area of its own when that worker fails), else in the thread's kept work
/// area. Elsewhere (the CLI, tests) in an area of its own: no thread that rarely hashes keeps
/// 19 MiB.
fn argon2_into(job: &Job, out: &mut [u8]) -> Result<(), String> {
    if rayon::current_thread_index().is_none() {
        return compute(job, out, None);
    }
    if let Some(done) = worker::hash(job, out) {
        return done;
    }
    // Without its worker, a thread keeps no area: the worker that replaces it will hold one.
    if worker::enabled() {
        return compute(job, out, None);
    }
    WORK_AREA.with_borrow_mut(|area| compute(job, out, Some(area)))
}

/// `job` into `out`, in `area` when one is given and the parameters cost no more than today's
/// (argon2 writes every block before reading it, so the area is not cleared); a stored hash
/// costlier than today's gets an area of its own, so one old hash grows no kept area.
fn compute(job: &Job, out: &mut [u8], area: Option<&mut Vec<Block>>) -> Result<(), String> {
    let kept = params().block_count();
    let argon = Argon2::new(job.algorithm, job.version, job.params.clone());
    let (password, salt) = (job.password, job.salt);
    match area {
        Some(area) if argon.params().block_count() <= kept => {
            if area.len() < kept {
                area.resize(kept, Block::default());
            }
            argon.hash_password_into_with_memory(password, salt, out, &mut area[..])
        }
        _ => argon.hash_password_into(password, salt, out),
    }
    .map_err(|e| e.to_string())
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) of `password` with a fresh
/// 16-byte salt.
fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = crate::tokens::random_bytes::<16>();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let job = Job {
        algorithm: Algorithm::Argon2id,
        version: Version::V0x13,
        params: params(),
        password: password.as_bytes(),
        salt: &salt,
    };
    argon2_into(&job, &mut out).map_err(|e| anyhow::anyhow!("{e}"))?;
    phc_string(&salt, &out)
}

/// What unknown accounts are verified against: today's parameters, a random salt and a random
/// output that no password hashes to (2^-256). Verifying costs what a real hash costs; making
/// it costs nothing, so no 19 MiB area is allocated at start-up.
fn dummy_hash() -> anyhow::Result<String> {
    phc_string(
        &crate::tokens::random_bytes::<16>(),
        &crate::tokens::random_bytes::<{ Params::DEFAULT_OUTPUT_LEN }>(),
    )
}

fn phc_string(salt: &[u8], out: &[u8]) -> anyhow::Result<String> {
    let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(|e| fail(&e))?,
        salt: Some(Salt::new(salt).map_err(|e| fail(&e))?),
        hash: Some(Output::new(out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Password hashes per second that a pool of `threads` hashing threads computes over
/// `duration` with the production parameters, each where the server's would: in its worker
/// when [`worker::enable`] was called and workers run here, else in-process, in a kept work
/// area either way. Each thread hashes once before the clock starts, so starting a worker and
/// mapping its area (which a busy server has done long before) are not counted. An error when
/// workers are on and one of them did not start: that thread would hash in-process, in a
/// fresh area per hash, and the ceiling would mix the two.
pub fn ceiling(threads: usize, duration: std::time::Duration) -> anyhow::Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let in_workers = pool
        .broadcast(|_| hash_now("a benchmark password, 32 chars").map(|_| worker::running()))
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    if in_workers.iter().any(|&w| w != worker::enabled()) {
        anyhow::bail!("a hashing worker did not start: the ceiling would mix workers and threads");
    }
    let start = std::time::Instant::now();
    let counts = pool.broadcast(|_| -> anyhow::Result<u64> {
        let mut n = 0;
        while start.elapsed() < duration {
            hash_now("a benchmark password, 32 chars")?;
            n += 1;
        }
        Ok(n)
    });
    let total: u64 = counts.into_iter().sum::<anyhow::Result<u64>>()?;
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// Whether `password` hashes to `stored` under the stored algorithm, version and parameters
/// (compared in constant time by [`Output`]).
fn matches(password: &[u8], stored: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map(Option::unwrap_or_default)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let job = Job {
        algorithm,
        version,
        params,
        password,
        salt,
    };
    argon2_into(&job, &mut out).is_ok() && Output::new(&out).is_ok_and(|o| o == *expected)
}

fn needs_rehash(parsed: &PasswordHash) -> bool {
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let get = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    get("m") < MEMORY_KIB || get("t") < ITERATIONS || get("p") < PARALLELISM
}

#[cfg(test)]
mod tests;
