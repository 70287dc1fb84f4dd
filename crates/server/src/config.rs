//! Layered configuration: built-in defaults, then a TOML file (`--config FILE` or
//! `INVITEGATE_CONFIG`), then `INVITEGATE_*` environment variables named after the key in upper
//! case (`max_invites_per_user` → `INVITEGATE_MAX_INVITES_PER_USER`; nested keys use `__`, e.g.
//! `INVITEGATE_RATE_LIMITS__AUTH_PER_MINUTE`). Every value is validated at start-up and an
//! error names the key and what is wrong.

use crate::client_ip::TrustedProxies;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use invitegate_core::email;
use invitegate_core::model::SignupMode;
use invitegate_core::password::{DEFAULT_MAX_LENGTH, DEFAULT_MIN_LENGTH, MIN_ALLOWED_MAX_LENGTH};
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
    pub outbox_dead_retention_days: i64,
    /// Seconds between runs of the scheduled jobs (expiry, reminders).
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
    /// Most database connections held by this process.
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
            outbox_dead_retention_days: 14,
            jobs_interval_seconds: 60,
            secret_keys: vec![],
            cors_allowed_origins: vec![],
            trusted_proxies: vec![],
            rate_limits: RateLimits::default(),
            database_pool_size: 10,
            database_timeout_seconds: 5,
            hash_workers: None,
            hash_queue: 256,
            http_workers: None,
            bootstrap_owner_invitation: true,
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
    /// environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        // Only variables naming a key are configuration: other INVITEGATE_* variables (the
        // log filter, test-runner settings) must not stop the server. The file stays strict.
        let known: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => vec![],
        };
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
        let config: Config = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            let msg = e.kind.to_string();
            ConfigError(if key.is_empty() {
                msg
            } else {
                format!("`{key}`: {msg}")
            })
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |key: &str, what: &str| Err(ConfigError(format!("`{key}` {what}")));
        if self.bind.parse::<SocketAddr>().is_err() {
            return err("bind", "must be an address:port such as 127.0.0.1:8080");
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite://")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            return err("database_url", "must start with sqlite:// or postgres://");
        }
        if let Some(url) = &self.public_base_url
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(char::is_whitespace))
        {
            return err("public_base_url", "must be an http:// or https:// URL");
        }
        if self.public_base_url.is_none()
            && let Ok(addr) = self.bind.parse::<SocketAddr>()
            && !addr.ip().is_loopback()
        {
            return Err(ConfigError(format!(
                "`public_base_url` (INVITEGATE_PUBLIC_BASE_URL) must be set when `bind` ({}) is not a loopback address: links in emails and the refresh cookie's Secure flag come from it, e.g. https://invite.example.com",
                self.bind
            )));
        }
        if let Some(token) = &self.metrics_token
            && token.len() < 16
        {
            return err("metrics_token", "must be at least 16 characters");
        }
        if let Some(url) = &self.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return err("smtp_url", "must start with smtp:// or smtps://");
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return err(
                "mail_from",
                "must be a mailbox such as `Invitegate <no-reply@example.com>`",
            );
        }
        let hex = self.brand_color.strip_prefix('#').unwrap_or_default();
        if !(hex.len() == 3 || hex.len() == 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return err("brand_color", "must be a colour such as #4f46e5");
        }
        if self.product_name.trim().is_empty() || self.product_name.len() > 100 {
            return err("product_name", "must be 1 to 100 characters");
        }
        if let Some(dir) = &self.templates_dir
            && !dir.is_dir()
        {
            return err("templates_dir", "must be an existing directory");
        }
        if !(1..=invitegate_core::api::MAX_EXPIRY_DAYS).contains(&self.invite_link_expiry) {
            return err("invite_link_expiry", "must be between 1 and 365 days");
        }
        if self.max_invites_per_user > 100_000 {
            return err("max_invites_per_user", "must be at most 100000");
        }
        for entry in &self.invitation_whitelist_emails {
            if normalize_allowlist_entry(entry).is_none() {
                return Err(ConfigError(format!(
                    "`invitation_whitelist_emails` entry {entry:?} is neither a domain nor an email address"
                )));
            }
        }
        if self.password_min_length < 8 {
            return err(
                "password_min_length",
                "must be at least 8 (NIST SP 800-63B)",
            );
        }
        if self.password_max_length < MIN_ALLOWED_MAX_LENGTH || self.password_max_length > 1024 {
            return err(
                "password_max_length",
                "must be between 64 and 1024 (NIST SP 800-63B)",
            );
        }
        if self.password_min_length > self.password_max_length {
            return err("password_min_length", "must not exceed password_max_length");
        }
        if !(60..=86_400).contains(&self.access_token_ttl_seconds) {
            return err("access_token_ttl_seconds", "must be between 60 and 86400");
        }
        if !(1..=365).contains(&self.refresh_token_ttl_days) {
            return err("refresh_token_ttl_days", "must be between 1 and 365");
        }
        if !(1..=720).contains(&self.email_verification_ttl_hours) {
            return err("email_verification_ttl_hours", "must be between 1 and 720");
        }
        if !(1..=3650).contains(&self.outbox_dead_retention_days) {
            return err("outbox_dead_retention_days", "must be between 1 and 3650");
        }
        if !(0..=24 * 365).contains(&self.reminder_before_expiry_hours) {
            return err("reminder_before_expiry_hours", "must be between 0 and 8760");
        }
        if !(1..=86_400).contains(&self.jobs_interval_seconds) {
            return err("jobs_interval_seconds", "must be between 1 and 86400");
        }
        if !(5..=1440).contains(&self.password_reset_ttl_minutes) {
            return err("password_reset_ttl_minutes", "must be between 5 and 1440");
        }
        for key in &self.secret_keys {
            if key.id.is_empty()
                || key.id.len() > 16
                || !key
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            {
                return err(
                    "secret_keys.id",
                    "must be 1 to 16 characters of a-z and 0-9",
                );
            }
            if key.secret.len() < MIN_SECRET_BYTES {
                return Err(ConfigError(format!(
                    "`secret_keys` key {:?} is shorter than {MIN_SECRET_BYTES} bytes",
                    key.id
                )));
            }
        }
        for origin in &self.cors_allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                return Err(ConfigError(format!(
                    "`cors_allowed_origins` entry {origin:?} must be an origin such as https://app.example.com"
                )));
            }
        }
        if let Err(proxy) = TrustedProxies::parse(&self.trusted_proxies) {
            return Err(ConfigError(format!(
                "`trusted_proxies` entry {proxy:?} is neither an IP address nor a CIDR range such as 10.0.0.0/8"
            )));
        }
        let r = &self.rate_limits;
        for (key, v) in [
            ("rate_limits.auth_per_minute", r.auth_per_minute),
            ("rate_limits.verify_per_minute", r.verify_per_minute),
            (
                "rate_limits.invitations_per_minute",
                r.invitations_per_minute,
            ),
            (
                "rate_limits.login_per_account_per_hour",
                r.login_per_account_per_hour,
            ),
            (
                "rate_limits.alert_failures_threshold",
                r.alert_failures_threshold,
            ),
            (
                "rate_limits.email_requests_per_minute",
                r.email_requests_per_minute,
            ),
            (
                "rate_limits.emails_per_recipient_per_hour",
                r.emails_per_recipient_per_hour,
            ),
        ] {
            if v == 0 {
                return err(key, "must be at least 1");
            }
        }
        if !(10..=60_000).contains(&r.sync_interval_milliseconds) {
            return err(
                "rate_limits.sync_interval_milliseconds",
                "must be between 10 and 60000",
            );
        }
        if self.database_pool_size == 0 || self.database_pool_size > 500 {
            return err("database_pool_size", "must be between 1 and 500");
        }
        if self.database_timeout_seconds == 0 {
            return err("database_timeout_seconds", "must be at least 1");
        }
        if self.hash_workers == Some(0) {
            return err("hash_workers", "must be at least 1");
        }
        if self.hash_queue == 0 {
            return err("hash_queue", "must be at least 1");
        }
        Ok(())
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
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_seed() {
        let c = Config::default();
        c.validate().unwrap();
        assert!(c.enable_invite_only);
        assert_eq!(c.invite_link_expiry, 7);
        assert_eq!(c.max_invites_per_user, 5);
        assert!(c.invitation_whitelist_emails.is_empty());
    }

    #[test]
    fn the_example_file_is_valid() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../invitegate.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let config: Config = figment::Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(&text))
            .extract()
            .unwrap();
        config.validate().unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        let c = Config {
            invite_link_expiry: 0,
            ..Config::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("invite_link_expiry")
        );
        let c = Config {
            secret_keys: vec![SecretKeyConfig {
                id: "k1".into(),
                secret: "short".into(),
            }],
            ..Config::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("shorter than 32 bytes")
        );
        let c = Config {
            invitation_whitelist_emails: vec!["not a domain".into()],
            ..Config::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("invitation_whitelist_emails")
        );
    }
}
