//! `keys rotate`: new signing keys, with the old ones kept verifying for as long as tokens
//! they signed can be alive.

use crate::config::Config;
use crate::tokens::SecretsFile;
use std::process::ExitCode;

/// Adds new OpenID Connect keys (published now, signing after every server and relying party
/// has seen them) and, unless the HMAC keys come from the configuration, a new HMAC key.
pub fn rotate(config: &Config) -> anyhow::Result<ExitCode> {
    let path = config.data_dir.join(crate::oidc_keys::FILE_NAME);
    let mut oidc = if path.exists() {
        crate::oidc_keys::KeyFile::read(&path)?
    } else {
        crate::oidc_keys::KeyFile::default()
    };
    let overlap = chrono::Duration::seconds(config.access_token_ttl_seconds as i64 + 600);
    // New keys sign once every server has reloaded the file (one jobs interval) and
    // every relying party's cached JWKS (5 minutes) has them, with a margin.
    let activation = chrono::Duration::seconds(300 + config.jobs_interval_seconds as i64 + 30);
    let kids = oidc.rotate(chrono::Utc::now(), overlap, activation)?;
    oidc.write(&path)?;
    eprintln!(
        "new OpenID Connect signing keys {}, published now, signing in {} s; the previous ones stay published {} s after that",
        kids.join(", "),
        activation.num_seconds(),
        overlap.num_seconds()
    );
    if !config.secret_keys.is_empty() {
        eprintln!(
            "the HMAC signing keys come from `secret_keys` in the configuration; rotate them there"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let path = config.data_dir.join("secrets.toml");
    let mut file = if path.exists() {
        SecretsFile::read(&path)?
    } else {
        SecretsFile { keys: vec![] }
    };
    let key = SecretsFile::fresh_key();
    eprintln!(
        "new signing key {}; {} older key(s) keep verifying",
        key.id,
        file.keys.len()
    );
    file.keys.insert(0, key);
    file.write(&path)?;
    Ok(ExitCode::SUCCESS)
}
