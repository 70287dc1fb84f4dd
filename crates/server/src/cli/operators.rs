//! The operators' commands: users, invitations, API keys and backups, each working directly on
//! the configured database (the server may be running). Changes are audited with the actor
//! `system`, like the owner invitation.

use crate::config::Config;
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::paging::PageRequest;
use crate::startup;
use crate::state::AppState;
use crate::storage::{self, Backend, ConnectionManager, DbConn};
use clap::Subcommand;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use invitegate_core::model::{ActorRef, ActorType, InvitationState, Role, Scope};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `--role`: only the roles that exist (`member`, `admin`).
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.iter().map(|r| r.as_str()))
        .map(|s| s.parse::<Role>().expect("one of the possible values"))
}

/// `--scope`: only the scopes that exist.
pub(super) fn scope_parser() -> impl TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(Scope::ALL.iter().map(|s| s.as_str()))
        .map(|s| s.parse::<Scope>().expect("one of the possible values"))
}

/// `--state`: the invitation states.
fn state_parser() -> impl TypedValueParser<Value = InvitationState> {
    PossibleValuesParser::new(InvitationState::ALL.iter().map(|s| s.as_str())).map(|s| {
        s.parse::<InvitationState>()
            .expect("one of the possible values")
    })
}

/// `users` subcommands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List accounts, newest first: id, email, role, state, created.
    #[command(after_help = "Example: invitegate users list --email @example.com --json")]
    List {
        /// Only emails containing this text.
        #[arg(long)]
        email: Option<String>,
        /// How many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print a JSON array of the API's user objects instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: its sessions end, its pending invitations and the API keys it
    /// created are revoked. The last active administrator stays.
    #[command(
        after_help = "Example: invitegate users disable 01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01"
    )]
    Disable {
        /// The user id (`users list` shows it).
        id: String,
    },
    /// Enable a disabled account: sign-in works again.
    #[command(after_help = "Example: invitegate users enable 01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01")]
    Enable {
        /// The user id.
        id: String,
    },
    /// Change an account's role. The last active administrator stays one.
    #[command(
        after_help = "Example: invitegate users set-role 01936b2e-8c5a-7f00-9d1e-4c6b7a8e9f01 admin"
    )]
    SetRole {
        /// The user id.
        id: String,
        /// The new role.
        #[arg(value_parser = role_parser())]
        role: Role,
    },
}

/// `invitations` subcommands besides `import`.
#[derive(Debug, Subcommand)]
pub enum InvitationsAdmin {
    /// List invitations, newest first: id, state, invitee, role, expiry, inviter.
    #[command(after_help = "Example: invitegate invitations list --state pending")]
    List {
        /// Only invitations in this state.
        #[arg(long, value_parser = state_parser())]
        state: Option<InvitationState>,
        /// Only invitee emails or domains containing this text.
        #[arg(long)]
        email: Option<String>,
        /// How many (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print a JSON array of the API's invitation objects instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a pending invitation: its link stops working at once.
    #[command(
        after_help = "Example: invitegate invitations revoke 01936b2f-1a2b-7c3d-8e4f-5a6b7c8d9e0f"
    )]
    Revoke {
        /// The invitation id.
        id: String,
    },
}

/// `api-key list` and `api-key revoke`.
#[derive(Debug, Subcommand)]
pub enum ApiKeyAdmin {
    /// List API keys: id, name, prefix, scopes, state, last use.
    #[command(after_help = "Example: invitegate api-key list --json")]
    List {
        /// Print a JSON array of the API's key objects instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key and the invitations it issued that are still pending.
    #[command(
        after_help = "Example: invitegate api-key revoke 01936b30-0000-7abc-8def-0123456789ab"
    )]
    Revoke {
        /// The key id (`api-key list` shows it).
        id: String,
    },
}

fn operator() -> ActorRef {
    ActorRef {
        kind: ActorType::System,
        id: "system".into(),
    }
}

/// The error an operator reads: the problem's detail, else the sentence the web app shows.
fn fail(e: ApiError) -> anyhow::Error {
    let code = e.code;
    let detail = e.problem().detail;
    anyhow::anyhow!("{}", detail.unwrap_or_else(|| code.message().to_string()))
}

async fn state(config: Config) -> anyhow::Result<std::sync::Arc<AppState>> {
    let bind = config.bind.parse()?;
    startup::build_state(config, bind).await
}

fn print_json<T: serde::Serialize>(items: &[T]) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(items)?);
    Ok(())
}

