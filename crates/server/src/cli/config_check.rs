//! `invitegate config check`.

use crate::config::{Config, ConfigError};
use std::process::ExitCode;

/// `invitegate config check` of `loaded` (what [`Config::load`] gave): every problem, or the
/// values that matter and the warnings.
pub fn run(loaded: Result<Config, ConfigError>) -> ExitCode {
    let config = match loaded {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let database = match crate::storage::Backend::from_url(&config.database_url()) {
        Some(crate::storage::Backend::Postgres) => "PostgreSQL".to_string(),
        _ => config.database_url(),
    };
    let mail = match &config.smtp_url {
        Some(url) => url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("SMTP via {h}")))
            .unwrap_or_else(|| "SMTP".into()),
        None => format!("files in {}", config.data_dir.join("outbox").display()),
    };
    println!("configuration is valid");
    println!("  bind: {}", config.bind);
    println!(
        "  public_base_url: {}",
        config
            .public_base_url
            .as_deref()
            .unwrap_or("(from bind, for local use)")
    );
    println!("  data_dir: {}", config.data_dir.display());
    println!("  database: {database}");
    println!("  mail: {mail}");
    for warning in config.warnings() {
        println!("warning: {warning}");
    }
    ExitCode::SUCCESS
}
