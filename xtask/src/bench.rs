//! `cargo xtask bench`: the performance scenarios of issue 10 against a release build, on
//! SQLite and on PostgreSQL, with the HTTP floor and the argon2 ceiling measured in the same
//! run, printed as a table of ratios.
//!
//! Scenarios (wrk, `--connections` connections, `--duration` seconds each):
//! - floor: `GET /healthz`, HTTP alone (no database);
//! - policy: `GET /api/v1/signup-policy`, the cheapest API route (one settings read);
//! - verify: `POST /api/v1/invitations/verify` with 1,000 valid tokens, cycled;
//! - forged: the same with tokens whose signature does not verify;
//! - register: `POST /api/v1/register`, a fresh single-use token per request, in `--rounds`
//!   rounds (3 by default) with the argon2 ceiling measured before, between and after them;
//!   each round is a ratio to the mean of the ceilings on either side of it, and the table
//!   gives the median round;
//! - mixed: verify measured while 32 more connections register.
//!
//! The per-IP limits are lifted for the run (all load comes from one loopback address).

use crate::cpu_shares::{self, Shares};
use crate::{cargo, status, web};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The wrk script of every scenario (`BENCH_MODE` picks one).
const LUA: &str = include_str!("bench.lua");

/// What wrk measured: requests/s, successful requests/s, p50 and p99 in ms, non-2xx count.
#[derive(Debug, Clone, Copy, Default)]
struct Measured {
    rps: f64,
    ok_rps: f64,
    p50: f64,
    p99: f64,
    non2xx: u64,
}

/// One backend's results.
#[derive(Debug, Default)]
struct Run {
    floor: Measured,
    policy: Measured,
    verify: Measured,
    forged: Measured,
    /// One per round.
    register: Vec<Measured>,
    /// Where the machine's CPU time went in each round (none without `/proc`).
    register_shares: Vec<Option<Shares>>,
    /// Registrations written per commit over the rounds (the server's group commit), when its
    /// `/metrics` answered.
    per_commit: Option<f64>,
    /// The argon2 ceiling in hashes/s, measured before, between and after the `register`
    /// rounds (one more than them): the CPU this machine gives moves by tens of percent within
    /// minutes, so each round is set against the ceilings measured on either side of it.
    ceilings: Vec<f64>,
    mixed: Measured,
    list: Measured,
    /// Seconds for `POST /invitations/bulk` with 10,000 rows, and its HTTP status.
    bulk: (f64, String),
    idle_rss_mib: f64,
    /// At the end of the last scenario, when hashing workers may still be finishing
    /// registrations whose clients have gone.
    end_rss_mib: f64,
    /// Once the server and its workers are idle after the run, and whether they still were
    /// not after 30 s.
    rest_rss_mib: f64,
    still_busy: bool,
}

struct Options {
    duration: u64,
    connections: u32,
    backends: Vec<&'static str>,
    /// Invitations and users added before the run (`--seed N`).
    seed: usize,
    /// Rounds of the register scenario (`--rounds N`, at least 1).
    rounds: usize,
}

fn options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        duration: 10,
        connections: 32,
        backends: vec!["sqlite", "postgres"],
        seed: 0,
        rounds: 3,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--duration" => o.duration = positive(value()?, a)? as u64,
            "--seed" => o.seed = value()?.parse().map_err(|_| "bad --seed")?,
            "--rounds" => o.rounds = positive(value()?, a)?,
            "--connections" => o.connections = value()?.parse().map_err(|_| "bad --connections")?,
            "--backend" => {
                o.backends = match value()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    _ => return Err("--backend is sqlite or postgres".into()),
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// `v` as a count of at least 1, else an error naming `option`.
fn positive(v: &str, option: &str) -> Result<usize, String> {
    v.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(format!("bad {option}"))
}

/// Runs the benchmark and prints its table.
pub fn bench(args: &[String]) -> Result<(), String> {
    let opts = options(args)?;
    ensure_wrk()?;
    let bin = release_binary()?;
    let work = web::target_dir().join("bench");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    std::fs::write(work.join("bench.lua"), LUA).map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for backend in &opts.backends {
        runs.push((*backend, run_backend(&bin, &work, backend, &opts)?));
    }
    println!("{}", table(&runs, &opts));
    Ok(())
}

/// Hashes per second of a thread per core hashing for 5 s with the server's parameters
/// (`invitegate hash-bench`).
fn ceiling(bin: &Path) -> Result<f64, String> {
    eprintln!("bench: argon2 ceiling (5 s)");
    let out = Command::new(bin)
        .args(["hash-bench", "--seconds", "5"])
        .output()
        .map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .strip_prefix("hashes_per_second=")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| "hash-bench printed no rate".into())
}

