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

use crate::audit::{AuditEntry, RequestMeta};
use crate::client_ip::limit_key;
use crate::config::RateLimits;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage;
use invitegate_core::model::AuditAction;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Mutex, RwLock};

mod accounts;
mod exact;
mod sync;
pub use accounts::{LoginAttempt, refund_login, take_login};
pub use exact::{EmailClass, add, count, email_budget, kinds, mailbox, take, take_invitation};
pub use sync::run_sync;

/// The current Unix time in seconds (wall clock: windows line up across nodes).
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The fixed window of `seconds` containing `now`: `(start, end)`.
pub fn window(now: i64, seconds: i64) -> (i64, i64) {
    let start = now - now.rem_euclid(seconds);
    (start, start + seconds)
}

/// A per-client limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientLimit {
    /// Failed invitation verifications per minute (`rate_limits.verify_per_minute`).
    VerifyFailures,
    /// Failed registrations, logins, email or reset confirmations and bearer authentications
    /// per minute (`rate_limits.auth_per_minute`).
    AuthFailures,
    /// Requests to endpoints that email a given address, successful or not, per minute
    /// (`rate_limits.email_requests_per_minute`).
    EmailRequests,
}

impl ClientLimit {
    fn name(self) -> &'static str {
        match self {
            Self::VerifyFailures => "ip.verify_failures",
            Self::AuthFailures => "ip.auth_failures",
            Self::EmailRequests => "ip.email_requests",
        }
    }
}

/// The alarm's counter: every failure of a client, in a 10-minute window.
const ALARM: &str = "ip.failures";
/// The alarm's window in seconds.
pub const ALARM_WINDOW_SECONDS: i64 = 600;
const MINUTE: i64 = 60;

#[derive(Debug, Clone, Copy)]
struct Local {
    window_end: i64,
    /// Counted here since the last sync (negative after refunds of synced counts).
    pending: i64,
    /// The shared total at the last sync.
    shared: i64,
}

#[derive(Debug, Default)]
struct Aggregate {
    failures: i64,
    reasons: BTreeMap<String, i64>,
}

/// A counter of one client in one window: (key, window start).
type Slot = (String, i64);

/// The per-client limits of this node, and what it has not yet told the others.
pub struct RateLimiters {
    config: RateLimits,
    local: Mutex<HashMap<Slot, Local>>,
    /// Counters other nodes pushed past half a limit: key → (window start, count).
    remote: RwLock<HashMap<String, (i64, i64)>>,
    /// Forged-token failures awaiting their aggregated audit event: (client, action).
    aggregated: Mutex<HashMap<(IpAddr, AuditAction), Aggregate>>,
    last_prune: Mutex<i64>,
}

impl RateLimiters {
    /// From the configured limits.
    pub fn new(config: &RateLimits) -> Self {
        Self {
            config: config.clone(),
            local: Mutex::default(),
            remote: RwLock::default(),
            aggregated: Mutex::default(),
            last_prune: Mutex::new(0),
        }
    }

    fn max(&self, limit: ClientLimit) -> i64 {
        i64::from(match limit {
            ClientLimit::VerifyFailures => self.config.verify_per_minute,
            ClientLimit::AuthFailures => self.config.auth_per_minute,
            ClientLimit::EmailRequests => self.config.email_requests_per_minute,
        })
    }

    fn key(kind: &str, ip: IpAddr) -> String {
        format!("{kind}:{}", limit_key(ip))
    }

    fn remote_count(&self, key: &str, start: i64) -> i64 {
        self.remote
            .read()
            .expect("limits lock")
            .get(key)
            .filter(|(s, _)| *s == start)
            .map(|(_, c)| *c)
            .unwrap_or(0)
    }

