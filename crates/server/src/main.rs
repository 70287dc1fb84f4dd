//! The `invitegate` binary: see `invitegate --help`.

fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    four_malloc_arenas();
    // libpq's TLS runs on OpenSSL, which by default frees its state from an at-exit handler on
    // the main thread while a pool thread may still hold or open a connection: a rare SIGSEGV
    // in libcrypto at exit (diesel#3441, r2d2#137). Initialised first with
    // OPENSSL_INIT_NO_ATEXIT, it leaves that to the kernel.
    #[cfg(target_os = "linux")]
    openssl_sys::init();
    invitegate_server::cli::main()
}

/// Set in the environment of the restarted process, so that it never restarts again (glibc
/// 2.39+ drops `MALLOC_ARENA_MAX` from the environment of setuid or file-capability binaries).
/// Not `INVITEGATE_…`: the configuration refuses unknown settings under that prefix.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const RESTARTED: &str = "MALLOC_ARENA_MAX_SET_BY_INVITEGATE";

/// Restarts the process once (same pid, arguments and `argv[0]`) with `MALLOC_ARENA_MAX=4`
/// unless the environment sets it. glibc gives each thread that allocates under contention an
/// arena of its own, up to 8 per core, and what a burst freed there stays resident: after the
/// benchmark the server held ~135 MiB with glibc's default and ~100 MiB with four arenas, for
/// ~10 % fewer valid verifications per second (issue 10, `docs/performance.md`). glibc reads
/// the variable only at start-up (`mallopt(3)`, which this crate cannot call: it forbids
/// `unsafe`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn four_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() || std::env::var_os(RESTARTED).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    // `exec` returns only when it failed; the server then runs with glibc's default arenas.
    let _ = command
        .args(args)
        .env("MALLOC_ARENA_MAX", "4")
        .env(RESTARTED, "1")
        .exec();
}
