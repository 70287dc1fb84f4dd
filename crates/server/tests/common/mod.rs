//! Running the `invitegate` binary from tests: a command in a temporary data directory, and a
//! server on a free port.
// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub fn invitegate(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_invitegate"));
    c.current_dir(dir)
        .env_remove("INVITEGATE_CONFIG")
        .env_remove("GLIBC_TUNABLES")
        .env("INVITEGATE_DATA_DIR", dir.join("data"))
        .env("INVITEGATE_LOG", "warn");
    c
}

pub fn run(c: &mut Command) -> (Output, String, String) {
    let out = c.output().expect("invitegate runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out, stdout, stderr)
}

pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Registers `owner@example.com` through the owner invitation link `owner`.
pub async fn register_owner(http: &reqwest::Client, base: &str, owner: &str) {
    let token = owner.split("#token=").nth(1).unwrap();
    let registered = http
        .post(format!("{base}/api/v1/register"))
        .json(&serde_json::json!({"email": "owner@example.com", "password": "correct horse battery staple", "invite_token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status().as_u16(), 201);
}

/// Starts `invitegate serve` on a free port; returns the server, its base URL and the owner link.
pub fn serve(dir: &Path) -> (Server, String, Option<String>) {
    serve_with(dir, &[])
}

pub fn serve_with(dir: &Path, env: &[(&str, &str)]) -> (Server, String, Option<String>) {
    serve_logging_to(dir, env, Stdio::null())
}

/// [`serve_with`], its log lines written to `stderr`.
pub fn serve_logging_to(
    dir: &Path,
    env: &[(&str, &str)],
    stderr: Stdio,
) -> (Server, String, Option<String>) {
    let mut child = invitegate(dir)
        .args(["serve"])
        .envs(env.iter().copied())
        .env("INVITEGATE_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut owner) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(link) = line.strip_prefix("Owner invitation: ") {
            owner = Some(link.trim().to_string());
        }
        if let Some(rest) = line.split("listening on ").nth(1) {
            base = Some(format!(
                "http://{}",
                rest.split_whitespace().next().unwrap()
            ));
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (
        Server(child),
        base.expect("the server says where it listens"),
        owner,
    )
}
