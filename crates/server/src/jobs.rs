//! Scheduled jobs, run by every process every `jobs_interval_seconds`: delete dead outbox items
//! past `outbox_retention_days`; audit events, and sessions that ended, more than
//! `audit_retention_days` ago; verification, reset and acceptance links once used, or 30 days
//! after they expired unused (see [`storage::retention`]); mark invitations expired
//! when their time passes (emitting `invitation.expired`, so subscribed webhooks hear of it) and
//! send one reminder per email-bound invitation `reminder_before_expiry_hours` before it
//! expires; fold the invitation count deltas into the insights' count tables. Each item is
//! taken with a guarded update, so several processes never act twice.

use crate::audit_trail::AuditEntry;
use crate::error::ApiResult;
use crate::http::RequestMeta;
use crate::invitations::rules::preview;
use crate::mail;
use crate::state::AppState;
use crate::storage::models::utc;
use crate::storage::{self, invitations};
use crate::tokens::{Purpose, hash_token};
use invitegate_core::model::{ActorRef, ActorType, AuditAction};
use std::sync::Arc;
use std::time::Duration;

/// Runs the jobs until the process ends.
pub async fn run(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.config.jobs_interval_seconds));
    loop {
        tick.tick().await;
        state.oidc_keys.reload_if_changed();
        // A grant without a refresh token lives as long as the access tokens of its code.
        let keep = chrono::Duration::days(1).max(chrono::Duration::seconds(
            state.config.access_token_ttl_seconds as i64
                + 2 * crate::oidc::authorize::CODE_TTL_SECONDS,
        ));
        if let Err(e) = state
            .db(move |conn| {
                Ok(storage::oauth::purge_dead_grants(
                    conn,
                    storage::now(),
                    keep,
                    1000,
                )?)
            })
            .await
        {
            tracing::debug!(error = %e, "dead OAuth grants could not be purged");
        }
        match run_once(&state).await {
            Ok((expired, reminded)) if expired + reminded > 0 => {
                tracing::info!(expired, reminded, "scheduled jobs ran")
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "scheduled jobs could not run"),
        }
    }
}

