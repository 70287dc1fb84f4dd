//! Hashing in worker processes of their own (Linux). `SCHED_IDLE` ranks threads only within
//! their scheduling group, and with Linux's autogroup each session is a group that competes
//! with the others as an equal (sched(7), "The autogroup feature"): hashing threads inside the
//! server's session keep that group busy, and a PostgreSQL server in its own session gets no
//! more than its share. A worker starts a session of its own and sets its autogroup's nice
//! value to 19 (a weight of 15 against a session's 1024), so it hashes with the CPU time every
//! other session leaves, the database's included. Measured on 2 cores (docs/performance.md):
//! verifications on PostgreSQL while 32 connections register, p99 115-185 ms with the threads
//! in the server's session (three runs), 19-28 ms with workers (two runs).
//!
//! The kernel applies autogroup only to tasks outside cgroups with the CPU controller (in a
//! container, such a cgroup competes as one group anyway): there the workers change nothing and
//! cost a pipe round trip per hash.
//!
//! Each hashing thread talks to a worker of its own over the worker's stdin and stdout, one
//! job at a time. A worker first sends one byte: whether its priority is lowered (else the
//! thread hashes in-process, inside the server's group, rather than in a group of its own at
//! full weight; when it never can be here, workers are turned off). A job: the argon2
//! variant, version, m, t and p, and the salt, the password and the output length; the
//! answer: 1 and the output, or 0 and why there is none. Integers are 32-bit little-endian;
//! byte strings are a length and the bytes.

