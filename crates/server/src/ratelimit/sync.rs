//! How the nodes share their per-client counts: each pushes what it counted to
//! `rate_counters` and pulls what the others pushed past half a limit, every
//! `rate_limits.sync_interval_milliseconds`.

use crate::audit_trail::AuditEntry;
use crate::client_limits::{
    ALARM, ALARM_WINDOW_SECONDS, Aggregate, ClientLimit, MINUTE, RateLimiters, Slot, unix_now,
};
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::{self, DbConn, counters};
use invitegate_core::model::AuditAction;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What a sync took from a counter: its window's end and the count to push.
struct Taken {
    window_end: i64,
    pending: i64,
}

/// An aggregated failure event held back until its sync commits: (client, action), failures,
/// reasons.
type Kept = ((IpAddr, AuditAction), i64, BTreeMap<String, i64>);

impl RateLimiters {
    /// Pushes this node's counts to the shared table, raises the alarm for clients whose
    /// failures crossed `alert_failures_threshold` with this push, writes the aggregated
    /// failure events, and pulls what other nodes counted past half a limit. On a database
    /// error nothing is lost: the counts and events wait for the next sync.
    pub async fn sync(&self, state: &AppState) -> Result<(), ApiError> {
        let now = unix_now();
        self.local.retain(|_, l| {
            let c = l.counts();
            l.window_end > now || c.pending != 0 || c.in_flight != 0
        });
        let mut pending: Vec<(Slot, Taken)> = self
            .local
            .iter()
            .filter_map(|entry| {
                let l = entry.value();
                let mut counts = l.counts();
                let n = counts.pending;
                (n != 0).then(|| {
                    counts.in_flight += n;
                    counts.pending = 0;
                    (
                        *entry.key(),
                        Taken {
                            window_end: l.window_end,
                            pending: n,
                        },
                    )
                })
            })
            .collect();
        // Sorted as the stored keys sort, so that two nodes (of any version) upserting the
        // same clients lock rows in one order.
        pending.sort_by_cached_key(|(slot, _)| (slot.0.to_string(), slot.1));
        let clients: Vec<_> = self.aggregated.iter().map(|e| *e.key()).collect();
        let aggregated: Vec<_> = clients
            .into_iter()
            .filter_map(|k| self.aggregated.remove(&k))
            .collect();
        let threshold = i64::from(self.config.alert_failures_threshold);
        // Clients past half a limit are everyone's business: a node that never saw one learns
        // of it here; below that, each node learns the shared total when it pushes its own.
        let at_least = [
            ClientLimit::VerifyFailures,
            ClientLimit::AuthFailures,
            ClientLimit::EmailRequests,
        ]
        .map(|l| (self.max(l) + 1) / 2)
        .into_iter()
        .min()
        .unwrap_or(1);
        let prune = {
            let mut last = self.last_prune.lock().expect("limits lock");
            let due = now - *last >= MINUTE;
            if due {
                *last = now;
            }
            due
        };
        let sync_seconds = self.config.sync_interval_milliseconds.div_ceil(1000);
        let wait =
            std::time::Duration::from_millis(self.config.sync_interval_milliseconds.min(1000));
        let unsent: Vec<(Slot, i64)> = pending.iter().map(|(s, l)| (*s, l.pending)).collect();
        let kept: Vec<Kept> = aggregated
            .iter()
            .map(|(k, a)| (*k, a.failures, a.reasons.clone()))
            .collect();
        let pushed = state
            .db_within(wait, move |conn| {
                Ok(storage::write_tx(conn, |conn| {
                    push(
                        conn,
                        pending,
                        aggregated,
                        threshold,
                        sync_seconds,
                        now,
                        prune,
                    )
                    .and_then(|(totals, alerts)| {
                        Ok((totals, counters::hot(conn, now, at_least)?, alerts))
                    })
                })?)
            })
            .await;
        let (totals, hot, alerts) = match pushed {
            Ok(p) => p,
            Err(e) => {
                for (slot, n) in unsent {
                    if let Some(l) = self.local.get(&slot) {
                        let mut counts = l.counts();
                        counts.pending += n;
                        counts.in_flight -= n;
                    }
                }
                for (k, failures, reasons) in kept {
                    let mut a = self.aggregated.entry(k).or_default();
                    a.failures += failures;
                    for (r, n) in reasons {
                        *a.reasons.entry(r).or_default() += n;
                    }
                }
                return Err(e);
            }
        };
        for ip in alerts {
            state
                .metrics
                .events
                .with_label_values(&["security.alert", "failure"])
                .inc();
            tracing::warn!(ip = %ip, threshold, "security alert: repeated failures from one client");
        }
        // `push` answers a total per counter it was given, in the same order.
        for ((slot, total), (_, n)) in totals.into_iter().zip(unsent) {
            if let Some(l) = self.local.get(&slot) {
                let mut counts = l.counts();
                counts.shared = total;
                counts.in_flight -= n;
            }
        }
        self.set_remote(hot.into_iter().map(|h| (h.key, h.window_start, h.count)));
        Ok(())
    }
}

type Pushed = (Vec<(Slot, i64)>, Vec<IpAddr>);

/// The database half of [`RateLimiters::sync`], in one transaction.
fn push(
    conn: &mut DbConn,
    pending: Vec<(Slot, Taken)>,
    aggregated: Vec<((IpAddr, AuditAction), Aggregate)>,
    threshold: i64,
    sync_seconds: u64,
    now: i64,
    prune: bool,
) -> crate::storage::DbResult<Pushed> {
    let mut totals = Vec::with_capacity(pending.len());
    let mut alerts = Vec::new();
    for ((key, start), l) in pending {
        let total = counters::add(conn, &key.to_string(), start, l.window_end, l.pending)?;
        if key.kind == ALARM && total - l.pending < threshold && total >= threshold {
            let ip = key.client;
            let meta = RequestMeta {
                ip: Some(ip),
                user_agent: None,
            };
            AuditEntry::failure(AuditAction::SecurityAlert)
                .target("ip", ip.to_string())
                .details(serde_json::json!({
                    "reason": "repeated_failures", "failures": total,
                    "window_seconds": ALARM_WINDOW_SECONDS,
                }))
                .write(conn, &meta)?;
            alerts.push(ip);
        }
        totals.push(((key, start), total));
    }
    let mut aggregated = aggregated;
    aggregated.sort_by_key(|((ip, action), _)| (*ip, action.as_str()));
    for ((ip, action), a) in aggregated {
        let meta = RequestMeta {
            ip: Some(ip),
            user_agent: None,
        };
        AuditEntry::failure(action)
            .details(serde_json::json!({
                "reason": "aggregated", "failures": a.failures, "reasons": a.reasons,
                "period_seconds": sync_seconds,
            }))
            .write(conn, &meta)?;
    }
    if prune {
        counters::prune(conn, now - ALARM_WINDOW_SECONDS)?;
    }
    Ok((totals, alerts))
}

/// Runs [`RateLimiters::sync`] every `sync_interval_milliseconds` until the process ends.
pub async fn run_sync(state: std::sync::Arc<AppState>) {
    let every =
        std::time::Duration::from_millis(state.config.rate_limits.sync_interval_milliseconds);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.limits.sync(&state).await {
            tracing::debug!(error = %e, "could not synchronise the shared limits");
        }
    }
}
