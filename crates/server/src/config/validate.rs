//! Every configuration value checked at start-up; the error names the key.

use super::MIN_SECRET_BYTES;
use super::{Config, ConfigError, normalize_allowlist_entry};
use crate::client_ip::TrustedProxies;
use invitegate_core::password::MIN_ALLOWED_MAX_LENGTH;
use std::net::SocketAddr;

impl Config {
    /// Checks every value; the error lists every problem, one per line, each naming its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        match problems.is_empty() {
            true => Ok(()),
            false => Err(ConfigError(problems.join("\n"))),
        }
    }

    /// Every problem of the values, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = Vec::new();
        let problem = |key: &str, what: &str| format!("`{key}` {what}");
        if self.bind.parse::<SocketAddr>().is_err() {
            problems.push(problem(
                "bind",
                "must be an address:port such as 127.0.0.1:8080",
            ));
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite://")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            problems.push(problem(
                "database_url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if let Some(url) = &self.public_base_url
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(char::is_whitespace))
        {
            problems.push(problem(
                "public_base_url",
                "must be an http:// or https:// URL",
            ));
        }
        if self.public_base_url.is_none()
            && let Ok(addr) = self.bind.parse::<SocketAddr>()
            && !addr.ip().is_loopback()
        {
            problems.push(format!(
                "`public_base_url` (INVITEGATE_PUBLIC_BASE_URL) must be set when `bind` ({}) is not a loopback address: links in emails and the refresh cookie's Secure flag come from it, e.g. https://invite.example.com",
                self.bind
            ));
        }
        if let Some(token) = &self.metrics_token
            && token.len() < 16
        {
            problems.push(problem("metrics_token", "must be at least 16 characters"));
        }
        if let Some(url) = &self.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            problems.push(problem("smtp_url", "must start with smtp:// or smtps://"));
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            problems.push(problem(
                "mail_from",
                "must be a mailbox such as `Invitegate <no-reply@example.com>`",
            ));
        }
        let hex = self.brand_color.strip_prefix('#').unwrap_or_default();
        if !(hex.len() == 3 || hex.len() == 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            problems.push(problem("brand_color", "must be a colour such as #4f46e5"));
        }
        if self.product_name.trim().is_empty() || self.product_name.len() > 100 {
            problems.push(problem("product_name", "must be 1 to 100 characters"));
        }
        if let Some(dir) = &self.templates_dir
            && !dir.is_dir()
        {
            problems.push(problem("templates_dir", "must be an existing directory"));
        }
        if !(1..=invitegate_core::api::MAX_EXPIRY_DAYS).contains(&self.invite_link_expiry) {
            problems.push(problem(
                "invite_link_expiry",
                "must be between 1 and 365 days",
            ));
        }
        if self.max_invites_per_user > 100_000 {
            problems.push(problem("max_invites_per_user", "must be at most 100000"));
        }
        for entry in &self.invitation_whitelist_emails {
            if normalize_allowlist_entry(entry).is_none() {
                problems.push(format!(
                    "`invitation_whitelist_emails` entry {entry:?} is neither a domain nor an email address"
                ));
            }
        }
        if self.password_min_length < 8 {
            problems.push(problem(
                "password_min_length",
                "must be at least 8 (NIST SP 800-63B)",
            ));
        }
        if self.password_max_length < MIN_ALLOWED_MAX_LENGTH || self.password_max_length > 1024 {
            problems.push(problem(
                "password_max_length",
                "must be between 64 and 1024 (NIST SP 800-63B)",
            ));
        }
        if self.password_min_length > self.password_max_length {
            problems.push(problem(
                "password_min_length",
                "must not exceed password_max_length",
            ));
        }
        if !(60..=86_400).contains(&self.access_token_ttl_seconds) {
            problems.push(problem(
                "access_token_ttl_seconds",
                "must be between 60 and 86400",
            ));
        }
        if !(1..=365).contains(&self.refresh_token_ttl_days) {
            problems.push(problem(
                "refresh_token_ttl_days",
                "must be between 1 and 365",
            ));
        }
        if !(1..=720).contains(&self.email_verification_ttl_hours) {
            problems.push(problem(
                "email_verification_ttl_hours",
                "must be between 1 and 720",
            ));
        }
        if !(1..=3650).contains(&self.outbox_retention_days) {
            problems.push(problem(
                "outbox_retention_days",
                "must be between 1 and 3650",
            ));
        }
        if !(0..=24 * 365).contains(&self.reminder_before_expiry_hours) {
            problems.push(problem(
                "reminder_before_expiry_hours",
                "must be between 0 and 8760",
            ));
        }
        if !(1..=86_400).contains(&self.jobs_interval_seconds) {
            problems.push(problem(
                "jobs_interval_seconds",
                "must be between 1 and 86400",
            ));
        }
        if !(1..=36_500).contains(&self.audit_retention_days) {
            problems.push(problem(
                "audit_retention_days",
                "must be between 1 and 36500",
            ));
        }
        if !(5..=1440).contains(&self.password_reset_ttl_minutes) {
            problems.push(problem(
                "password_reset_ttl_minutes",
                "must be between 5 and 1440",
            ));
        }
        for key in &self.secret_keys {
            if key.id.is_empty()
                || key.id.len() > 16
                || !key
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            {
                problems.push(problem(
                    "secret_keys.id",
                    "must be 1 to 16 characters of a-z and 0-9",
                ));
            }
            if key.secret.len() < MIN_SECRET_BYTES {
                problems.push(format!(
                    "`secret_keys` key {:?} is shorter than {MIN_SECRET_BYTES} bytes",
                    key.id
                ));
            }
        }
        for origin in &self.cors_allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                problems.push(format!(
                    "`cors_allowed_origins` entry {origin:?} must be an origin such as https://app.example.com"
                ));
            }
        }
        if let Err(proxy) = TrustedProxies::parse(&self.trusted_proxies) {
            problems.push(format!(
                "`trusted_proxies` entry {proxy:?} is neither an IP address nor a CIDR range such as 10.0.0.0/8"
            ));
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
                problems.push(problem(key, "must be at least 1"));
            }
        }
        if !(10..=60_000).contains(&r.sync_interval_milliseconds) {
            problems.push(problem(
                "rate_limits.sync_interval_milliseconds",
                "must be between 10 and 60000",
            ));
        }
        if self.database_pool_size == 0 || self.database_pool_size > 500 {
            problems.push(problem("database_pool_size", "must be between 1 and 500"));
        }
        if self.database_timeout_seconds == 0 {
            problems.push(problem("database_timeout_seconds", "must be at least 1"));
        }
        if self.hash_workers == Some(0) {
            problems.push(problem("hash_workers", "must be at least 1"));
        }
        if self.hash_queue == 0 {
            problems.push(problem("hash_queue", "must be at least 1"));
        }
        problems
    }
}
