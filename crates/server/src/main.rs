//! The `invitegate` binary: see `invitegate --help`.

fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    four_malloc_arenas();
    invitegate_server::cli::main()
}

/// Restarts the process (same pid, same arguments) with `MALLOC_ARENA_MAX=4` unless the
/// environment sets it. glibc gives each thread that allocates under contention an arena of its
/// own, up to 8 per core, and what a burst freed there stays resident: after the benchmark the
/// server held ~135 MiB with glibc's default, ~100 MiB with four arenas and ~95 MiB with two,
/// which cost SQLite's valid verifications more throughput (issue 10, `docs/performance.md`).
/// glibc reads the variable only at start-up (`mallopt(3)`, which this crate cannot call: it
/// forbids `unsafe`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn four_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // `exec` returns only when it failed; the server then runs with glibc's default arenas.
    let _ = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("MALLOC_ARENA_MAX", "4")
        .exec();
}