use super::{Job, compute, lower_priority};
use argon2::{Algorithm, Block, Params, Version};
use std::cell::RefCell;
use std::io::{BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Whether hashing threads hand their hashes to workers: set by `serve`, cleared for good when
/// a worker reports that its priority cannot be lowered here.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Held while a worker starts, so that workers lower their priority one after another rather
/// than all retrying against the kernel's rate limit at once.
static STARTING: Mutex<()> = Mutex::new(());

/// After a worker could not be started or stopped answering, this thread hashes in-process for
/// this long before it starts another: a broken spawn costs no time on every hash.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// How long a thread waits for its worker's answer before it gives the worker up: far past
/// [`super::WAIT_LIMIT`], when no caller waits any longer; a stopped worker frees its thread.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// The kernel lets an unprivileged process set an autogroup's nice value once per 100 ms
/// (system-wide), so workers started together retry this many times, 110 ms apart.
const NICE_ATTEMPTS: u32 = 30;

/// A worker's first byte: its session's priority is lowered.
const LOWERED: u8 = 1;
/// A worker's first byte: it never will be here (no session of its own, or the autogroup
/// refused for a reason other than the rate limit): workers are turned off.
const REFUSED: u8 = 0;
/// A worker's first byte: the rate limit outlasted its attempts; a later worker may succeed.
const RATE_LIMITED: u8 = 2;

/// A worker that has had no job for this long returns its work area (19 MiB with today's
/// parameters) to the kernel. The next hash maps it again: about 5 ms of page faults on this
/// machine, against 15 ms for the hash, which a registration seconds after the last one does
/// not notice; a stream of them keeps the area.
const KEEP_AREA: Duration = Duration::from_secs(2);

/// The longest salt, password and output a worker accepts, in bytes (argon2 allows more; no
/// hash this server makes or checks comes near).
const MAX_LEN: u32 = 1 << 20;

/// From now on, this process's hashing threads hash in workers (`invitegate hash-worker`),
/// when Linux's autogroup is on; elsewhere they go on hashing in-process, where `SCHED_IDLE`
/// already puts them behind every request. Call it from the server (and its ceiling
/// measurement, `hash-bench`) only: a worker runs this executable again.
pub fn enable() {
    let autogroup = std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled");
    if autogroup.is_ok_and(|v| v.trim() == "1") {
        ENABLED.store(true, Ordering::Relaxed);
    }
}

/// Whether [`enable`] turned workers on.
pub(super) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Whether this thread's worker is running (it hashes there, not in-process).
pub(super) fn running() -> bool {
    WORKER.with_borrow(|slot| matches!(slot, Slot::Running(_)))
}

/// A running worker and its pipes.
struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

/// A hashing thread's worker: none yet, running, or failed (and when).
enum Slot {
    Idle,
    Running(Worker),
    FailedAt(Instant),
}

thread_local! {
    static WORKER: RefCell<Slot> = const { RefCell::new(Slot::Idle) };
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `job` hashed into `out` by this thread's worker, started on first use: `Some(Ok)`, or
/// `Some(Err)` with argon2's reason or because the worker did not answer in time (the caller
/// gave up long before); `None` when workers are off, the parameters carry a key id or
/// associated data (which the protocol does not send), or the worker could not start or
/// failed: the caller then hashes in-process.
pub(super) fn hash(job: &Job, out: &mut [u8]) -> Option<Result<(), String>> {
    if !enabled() {
        return None;
    }
    if !job.params.data().is_empty() || !job.params.keyid().is_empty() {
        return None;
    }
    WORKER.with_borrow_mut(|slot| {
        if let Slot::FailedAt(at) = slot
            && at.elapsed() < RETRY_AFTER
        {
            return None;
        }
        if !matches!(slot, Slot::Running(_)) {
            match start() {
                Ok(worker) => *slot = Slot::Running(worker),
                Err(e) => {
                    tracing::warn!(error = %e, "no hashing worker: hashing in-process");
                    *slot = Slot::FailedAt(Instant::now());
                    return None;
                }
            }
        }
        let Slot::Running(worker) = slot else {
            return None;
        };
        match ask(&mut worker.stdin, &mut worker.stdout, job, out) {
            Ok(answer) => Some(answer),
            Err(e) => {
                tracing::warn!(error = %e, "hashing worker failed: hashing in-process");
                *slot = Slot::FailedAt(Instant::now());
                (e.kind() == std::io::ErrorKind::TimedOut).then(|| Err(e.to_string()))
            }
        }
    })
}

fn start() -> std::io::Result<Worker> {
    let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    // The running executable, even if an upgrade has replaced the file since. A worker needs
    // no configuration, so none of its secrets; with the malloc setting, main does not restart
    // it to set one.
    let arenas = std::env::var_os("MALLOC_ARENA_MAX").unwrap_or_else(|| "4".into());
    let tunables = super::huge_pages::tunables(std::env::var_os("GLIBC_TUNABLES"));
    let mut child = Command::new("/proc/self/exe")
        .arg("hash-worker")
        .env_clear()
        .env("MALLOC_ARENA_MAX", arenas)
        // A fixed threshold keeps glibc from raising it to the size of a freed area: the area
        // stays a mapping of its own, which freeing it unmaps (see `KEEP_AREA`). glibc ignores
        // it for a binary with file capabilities: there only the first release unmaps.
        .env("MALLOC_MMAP_THRESHOLD_", "1048576")
        .env("GLIBC_TUNABLES", tunables)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    super::pinning::pin(&child);
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(std::io::Error::other("worker pipes missing"));
    };
    let mut worker = Worker {
        child,
        stdin: BufWriter::new(stdin),
        stdout: BufReader::new(stdout),
    };
    let mut lowered = [0u8; 1];
    wait_readable(&worker.stdout, ANSWER_LIMIT)?;
    worker.stdout.read_exact(&mut lowered)?;
    match lowered[0] {
        LOWERED => Ok(worker),
        REFUSED => {
            ENABLED.store(false, Ordering::Relaxed);
            Err(std::io::Error::other(
                "a worker's priority cannot be lowered here: hashing in-process from now on",
            ))
        }
        _ => Err(std::io::Error::other(
            "the worker's priority is not lowered yet",
        )),
    }
}

/// Sends `job` and reads its answer into `out`. The outer error: the worker is broken (give it
/// up); the inner one: argon2's reason for not hashing.
fn ask(
    w: &mut impl Write,
    r: &mut BufReader<impl Read + AsFdIfLinux>,
    job: &Job,
    out: &mut [u8],
) -> std::io::Result<Result<(), String>> {
    let variant = match job.algorithm {
        Algorithm::Argon2d => 0,
        Algorithm::Argon2i => 1,
        Algorithm::Argon2id => 2,
    };
    let params = &job.params;
    for n in [
        variant,
        u32::from(job.version),
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
    ] {
        w.write_all(&n.to_le_bytes())?;
    }
    write_bytes(w, job.salt)?;
    write_bytes(w, job.password)?;
    w.write_all(&len(out.len())?.to_le_bytes())?;
    w.flush()?;
    wait_readable(r, ANSWER_LIMIT)?;
    let ok = read_u32(r)? == 1;
    let answer = read_bytes(r)?;
    if !ok {
        return Ok(Err(String::from_utf8_lossy(&answer).into_owned()));
    }
    if answer.len() != out.len() {
        return Err(std::io::Error::other("worker answered a wrong length"));
    }
    out.copy_from_slice(&answer);
    Ok(Ok(()))
}

/// `invitegate hash-worker`: in a session of its own whose autogroup runs at nice 19, under
/// `SCHED_IDLE`, says whether its priority is lowered, then answers jobs from stdin on stdout
/// until stdin closes, in one work area kept between hashes (for [`KEEP_AREA`] when idle).
pub fn serve() -> std::io::Result<()> {
    let lowered = lower_session();
    lower_priority();
    let mut output = BufWriter::new(std::io::stdout().lock());
    output.write_all(&[lowered])?;
    output.flush()?;
    jobs(BufReader::new(std::io::stdin().lock()), output)
}

/// A session of its own, with its autogroup at nice 19: [`LOWERED`], [`REFUSED`] or
/// [`RATE_LIMITED`].
fn lower_session() -> u8 {
    #[cfg(target_os = "linux")]
    {
        if rustix::process::setsid().is_err() {
            return REFUSED;
        }
        for _ in 0..NICE_ATTEMPTS {
            match std::fs::write("/proc/self/autogroup", "19") {
                Ok(()) => return LOWERED,
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::AGAIN.raw_os_error()) => {
                    std::thread::sleep(Duration::from_millis(110));
                }
                Err(_) => return REFUSED,
            }
        }
        RATE_LIMITED
    }
    #[cfg(not(target_os = "linux"))]
    REFUSED
}

