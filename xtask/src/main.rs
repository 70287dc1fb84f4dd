//! Project automation: `cargo xtask run | test | web | openapi | bench | example`.
//!
//! - `run`: builds the web app and the binary (a dev build) and starts the whole product on SQLite
//!   (`./data`), printing the owner invitation link on first start. Extra arguments go to
//!   `invitegate serve`.
//! - `test`: builds the web app, installs what the browser tests need when missing (Chromium and
//!   chromedriver from Debian, axe-core from npm), then runs every test (unit, API on SQLite and
//!   PostgreSQL, CLI, browser). PostgreSQL must be reachable at `INVITEGATE_TEST_DATABASE_URL`
//!   (default `postgres://postgres@127.0.0.1:5432`); the run fails, never skips, when it is not.
//!   The migrated template database of the run is dropped afterwards.
//! - `web`: builds the web app into `frontend/dist` (wasm32 target and the `wasm-bindgen` CLI of
//!   the version in `Cargo.lock` are installed when missing; `wasm-opt` is used when present).
//! - `openapi`: regenerates `openapi/openapi.json`.
//! - `bench`: the performance scenarios against a release build on SQLite and PostgreSQL, with
//!   the HTTP floor and the argon2 ceiling of the same run (see [`bench`]). `--duration S`,
//!   `--connections N`, `--backend sqlite|postgres`, `--seed N` (N invitations and N users
//!   added first), `--rounds N` (register rounds, 3 by default).
//! - `insights-bench`: times the insights queries on PostgreSQL with 10⁶ seeded invitations
//!   (`--seed N`, `--reuse` to keep the last run's database).
//! - `example`: registers the example host app (`examples/host-app`) with the Invitegate that
//!   `cargo xtask run` serves (same `./data`) and runs it on <http://localhost:3000>.

mod bench;
mod cpu_shares;
mod insights_bench;
mod web;

use std::env;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

/// The workspace of the checkout `cargo xtask` was run in. `cargo run` names the package's
/// directory at run time; the compile-time one would be that of whichever checkout last built
/// this binary into a shared `CARGO_TARGET_DIR` (CI clones into a new folder each run).
fn root() -> PathBuf {
    env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn status(mut c: Command) -> Result<(), String> {
    let shown = format!("{c:?}");
    match c.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{shown} failed ({s})")),
        Err(e) => Err(format!("{shown} could not start: {e}")),
    }
}

/// Waits for a child started with [`Command::spawn`]; `Err` unless it succeeded.
fn wait(mut child: std::process::Child) -> Result<(), String> {
    match child.wait() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("a build failed ({s})")),
        Err(e) => Err(e.to_string()),
    }
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn pg_host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or("127.0.0.1:5432");
    let host = rest.rsplit('@').next().unwrap_or(rest);
    let host = host.split('/').next().unwrap_or(host);
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

fn test(extra: &[String]) -> Result<(), String> {
    web::build()?;
    web::check_budget()?;
    web::browser_prerequisites()?;
    typescript_client_prerequisites()?;
    let url = env::var("INVITEGATE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let addr = pg_host_port(&url);
    let reachable = addr
        .parse()
        .ok()
        .map(|a| TcpStream::connect_timeout(&a, Duration::from_secs(3)).is_ok())
        .unwrap_or_else(|| TcpStream::connect(&addr).is_ok());
    if !reachable {
        return Err(format!(
            "PostgreSQL is not reachable at {addr}. The suite runs every API test on PostgreSQL and SQLite; \
             start PostgreSQL (e.g. `docker compose up -d postgres`) or set INVITEGATE_TEST_DATABASE_URL."
        ));
    }
    let validator = python_tool("openapi-spec-validator", "0.9.0")?;
    let schemathesis = python_tool("schemathesis", "4.32.5")?;
    let run_id = format!("r{}", std::process::id());
    let mut c = cargo();
    if has_nextest() {
        c.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        eprintln!("cargo-nextest not found; using cargo test");
        c.args(["test", "--workspace", "--no-fail-fast"]);
    }
    c.args(extra)
        .env("INVITEGATE_TEST_RUN", &run_id)
        .env("INVITEGATE_OPENAPI_VALIDATOR", &validator)
        .env("INVITEGATE_SCHEMATHESIS", &schemathesis)
        .env("INVITEGATE_TEST_WEB_DIR", web::dist_dir());
    let result = status(c);
    drop_run_templates(&url, &run_id);
    result
}

/// The TypeScript client's pinned packages (openapi-typescript, openapi-fetch, TypeScript),
/// installed from its lock file when missing, for its round-trip test.
fn typescript_client_prerequisites() -> Result<(), String> {
    let dir = root().join("clients").join("typescript");
    if dir.join("node_modules/.bin/tsc").exists() {
        return Ok(());
    }
    eprintln!("xtask: installing the TypeScript client's packages (npm ci)");
    let mut c = Command::new("npm");
    c.args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir);
    status(c)
}

