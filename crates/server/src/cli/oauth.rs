//! `invitegate oauth-client create|list|delete`: relying parties from the command line, on
//! the configured database (the same rules and audit trail as the API).

use crate::config::Config;
use crate::http::RequestMeta;
use crate::oauth_clients::service::{self, NewOAuthClient};
use crate::startup;
use clap::Subcommand;
use invitegate_core::api::CreateOAuthClientRequest;
use std::process::ExitCode;

/// `oauth-client` subcommands.
#[derive(Debug, Subcommand)]
pub enum OAuthClientCommand {
    /// Register a relying party and print its `client_id:` and `client_secret:` (shown once).
    #[command(
        after_help = "Example: invitegate oauth-client create --name \"Team wiki\" --redirect-uri https://wiki.example.com/oidc/callback"
    )]
    Create {
        /// Shown on the sign-in screen: "Continue to <name>".
        #[arg(long)]
        name: String,
        /// A redirect URI, compared as an exact string; repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to; repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Where invitees of this app are sent after registering (OpenID Connect Core §4).
        #[arg(long)]
        initiate_login_uri: Option<String>,
        /// A public client (SPA, mobile app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// ID token algorithm: RS256 (default) or EdDSA.
        #[arg(long)]
        id_token_alg: Option<String>,
    },
    /// List the registered relying parties.
    #[command(after_help = "Example: invitegate oauth-client list")]
    List,
    /// Delete a relying party (by id or client_id) and every grant made to it.
    #[command(after_help = "Example: invitegate oauth-client delete team-wiki")]
    Delete {
        /// The client's id or client_id.
        id: String,
    },
}

fn describe(e: crate::error::ApiError) -> anyhow::Error {
    let problem = e.problem();
    let fields = problem
        .errors
        .map(|f| {
            f.iter()
                .map(|(k, v)| format!("{k}: {}", v.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    anyhow::anyhow!("{} {fields}", problem.detail.unwrap_or(problem.title))
}

/// Runs an `oauth-client` command.
pub async fn run(config: Config, command: OAuthClientCommand) -> anyhow::Result<ExitCode> {
    let bind = config.bind.parse()?;
    let state = startup::build_state(config, bind).await?;
    let meta = RequestMeta::default();
    match command {
        OAuthClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            initiate_login_uri,
            public,
            id_token_alg,
        } => {
            let new = NewOAuthClient::parse(&CreateOAuthClientRequest {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                initiate_login_uri,
                public,
                id_token_signed_response_alg: id_token_alg,
            })
            .map_err(describe)?;
            let (row, secret) = service::create(&state, new, None, &meta)
                .await
                .map_err(describe)?;
            println!("client_id: {}", row.client_id);
            if let Some(secret) = secret {
                println!("client_secret: {secret}");
                eprintln!("The secret is shown only once; Invitegate keeps only its hash.");
            }
            println!("issuer: {}", state.base_url);
        }
        OAuthClientCommand::List => {
            for row in service::list(&state).await.map_err(describe)? {
                println!(
                    "{}\t{}\t{}\t{}",
                    row.client_id,
                    if row.is_public() {
                        "public"
                    } else {
                        "confidential"
                    },
                    row.name,
                    row.redirect_uris().join(" ")
                );
            }
        }
        OAuthClientCommand::Delete { id } => {
            let row = service::delete(&state, id, None, &meta)
                .await
                .map_err(describe)?;
            eprintln!("deleted {} ({})", row.client_id, row.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
