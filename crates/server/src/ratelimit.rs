//! Rate limits (GCRA via `governor`, in memory per process) and the repeated-failure alarm.

use crate::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A keyed limiter answering 429 with `Retry-After`.
pub struct Limiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `per_period` requests per `period`, with that many as the burst.
    pub fn new(per_period: u32, period: Duration) -> Self {
        let n = NonZeroU32::new(per_period.max(1)).expect("non-zero");
        let quota = Quota::with_period(period / n.get())
            .expect("non-zero period")
            .allow_burst(n);
        Self {
            inner: DefaultKeyedRateLimiter::keyed(quota),
        }
    }

    /// Takes one cell for `key`; a 429 when none is left.
    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        self.inner.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::rate_limited(wait.as_secs_f64().ceil() as u64)
        })
    }

    /// Forgets keys whose limits have fully refilled.
    pub fn shrink(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

/// Every limiter of the service.
pub struct RateLimiters {
    /// Per IP: register, login, email confirmation.
    pub auth: Limiter<IpAddr>,
    /// Per IP: invitation verify.
    pub verify: Limiter<IpAddr>,
    /// Per inviter id: invitation creation.
    pub invitations: Limiter<String>,
    /// Per normalised email: login attempts.
    pub login_account: Limiter<String>,
}

impl RateLimiters {
    /// From the configured limits.
    pub fn new(c: &crate::config::RateLimits) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            auth: Limiter::new(c.auth_per_minute, minute),
            verify: Limiter::new(c.verify_per_minute, minute),
            invitations: Limiter::new(c.invitations_per_minute, minute),
            login_account: Limiter::new(c.login_per_account_per_hour, Duration::from_secs(3600)),
        }
    }

    /// The gate of every endpoint that emails an address it is given (password resets,
    /// verification resends): the per-IP limit, then the address parsed (422 `email`:
    /// `invalid`), then the per-address limit, so no one can flood one mailbox.
    pub fn email_request(
        &self,
        meta: &crate::audit::RequestMeta,
        raw: &str,
    ) -> Result<invitegate_core::Email, ApiError> {
        self.auth.check(&meta.ip_or_unspecified())?;
        let email =
            invitegate_core::Email::parse(raw).map_err(|_| ApiError::field("email", "invalid"))?;
        self.login_account.check(&email.as_str().to_string())?;
        Ok(email)
    }

    /// Drops idle keys (called periodically).
    pub fn shrink(&self) {
        self.auth.shrink();
        self.verify.shrink();
        self.invitations.shrink();
        self.login_account.shrink();
    }
}

/// Counts failures (bad tokens, rejected registrations, failed logins) per IP in a 10-minute
/// window and says when an IP crosses the threshold, once per window.
#[derive(Clone)]
pub struct FailureAlarm {
    threshold: u32,
    window: Duration,
    counts: Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>,
}

impl FailureAlarm {
    /// Alarm after `threshold` failures within 10 minutes.
    pub fn new(threshold: u32) -> Self {
        Self {
            threshold,
            window: Duration::from_secs(600),
            counts: Arc::default(),
        }
    }

    /// Records one failure; returns the count when this failure reaches the threshold.
    pub fn record(&self, ip: IpAddr) -> Option<u32> {
        let now = Instant::now();
        let mut counts = self.counts.lock().expect("alarm lock");
        if counts.len() > 100_000 {
            let window = self.window;
            counts.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = counts.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        (entry.1 == self.threshold).then_some(entry.1)
    }
}
