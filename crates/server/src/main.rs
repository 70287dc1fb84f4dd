//! The `invitegate` binary: see `invitegate --help`.

fn main() -> std::process::ExitCode {
    invitegate_server::cli::main()
}
