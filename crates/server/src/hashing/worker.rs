//! Hashing in worker processes of their own (Linux). `SCHED_IDLE` ranks threads only within
//! their scheduling group, and with Linux's autogroup each session is a group that competes
//! with the others as an equal (sched(7), "The autogroup feature"): hashing threads inside the
//! server's session keep that group busy, and a PostgreSQL server in its own session gets no
//! more than its share. A worker starts a session of its own and sets its autogroup's nice
//! value to 19 (a weight of 15 against a session's 1024), so it hashes with the CPU time every
//! other session leaves, the database's included. Measured on 2 cores (docs/performance.md):
//! verifications on PostgreSQL while 32 connections register, p99 115-185 ms with the threads
//! in the server's session.
//!
//! Each hashing thread talks to a worker of its own over the worker's stdin and stdout, one
//! job at a time. A job: the argon2 variant, version, m, t and p, and the salt, the password
//! and the output length; the answer: the output, or why there is none. Integers are 32-bit
//! little-endian; byte strings are a length and the bytes.

use super::{compute, lower_priority};
use argon2::{Algorithm, Block, Params, Version};
use std::cell::RefCell;
use std::io::{BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Whether hashing threads hand their hashes to workers: set once, by `serve`.
static ENABLED: OnceLock<()> = OnceLock::new();

/// After a worker could not be started or stopped answering, this thread hashes in-process for
/// this long before it starts another: a broken spawn costs no time on every hash.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// The longest salt, password and output a worker accepts, in bytes (argon2 allows more; no
/// hash this server makes or checks comes near).
const MAX_LEN: u32 = 1 << 20;

/// From now on, this process's hashing threads hash in workers (`invitegate hash-worker`),
/// when Linux's autogroup is on; elsewhere they go on hashing in-process, where `SCHED_IDLE`
/// already puts them behind every request. Call it from the server only: a worker runs this
/// executable again.
pub fn enable() {
    let autogroup = std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled");
    if autogroup.is_ok_and(|v| v.trim() == "1") {
        let _ = ENABLED.set(());
    }
}

/// One hash to compute.
pub(super) struct Job<'a> {
    pub algorithm: Algorithm,
    pub version: Version,
    pub params: &'a Params,
    pub password: &'a [u8],
    pub salt: &'a [u8],
}

struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

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

/// `job` hashed into `out` by this thread's worker, started on first use: `None` when workers
/// are off or none answers (the caller then hashes in-process).
pub(super) fn hash(job: &Job, out: &mut [u8]) -> Option<Result<(), String>> {
    ENABLED.get()?;
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
        match ask(worker, job, out) {
            Ok(answer) => Some(answer),
            Err(e) => {
                tracing::warn!(error = %e, "hashing worker failed: hashing in-process");
                *slot = Slot::FailedAt(Instant::now());
                None
            }
        }
    })
}

fn start() -> std::io::Result<Worker> {
    // The running executable, even if an upgrade has replaced the file since.
    let mut child = Command::new("/proc/self/exe")
        .arg("hash-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other("worker pipes missing"));
    };
    Ok(Worker {
        child,
        stdin: BufWriter::new(stdin),
        stdout: BufReader::new(stdout),
    })
}

fn ask(worker: &mut Worker, job: &Job, out: &mut [u8]) -> std::io::Result<Result<(), String>> {
    let w = &mut worker.stdin;
    let variant = match job.algorithm {
        Algorithm::Argon2d => 0,
        Algorithm::Argon2i => 1,
        _ => 2,
    };
    let params = job.params;
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
    let r = &mut worker.stdout;
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

/// `invitegate hash-worker`: answers jobs from stdin on stdout until stdin closes, in a
/// session of its own whose autogroup runs at nice 19, under `SCHED_IDLE`, in one work area
/// kept between hashes.
pub fn serve() -> std::io::Result<()> {
    // Each may fail (another system, a container's read-only /proc): the worker still hashes.
    #[cfg(target_os = "linux")]
    let _ = rustix::process::setsid();
    let _ = std::fs::write("/proc/self/autogroup", "19");
    lower_priority();
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    let mut area: Vec<Block> = Vec::new();
    loop {
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
        _ => Algorithm::Argon2id,
    };
    let version = Version::try_from(version).map_err(|e| e.to_string())?;
    let params = Params::new(m, t, p, Some(out.len())).map_err(|e| e.to_string())?;
    compute(algorithm, version, params, password, salt, out, Some(area))
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
