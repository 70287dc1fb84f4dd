//! The command line: `serve`, `migrate`, `admin invite`, `users`, `api-key`, `invitations`,
//! `backup`, `config check`, `healthcheck`, `openapi`, `oauth-client`, `keys rotate`,
//! `completions`. Commands other than `serve` work directly on the configured database.

mod config_check;
mod healthcheck;
mod import;
mod keys;
mod oauth;
mod operators;
mod seed;

use crate::config::{Config, ConfigError, LogFormat};
use crate::http::RequestMeta;
use crate::startup::{self, Application};
use clap::{CommandFactory, Parser, Subcommand};
use invitegate_core::model::Scope;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Invite-only registration service.
#[derive(Debug, Parser)]
#[command(name = "invitegate", version, about)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "INVITEGATE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administrator tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Accounts: list, disable, enable, change role.
    Users {
        #[command(subcommand)]
        command: operators::UsersCommand,
    },
    /// A consistent copy of the SQLite database while the server runs (for PostgreSQL, use
    /// `pg_dump`). The database is not migrated first.
    #[command(after_help = "Example: invitegate backup /backups/invitegate-$(date +%F).sqlite")]
    Backup {
        /// The new file (never overwritten).
        file: PathBuf,
    },
    /// Print a shell completion script.
    #[command(
        after_help = "Example: invitegate completions bash > /etc/bash_completion.d/invitegate"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// API keys.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Invitations.
    Invitations {
        #[command(subcommand)]
        command: InvitationsCommand,
    },
    /// Measure how many argon2id password hashes per second this machine computes (one thread
    /// per core, the production parameters and work areas, in hashing workers where the
    /// server would use them): the ceiling of registrations.
    /// Used by `cargo xtask bench`; prints `hashes_per_second=<n>`.
    #[command(hide = true)]
    HashBench {
        /// How long to measure, in seconds.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Compute the password hashes of a running server's hashing thread (started by the
    /// server, spoken to over stdin and stdout).
    #[command(hide = true)]
    HashWorker,
    /// Fill the configured database with many invitations and users for `cargo xtask bench
    /// --seed N`. Never on a database with real people in it.
    #[command(hide = true)]
    BenchSeed {
        /// Invitations to add.
        #[arg(long, default_value_t = 0)]
        invitations: usize,
        /// Users to add.
        #[arg(long, default_value_t = 0)]
        users: usize,
    },
    /// The configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Exit 0 when the server answers `GET /readyz` with 200, 1 otherwise (for container
    /// health checks; no shell or curl needed).
    /// Without `--url`: `/readyz` at the configured `bind`, a wildcard address checked on
    /// loopback.
    #[command(after_help = "Example: invitegate healthcheck --url http://127.0.0.1:8080/readyz")]
    Healthcheck {
        /// The readiness URL (plain http://); default: `/readyz` at the configured `bind`.
        #[arg(long)]
        url: Option<url::Url>,
        /// Seconds to wait for the connection, and again for the answer.
        #[arg(long, default_value_t = 2)]
        timeout_seconds: u64,
    },
    /// Print the OpenAPI document.
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Relying parties of the OpenID Provider.
    OauthClient {
        #[command(subcommand)]
        command: oauth::OAuthClientCommand,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// `admin` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Print an email-bound administrator invitation link.
    #[command(
        after_help = "Example: invitegate admin invite --email boss@example.com --expires-in-days 2"
    )]
    Invite {
        /// The new administrator's email.
        #[arg(long)]
        email: String,
        /// Days the link stays valid (default `invite_link_expiry`).
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
}

/// `api-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key and print it (shown once).
    #[command(
        after_help = "Example: invitegate api-key create --name crm --scope invitations:write,invitations:read"
    )]
    Create {
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// Scopes (`admin` implies all). Repeat or separate with commas.
        #[arg(long = "scope", required = true, value_delimiter = ',', value_parser = operators::scope_parser())]
        scopes: Vec<Scope>,
    },
    #[command(flatten)]
    Admin(operators::ApiKeyAdmin),
}

/// `invitations` subcommands.
#[derive(Debug, Subcommand)]
pub enum InvitationsCommand {
    /// Invite every address of a mailing-list CSV (the "seed script"). The CSV has a header
    /// with an `email` column (optional columns: `note`, `role`, `expires_in_days`), or no
    /// header and the address in the first column. Prints a CSV result per row to standard
    /// output and a summary to standard error.
    #[command(after_help = "Example: invitegate invitations import --dry-run mailing-list.csv")]
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Report what would happen without creating anything.
        #[arg(long)]
        dry_run: bool,
        /// Do not email the invitations (links are printed instead).
        #[arg(long)]
        no_email: bool,
        /// Role granted when the CSV has no `role` column.
        #[arg(long, default_value = "member", value_parser = ["member", "admin"])]
        role: String,
    },
    #[command(flatten)]
    Admin(operators::InvitationsAdmin),
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load the configuration as `serve` would (defaults, file, `INVITEGATE_*` variables) and
    /// report every problem at once; exit 1 when there is one. Prints the values that matter
    /// and warnings about valid but unlikely choices. Touches no database.
    #[command(
        after_help = "Example: INVITEGATE_CONFIG=/etc/invitegate.toml invitegate config check"
    )]
    Check,
}

/// `keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key to `<data_dir>/secrets.toml` and new OpenID Connect keys to
    /// `<data_dir>/oidc-keys.json`; new tokens use them, older tokens keep verifying (the old
    /// OpenID Connect keys stay published until every token they signed has expired).
    #[command(after_help = "Example: invitegate keys rotate")]
    Rotate,
}