/// Builds the release server and returns its path.
pub fn release_binary() -> Result<PathBuf, String> {
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "-p",
        "invitegate-server",
        "--bin",
        "invitegate",
    ]);
    status(c)?;
    Ok(web::target_dir().join("release").join("invitegate"))
}

fn ensure_wrk() -> Result<(), String> {
    if Command::new("wrk").arg("-v").output().is_ok() {
        return Ok(());
    }
    eprintln!("bench: installing wrk (Debian)");
    let mut c = Command::new("sh");
    c.args([
        "-c",
        "apt-get update -qq && apt-get install -y -qq wrk >/dev/null",
    ]);
    status(c)
}

fn run_backend(bin: &Path, work: &Path, backend: &str, o: &Options) -> Result<Run, String> {
    let dir = work.join(backend);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let port = if backend == "sqlite" { 18301 } else { 18302 };
    let url = if backend == "sqlite" {
        format!("sqlite://{}/invitegate.db", dir.display())
    } else {
        let admin = "postgres://postgres@127.0.0.1:5432/postgres";
        let mut c = Command::new("psql");
        c.args([
            admin,
            "-q",
            "-c",
            "DROP DATABASE IF EXISTS invitegate_bench WITH (FORCE)",
        ])
        .args(["-c", "CREATE DATABASE invitegate_bench"]);
        status(c)?;
        "postgres://postgres@127.0.0.1:5432/invitegate_bench".into()
    };
    let env = [
        ("INVITEGATE_BIND", format!("127.0.0.1:{port}")),
        ("INVITEGATE_DATABASE_URL", url),
        ("INVITEGATE_DATA_DIR", dir.display().to_string()),
        (
            "INVITEGATE_PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        ),
        ("INVITEGATE_RATE_LIMITS__AUTH_PER_MINUTE", "10000000".into()),
        (
            "INVITEGATE_RATE_LIMITS__VERIFY_PER_MINUTE",
            "10000000".into(),
        ),
        ("INVITEGATE_LOG", "warn".into()),
    ];
    let command = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.args(args).envs(env.iter().map(|(k, v)| (k, v)));
        c
    };
    if o.seed > 0 {
        eprintln!("bench[{backend}]: seeding {} invitations and users", o.seed);
        let n = o.seed.to_string();
        status(command(&["bench-seed", "--invitations", &n, "--users", &n]))?;
    }
    // Enough single-use tokens for each register round and the mixed scenario at well above
    // the argon2 ceiling.
    let registrations = 300 * o.duration as usize;
    let total = 1000 + (o.rounds + 1) * registrations;
    eprintln!("bench[{backend}]: creating {total} invitations");
    let tokens = mint(
        &dir,
        command(&["invitations", "import", "--no-email"]),
        total,
    )?;
    let (valid, rest) = tokens.split_at(1000);
    let forged: Vec<String> = valid.iter().map(|l| forge(l)).collect();
    let mut files = vec![("valid".to_string(), valid), ("forged".into(), &forged[..])];
    // reg_0 is the mixed scenario's, reg_1.. the rounds'.
    for (i, lines) in rest.chunks(registrations).enumerate() {
        files.push((format!("reg_{i}"), lines));
    }
    for (name, lines) in files {
        std::fs::write(dir.join(format!("{name}.tok")), lines.join("\n") + "\n")
            .map_err(|e| e.to_string())?;
    }
    let key = command(&["api-key", "create", "--name", "bench", "--scope", "admin"])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !key.status.success() {
        return Err("api-key create failed".into());
    }
    let key = String::from_utf8_lossy(&key.stdout).trim().to_string();
    std::fs::write(dir.join("key"), &key).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let mut server = command(&["serve"])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| e.to_string())?;
    let result = measure(bin, &mut server, &dir, port, o);
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    result
}