/// Answers each job read from `input` on `output`, until `input` ends.
fn jobs(
    mut input: BufReader<impl Read + AsFdIfLinux>,
    mut output: impl Write,
) -> std::io::Result<()> {
    let mut area: Vec<Block> = Vec::new();
    loop {
        if !area.is_empty()
            && let Err(e) = wait_readable(&input, KEEP_AREA)
            && e.kind() == std::io::ErrorKind::TimedOut
        {
            area = Vec::new();
        }
        let mut head = [0u8; 4];
        match input.read_exact(&mut head) {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            other => other?,
        }
        let variant = u32::from_le_bytes(head);
        let mut numbers = [0u32; 4];
        for n in &mut numbers {
            *n = read_u32(&mut input)?;
        }
        let [version, m, t, p] = numbers;
        let salt = read_bytes(&mut input)?;
        let password = read_bytes(&mut input)?;
        let out_len = read_u32(&mut input)?;
        if out_len > MAX_LEN {
            return Err(std::io::Error::other("output too long"));
        }
        let mut out = vec![0u8; out_len as usize];
        let answer = run_job(
            variant,
            version,
            [m, t, p],
            &salt,
            &password,
            &mut out,
            &mut area,
        );
        match answer {
            Ok(()) => {
                output.write_all(&1u32.to_le_bytes())?;
                write_bytes(&mut output, &out)?;
            }
            Err(e) => {
                output.write_all(&0u32.to_le_bytes())?;
                write_bytes(&mut output, e.as_bytes())?;
            }
        }
        output.flush()?;
    }
}

fn run_job(
    variant: u32,
    version: u32,
    [m, t, p]: [u32; 3],
    salt: &[u8],
    password: &[u8],
    out: &mut [u8],
    area: &mut Vec<Block>,
) -> Result<(), String> {
    let algorithm = match variant {
        0 => Algorithm::Argon2d,
        1 => Algorithm::Argon2i,
        2 => Algorithm::Argon2id,
        _ => return Err(format!("unknown argon2 variant {variant}")),
    };
    let job = Job {
        algorithm,
        version: Version::try_from(version).map_err(|e| e.to_string())?,
        params: Params::new(m, t, p, Some(out.len())).map_err(|e| e.to_string())?,
        password,
        salt,
    };
    compute(&job, out, Some(area))
}

fn len(n: usize) -> std::io::Result<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_LEN)
        .ok_or_else(|| std::io::Error::other("too long for a hashing worker"))
}

fn write_bytes(w: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&len(bytes.len())?.to_le_bytes())?;
    w.write_all(bytes)
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_bytes(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let n = read_u32(r)?;
    if n > MAX_LEN {
        return Err(std::io::Error::other("too long"));
    }
    let mut bytes = vec![0u8; n as usize];
    r.read_exact(&mut bytes)?;
    Ok(bytes)
}

#[cfg(target_os = "linux")]
use std::os::fd::AsFd as AsFdIfLinux;
/// Anything, where there is no `poll` to wait with.
#[cfg(not(target_os = "linux"))]
trait AsFdIfLinux {}
#[cfg(not(target_os = "linux"))]
impl<T> AsFdIfLinux for T {}

/// Waits until `r` has something to read, at most `limit`: a worker that does not answer
/// within it is given up (`TimedOut`).
#[cfg(target_os = "linux")]
fn wait_readable(r: &BufReader<impl AsFdIfLinux>, limit: Duration) -> std::io::Result<()> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    if !r.buffer().is_empty() {
        return Ok(());
    }
    let deadline = Instant::now() + limit;
    loop {
        let mut fds = [PollFd::new(r.get_ref(), PollFlags::IN)];
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = Timespec {
            tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(left.subsec_nanos()),
        };
        // A signal handled on this thread interrupts poll whatever SA_RESTART says.
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the hashing worker did not answer",
                ));
            }
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn wait_readable(_: &BufReader<impl AsFdIfLinux>, _: Duration) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod tests;
