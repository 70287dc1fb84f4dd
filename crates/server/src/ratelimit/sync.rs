//! How the nodes share their per-client counts: each pushes what it counted to
//! `rate_counters` and pulls what the others pushed past half a limit, every
//! `rate_limits.sync_interval_milliseconds`.

use crate::audit_trail::AuditEntry;
use crate::client_limits::{
    ALARM, ALARM_WINDOW_SECONDS, Aggregate, ClientLimit, Local, MINUTE, RateLimiters, Slot,
    unix_now,
};
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::{self, DbConn, counters};
use invitegate_core::model::AuditAction;
use std::collections::BTreeMap;
use std::net::IpAddr;

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
        // Sorted, so that two nodes upserting the same clients lock rows in one order.
        let mut pending: Vec<(Slot, Local)> = {
            let mut local = self.local.lock().expect("limits lock");
            local.retain(|_, l| l.window_end > now || l.pending != 0);
            local
                .iter_mut()
                .filter(|(_, l)| l.pending != 0)
                .map(|(slot, l)| {
                    let taken = *l;
                    l.shared += l.pending;
                    l.pending = 0;
                    (slot.clone(), taken)
                })
                .collect()
        };
        pending.sort_by(|a, b| a.0.cmp(&b.0));
        let aggregated: Vec<_> = self
            .aggregated
            .lock()
            .expect("limits lock")
            .drain()
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
        let unsent: Vec<(Slot, i64)> = pending
            .iter()
            .map(|(s, l)| (s.clone(), l.pending))
            .collect();
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
                let mut local = self.local.lock().expect("limits lock");
                for (slot, n) in unsent {
                    if let Some(l) = local.get_mut(&slot) {
                        l.pending += n;
                        l.shared -= n;
                    }
                }
                let mut aggregated = self.aggregated.lock().expect("limits lock");
                for (k, failures, reasons) in kept {
                    let a = aggregated.entry(k).or_default();
                    a.failures += failures;
                    for (r, n) in reasons {
                        *a.reasons.entry(r).or_default() += n;
                    }
                }
                return Err(e);
            }
        };
        for ip in alerts {
            tracing::warn!(ip = %ip, threshold, "security alert: repeated failures from one client");
        }
        {
            let mut local = self.local.lock().expect("limits lock");
            for (slot, total) in totals {
                if let Some(l) = local.get_mut(&slot) {
                    l.shared = total;
                }
            }
        }
        *self.remote.write().expect("limits lock") = hot
            .into_iter()
            .map(|h| (h.key, (h.window_start, h.count)))
            .collect();
        Ok(())
    }
}

type Pushed = (Vec<(Slot, i64)>, Vec<IpAddr>);

/// The database half of [`RateLimiters::sync`], in one transaction.
fn push(
    conn: &mut DbConn,
    pending: Vec<(Slot, Local)>,
    aggregated: Vec<((IpAddr, AuditAction), Aggregate)>,
    threshold: i64,
    sync_seconds: u64,
    now: i64,
    prune: bool,
) -> crate::storage::DbResult<Pushed> {
    let mut totals = Vec::with_capacity(pending.len());
    let mut alerts = Vec::new();
    for ((key, start), l) in pending {
        let total = counters::add(conn, &key, start, l.window_end, l.pending)?;
        if let Some(ip) = key.strip_prefix(ALARM).and_then(|k| k[1..].parse().ok())
            && total - l.pending < threshold
            && total >= threshold
        {
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
