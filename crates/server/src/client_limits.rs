//! Per-client limits as this node sees them: counts by client (an IPv4 address or an IPv6 /64)
//! and fixed window, checked and counted under one lock, with what the other nodes reported.
//! [`crate::ratelimit`] shares them through the database, audits failures and holds the exact
//! per-account, per-recipient and per-inviter limits.

use crate::client_ip::limit_key;
use crate::config::RateLimits;
use crate::error::ApiError;
use crate::http::RequestMeta;
use dashmap::DashMap;
use invitegate_core::FieldCode;
use invitegate_core::model::AuditAction;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, RwLock};

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
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::VerifyFailures => "ip.verify_failures",
            Self::AuthFailures => "ip.auth_failures",
            Self::EmailRequests => "ip.email_requests",
        }
    }
}

/// The alarm's counter: every failure of a client, in a 10-minute window.
pub(crate) const ALARM: &str = "ip.failures";
/// The alarm's window in seconds.
pub const ALARM_WINDOW_SECONDS: i64 = 600;
pub(crate) const MINUTE: i64 = 60;

/// A client's counter of one kind, e.g. `ip.verify_failures:203.0.113.9`: stored under that
/// text in `rate_counters`, held here without allocating per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CounterKey {
    pub(crate) kind: &'static str,
    /// The client as [`limit_key`] groups it.
    pub(crate) client: IpAddr,
}

impl CounterKey {
    fn new(kind: &'static str, ip: IpAddr) -> Self {
        Self {
            kind,
            client: limit_key(ip),
        }
    }

    /// The key of a stored counter, for the kinds this node counts.
    fn parse(text: &str) -> Option<Self> {
        let (kind, client) = text.split_once(':')?;
        let kind = [
            ALARM,
            ClientLimit::VerifyFailures.name(),
            ClientLimit::AuthFailures.name(),
            ClientLimit::EmailRequests.name(),
        ]
        .into_iter()
        .find(|k| *k == kind)?;
        Some(Self {
            kind,
            client: client.parse().ok()?,
        })
    }
}

impl std::fmt::Display for CounterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.client)
    }
}

/// A counter of this node in one window. Atomics, so that requests of one client check and
/// count without a lock; a sync moves `pending` into `shared` adding first, so a concurrent
/// check may over-count for an instant but never under-count.
#[derive(Debug)]
pub(crate) struct Local {
    pub(crate) window_end: i64,
    /// Counted here since the last sync (negative after refunds of synced counts).
    pub(crate) pending: AtomicI64,
    /// The shared total at the last sync.
    pub(crate) shared: AtomicI64,
}

#[derive(Debug, Default)]
pub(crate) struct Aggregate {
    pub(crate) failures: i64,
    pub(crate) reasons: BTreeMap<String, i64>,
}

/// A counter of one client in one window: (key, window start).
pub(crate) type Slot = (CounterKey, i64);

/// The per-client limits of this node, and what it has not yet told the others. Sharded
/// maps: requests of different clients never wait for each other.
pub struct RateLimiters {
    pub(crate) config: RateLimits,
    pub(crate) local: DashMap<Slot, Local>,
    /// Counters other nodes pushed past half a limit: key → (window start, count).
    pub(crate) remote: RwLock<HashMap<CounterKey, (i64, i64)>>,
    /// Forged-token failures awaiting their aggregated audit event: (client, action).
    pub(crate) aggregated: DashMap<(IpAddr, AuditAction), Aggregate>,
    pub(crate) last_prune: Mutex<i64>,
}
impl RateLimiters {
    /// From the configured limits.
    pub fn new(config: &RateLimits) -> Self {
        Self {
            config: config.clone(),
            local: DashMap::default(),
            remote: RwLock::default(),
            aggregated: DashMap::default(),
            last_prune: Mutex::new(0),
        }
    }

    pub(crate) fn max(&self, limit: ClientLimit) -> i64 {
        i64::from(match limit {
            ClientLimit::VerifyFailures => self.config.verify_per_minute,
            ClientLimit::AuthFailures => self.config.auth_per_minute,
            ClientLimit::EmailRequests => self.config.email_requests_per_minute,
        })
    }

    fn remote_count(&self, key: &CounterKey, start: i64) -> i64 {
        self.remote
            .read()
            .expect("limits lock")
            .get(key)
            .filter(|(s, _)| *s == start)
            .map(|(_, c)| *c)
            .unwrap_or(0)
    }

    /// Replaces what other nodes reported (stored counter keys with their window and count).
    pub(crate) fn set_remote(&self, hot: impl IntoIterator<Item = (String, i64, i64)>) {
        *self.remote.write().expect("limits lock") = hot
            .into_iter()
            .filter_map(|(key, start, count)| Some((CounterKey::parse(&key)?, (start, count))))
            .collect();
    }

    /// What this node knows of the client's count against `limit` in the current window: its
    /// own unsynchronised count plus the shared total last seen.
    pub fn known(&self, limit: ClientLimit, meta: &RequestMeta) -> i64 {
        let (start, _) = window(unix_now(), MINUTE);
        let key = CounterKey::new(limit.name(), meta.ip_or_unspecified());
        let remote = self.remote_count(&key, start);
        self.local.get(&(key, start)).map_or(remote, |l| {
            l.shared.load(Ordering::SeqCst).max(remote) + l.pending.load(Ordering::SeqCst)
        })
    }

    /// Adds `n` to the client's counter `kind` in the current window of `seconds`; with a
    /// `max`, only when the count known before is below it (checked and counted in one
    /// compare-and-swap, so concurrent requests cannot all slip under the limit).
    /// `Err(retry_after)` when refused.
    pub(crate) fn add(
        &self,
        kind: &'static str,
        ip: IpAddr,
        seconds: i64,
        n: i64,
        max: Option<i64>,
    ) -> Result<(), u64> {
        let now = unix_now();
        let (start, end) = window(now, seconds);
        let key = CounterKey::new(kind, ip);
        let remote = self.remote_count(&key, start);
        let slot = (key, start);
        let counter = match self.local.get(&slot) {
            Some(c) => c,
            None => self
                .local
                .entry(slot)
                .or_insert_with(|| Local {
                    window_end: end,
                    pending: AtomicI64::new(0),
                    shared: AtomicI64::new(0),
                })
                .downgrade(),
        };
        let mut pending = counter.pending.load(Ordering::SeqCst);
        loop {
            if let Some(max) = max
                && counter.shared.load(Ordering::SeqCst).max(remote) + pending >= max
            {
                return Err((end - now).max(1) as u64);
            }
            match counter.pending.compare_exchange_weak(
                pending,
                pending + n,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(()),
                Err(current) => pending = current,
            }
        }
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
        invitegate_core::Email::parse(raw).map_err(|_| ApiError::field("email", FieldCode::Invalid))
    }
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
