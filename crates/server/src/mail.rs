//! Email: messages are written to the outbox in the same transaction as the change that caused
//! them, and the worker in [`crate::delivery`] sends them. The default transport writes each message as
//! an `.eml` file under `<data_dir>/outbox/`, so a local user can open it.

use crate::storage::models::OutboxRow;
use crate::storage::{self, DbConn, outbox};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// An email in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutgoingEmail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (a plain rendering of `text` when absent).
    #[serde(default)]
    pub html: Option<String>,
}

/// What of a delivered outbox item stays in the database: an email keeps its recipient and
/// subject (shown to administrators) but not its body, whose links hold live tokens, so a
/// backup yields no working link (security.md, "Nothing usable at rest"). Webhook payloads
/// carry no secret and stay for the delivery log.
pub fn at_rest(item: &OutboxRow) -> String {
    if item.kind != "email" {
        return item.payload.clone();
    }
    scrubbed_email(&item.payload)
}

/// An email payload without its body (see [`at_rest`]).
pub fn scrubbed_email(payload: &str) -> String {
    let email: Option<OutgoingEmail> = serde_json::from_str(payload).ok();
    let kept = OutgoingEmail {
        to: email.as_ref().map(|e| e.to.clone()).unwrap_or_default(),
        subject: email.map(|e| e.subject).unwrap_or_default(),
        text: String::new(),
        html: None,
    };
    serde_json::to_string(&kept).expect("serialisable")
}

/// Writes `message` as `<uuid>.eml` in `dir`, readable by the service's user only (0600): the
/// files hold live links.
fn write_eml(dir: &std::path::Path, message: &Message) -> anyhow::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}.eml", storage::new_id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path)?.write_all(&message.formatted())?;
    Ok(())
}

/// Queues `email` on `conn` (inside the caller's transaction).
pub fn enqueue(conn: &mut DbConn, email: &OutgoingEmail) -> diesel::QueryResult<()> {
    let now = storage::now();
    outbox::insert(
        conn,
        &OutboxRow {
            id: storage::new_id(),
            kind: "email".into(),
            payload: serde_json::to_string(email).expect("serialisable"),
            status: outbox::PENDING.into(),
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            created_at: now,
            sent_at: None,
            last_error: None,
            endpoint_id: None,
            response_status: None,
        },
    )
}

/// Email templates (minijinja): a subject, a plain-text and an HTML part per message, built in
/// and overridable file by file from `templates_dir` (`invitation.subject`, `invitation.txt`,
/// `invitation.html`, `layout.html`, ...). Every template gets `product_name` and
/// `brand_color`. Overrides are rendered once at start-up, so a broken one stops the server
/// with its name instead of failing later.
pub struct Templates {
    env: minijinja::Environment<'static>,
    product_name: String,
    brand_color: String,
}

macro_rules! builtin {
    ($($name:literal),+ $(,)?) => { &[$(($name, include_str!(concat!("../templates/", $name)))),+] };
}

const BUILTIN: &[(&str, &str)] = builtin!(
    "layout.html",
    "button.html",
    "invitation.subject",
    "invitation.txt",
    "invitation.html",
    "reminder.subject",
    "reminder.txt",
    "reminder.html",
    "verification.subject",
    "verification.txt",
    "verification.html",
    "existing_account.subject",
    "existing_account.txt",
    "existing_account.html",
    "password_reset.subject",
    "password_reset.txt",
    "password_reset.html",
);

const MESSAGES: &[&str] = &[
    "invitation",
    "reminder",
    "verification",
    "existing_account",
    "password_reset",
];

