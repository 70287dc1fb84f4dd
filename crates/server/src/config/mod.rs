//! Layered configuration: built-in defaults, then a TOML file (`--config FILE` or
//! `INVITEGATE_CONFIG`), then `INVITEGATE_*` environment variables named after the key in upper
//! case (`max_invites_per_user` → `INVITEGATE_MAX_INVITES_PER_USER`; nested keys use `__`, e.g.
//! `INVITEGATE_RATE_LIMITS__AUTH_PER_MINUTE`). Every value is validated at start-up and an
//! error names the key and what is wrong.

use crate::client_ip::TrustedProxies;

mod validate;
pub mod variables;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use invitegate_core::email;
use invitegate_core::model::SignupMode;
use invitegate_core::password::{DEFAULT_MAX_LENGTH, DEFAULT_MIN_LENGTH};
use serde::{Deserialize, Deserializer, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The shortest signing secret accepted, in bytes (security.md: refuse < 32 bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// Everything the server reads at start-up. Runtime settings (sign-up mode, expiry, quota,
/// allowlist) start from these values and can then be changed through `PATCH /api/v1/settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080`; port 0 picks a free port.
    pub bind: String,
    /// `sqlite://PATH` (default `sqlite://<data_dir>/invitegate.db`) or `postgres://...`.
    pub database_url: Option<String>,
    /// Directory for secrets, the SQLite file and file-transport emails.
    pub data_dir: PathBuf,
    /// Base of every link the service sends (`http://<bind>` when unset, which is allowed only
    /// for a loopback `bind`). Never taken from `Host`. Under `https://` the refresh cookie is
    /// `Secure` and responses carry HSTS.
    pub public_base_url: Option<String>,
    /// When set, `GET /metrics` requires `Authorization: Bearer <metrics_token>` (at least 16
    /// characters); unset, the metrics are public (bind them to a private network).
    pub metrics_token: Option<String>,
    /// SMTP URL in lettre's form; unset writes emails as `.eml` files under `<data_dir>/outbox/`.
    pub smtp_url: Option<String>,
    /// Sender of every email.
    pub mail_from: String,
    /// Product name shown in emails.
    pub product_name: String,
    /// Accent colour of HTML emails, `#rgb` or `#rrggbb`.
    pub brand_color: String,
    /// Directory whose files override the built-in email templates of the same name.
    pub templates_dir: Option<PathBuf>,
    /// Directory of the built web app (`index.html`, `assets/`, `embed/`; `cargo xtask web`
    /// writes it). Without an `index.html` there, `/` serves a short page pointing to the API docs.
    pub web_dir: PathBuf,
    /// Allow webhooks to loopback and private addresses.
    pub webhook_allow_private_targets: bool,
    /// Invitations required for new accounts (seed option). `false` means `open` mode.
    pub enable_invite_only: bool,
    /// Overrides `enable_invite_only` when set: `invite_only`, `open` or `closed`.
    pub signup_mode: Option<SignupMode>,
    /// Days an invitation stays valid (seed option), 1 to 365.
    pub invite_link_expiry: i64,
    /// Invitations a member may issue, pending + accepted (seed option).
    pub max_invites_per_user: u32,
    /// Domains (`example.com`) or addresses that may register without an invitation (seed option).
    #[serde(deserialize_with = "string_or_list")]
    pub invitation_whitelist_emails: Vec<String>,
    /// Minimum password length in code points (NIST SP 800-63B rev. 4: 15 for single-factor).
    pub password_min_length: usize,
    /// Maximum password length in code points, at least 64.
    pub password_max_length: usize,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_seconds: u64,
    /// Lifetime of a session's refresh token, in days.
    pub refresh_token_ttl_days: i64,
    /// Lifetime of an email-verification link, in hours.
    pub email_verification_ttl_hours: i64,
    /// Lifetime of a password-reset link, in minutes.
    pub password_reset_ttl_minutes: i64,
    /// Hours before expiry at which an email-bound invitation gets its one reminder (0: none).
    pub reminder_before_expiry_hours: i64,
    /// Days a dead outbox item (an email or webhook that exhausted its retries) is kept for
    /// administrators to retry before it is deleted with its payload.
    pub outbox_retention_days: i64,
    /// Days audit events, and sessions after they end, are kept before the scheduled jobs
    /// delete them (1 to 36,500).
    pub audit_retention_days: i64,
    /// Seconds between runs of the scheduled jobs (expiry, reminders, retention).
    pub jobs_interval_seconds: u64,
    /// Signing keys `{id, secret}`, newest first; when empty they come from
    /// `<data_dir>/secrets.toml`, generated on first run.
    pub secret_keys: Vec<SecretKeyConfig>,
    /// Origins allowed to call the API from browsers (CORS) and to use the refresh cookie.
    #[serde(deserialize_with = "string_or_list")]
    pub cors_allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is trusted: addresses or CIDR ranges.
    #[serde(deserialize_with = "string_or_list")]
    pub trusted_proxies: Vec<String>,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// Most database connections held by this process. Default: twice this host's CPUs plus
    /// one, at most 20 (HikariCP's pool-sizing rule, which counts the database server's
    /// cores: with several nodes or a bigger database host, set it). On 2 cores running both,
    /// 10 connections made PostgreSQL's p99 latency 3-6× that of 4 or 5 at the same
    /// throughput, with more backends than cores competing for them.
    pub database_pool_size: u32,
    /// Seconds to wait for a database connection before answering 503.
    pub database_timeout_seconds: u64,
    /// Threads hashing passwords (default: the number of CPUs).
    pub hash_workers: Option<usize>,
    /// Password hashes that may wait for a thread before requests get 503.
    pub hash_queue: usize,
    /// HTTP worker threads (default: the number of CPUs).
    pub http_workers: Option<usize>,
    /// Print the owner invitation link on first start when there is no administrator.
    pub bootstrap_owner_invitation: bool,
    /// Log lines on standard error: `text` for people, `json` (one object per line, with the
    /// request's id, method and path in `span`) for log shippers.
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// One signing key of the key ring.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyConfig {
    /// Key id carried in every token (1 to 16 characters `[a-z0-9]`).
    pub id: String,
    /// Secret, at least 32 bytes.
    pub secret: String,
}

/// Abuse limits (see [`crate::ratelimit`]). Per-client limits count failures, not people: a
/// client is an IPv4 address or an IPv6 /64, and successful use of a valid invitation is
/// never throttled per client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Per client: failed registrations, logins, email or reset confirmations and bearer
    /// authentications per minute.
    pub auth_per_minute: u32,
    /// Per client: failed invitation verifications per minute.
    pub verify_per_minute: u32,
    /// Per client: requests to endpoints that email a given address (password reset,
    /// verification resend) per minute, successful or not.
    pub email_requests_per_minute: u32,
    /// Per inviter: invitations created or resent per minute.
    pub invitations_per_minute: u32,
    /// Per account: failed logins per hour. Past it, only clients that signed in to the
    /// account before may still try, so an attacker cannot lock its owner out (ASVS 6.1.1).
    pub login_per_account_per_hour: u32,
    /// Per recipient address: emails (verification, reset, notices, invitation resends) per
    /// hour; past it no email is sent and the API answers as before.
    pub emails_per_recipient_per_hour: u32,
    /// Failures of one client within 10 minutes that raise a `security.alert`.
    pub alert_failures_threshold: u32,
    /// How often each node exchanges its per-client counts with the others through the
    /// database, in milliseconds.
    pub sync_interval_milliseconds: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            auth_per_minute: 20,
            verify_per_minute: 60,
            email_requests_per_minute: 10,
            invitations_per_minute: 120,
            login_per_account_per_hour: 100,
            emails_per_recipient_per_hour: 5,
            alert_failures_threshold: 20,
            sync_interval_milliseconds: 1000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: None,
            data_dir: PathBuf::from("./data"),
            public_base_url: None,
            smtp_url: None,
            metrics_token: None,
            mail_from: "Invitegate <no-reply@localhost>".into(),
            product_name: "Invitegate".into(),
            brand_color: "#4f46e5".into(),
            templates_dir: None,
            web_dir: PathBuf::from("frontend/dist"),
            webhook_allow_private_targets: false,
            enable_invite_only: true,
            signup_mode: None,
            invite_link_expiry: 7,
            max_invites_per_user: 5,
            invitation_whitelist_emails: vec![],
            password_min_length: DEFAULT_MIN_LENGTH,
            password_max_length: DEFAULT_MAX_LENGTH,
            access_token_ttl_seconds: 900,
            refresh_token_ttl_days: 30,
            email_verification_ttl_hours: 24,
            password_reset_ttl_minutes: 60,
            reminder_before_expiry_hours: 48,
            outbox_retention_days: 14,
            audit_retention_days: 365,
            jobs_interval_seconds: 60,
            secret_keys: vec![],
            cors_allowed_origins: vec![],
            trusted_proxies: vec![],
            rate_limits: RateLimits::default(),
            database_pool_size: default_pool_size(),
            database_timeout_seconds: 5,
            hash_workers: None,
            hash_queue: 256,
            http_workers: None,
            bootstrap_owner_invitation: true,
            log_format: LogFormat::Text,
        }
    }
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        One(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(v) => v,
        Either::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    })
}