/// One pass of every job; returns (invitations marked expired, reminders sent).
pub async fn run_once(state: &Arc<AppState>) -> ApiResult<(usize, usize)> {
    // First, so that a failing job below never stalls it, and last, for the jobs' own changes.
    fold_counts(state).await;
    let expired = state
        .db(|conn| {
            let now = storage::now();
            let system = ActorRef {
                kind: ActorType::System,
                id: "system".into(),
            };
            let mut n = 0;
            for id in invitations::newly_expired(conn, now, 500)? {
                let marked = storage::write_tx(conn, |conn| {
                    if !invitations::mark_expired(conn, &id, now)? {
                        return Ok(false);
                    }
                    AuditEntry::success(AuditAction::InvitationExpired)
                        .actor(Some(system.clone()))
                        .target("invitation", id.clone())
                        .write(conn, &RequestMeta::default())?;
                    Ok::<_, crate::storage::DbError>(true)
                })?;
                n += usize::from(marked);
            }
            Ok(n)
        })
        .await?;
    let hours = state.config.reminder_before_expiry_hours;
    let reminded = if hours == 0 {
        0
    } else {
        let st = state.clone();
        state
            .db(move |conn| {
                let now = storage::now();
                let mut n = 0;
                for inv in
                    invitations::reminder_due(conn, now, now + chrono::Duration::hours(hours), 200)?
                {
                    // Only invitations that lived longer than the reminder window get a reminder.
                    if inv.created_at + chrono::Duration::hours(hours) > inv.expires_at {
                        continue;
                    }
                    let token = st.keys.issue(Purpose::Invitation);
                    let sent = storage::write_tx(conn, |conn| {
                        if !invitations::take_reminder(conn, &inv.id, &hash_token(&token), now)? {
                            return Ok(false);
                        }
                        let inviter = preview(conn, &inv, &st.base_url)?
                            .inviter_display_name
                            .unwrap_or_else(|| "Someone".into());
                        let to = inv.email.clone().unwrap_or_default();
                        mail::enqueue(
                            conn,
                            // Its link is the only working one now: its delivery counts.
                            &st.templates
                                .reminder(
                                    &to,
                                    &inviter,
                                    &st.link("/invite", &token),
                                    utc(inv.expires_at),
                                )
                                .for_invitation(&inv.id),
                        )?;
                        Ok::<_, crate::storage::DbError>(true)
                    })?;
                    n += usize::from(sent);
                }
                Ok(n)
            })
            .await?
    };
    if reminded > 0 {
        state.outbox_wakeup.notify_one();
    }
    let retention = chrono::Duration::days(state.config.outbox_retention_days);
    let purged = state
        .db(move |conn| {
            // Emails delivered before bodies were scrubbed on delivery lose theirs now.
            for (id, payload) in storage::outbox::sent_with_body(conn, 500)? {
                storage::outbox::set_payload(conn, &id, &mail::scrubbed_email(&payload))?;
            }
            Ok(storage::outbox::purge_dead(
                conn,
                storage::now() - retention,
            )?)
        })
        .await?;
    if purged > 0 {
        tracing::info!(purged, "dead outbox items past their retention deleted");
    }
    let now = storage::now();
    let kept = now - chrono::Duration::days(state.config.audit_retention_days);
    let stale = now - chrono::Duration::days(LINK_GRACE_DAYS);
    use storage::retention;
    prune(state, "audit events", move |c, n| {
        retention::audit_events(c, kept, n)
    })
    .await;
    prune(state, "sessions", move |c, n| {
        retention::sessions(c, kept, n)
    })
    .await;
    prune(state, "links", move |c, n| {
        retention::links(c, now, stale, n)
    })
    .await;
    fold_counts(state).await;
    Ok((expired, reminded))
}

/// Folds the invitation count deltas into the insights' count tables: the insights read the
/// unfolded ones too, and folding them keeps those reads short. A failure is logged.
async fn fold_counts(state: &Arc<AppState>) {
    if let Err(e) = state
        .db(|conn| {
            let mut folded = 0;
            for _ in 0..PRUNE_ROUNDS {
                let n = storage::insights::compact(conn, COMPACT_BATCH)?;
                folded += n;
                if (n as i64) < COMPACT_BATCH {
                    break;
                }
            }
            Ok(folded)
        })
        .await
    {
        tracing::warn!(error = %e, "invitation count deltas could not be folded");
    }
}

/// Days an expired, unused link is kept: "send a new link" renews it, and it answers
/// `token_expired` (not `invalid_token`) until then.
const LINK_GRACE_DAYS: i64 = 30;

/// Rows deleted per statement by the retention jobs, and rounds per kind per run: a backlog
/// (a first run on an old database) drains over several runs, never in one long statement.
const PRUNE_BATCH: i64 = 1000;
const PRUNE_ROUNDS: usize = 10;

/// Invitation count deltas folded per statement (see [`storage::insights::compact`]).
const COMPACT_BATCH: i64 = 10_000;

/// Runs `delete` (see [`storage::retention`]) with batches of [`PRUNE_BATCH`] until a round
/// deletes fewer or [`PRUNE_ROUNDS`] ran. A failure is logged and ends this kind only.
async fn prune<F>(state: &Arc<AppState>, what: &'static str, delete: F)
where
    F: Fn(&mut storage::DbConn, i64) -> diesel::QueryResult<usize> + Copy + Send + 'static,
{
    let mut total = 0;
    for _ in 0..PRUNE_ROUNDS {
        match state.db(move |conn| Ok(delete(conn, PRUNE_BATCH)?)).await {
            Ok(n) => {
                total += n;
                if (n as i64) < PRUNE_BATCH {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, what, "retention: rows could not be deleted");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(
            deleted = total,
            what,
            "retention: rows past their time deleted"
        );
    }
}