    /// What this node knows of the client's count against `limit` in the current window: its
    /// own unsynchronised count plus the shared total last seen.
    pub fn known(&self, limit: ClientLimit, meta: &RequestMeta) -> i64 {
        let (start, _) = window(unix_now(), MINUTE);
        let key = Self::key(limit.name(), meta.ip_or_unspecified());
        let remote = self.remote_count(&key, start);
        let local = self.local.lock().expect("limits lock");
        let l = local.get(&(key, start)).copied();
        l.map_or(0, |l| l.shared).max(remote) + l.map_or(0, |l| l.pending)
    }

    /// Adds `n` to the client's counter `kind` in the current window of `seconds`; with a
    /// `max`, only when the count known before is below it (checked and counted under one
    /// lock, so concurrent requests cannot all slip under the limit). `Err(retry_after)` when
    /// refused.
    fn add(
        &self,
        kind: &str,
        ip: IpAddr,
        seconds: i64,
        n: i64,
        max: Option<i64>,
    ) -> Result<(), u64> {
        let now = unix_now();
        let (start, end) = window(now, seconds);
        let key = Self::key(kind, ip);
        let remote = self.remote_count(&key, start);
        let mut local = self.local.lock().expect("limits lock");
        let entry = local.entry((key, start)).or_insert(Local {
            window_end: end,
            pending: 0,
            shared: 0,
        });
        if let Some(max) = max
            && entry.shared.max(remote) + entry.pending >= max
        {
            return Err((end - now).max(1) as u64);
        }
        entry.pending += n;
        Ok(())
    }

    /// Takes one attempt against `limit`: 429 `rate_limited` (with `Retry-After` until the
    /// window ends) when the client has reached it, as counted by any node. The attempt counts
    /// from now on; [`RateLimiters::refund`] it when it did not end in a client failure.
    pub fn attempt(&self, limit: ClientLimit, meta: &RequestMeta) -> Result<(), ApiError> {
        self.add(
            limit.name(),
            meta.ip_or_unspecified(),
            MINUTE,
            1,
            Some(self.max(limit)),
        )
        .map_err(ApiError::rate_limited)
    }

    /// Gives back an attempt that did not fail through the client's doing.
    pub fn refund(&self, limit: ClientLimit, meta: &RequestMeta) {
        let _ = self.add(limit.name(), meta.ip_or_unspecified(), MINUTE, -1, None);
    }

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
        self.attempt(limit, meta)?;
        let result = work.await;
        match &result {
            Err(e) if counts_as_failure(e) => {
                let (entry, forged) = on_failure(e);
                self.failure(state, meta, entry, forged).await;
            }
            Err(e) if crate::error::is_client_failure(e) => {
                self.refund(limit, meta);
                let (entry, _) = on_failure(e);
                audit_now(state, meta, entry).await;
            }
            _ => self.refund(limit, meta),
        }
        result
    }

    /// Counts one request against `limit` whatever its outcome: for endpoints where every
    /// request costs (those that send email). 429 at the limit.
    pub fn hit(&self, limit: ClientLimit, meta: &RequestMeta) -> Result<(), ApiError> {
        self.attempt(limit, meta)
    }

    /// The gate of every endpoint that emails an address it is given (password resets,
    /// verification resends): the per-client request limit, then the address parsed (422
    /// `email`: `invalid`). The per-recipient budget is taken where the email is queued.
    pub fn email_request(
        &self,
        meta: &RequestMeta,
        raw: &str,
    ) -> Result<invitegate_core::Email, ApiError> {
        self.hit(ClientLimit::EmailRequests, meta)?;
        invitegate_core::Email::parse(raw).map_err(|_| ApiError::field("email", "invalid"))
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
            let mut aggregated = self.aggregated.lock().expect("limits lock");
            let a = aggregated.entry((ip, entry.action)).or_default();
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

#[cfg(test)]
mod tests {
    use super::window;

    #[test]
    fn windows_are_aligned_to_the_epoch() {
        assert_eq!(window(125, 60), (120, 180));
        assert_eq!(window(120, 60), (120, 180));
        assert_eq!(window(599, 600), (0, 600));
    }
}