fn measure(
    bin: &Path,
    server: &mut Child,
    dir: &Path,
    port: u16,
    o: &Options,
) -> Result<Run, String> {
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > Duration::from_secs(60) || server.try_wait().ok().flatten().is_some() {
            return Err(format!(
                "the server did not start: see {}",
                dir.join("server.log").display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut run = Run {
        idle_rss_mib: rss_mib(server.id()),
        ..Run::default()
    };
    let wrk = |mode: &str, tokens: &str, conns: u32, secs: u64| -> Result<Child, String> {
        Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{conns}"),
                &format!("-d{secs}s"),
                "--timeout",
                "10s",
            ])
            .args(["--latency", "-s"])
            .arg(dir.parent().expect("work dir").join("bench.lua"))
            .arg(&base)
            .env("BENCH_MODE", mode)
            .env("BENCH_TOKENS", dir.join(tokens))
            .env("BENCH_THREADS", "2")
            .env(
                "BENCH_KEY",
                std::fs::read_to_string(dir.join("key")).unwrap_or_default(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("wrk: {e}"))
    };
    let d = o.duration;
    let c = o.connections;
    eprintln!("bench: warming up");
    parse(wrk("verify", "valid.tok", c, 2)?)?;
    eprintln!(
        "bench: floor, policy, verify, forged, register, verify under registrations, list ({d} s each)"
    );
    run.floor = parse(wrk("floor", "valid.tok", c, d)?)?;
    run.policy = parse(wrk("policy", "valid.tok", c, d)?)?;
    run.verify = parse(wrk("verify", "valid.tok", c, d)?)?;
    run.forged = parse(wrk("verify", "forged.tok", c, d)?)?;
    run.ceilings.push(ceiling(bin)?);
    let commits_before = commits(&base);
    for round in 1..=o.rounds {
        eprintln!("bench: register, round {round} of {}", o.rounds);
        let tokens = format!("reg_{round}.tok");
        let (measured, shares) = parse_sampled(server.id(), wrk("register", &tokens, c, d)?, d)?;
        run.register.push(measured);
        run.register_shares.push(shares);
        // Hashes queued by clients wrk has closed are skipped, but the one running finishes.
        if wait_idle(server.id()) {
            eprintln!("bench: the server was still busy 30 s after round {round}");
        }
        run.ceilings.push(ceiling(bin)?);
    }
    run.per_commit = commits_before
        .zip(commits(&base))
        .and_then(|((sum0, n0), (sum1, n1))| (n1 > n0).then(|| (sum1 - sum0) / (n1 - n0)));
    let background = wrk("register", "reg_0.tok", 32, d + 2)?;
    std::thread::sleep(Duration::from_secs(1));
    run.mixed = parse(wrk("verify", "valid.tok", c, d)?)?;
    parse(background)?;
    run.list = parse(wrk("list", "valid.tok", c, d)?)?;
    run.bulk = bulk(dir, &base)?;
    run.end_rss_mib = rss_mib(server.id());
    (run.rest_rss_mib, run.still_busy) = rss_at_rest(server.id());
    Ok(run)
}

/// Registrations written by group commits so far and the commits: the sum and count of
/// `invitegate_registrations_per_commit` on the server's `/metrics` (with curl).
fn commits(base: &str) -> Option<(f64, f64)> {
    let out = Command::new("curl")
        .args(["-s", &format!("{base}/metrics")])
        .output()
        .ok()?;
    parse_commits(&String::from_utf8_lossy(&out.stdout))
}

fn parse_commits(metrics: &str) -> Option<(f64, f64)> {
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    };
    Some((
        value("invitegate_registrations_per_commit_sum")?,
        value("invitegate_registrations_per_commit_count")?,
    ))
}

/// Times one `POST /api/v1/invitations/bulk` of 10,000 new addresses (with curl).
fn bulk(dir: &Path, base: &str) -> Result<(f64, String), String> {
    let rows: Vec<String> = (0..10_000)
        .map(|i| format!("{{\"email\":\"bulk-{i}@example.com\"}}"))
        .collect();
    let file = dir.join("bulk.json");
    std::fs::write(&file, format!("{{\"invitations\":[{}]}}", rows.join(",")))
        .map_err(|e| e.to_string())?;
    let key = std::fs::read_to_string(dir.join("key")).map_err(|e| e.to_string())?;
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"])
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{}", file.display()))
        .arg(format!("{base}/api/v1/invitations/bulk"))
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (code, seconds) = text.split_once(' ').ok_or("curl printed nothing")?;
    Ok((seconds.trim().parse().unwrap_or(f64::NAN), code.to_string()))
}

/// The `token email` lines of `n` new invitations, created through `invitations import` (the
/// same rules as the bulk API; no emails).
fn mint(dir: &Path, mut import: Command, n: usize) -> Result<Vec<String>, String> {
    let mut csv = String::from("email\n");
    for i in 0..n {
        let _ = writeln!(csv, "bench-{i}@example.com");
    }
    let file: PathBuf = dir.join("invitees.csv");
    std::fs::write(&file, csv).map_err(|e| e.to_string())?;
    let out = import
        .arg(&file)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err("invitations import failed".into());
    }
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            let token = cols.get(3)?.split("#token=").nth(1)?;
            Some(format!("{token} {}", cols.get(1)?))
        })
        .collect();
    if lines.len() != n {
        return Err(format!(
            "expected {n} invitations, import printed {}",
            lines.len()
        ));
    }
    Ok(lines)
}

