//! Email: messages are written to the outbox in the same transaction as the change that caused
//! them, and a background worker delivers them. The default transport writes each message as
//! an `.eml` file under `<data_dir>/outbox/`, so a local user can open it.

use crate::state::AppState;
use crate::storage::models::OutboxRow;
use crate::storage::{self, DbConn, outbox};
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, Transport};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Attempts before an item is marked dead.
pub const MAX_ATTEMPTS: i32 = 8;

/// An email in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutgoingEmail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
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
        },
    )
}

/// The invitation email.
pub fn invitation_email(
    to: &str,
    inviter: &str,
    url: &str,
    expires_at: chrono::DateTime<chrono::Utc>,
    note: Option<&str>,
) -> OutgoingEmail {
    let note = note
        .map(|n| format!("\nTheir note:\n\n    {n}\n"))
        .unwrap_or_default();
    OutgoingEmail {
        to: to.to_string(),
        subject: format!("{inviter} invited you to join"),
        text: format!(
            "Hello,\n\n{inviter} invited you to create an account.\n{note}\nAccept the invitation:\n\n    {url}\n\n\
             The link works until {} and can be used once. Anyone who has it can use it, so do not forward it.\n\n\
             If you did not expect this invitation, ignore this email: nothing happens unless you open the link.\n",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        ),
    }
}

/// The email-verification email.
pub fn verification_email(to: &str, url: &str, hours: i64) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_string(),
        subject: "Confirm your email address".into(),
        text: format!(
            "Hello,\n\nConfirm your email address to finish creating your account:\n\n    {url}\n\n\
             The link works for {hours} hours. If you did not try to register, ignore this email.\n"
        ),
    }
}

/// The password-reset email.
pub fn password_reset_email(to: &str, url: &str, minutes: i64) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_string(),
        subject: "Reset your password".into(),
        text: format!(
            "Hello,\n\nSomeone asked to reset the password of this account. To choose a new password, open:\n\n    {url}\n\n\
             The link works once, for {minutes} minutes, and signs out every other session.\n\
             If you did not ask for this, ignore this email: your password stays as it is.\n"
        ),
    }
}

/// The notice sent to an existing account when someone tries to register with its address.
pub fn existing_account_email(to: &str, login_url: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: to.to_string(),
        subject: "Someone tried to register with your email address".into(),
        text: format!(
            "Hello,\n\nSomeone tried to create an account with this email address, which already has one.\n\
             Nothing was changed. If it was you, sign in instead:\n\n    {login_url}\n\n\
             If it was not you, you can ignore this email.\n"
        ),
    }
}

/// Delivers outbox items until the process ends: wakes on `wakeup` or every second.
pub async fn run_worker(state: Arc<AppState>) {
    let dir = state.config.data_dir.join("outbox");
    loop {
        let _ = tokio::time::timeout(Duration::from_secs(1), state.outbox_wakeup.notified()).await;
        let dir = dir.clone();
        let from = state.config.mail_from.clone();
        let result = state
            .db(move |conn| Ok(deliver_due(conn, &dir, &from)))
            .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "outbox worker could not reach the database");
        }
    }
}

fn deliver_due(conn: &mut DbConn, dir: &PathBuf, from: &str) -> usize {
    let now = storage::now();
    let Ok(ids) = outbox::due(conn, now, 50) else {
        return 0;
    };
    let mut delivered = 0;
    for id in ids {
        let lease = storage::now() + chrono::Duration::seconds(60);
        let Ok(Some(item)) = outbox::claim(conn, &id, storage::now(), lease) else {
            continue;
        };
        match deliver(&item, dir, from) {
            Ok(()) => {
                delivered += 1;
                if let Err(e) = outbox::mark_sent(conn, &item.id, storage::now()) {
                    tracing::error!(error = %e, "could not mark outbox item sent");
                }
            }
            Err(e) => {
                let attempts = item.attempts + 1;
                let next = (attempts < MAX_ATTEMPTS).then(|| {
                    storage::now() + chrono::Duration::seconds(2i64.pow(attempts as u32).min(3600))
                });
                tracing::warn!(id = %item.id, attempts, error = %e, "outbox delivery failed");
                let _ = outbox::mark_failed(conn, &item.id, &e.to_string(), next);
            }
        }
    }
    delivered
}

fn deliver(item: &OutboxRow, dir: &PathBuf, from: &str) -> anyhow::Result<()> {
    match item.kind.as_str() {
        "email" => {
            let email: OutgoingEmail = serde_json::from_str(&item.payload)?;
            let message = Message::builder()
                .from(from.parse::<Mailbox>()?)
                .to(email.to.parse::<Mailbox>()?)
                .subject(email.subject)
                .multipart(MultiPart::alternative_plain_html(
                    email.text.clone(),
                    html_from_text(&email.text),
                ))?;
            std::fs::create_dir_all(dir)?;
            FileTransport::new(dir).send(&message)?;
            Ok(())
        }
        other => anyhow::bail!("unknown outbox kind {other}"),
    }
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