impl Templates {
    /// The built-in templates with the overrides found in `config.templates_dir`.
    pub fn load(config: &crate::config::Config) -> anyhow::Result<Self> {
        let mut env = minijinja::Environment::new();
        for (name, source) in BUILTIN {
            let text = match config
                .templates_dir
                .as_ref()
                .map(|d| d.join(name))
                .filter(|p| p.exists())
            {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("template {}: {e}", path.display()))?,
                None => source.to_string(),
            };
            env.add_template_owned(name.to_string(), text)
                .map_err(|e| anyhow::anyhow!("template {name}: {e}"))?;
        }
        let templates = Self {
            env,
            product_name: config.product_name.clone(),
            brand_color: config.brand_color.clone(),
        };
        let sample = minijinja::context! {
            inviter => "Ann", url => "https://example.com/invite#token=x", expires_at => "2030-01-01 00:00 UTC",
            note => "Hello", hours => 24, minutes => 60,
        };
        for message in MESSAGES {
            templates.try_render(message, "test@example.com", sample.clone())?;
        }
        Ok(templates)
    }

    fn try_render(
        &self,
        message: &str,
        to: &str,
        ctx: minijinja::Value,
    ) -> anyhow::Result<OutgoingEmail> {
        let ctx = minijinja::context! { product_name => &self.product_name, brand_color => &self.brand_color, ..ctx };
        let render = |suffix: &str| -> anyhow::Result<String> {
            let name = format!("{message}.{suffix}");
            self.env
                .get_template(&name)?
                .render(&ctx)
                .map_err(|e| anyhow::anyhow!("template {name}: {e}"))
        };
        let subject = render("subject")?
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or(message)
            .to_string();
        let ctx_html = minijinja::context! { subject => &subject, ..ctx.clone() };
        let html_name = format!("{message}.html");
        let html = self
            .env
            .get_template(&html_name)?
            .render(&ctx_html)
            .map_err(|e| anyhow::anyhow!("template {html_name}: {e}"))?;
        Ok(OutgoingEmail {
            to: to.to_string(),
            subject,
            text: render("txt")?,
            html: Some(html),
        })
    }

    fn render(&self, message: &str, to: &str, ctx: minijinja::Value, url: &str) -> OutgoingEmail {
        self.try_render(message, to, ctx).unwrap_or_else(|e| {
            tracing::error!(error = %e, "email template failed; sending a plain fallback");
            OutgoingEmail {
                to: to.to_string(),
                subject: self.product_name.clone(),
                text: format!("{url}\n"),
                html: None,
            }
        })
    }

    /// The invitation email.
    pub fn invitation(
        &self,
        to: &str,
        inviter: &str,
        url: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
        note: Option<&str>,
    ) -> OutgoingEmail {
        let expires_at = expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
        self.render(
            "invitation",
            to,
            minijinja::context! { inviter, url, expires_at, note },
            url,
        )
    }

    /// The reminder sent once before an invitation expires; its link replaces the earlier one.
    pub fn reminder(
        &self,
        to: &str,
        inviter: &str,
        url: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> OutgoingEmail {
        let expires_at = expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
        self.render(
            "reminder",
            to,
            minijinja::context! { inviter, url, expires_at },
            url,
        )
    }

    /// The email-verification email.
    pub fn verification(&self, to: &str, url: &str, hours: i64) -> OutgoingEmail {
        self.render("verification", to, minijinja::context! { url, hours }, url)
    }

    /// The notice sent to an existing account when someone tries to register with its address.
    pub fn existing_account(&self, to: &str, url: &str) -> OutgoingEmail {
        self.render("existing_account", to, minijinja::context! { url }, url)
    }

    /// The password-reset email.
    pub fn password_reset(&self, to: &str, url: &str, minutes: i64) -> OutgoingEmail {
        self.render(
            "password_reset",
            to,
            minijinja::context! { url, minutes },
            url,
        )
    }
}

/// Where emails go: `.eml` files (the default) or an SMTP server.
pub enum Transport {
    /// Writes each message as `<id>.eml` in this directory.
    File(PathBuf),
    /// Sends over SMTP (lettre's URL form: `smtp://host:25`, `smtp://host:587?tls=required`,
    /// `smtps://user:pass@host:465`), with a 10-second timeout.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// The transport configured by `smtp_url` (file transport when unset). Errors name the key.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        match &config.smtp_url {
            None => Ok(Self::File(config.data_dir.join("outbox"))),
            Some(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("configuration: `smtp_url` is not usable: {e}"))?;
                Ok(Self::Smtp(
                    builder.timeout(Some(Duration::from_secs(10))).build(),
                ))
            }
        }
    }

    /// Sends one message (writes it, for the file transport).
    pub async fn send(&self, message: Message) -> anyhow::Result<()> {
        match self {
            Self::File(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || write_eml(&dir, &message)).await?
            }
            Self::Smtp(smtp) => {
                smtp.send(message).await?;
                Ok(())
            }
        }
    }
}

/// The message for `email` from `from` (a mailbox), with a plain-text and an HTML part.
pub fn build_message(from: &str, email: &OutgoingEmail) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .from(from.parse::<Mailbox>()?)
        .to(email.to.parse::<Mailbox>()?)
        .subject(email.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            email
                .html
                .clone()
                .unwrap_or_else(|| html_from_text(&email.text)),
        ))?)
}

fn html_from_text(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let linked: Vec<String> = escaped
        .lines()
        .map(|line| {
            let t = line.trim();
            if t.starts_with("http://") || t.starts_with("https://") {
                format!("<p><a href=\"{t}\">{t}</a></p>")
            } else if t.is_empty() {
                String::new()
            } else {
                format!("<p>{t}</p>")
            }
        })
        .collect();
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">{}</body></html>",
        linked.join("\n")
    )
}
