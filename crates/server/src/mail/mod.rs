//! Email: messages are written to the outbox in the same transaction as the change that caused
//! them, and the worker in [`crate::outbox`] sends them. The default transport writes each message as
//! an `.eml` file under `<data_dir>/outbox/`, so a local user can open it.

use crate::storage::models::OutboxRow;
use crate::storage::{self, DbConn, outbox};
use invitegate_core::model::OutboxKind;
use serde::{Deserialize, Serialize};

mod templates;
mod transport;

pub use templates::{ProofEmail, Templates};
pub use transport::{Transport, build_message};

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
    /// The invitation this email carries: its delivery is the funnel's "delivered".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<String>,
}

impl OutgoingEmail {
    /// This email, as the one carrying invitation `id`.
    pub fn for_invitation(self, id: &str) -> Self {
        Self {
            invitation_id: Some(id.to_string()),
            ..self
        }
    }
}

/// What of a delivered outbox item stays in the database: an email keeps its recipient and
/// subject (shown to administrators) but not its body, whose links hold live tokens, so a
/// backup yields no working link (security.md, "Nothing usable at rest"). Webhook payloads
/// carry no secret and stay for the delivery log.
pub fn at_rest(item: &OutboxRow) -> String {
    if item.kind != OutboxKind::Email {
        return item.payload.clone();
    }
    scrubbed_email(&item.payload)
}

/// An email payload without its body (see [`at_rest`]).
pub fn scrubbed_email(payload: &str) -> String {
    let email: Option<OutgoingEmail> = serde_json::from_str(payload).ok();
    let kept = OutgoingEmail {
        to: email.as_ref().map(|e| e.to.clone()).unwrap_or_default(),
        subject: email
            .as_ref()
            .map(|e| e.subject.clone())
            .unwrap_or_default(),
        text: String::new(),
        html: None,
        invitation_id: email.and_then(|e| e.invitation_id),
    };
    serde_json::to_string(&kept).expect("serialisable")
}

/// Queues `email` on `conn` (inside the caller's transaction).
pub fn enqueue(conn: &mut DbConn, email: &OutgoingEmail) -> crate::storage::DbResult<()> {
    enqueue_all(conn, std::slice::from_ref(email))
}

/// Queues `emails` in one insert (see [`enqueue`]).
pub fn enqueue_all(conn: &mut DbConn, emails: &[OutgoingEmail]) -> crate::storage::DbResult<()> {
    let rows: Vec<Queued> = emails.iter().map(Queued::new).collect();
    enqueue_queued(conn, rows)
}

/// An email serialised into its outbox row, ready for [`enqueue_queued`]: serialising can run
/// on another thread than the one holding the transaction.
pub struct Queued(OutboxRow);

impl Queued {
    /// `email`'s outbox row (a new id, pending, due now).
    pub fn new(email: &OutgoingEmail) -> Self {
        Queued(OutboxRow::pending(
            storage::new_id(),
            OutboxKind::Email,
            serde_json::to_string(email).expect("serialisable"),
            None,
        ))
    }
}

/// Queues `emails` on `conn` (inside the caller's transaction) in one insert.
pub fn enqueue_queued(conn: &mut DbConn, emails: Vec<Queued>) -> crate::storage::DbResult<()> {
    let rows: Vec<OutboxRow> = emails.into_iter().map(|q| q.0).collect();
    outbox::insert_many(conn, &rows)
}
