//! `cargo xtask insights-bench [--seed N] [--reuse]`: how fast the insights answer on
//! PostgreSQL with N seeded invitations (default 10⁶; `invitegate bench-seed`). `--reuse`
//! keeps the database of the previous run instead of seeding again. Prints the median and
//! the slowest of 15 requests per query (after 3 unmeasured), with curl.

use super::{status, web};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const URL: &str = "postgres://postgres@127.0.0.1:5432/invitegate_insights_bench";
const PORT: u16 = 18303;

/// Runs the measurement and prints its table.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut seed = 1_000_000_usize;
    let mut reuse = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => {
                seed = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seed takes a number")?
            }
            "--reuse" => reuse = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    let bin = super::bench::release_binary()?;
    let dir = web::target_dir().join("insights-bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let env = [
        ("INVITEGATE_BIND", format!("127.0.0.1:{PORT}")),
        ("INVITEGATE_DATABASE_URL", URL.to_string()),
        ("INVITEGATE_DATA_DIR", dir.display().to_string()),
        (
            "INVITEGATE_PUBLIC_BASE_URL",
            format!("http://127.0.0.1:{PORT}"),
        ),
        ("INVITEGATE_LOG", "warn".into()),
    ];
    let command = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(args).envs(env.iter().map(|(k, v)| (k, v)));
        c
    };
    if !reuse {
        let mut c = Command::new("psql");
        c.args(["postgres://postgres@127.0.0.1:5432/postgres", "-q"])
            .args([
                "-c",
                "DROP DATABASE IF EXISTS invitegate_insights_bench WITH (FORCE)",
            ])
            .args(["-c", "CREATE DATABASE invitegate_insights_bench"]);
        status(c)?;
        eprintln!("insights-bench: seeding {seed} invitations");
        let n = seed.to_string();
        status(command(&[
            "bench-seed",
            "--invitations",
            &n,
            "--users",
            "1000",
        ]))?;
        let mut c = Command::new("psql");
        c.args([URL, "-q", "-c", "VACUUM ANALYZE"]);
        status(c)?;
    }
    let key = command(&[
        "api-key",
        "create",
        "--name",
        "insights-bench",
        "--scope",
        "audit:read",
    ])
    .stderr(Stdio::null())
    .output()
    .map_err(|e| e.to_string())?;
    let key = String::from_utf8_lossy(&key.stdout).trim().to_string();
    if key.is_empty() {
        return Err("api-key create printed no key".into());
    }
    let mut c = Command::new("psql");
    c.args([
        URL,
        "-Atc",
        "SELECT inviter_id FROM invitations WHERE NOT bootstrap LIMIT 1",
    ]);
    let inviter = c.output().map_err(|e| e.to_string())?;
    let inviter = String::from_utf8_lossy(&inviter.stdout).trim().to_string();
    let year = days_ago(365);
    if year.is_empty() {
        return Err("`date -u -d '365 days ago'` (GNU date) printed nothing".into());
    }
    let server = Server(
        command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", PORT)).is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            return Err("the server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let queries = [
        ("funnel, last 30 days", "funnel".to_string()),
        ("funnel, last 365 days", format!("funnel?since={year}")),
        (
            "funnel of one inviter, 365 days",
            format!("funnel?since={year}&inviter_id={inviter}"),
        ),
        (
            "registrations by day, 30 days",
            "timeseries?metric=registrations".into(),
        ),
        (
            "invitations created by day, 365 days",
            format!("timeseries?metric=invitations_created&since={year}"),
        ),
        (
            "invitations created by hour, 30 days",
            "timeseries?metric=invitations_created&interval=hour".into(),
        ),
        (
            "invitations created by hour, 365 days",
            format!("timeseries?metric=invitations_created&interval=hour&since={year}"),
        ),
        (
            "failed attempts by day, 30 days",
            "timeseries?metric=failed_attempts".into(),
        ),
        ("top 10 inviters, 30 days", "inviters".into()),
        (
            "top 10 inviters, 365 days",
            format!("inviters?since={year}"),
        ),
    ];
    let mut rows = Vec::new();
    for (name, path) in queries {
        let url = format!("http://127.0.0.1:{PORT}/api/v1/insights/{path}");
        let mut times = Vec::new();
        for n in 0..18 {
            let t = curl(&url, &key)?;
            if n >= 3 {
                times.push(t);
            }
        }
        times.sort_by(f64::total_cmp);
        rows.push((name, times[times.len() / 2], times[times.len() - 1]));
    }
    drop(server);
    println!(
        "\nInsights on PostgreSQL, {seed} seeded invitations (median and slowest of 15, ms)\n"
    );
    println!("| query | median | slowest |\n|---|---:|---:|");
    for (name, median, max) in rows {
        println!("| {name} | {:.1} | {:.1} |", median * 1000.0, max * 1000.0);
    }
    Ok(())
}

/// The server process, stopped however the measurement ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One request's total time in seconds; an error unless it answers 200.
fn curl(url: &str, key: &str) -> Result<f64, String> {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"])
        .args(["-H", &format!("Authorization: Bearer {key}")])
        .arg(url)
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.split_once(' ') {
        Some(("200", t)) => t.trim().parse().map_err(|_| "curl time".into()),
        _ => Err(format!("{url}: {text}")),
    }
}

/// RFC 3339 for `days` ago, from `date` (the xtask has no date crate).
fn days_ago(days: u32) -> String {
    Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("{days} days ago"),
            "+%Y-%m-%dT%H:%M:%SZ",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