/// A pinned Python tool from PyPI, installed into a virtual environment of its own under the
/// target directory when missing: `openapi-spec-validator` for the contract's validity test,
/// `schemathesis` for the response-conformance test. Returns its executable.
fn python_tool(name: &str, version: &str) -> Result<std::path::PathBuf, String> {
    let venv = web::target_dir()
        .join("tools")
        .join(format!("{name}-{version}"));
    let bin = venv.join("bin").join(name);
    if bin.exists() {
        return Ok(bin);
    }
    eprintln!("xtask: installing {name}=={version} (Python) for the contract tests");
    let python = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let mut c = Command::new(&python);
    c.args(["-m", "venv"]).arg(&venv);
    status(c)?;
    let mut c = Command::new(venv.join("bin").join("pip"));
    c.args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("{name}=={version}"));
    status(c)?;
    Ok(bin)
}

/// Drops this run's template database with `psql` when it is installed.
fn drop_run_templates(url: &str, run_id: &str) {
    use std::io::Write;
    let sql = format!(
        "SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname) FROM pg_database WHERE datname LIKE 'invitegate\\_template\\_%\\_{run_id}' \\gexec\n"
    );
    let child = Command::new("psql")
        .args([&format!("{url}/postgres"), "-qAt", "-v", "ON_ERROR_STOP=1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn();
    let ok = child
        .and_then(|mut c| {
            c.stdin.take().expect("piped").write_all(sql.as_bytes())?;
            c.wait()
        })
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("note: could not drop this run's template database (is psql installed?)");
    }
}

fn run(extra: &[String]) -> Result<(), String> {
    // The server's build and the web build run side by side: each has long single-threaded
    // stretches (LTO, linking) the other fills. The server is a dev build (the hashing,
    // SQLite and crypto crates optimised, see Cargo.toml): a quarter of a release build's
    // CPU time on a first run, fast enough to try the product, and `cargo xtask test` reuses
    // its dependencies. Production images build with `--release`.
    let mut server = cargo();
    server.args([
        "build",
        "--package",
        "invitegate-server",
        "--bin",
        "invitegate",
    ]);
    let server = server
        .spawn()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let web = web::build();
    let built = wait(server);
    web?;
    built?;
    let mut c = cargo();
    c.env("INVITEGATE_WEB_DIR", web::dist_dir());
    c.args([
        "run",
        "--package",
        "invitegate-server",
        "--bin",
        "invitegate",
        "--",
        "serve",
    ])
    .args(extra);
    status(c)
}

/// Registers the example app with the local Invitegate (the CLI on the same `./data`) and runs
/// it, signing in through `http://127.0.0.1:8080` (or `INVITEGATE_ISSUER`).
fn example() -> Result<(), String> {
    let port = env::var("PORT").unwrap_or_else(|_| "3000".into());
    let base = format!("http://localhost:{port}");
    let mut register = cargo();
    register
        .args([
            "run",
            "--quiet",
            "--package",
            "invitegate-server",
            "--bin",
            "invitegate",
            "--",
        ])
        .args(["oauth-client", "create", "--name", "Example app"])
        .args(["--redirect-uri", &format!("{base}/callback")])
        .args(["--post-logout-redirect-uri", &format!("{base}/")])
        .args(["--initiate-login-uri", &format!("{base}/login")]);
    let out = register
        .output()
        .map_err(|e| format!("cannot run invitegate: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "registering the example app failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    let client_id = line("client_id:").ok_or("no client_id printed")?;
    let mut c = cargo();
    c.env("CLIENT_ID", client_id).env("PORT", &port).args([
        "run",
        "--release",
        "--package",
        "invitegate-example-host",
    ]);
    if let Some(secret) = line("client_secret:") {
        c.env("CLIENT_SECRET", secret);
    }
    status(c)
}

fn openapi() -> Result<(), String> {
    let mut c = cargo();
    c.args([
        "run",
        "--quiet",
        "--package",
        "invitegate-server",
        "--bin",
        "invitegate",
        "--",
        "openapi",
        "--output",
        "openapi/openapi.json",
    ]);
    status(c)
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map(|(t, r)| (t.as_str(), r))
        .unwrap_or(("help", &[]));
    let result = match task {
        "run" => run(rest),
        "test" => test(rest),
        "openapi" => openapi(),
        "example" => example(),
        "web" => web::build(),
        "bench" => bench::bench(rest),
        "insights-bench" => insights_bench::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <run|test|web|openapi|bench|insights-bench|example> [args]\n  run      start Invitegate (web app + API, SQLite in ./data)\n  test     run the whole test suite (needs PostgreSQL; installs Chromium when missing)\n  web      build the web app into frontend/dist\n  openapi  regenerate openapi/openapi.json\n  bench    measure verify, register and the HTTP floor on SQLite and PostgreSQL (release build, wrk)\n  insights-bench  time the insights queries on PostgreSQL with 10^6 seeded invitations\n  example  register the example host app with the local Invitegate and run it"
            );
            return ExitCode::from(if task == "help" { 0 } else { 2 });
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
