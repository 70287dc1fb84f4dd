//! Where emails go: `.eml` files or SMTP, and the MIME message they become.

use super::OutgoingEmail;
use crate::storage;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

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