/// Says on standard error that a list stopped at `limit` (the page holds one row more).
fn more_than(rows: usize, limit: u32) {
    if rows > limit as usize {
        eprintln!(
            "showing the newest {limit}; narrow with --email or --state, or raise --limit (up to 500)"
        );
    }
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// Runs a `users` command.
pub async fn users(config: Config, command: UsersCommand) -> anyhow::Result<ExitCode> {
    use crate::users::service;
    let state = state(config).await?;
    let meta = RequestMeta::default();
    match command {
        UsersCommand::List { email, limit, json } => {
            let page = PageRequest::parse(Some(limit), None).map_err(fail)?;
            let mut rows = service::list(&state, email, &page).await.map_err(fail)?;
            more_than(rows.len(), limit);
            rows.truncate(limit as usize);
            let users: Vec<_> = rows.iter().map(|r| r.to_api()).collect();
            if json {
                return print_json(&users).map(|_| ExitCode::SUCCESS);
            }
            println!("ID\tEMAIL\tROLE\tSTATE\tCREATED");
            for u in &users {
                let shown = if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{shown}\t{}",
                    u.id,
                    u.email,
                    u.role,
                    time(u.created_at)
                );
            }
        }
        UsersCommand::Disable { id } => {
            let user = service::disable(&state, id, operator(), None, true, &meta)
                .await
                .map_err(fail)?;
            eprintln!("disabled {} ({})", user.email, user.id);
        }
        UsersCommand::Enable { id } => {
            let user = service::enable(&state, id, operator(), true, &meta)
                .await
                .map_err(fail)?;
            eprintln!("enabled {} ({})", user.email, user.id);
        }
        UsersCommand::SetRole { id, role } => {
            let change = service::UserUpdate::parse(invitegate_core::api::UpdateUserRequest {
                role: Some(role),
                display_name: None,
            })
            .map_err(fail)?;
            let user = service::update(&state, id, change, operator(), &meta)
                .await
                .map_err(fail)?;
            eprintln!("{} ({}) is now {}", user.email, user.id, user.role);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `invitations list` or `invitations revoke`.
pub async fn invitations(config: Config, command: InvitationsAdmin) -> anyhow::Result<ExitCode> {
    use crate::invitations::service;
    let state = state(config).await?;
    match command {
        InvitationsAdmin::List {
            state: wanted,
            email,
            limit,
            json,
        } => {
            let page = PageRequest::parse(Some(limit), None).map_err(fail)?;
            let filter = storage::invitations::ListFilter {
                state: wanted,
                email,
                ..Default::default()
            };
            let listed = service::list_filtered(&state, filter, &page)
                .await
                .map_err(fail)?;
            more_than(listed.rows.len(), limit);
            let views: Vec<_> = listed
                .rows
                .iter()
                .take(limit as usize)
                .map(|r| listed.view(r))
                .collect();
            if json {
                return print_json(&views).map(|_| ExitCode::SUCCESS);
            }
            println!("ID\tSTATE\tINVITEE\tROLE\tEXPIRES\tINVITER");
            for i in &views {
                let invitee = i
                    .email
                    .clone()
                    .or_else(|| i.email_domain.as_ref().map(|d| format!("@{d}")))
                    .unwrap_or_else(|| "(anyone)".into());
                let inviter = i
                    .inviter_name
                    .clone()
                    .unwrap_or_else(|| i.inviter.id.clone());
                println!(
                    "{}\t{}\t{invitee}\t{}\t{}\t{inviter}",
                    i.id,
                    i.state,
                    i.role,
                    time(i.expires_at)
                );
            }
        }
        InvitationsAdmin::Revoke { id } => {
            let row = service::revoke_as(&state, id, operator(), &RequestMeta::default())
                .await
                .map_err(fail)?;
            eprintln!("revoked invitation {}", row.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `api-key list` or `api-key revoke`.
pub async fn api_keys(config: Config, command: ApiKeyAdmin) -> anyhow::Result<ExitCode> {
    use crate::api_keys::service;
    let state = state(config).await?;
    match command {
        ApiKeyAdmin::List { json } => {
            let keys: Vec<_> = service::list(&state)
                .await
                .map_err(fail)?
                .iter()
                .map(|k| k.to_api())
                .collect();
            if json {
                return print_json(&keys).map(|_| ExitCode::SUCCESS);
            }
            println!("ID\tNAME\tPREFIX\tSCOPES\tSTATE\tLAST USED");
            for k in &keys {
                let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                let shown = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let used = k.last_used_at.map_or_else(|| "never".into(), time);
                println!(
                    "{}\t{}\t{}\t{}\t{shown}\t{used}",
                    k.id,
                    k.name,
                    k.prefix,
                    scopes.join(",")
                );
            }
        }
        ApiKeyAdmin::Revoke { id } => {
            service::revoke(&state, id.clone(), operator(), &RequestMeta::default())
                .await
                .map_err(fail)?;
            eprintln!("revoked API key {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `backup FILE`: a consistent copy of a SQLite database while the server runs (`VACUUM
/// INTO`, which also compacts it), without migrating it first, so a backup taken before an
/// upgrade holds the old schema. The copy is readable by its owner only; an existing file is
/// never overwritten. PostgreSQL has `pg_dump`.
pub fn backup(config: &Config, file: PathBuf) -> anyhow::Result<ExitCode> {
    let url = config.database_url();
    if Backend::from_url(&url) == Some(Backend::Postgres) {
        eprintln!(
            "the database is PostgreSQL: back it up with `pg_dump` (for example `pg_dump --format=custom --file=invitegate.dump \"$INVITEGATE_DATABASE_URL\"`)"
        );
        return Ok(ExitCode::FAILURE);
    }
    let source = url.trim_start_matches("sqlite://");
    if !Path::new(source).exists() {
        anyhow::bail!("there is no database at {source}");
    }
    // Created empty first, readable by the owner only (the database holds webhook secrets and
    // queued links); `create_new` refuses an existing file. VACUUM INTO fills an empty file.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&file)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", file.display()))?;
    let target = file
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be UTF-8"))?
        .to_string();
    let copied = (|| -> anyhow::Result<()> {
        let mut conn = ConnectionManager::new(&url)?.establish()?;
        let DbConn::Sqlite(c) = &mut conn else {
            anyhow::bail!("not a SQLite database");
        };
        use diesel::RunQueryDsl;
        diesel::sql_query("VACUUM INTO ?")
            .bind::<diesel::sql_types::Text, _>(&target)
            .execute(c)?;
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&file);
        return Err(e);
    }
    eprintln!("backed up {url} to {}", file.display());
    Ok(ExitCode::SUCCESS)
}