/// Parses arguments and runs the command; the exit code is 1 on any error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before logging, configuration and runtime: a worker needs none of them.
    if let Some(Command::HashWorker) = cli.command {
        return match crate::hashing::worker::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("hash-worker: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let filter =
        std::env::var("INVITEGATE_LOG").unwrap_or_else(|_| "info,actix_server=warn".into());
    // Loaded once, here, for the log format and then for the command; a configuration that
    // does not load logs as text, and the command that needs it reports its problems.
    let loaded = Config::load(cli.config.as_deref());
    let format = loaded.as_ref().map_or(LogFormat::Text, |c| c.log_format);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let local = tokio::task::LocalSet::new();
        local.run_until(run(cli, loaded)).await
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, loaded: Result<Config, ConfigError>) -> anyhow::Result<ExitCode> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi { output } = &command {
        let json = crate::routes::openapi_json();
        match output {
            Some(path) => std::fs::write(path, json)?,
            None => std::io::stdout().write_all(json.as_bytes())?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Completions { shell } = command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "invitegate",
            &mut std::io::stdout(),
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::HashBench { seconds } = command {
        // Where the server hashes: in workers when they run here.
        crate::hashing::worker::enable();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let rate = crate::hashing::ceiling(threads, std::time::Duration::from_secs(seconds))?;
        println!("hashes_per_second={rate:.1}");
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Config {
        command: ConfigCommand::Check,
    } = command
    {
        return Ok(config_check::run(loaded));
    }
    if let Command::Healthcheck {
        url,
        timeout_seconds,
    } = command
    {
        let url = match url {
            Some(url) => url,
            None => healthcheck::default_url(&Config::load_bind(cli.config.as_deref()))?,
        };
        return Ok(
            match healthcheck::check(&url, std::time::Duration::from_secs(timeout_seconds)) {
                Ok(()) => {
                    println!("ready: {url}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("not ready: {e}");
                    ExitCode::FAILURE
                }
            },
        );
    }
    let config = loaded?;
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let bind = config.bind.parse()?;
            startup::build_state(config, bind).await?;
            eprintln!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin {
            command:
                AdminCommand::Invite {
                    email,
                    expires_in_days,
                },
        } => {
            let email = invitegate_core::Email::parse(&email)
                .map_err(|_| anyhow::anyhow!("`--email` is not a valid email address"))?;
            let days = expires_in_days.unwrap_or(config.invite_link_expiry);
            if !(1..=invitegate_core::api::MAX_EXPIRY_DAYS).contains(&days) {
                anyhow::bail!("`--expires-in-days` must be between 1 and 365");
            }
            let bind = config.bind.parse()?;
            let state = startup::build_state(config, bind).await?;
            let link = crate::invitations::service::admin_invitation(
                &state,
                crate::invitations::service::AdminInvitation::ForEmail {
                    email: email.clone(),
                    days,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.problem().detail.unwrap_or_default()))?
            .unwrap_or_default();
            println!("Administrator invitation for {email}: {link}");
            Ok(ExitCode::SUCCESS)
        }
        Command::ApiKey {
            command: ApiKeyCommand::Create { name, scopes },
        } => {
            let new = crate::api_keys::service::NewApiKey::parse(&name, &scopes)
                .map_err(|e| anyhow::anyhow!("{}", e.problem().detail.unwrap_or_default()))?;
            let bind = config.bind.parse()?;
            let state = startup::build_state(config, bind).await?;
            let (row, key) =
                crate::api_keys::service::create(&state, new, None, &RequestMeta::default())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "API key {:?} ({}) created with scopes {}. It is shown only once:",
                row.name, row.id, row.scopes
            );
            println!("{key}");
            Ok(ExitCode::SUCCESS)
        }
        Command::ApiKey {
            command: ApiKeyCommand::Admin(command),
        } => operators::api_keys(config, command).await,
        Command::Users { command } => operators::users(config, command).await,
        Command::Backup { file } => operators::backup(&config, file),
        Command::Invitations {
            command: InvitationsCommand::Admin(command),
        } => operators::invitations(config, command).await,
        Command::Invitations {
            command:
                InvitationsCommand::Import {
                    file,
                    dry_run,
                    no_email,
                    role,
                },
        } => import::run(config, file, dry_run, no_email, &role).await,
        Command::OauthClient { command } => oauth::run(config, command).await,
        Command::BenchSeed { invitations, users } => seed::run(config, invitations, users).await,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => keys::rotate(&config),
        Command::Openapi { .. }
        | Command::HashBench { .. }
        | Command::HashWorker
        | Command::Healthcheck { .. }
        | Command::Completions { .. }
        | Command::Config { .. } => unreachable!("handled above"),
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    crate::hashing::worker::enable();
    let app = Application::build(config).await?;
    let base = app.state().base_url.clone();
    // Write errors are ignored: a server must keep running when its console goes away. The
    // "listening" line comes last, so a supervisor reading up to it has seen the owner link.
    let mut out = std::io::stdout();
    if let Some(link) = app.owner_link() {
        let _ = writeln!(out, "Owner invitation: {link}");
        let _ = writeln!(
            out,
            "Open it to create the first administrator account. It works once; restarting before it is used prints a new one."
        );
    }
    let _ = writeln!(
        out,
        "Invitegate listening on {} (API docs: {base}/docs/)",
        app.addr()
    );
    let _ = out.flush();
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}