impl Config {
    /// Loads defaults, then `file` (when given; a missing file is an error), then the
    /// environment, and validates the result. The error lists every problem found, one per
    /// line: unknown `INVITEGATE_*` variables (with the closest setting), values of the wrong
    /// type, values out of range.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        if let Some(path) = file.filter(|p| !p.exists()) {
            return Err(ConfigError(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        let mut figment = Self::defaults_and_file(file);
        let known = Self::keys();
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        let mut problems = variables::unknown(&names, &known);
        // Unknown variables are reported above, with a suggestion, rather than by figment.
        figment = figment.merge(
            Env::prefixed("INVITEGATE_")
                .map(|k| k.as_str().to_ascii_lowercase().into())
                .filter(move |k| {
                    known
                        .iter()
                        .any(|key| key == k.as_str().split("__").next().unwrap_or_default())
                })
                .split("__"),
        );
        let config = match figment.extract::<Config>() {
            Ok(config) => {
                problems.extend(config.problems());
                Some(config)
            }
            Err(errors) => {
                // serde stops at the first value of the wrong type: try each key on its own
                // over the defaults, so every such value is named at once.
                let mut found: Vec<String> = Self::keys()
                    .iter()
                    .filter_map(|key| {
                        let value = figment.find_value(key).ok()?;
                        Figment::from(Serialized::defaults(Config::default()))
                            .merge((key.as_str(), value))
                            .extract::<Config>()
                            .err()
                    })
                    .flat_map(|e| e.into_iter().map(describe_error))
                    .collect();
                for e in errors.into_iter().map(describe_error) {
                    if !found.contains(&e) {
                        found.push(e);
                    }
                }
                problems.extend(found);
                None
            }
        };
        match (config, problems.len()) {
            (Some(config), 0) => Ok(config),
            (_, 1) => Err(ConfigError(problems.remove(0))),
            (_, n) => Err(ConfigError(format!(
                "{n} problems:\n  {}",
                problems.join("\n  ")
            ))),
        }
    }

    /// Only `bind`, from the same layers as [`Config::load`] but checking nothing else: the
    /// health check must not fail on a problem it does not need to know about. The default
    /// when the layers cannot be read.
    pub fn load_bind(file: Option<&Path>) -> String {
        Self::defaults_and_file(file)
            .merge(Env::prefixed("INVITEGATE_").only(&["bind"]))
            .extract_inner::<String>("bind")
            .unwrap_or_else(|_| Config::default().bind)
    }

    /// The first two layers: the defaults, then `file` when given.
    fn defaults_and_file(file: Option<&Path>) -> Figment {
        let defaults = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => defaults.merge(Toml::file(path)),
            None => defaults,
        }
    }

