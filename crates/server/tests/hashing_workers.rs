//! Password hashing in worker processes: where Linux groups CPU time by session (autogroup),
//! the server's hashes run in workers with a session of their own at autogroup nice 19, so they
//! cannot take a database's share of the CPU; sign-up and sign-in answer the same whether a
//! worker hashes, has died, or was never started.

mod common;

use common::*;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

fn autogroup_on() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled")
        .is_ok_and(|v| v.trim() == "1")
}

/// The fields of `/proc/<pid>/stat` after the command name: state, ppid, pgrp, session, …
fn stat(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.rsplit_once(')')?.1;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// The live `hash-worker` processes whose parent is `server`.
fn workers(server: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Some(fields) = stat(pid) else { continue };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if fields[1] == server.to_string()
            && fields[0] != "Z"
            && String::from_utf8_lossy(&cmdline).contains("hash-worker")
        {
            found.push(pid);
        }
    }
    found
}

/// A server whose owner has signed up (its first hash), and a client for it.
async fn with_owner(dir: &std::path::Path) -> (Server, String, reqwest::Client) {
    let (server, base, owner) = serve(dir);
    // The server crate's client: reqwest is built without a default TLS crypto provider.
    let http = invitegate_server::egress::http_client(true).unwrap();
    register_owner(&http, &base, &owner.expect("an owner link")).await;
    (server, base, http)
}

async fn login(http: &reqwest::Client, base: &str, password: &str) -> u16 {
    http.post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "owner@example.com", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_run_in_low_priority_workers_and_survive_their_loss() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, http) = with_owner(dir.path()).await;
    let pid = server.0.id();
    assert_eq!(login(&http, &base, PASSWORD).await, 200);
    assert_eq!(login(&http, &base, "not the password at all").await, 401);

    let running = workers(pid);
    if !autogroup_on() {
        assert!(
            running.is_empty(),
            "no workers without autogroup: {running:?}"
        );
        return;
    }
    assert!(!running.is_empty(), "the hashes ran in workers");
    let server_session = &stat(pid).unwrap()[3];
    for worker in &running {
        assert_ne!(
            &stat(*worker).unwrap()[3],
            server_session,
            "a session of its own"
        );
        let group = std::fs::read_to_string(format!("/proc/{worker}/autogroup")).unwrap();
        assert!(group.trim_end().ends_with("nice 19"), "{group}");
    }

    // A worker that dies costs no sign-in: the thread hashes in-process instead.
    for worker in &running {
        std::process::Command::new("kill")
            .args(["-KILL", &worker.to_string()])
            .status()
            .unwrap();
    }
    assert_eq!(login(&http, &base, PASSWORD).await, 200);
    assert_eq!(login(&http, &base, "not the password at all").await, 401);
    assert_eq!(login(&http, &base, PASSWORD).await, 200);
}

/// Workers end with their server: their input closes when it goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_end_with_their_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _, _) = with_owner(dir.path()).await;
    let running = workers(server.0.id());
    assert_eq!(
        running.is_empty(),
        !autogroup_on(),
        "workers where autogroup is on"
    );
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while running
        .iter()
        .any(|w| stat(*w).is_some_and(|f| f[0] != "Z"))
    {
        assert!(
            Instant::now() < deadline,
            "workers outlived the server: {running:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Anonymous memory of `pid` (its heap and mappings, not the executable's pages), in KiB.
fn anonymous_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A worker keeps its 19 MiB work area while it hashes and gives it back to the system when
/// no hash has come for a few seconds; the next sign-in hashes as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_gives_its_work_area_back() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, http) = with_owner(dir.path()).await;
    let pid = server.0.id();
    assert_eq!(login(&http, &base, PASSWORD).await, 200);
    if !autogroup_on() {
        assert!(workers(pid).is_empty(), "no workers without autogroup");
        return;
    }
    let area_kib = 19 * 1024;
    let holding = |running: &[u32]| running.iter().any(|w| anonymous_kib(*w) >= area_kib);
    assert!(
        holding(&workers(pid)),
        "a worker that just hashed holds its area"
    );

    // Twice: the second time, glibc must not have moved the area onto its heap, where a
    // freed block of that size stays mapped.
    for round in 1..=2 {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let running = workers(pid);
            assert!(!running.is_empty(), "idle workers keep running");
            if running.iter().all(|w| anonymous_kib(*w) < area_kib / 2) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: idle workers kept their areas: {:?}",
                running
                    .iter()
                    .map(|w| anonymous_kib(*w))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(login(&http, &base, PASSWORD).await, 200);
        assert_eq!(login(&http, &base, "not the password at all").await, 401);
        assert!(
            holding(&workers(pid)),
            "round {round}: the area comes back with the next hash"
        );
    }
}

/// Whether a mapping of `pid` of at least `kib` KiB is advised for transparent huge pages
/// (`hg` in its `VmFlags`, proc(5)).
fn advised_for_huge_pages(pid: u32, kib: u64) -> bool {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut size = 0;
    for line in smaps.lines() {
        if let Some(v) = line.strip_prefix("Size:") {
            size = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
        }
        if let Some(flags) = line.strip_prefix("VmFlags:")
            && size >= kib
            && flags.split_whitespace().any(|f| f == "hg")
        {
            return true;
        }
    }
    false
}

/// `GLIBC_TUNABLES` in the environment `pid` started with.
fn tunables(pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    environ
        .split(|b| *b == 0)
        .find_map(|v| v.strip_prefix(b"GLIBC_TUNABLES="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// A worker asks for its work area in 2 MiB pages where the kernel gives them to memory that
/// asks (argon2 hashes faster: fewer TLB misses), also when the operator sets
/// `GLIBC_TUNABLES` of their own, which reach the workers too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_ask_for_huge_pages_and_keep_the_operators_tunables() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, http) = with_owner(dir.path()).await;
    let running = workers(server.0.id());
    if !autogroup_on() {
        assert!(running.is_empty(), "no workers without autogroup");
        return;
    }
    assert!(!running.is_empty());
    for worker in &running {
        assert_eq!(tunables(*worker).as_deref(), Some("glibc.malloc.hugetlb=1"));
    }
    let madvise = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|s| s.contains("[madvise]"));
    // glibc advises only where the kernel waits to be asked; a worker gives its area back after
    // 2 s without a hash, so each check follows a sign-in.
    let area_kib = 19 * 1024;
    let advised = |server: u32| {
        workers(server)
            .iter()
            .any(|w| advised_for_huge_pages(*w, area_kib))
    };
    if madvise {
        assert_eq!(login(&http, &base, PASSWORD).await, 200);
        assert!(
            advised(server.0.id()),
            "a worker that just hashed asked for huge pages"
        );
    }
    drop(server);

    let dir = tempfile::tempdir().unwrap();
    let own = "glibc.pthread.rseq=0";
    let (server, base, owner) = serve_with(dir.path(), &[("GLIBC_TUNABLES", own)]);
    let http = invitegate_server::egress::http_client(true).unwrap();
    register_owner(&http, &base, &owner.expect("an owner link")).await;
    let running = workers(server.0.id());
    assert!(!running.is_empty());
    // glibc ends each tunable it has read with a NUL in place, so the environment a worker
    // shows holds the operator's part; the part added shows in what the worker did.
    for worker in &running {
        assert_eq!(tunables(*worker).as_deref(), Some(own));
    }
    if madvise {
        assert_eq!(login(&http, &base, PASSWORD).await, 200);
        assert!(
            advised(server.0.id()),
            "with the operator's tunables, huge pages still asked for"
        );
    }
}