/// The token of `line` with one character of its signature changed: well-formed, forged.
fn forge(line: &str) -> String {
    let token = line.split(' ').next().unwrap_or_default();
    let (signed, tag) = token.rsplit_once('.').unwrap_or((token, ""));
    let mut tag: Vec<char> = tag.chars().collect();
    if let Some(c) = tag.first_mut() {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    format!("{signed}.{}", tag.into_iter().collect::<String>())
}

/// [`parse`], with the machine's CPU shares while wrk runs: from its second second to its
/// last, or over all of a run shorter than 3 s (wrk is not reaped before the second sample, so
/// its time can still be read).
fn parse_sampled(server: u32, wrk: Child, secs: u64) -> Result<(Measured, Option<Shares>), String> {
    let lead = if secs >= 3 { 1 } else { 0 };
    std::thread::sleep(Duration::from_secs(lead));
    let before = cpu_shares::sample(server, wrk.id());
    std::thread::sleep(Duration::from_secs(secs - 2 * lead));
    let after = cpu_shares::sample(server, wrk.id());
    let shares = before.zip(after).map(|(b, a)| b.shares_until(&a));
    Ok((parse(wrk)?, shares))
}

fn parse(child: Child) -> Result<Measured, String> {
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("@@ "))
        .ok_or_else(|| format!("wrk printed no result:\n{text}"))?;
    let v: Vec<f64> = line.split(' ').filter_map(|x| x.parse().ok()).collect();
    match v[..] {
        [rps, ok_rps, p50, p99, non2xx] => Ok(Measured {
            rps,
            ok_rps,
            p50,
            p99,
            non2xx: non2xx as u64,
        }),
        _ => Err(format!("unreadable wrk result {line:?}")),
    }
}

/// [`rss_mib`] once the server and its children are idle ([`wait_idle`]) and 3 s more: past a
/// hashing worker's 2 s keep of its work area. `true` when they were still busy after 30 s
/// (the figure is then taken anyway).
fn rss_at_rest(pid: u32) -> (f64, bool) {
    let busy = wait_idle(pid);
    std::thread::sleep(Duration::from_secs(3));
    (rss_mib(pid), busy)
}

/// Waits until the server and its children use less than 20 ms of CPU in a second, at most
/// 30 s; `true` when they were still busy then.
fn wait_idle(pid: u32) -> bool {
    let mut before = cpu_ticks(pid);
    for _ in 0..30 {
        std::thread::sleep(Duration::from_secs(1));
        let now = cpu_ticks(pid);
        if now.saturating_sub(before) < 2 {
            return false;
        }
        before = now;
    }
    true
}

/// The server and its children (the hashing workers).
fn family(pid: u32) -> Vec<cpu_shares::Process> {
    cpu_shares::processes()
        .filter(|p| p.pid == pid || p.parent == pid)
        .collect()
}

/// CPU time of the server and of its children (user and system), in clock ticks (10 ms).
fn cpu_ticks(pid: u32) -> u64 {
    family(pid).iter().map(|p| p.ticks).sum()
}

/// The resident memory of the server and of its children (the hashing workers, which hold
/// the argon2 work areas where they run), in MiB.
fn rss_mib(pid: u32) -> f64 {
    let kib = |p: &cpu_shares::Process| -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", p.pid)).ok()?;
        let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
        line.trim().trim_end_matches(" kB").trim().parse().ok()
    };
    family(pid).iter().filter_map(kib).sum::<f64>() / 1024.0
}