    /// What is valid but probably not meant: each a sentence for `invitegate config check` and
    /// the start-up log.
    pub fn warnings(&self) -> Vec<String> {
        let public = self
            .bind
            .parse::<SocketAddr>()
            .is_ok_and(|a| !a.ip().is_loopback());
        let mut warnings = Vec::new();
        if public && self.smtp_url.is_none() {
            warnings.push(format!(
                "`smtp_url` is not set: emails are written as .eml files to {} instead of being sent",
                self.data_dir.join("outbox").display()
            ));
        }
        warnings
    }

    /// The top-level keys, as in the TOML file.
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => vec![],
        }
    }

    /// The database URL, defaulting to the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("invitegate.db").display())
        })
    }

    /// The base URL for links, without a trailing slash.
    pub fn public_base_url(&self, bound: SocketAddr) -> String {
        self.public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
            .trim_end_matches('/')
            .to_string()
    }

    /// The initial sign-up mode from `signup_mode` or `enable_invite_only`.
    pub fn initial_signup_mode(&self) -> SignupMode {
        self.signup_mode.unwrap_or(if self.enable_invite_only {
            SignupMode::InviteOnly
        } else {
            SignupMode::Open
        })
    }

    /// Trusted proxies, parsed (validated in [`Config::validate`]).
    pub fn trusted_proxy_ips(&self) -> TrustedProxies {
        TrustedProxies::parse(&self.trusted_proxies).unwrap_or_default()
    }
}

/// Normalises an allowlist entry: an email address or a domain (optionally written `@domain`).
pub fn normalize_allowlist_entry(entry: &str) -> Option<String> {
    if entry.contains('@') && !entry.trim().starts_with('@') {
        invitegate_core::Email::parse(entry)
            .ok()
            .map(|e| e.into_inner())
    } else {
        email::parse_domain(entry)
    }
}

#[cfg(test)]
mod tests;

/// One line for a figment error: its key and what is wrong, naming the new key of a renamed one.
fn describe_error(e: figment::Error) -> String {
    let key = e.path.join(".");
    let mut msg = e.kind.to_string();
    for (old, new) in variables::RENAMED {
        if msg.starts_with(&format!("unknown field `{old}`")) {
            msg = format!("`{old}` was renamed to `{new}`");
        }
    }
    if key.is_empty() {
        msg
    } else {
        format!("`{key}`: {msg}")
    }
}

/// `2 × CPUs + 1` database connections, at most 20.
fn default_pool_size() -> u32 {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(2 * cpus + 1).map_or(20, |n| n.min(20))
}
