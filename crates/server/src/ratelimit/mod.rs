//! Abuse limits that hold across nodes (security.md: "Limits count failures, not people",
//! "Limits hold across nodes").
//!
//! - **Per client** (IPv4 address or IPv6 /64, [`limit_key`]): failed verifications, failed
//!   register/login/confirm/bearer attempts, and requests to endpoints that email a given
//!   address. These sit on hot paths, so each node counts in memory and synchronises with the
//!   shared `rate_counters` table every `rate_limits.sync_interval_milliseconds`: one upsert
//!   per client and window per sync, never a database write per request. A node refuses what
//!   any node counted past a limit (within one sync interval). The repeated-failure alarm is a
//!   shared counter too: the one upsert that crosses the threshold raises the one
//!   `security.alert`, whichever node made it. Failures with forged or unknown tokens are
//!   audited as one aggregated event per client and sync, not a row each.
//! - **Per account, recipient and inviter**: exact counters in the database, taken in the
//!   request's own transaction ([`take`], [`count`]).

use crate::audit_trail::AuditEntry;
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage;

mod accounts;
mod exact;
mod sync;
use crate::client_limits::{ALARM, MINUTE};
pub use crate::client_limits::{
    ALARM_WINDOW_SECONDS, Attempt, ClientLimit, RateLimiters, unix_now, window,
};
pub use accounts::{LoginAttempt, refund_login, take_login};
pub use exact::{
    EmailClass, add, email_budget, email_budgets, kinds, mailbox, take, take_invitation,
};
pub use sync::run_sync;

impl RateLimiters {
    /// Runs `work` as one attempt against `limit`: refused at the limit; refunded when it
    /// succeeds or fails for reasons that are not the client's (a server fault, an outage, a
    /// policy error such as a weak password); otherwise recorded as a failure, audited with
    /// the event `on_failure` describes (and whether it is forged: see
    /// [`RateLimiters::failure`]).
    pub async fn guarded<T>(
        &self,
        state: &AppState,
        limit: ClientLimit,
        meta: &RequestMeta,
        work: impl std::future::Future<Output = Result<T, ApiError>>,
        on_failure: impl FnOnce(&ApiError) -> (AuditEntry, bool),
    ) -> Result<T, ApiError> {
        let attempt = self.attempt(limit, meta)?;
        let result = work.await;
        match &result {
            Err(e) if counts_as_failure(e) => {
                let (entry, forged) = on_failure(e);
                self.failure(state, meta, entry, forged).await;
            }
            Err(e) if crate::error::is_client_failure(e) => {
                self.refund(attempt);
                let (entry, _) = on_failure(e);
                audit_now(state, meta, entry).await;
            }
            _ => self.refund(attempt),
        }
        result
    }

    /// Records a failed attempt (already counted by [`RateLimiters::attempt`]): counts it
    /// towards the client's alarm, counts the metric, and audits it — in one aggregated event
    /// per client and sync when `forged` (a token whose signature or existence failed: a flood
    /// must not cost a write each), otherwise as its own event now. Errors are logged: the
    /// caller is already answering one.
    pub async fn failure(
        &self,
        state: &AppState,
        meta: &RequestMeta,
        entry: AuditEntry,
        forged: bool,
    ) {
        let ip = meta.ip_or_unspecified();
        let _ = self.add(ALARM, ip, ALARM_WINDOW_SECONDS, 1, None);
        if forged {
            state
                .metrics
                .events
                .with_label_values(&[entry.action.as_str(), "failure"])
                .inc();
            let reason = entry
                .details
                .get("reason")
                .and_then(|r| r.as_str())
                .unwrap_or("unknown")
                .to_string();
            let mut a = self.aggregated.entry((ip, entry.action)).or_default();
            a.failures += 1;
            *a.reasons.entry(reason).or_default() += 1;
            return;
        }
        audit_now(state, meta, entry).await;
    }
}

/// Writes a failure event on its own (counting its metric); errors are logged, as the caller
/// is already answering one.
async fn audit_now(state: &AppState, meta: &RequestMeta, entry: AuditEntry) {
    state
        .metrics
        .events
        .with_label_values(&[entry.action.as_str(), "failure"])
        .inc();
    let meta = meta.clone();
    let written = state
        .db(move |conn| Ok(storage::write_tx(conn, |c| entry.write(c, &meta))?))
        .await;
    if let Err(e) = written {
        tracing::error!(error = %e, "could not write audit event");
    }
}

/// Whether an error ends an attempt as the client's failure: not a server fault, an outage, a
/// refusal by a limit, or a policy error about what the client chose (a weak password, a bad
/// field), which says nothing of an attack.
pub fn counts_as_failure(e: &ApiError) -> bool {
    crate::error::is_client_failure(e) && e.code != invitegate_core::ErrorCode::ValidationFailed
}