fn table(runs: &[(&str, Run)], o: &Options) -> String {
    let mut t = String::new();
    // PostgreSQL's figures under registrations depend on it (docs/performance.md).
    let autogroup = std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled")
        .map_or("n/a".into(), |v| v.trim().to_string());
    let _ = writeln!(
        t,
        "\nwrk, {} connections, {} s per scenario; {} seeded invitations and users; kernel.sched_autogroup_enabled {autogroup}\n",
        o.connections, o.duration, o.seed
    );
    let _ = write!(t, "| scenario |");
    for (b, _) in runs {
        let _ = write!(t, " {b} |");
    }
    let _ = writeln!(t, " target |\n|---|{}---|", "---:|".repeat(runs.len()));
    type Cell = fn(&Run) -> String;
    let rows: [(&str, Cell, &str); 16] = [
        (
            "HTTP floor (GET /healthz)",
            |r| format!("{:.0} req/s", r.floor.rps),
            "the reference",
        ),
        (
            "GET /signup-policy (one read)",
            |r| ratio(r.policy, r.floor.rps),
            "",
        ),
        (
            "verify a valid token",
            |r| ratio(r.verify, r.floor.rps),
            "near the floor",
        ),
        (
            "verify a forged token",
            |r| ratio(r.forged, r.floor.rps),
            "near the floor",
        ),
        (
            "register, fresh token each (median round)",
            |r| {
                let (rate, x) = median_round(r);
                format!("{rate:.0}/s ({x:.2} x ceiling)")
            },
            ">= 0.95 x ceiling",
        ),
        (
            "register, each round (x the ceilings beside it; * they differ by over 15 %)",
            |r| {
                let rounds: Vec<String> = round_ratios(r)
                    .iter()
                    .zip(r.ceilings.windows(2))
                    .map(|((rate, x), c)| {
                        let unsteady = (c[0] - c[1]).abs() > 0.15 * c[0].min(c[1]);
                        format!("{rate:.0}/s {x:.2}{}", if unsteady { "*" } else { "" })
                    })
                    .collect();
                rounds.join(", ")
            },
            "",
        ),
        (
            "register, CPU in the median round, % (hashing / server / database / wrk / other / idle / stolen)",
            |r| {
                median_index(r)
                    .and_then(|i| *r.register_shares.get(i)?)
                    .map_or("n/a".into(), |s| s.to_string())
            },
            "",
        ),
        (
            "register, registrations per commit (mean over the rounds)",
            |r| r.per_commit.map_or("n/a".into(), |n| format!("{n:.1}")),
            "",
        ),
        (
            "argon2id ceilings, before, between and after",
            |r| {
                let c: Vec<String> = r.ceilings.iter().map(|c| format!("{c:.1}")).collect();
                format!("{} hashes/s", c.join(" / "))
            },
            "",
        ),
        (
            "verify while registering",
            |r| format!("{:.0} req/s, p99 {:.1} ms", r.mixed.ok_rps, r.mixed.p99),
            "p99 <= 50 ms",
        ),
        (
            "verify latency p50 / p99",
            |r| format!("{:.1} / {:.1} ms", r.verify.p50, r.verify.p99),
            "",
        ),
        (
            "admin list, 50 newest",
            |r| format!("{:.0} req/s, p99 {:.1} ms", r.list.rps, r.list.p99),
            "flat from 10^3 to 10^6",
        ),
        (
            "bulk create 10,000",
            |r| format!("{:.2} s (HTTP {})", r.bulk.0, r.bulk.1),
            "<= 2 s on PostgreSQL",
        ),
        (
            "RSS idle",
            |r| format!("{:.0} MiB", r.idle_rss_mib),
            "<= 40 MB",
        ),
        (
            "RSS at the end of the last scenario",
            |r| format!("{:.0} MiB", r.end_rss_mib),
            "",
        ),
        (
            "RSS after the run, once idle",
            |r| {
                let busy = if r.still_busy {
                    " (still busy after 30 s)"
                } else {
                    ""
                };
                format!("{:.0} MiB{busy}", r.rest_rss_mib)
            },
            "<= 120 MB",
        ),
    ];
    for (name, cell, target) in rows {
        let _ = write!(t, "| {name} |");
        for (_, r) in runs {
            let _ = write!(t, " {} |", cell(r));
        }
        let _ = writeln!(t, " {target} |");
    }
    for (b, r) in runs {
        let register: u64 = r.register.iter().map(|m| m.non2xx).sum();
        let errors = [r.policy, r.verify, r.forged, r.mixed, r.list]
            .iter()
            .map(|m| m.non2xx)
            .chain([register])
            .collect::<Vec<_>>();
        let _ = writeln!(
            t,
            "\n{b}: non-2xx answers (policy, verify, forged, mixed, list, all register rounds): {errors:?}"
        );
    }
    t
}

/// Requests/s of `m` and their ratio to the HTTP floor.
fn ratio(m: Measured, floor: f64) -> String {
    format!("{:.0}/s ({:.2} x floor)", m.rps, m.rps / floor)
}

/// Each register round's successful registrations/s and its ratio to the mean of the ceilings
/// measured right before and right after it.
fn round_ratios(r: &Run) -> Vec<(f64, f64)> {
    r.register
        .iter()
        .zip(r.ceilings.windows(2))
        .map(|(m, c)| (m.ok_rps, m.ok_rps / ((c[0] + c[1]) / 2.0)))
        .collect()
}

/// The index of the register round with the median ratio (the lower middle one of an even
/// count).
fn median_index(r: &Run) -> Option<usize> {
    let rounds = round_ratios(r);
    let mut order: Vec<usize> = (0..rounds.len()).collect();
    order.sort_by(|&a, &b| rounds[a].1.total_cmp(&rounds[b].1));
    order.get(rounds.len().saturating_sub(1) / 2).copied()
}

/// The register round with the median ratio: its registrations/s and ratio.
fn median_round(r: &Run) -> (f64, f64) {
    median_index(r)
        .map(|i| round_ratios(r)[i])
        .unwrap_or((f64::NAN, f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(registrations: &[f64], ceilings: &[f64]) -> Run {
        Run {
            register: registrations
                .iter()
                .map(|&ok_rps| Measured {
                    ok_rps,
                    ..Measured::default()
                })
                .collect(),
            ceilings: ceilings.to_vec(),
            ..Run::default()
        }
    }

    #[test]
    fn the_group_commits_sum_and_count_are_read_from_the_metrics() {
        let metrics = "# HELP invitegate_registrations_per_commit Registrations\n\
            invitegate_registrations_per_commit_bucket{le=\"1\"} 3\n\
            invitegate_registrations_per_commit_sum 41\n\
            invitegate_registrations_per_commit_count 9\n";
        assert_eq!(parse_commits(metrics), Some((41.0, 9.0)));
        assert_eq!(parse_commits("http_requests_total 3\n"), None);
    }

    #[test]
    fn each_round_is_set_against_the_ceilings_on_either_side_of_it() {
        let r = run(&[105.0, 112.0, 100.0], &[100.0, 120.0, 110.0, 130.0]);
        let ratios: Vec<f64> = round_ratios(&r).iter().map(|(_, x)| *x).collect();
        let expected = [105.0 / 110.0, 112.0 / 115.0, 100.0 / 120.0];
        for (got, want) in ratios.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{ratios:?}");
        }
        assert_eq!(ratios.len(), 3);
    }

    #[test]
    fn the_table_gives_the_round_with_the_median_ratio() {
        let r = run(&[105.0, 112.0, 100.0], &[100.0, 120.0, 110.0, 130.0]);
        assert_eq!(median_round(&r), (105.0, 105.0 / 110.0));
        // The fastest round is not the one with the median ratio when the ceiling moved.
        let moved = run(&[120.0, 100.0, 110.0], &[150.0, 150.0, 110.0, 100.0]);
        assert_eq!(median_round(&moved), (120.0, 0.8));
        let two = run(&[90.0, 120.0], &[100.0, 100.0, 100.0]);
        assert_eq!(
            median_round(&two),
            (90.0, 0.9),
            "the lower middle of an even count"
        );
    }

    #[test]
    fn a_run_of_no_seconds_or_no_rounds_is_refused() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(options(&args(&["--rounds", "0"])).is_err());
        assert!(options(&args(&["--duration", "0"])).is_err());
        let o = options(&args(&["--rounds", "5"])).expect("valid options");
        assert_eq!((o.rounds, o.duration), (5, 10));
    }
}
