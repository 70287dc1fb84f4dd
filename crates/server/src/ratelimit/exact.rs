//! Exact limits per account, recipient and inviter: counters in the shared database, taken in
//! the request's own transaction.

use super::{MINUTE, unix_now, window};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{self, DbConn, counters};

/// Counts one against the exact shared counter `kind:subject` in the current window of
/// `seconds`; `Err(retry_after_seconds)` when that makes it exceed `limit`. Runs on the
/// caller's connection (inside its transaction when there is one).
pub fn take(
    conn: &mut DbConn,
    kind: &str,
    subject: &str,
    seconds: i64,
    limit: u32,
) -> crate::storage::DbResult<Result<(), u64>> {
    let now = unix_now();
    let (start, end) = window(now, seconds);
    let total = counters::add(conn, &format!("{kind}:{subject}"), start, end, 1)?;
    Ok(if total > i64::from(limit) {
        Err((end - now).max(1) as u64)
    } else {
        Ok(())
    })
}

/// Adds `n` (negative to refund) to the exact shared counter `kind:subject` in the current
/// window of `seconds`; returns the new value and the seconds until the window ends.
pub fn add(
    conn: &mut DbConn,
    kind: &str,
    subject: &str,
    seconds: i64,
    n: i64,
) -> crate::storage::DbResult<(i64, u64)> {
    let now = unix_now();
    let (start, end) = window(now, seconds);
    let total = counters::add(conn, &format!("{kind}:{subject}"), start, end, n)?;
    Ok((total, (end - now).max(1) as u64))
}

/// Counter kinds of the exact limits.
pub mod kinds {
    /// Failed logins of one account from anywhere (`rate_limits.login_per_account_per_hour`).
    pub const ACCOUNT_LOGIN_FAILURES: &str = "account.login_failures";
    /// Failed logins of one account from one client (same limit).
    pub const ACCOUNT_CLIENT_LOGIN_FAILURES: &str = "account_client.login_failures";
    /// Account emails (verification, reset, notices) sent to one address.
    pub const RECIPIENT_ACCOUNT_EMAILS: &str = "recipient.account_emails";
    /// Invitation emails (creation, resend, reminder) sent to one address.
    pub const RECIPIENT_INVITATION_EMAILS: &str = "recipient.invitation_emails";
    /// Invitations created or resent by one inviter (`rate_limits.invitations_per_minute`).
    pub const INVITER_CREATIONS: &str = "inviter.creations";
}

/// Which budget an email draws on. Each address has both, so that anonymous requests that
/// spend one (resets, verifications) cannot stop the invitations an inviter sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailClass {
    /// Verification, password reset and existing-account notices.
    Account,
    /// Invitations, their resends and reminders.
    Invitation,
}

/// The mailbox an address reaches, for budgets: lower-case, with any `+tag` of the local part
/// dropped, so `ann+1@` and `ann+2@` share one budget.
pub fn mailbox(address: &str) -> String {
    let address = address.trim().to_lowercase();
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split('+').next().unwrap_or(local);
            format!("{local}@{domain}")
        }
        None => address,
    }
}

/// Whether another email of `class` may go to `to` this hour (`emails_per_recipient_per_hour`
/// per class), counting it. Callers that get `false` skip the email and answer exactly as if
/// it was sent, so the budget reveals nothing (security.md: no one can mail-bomb an address).
pub fn email_budget(
    conn: &mut DbConn,
    state: &AppState,
    to: &str,
    class: EmailClass,
) -> crate::storage::DbResult<bool> {
    Ok(email_budgets(conn, state, &[to], class)?[0])
}

/// [`email_budget`] for each of `recipients` in one statement, in order: of several addresses
/// reaching one mailbox, the first ones take what is left of its budget.
pub fn email_budgets(
    conn: &mut DbConn,
    state: &AppState,
    recipients: &[&str],
    class: EmailClass,
) -> crate::storage::DbResult<Vec<bool>> {
    let kind = match class {
        EmailClass::Account => kinds::RECIPIENT_ACCOUNT_EMAILS,
        EmailClass::Invitation => kinds::RECIPIENT_INVITATION_EMAILS,
    };
    let keys: Vec<String> = recipients
        .iter()
        .map(|to| format!("{kind}:{}", mailbox(to)))
        .collect();
    // In key order: one order of row locks for every caller, so concurrent batches cannot
    // deadlock.
    let mut per_key: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for key in &keys {
        *per_key.entry(key).or_default() += 1;
    }
    let adds: Vec<(String, i64)> = per_key
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    let (start, end) = window(unix_now(), 3600);
    let totals = counters::add_many(conn, &adds, start, end)?;
    let limit = i64::from(state.config.rate_limits.emails_per_recipient_per_hour);
    // The value before this statement, per key, counted up as the addresses are taken in order.
    let mut taken: std::collections::HashMap<&str, i64> = adds
        .iter()
        .map(|(k, n)| (k.as_str(), totals.get(k).copied().unwrap_or(i64::MAX) - n))
        .collect();
    let allowed: Vec<bool> = keys
        .iter()
        .map(|k| {
            let before = taken.get_mut(k.as_str()).expect("every key was added");
            *before = before.saturating_add(1);
            *before <= limit
        })
        .collect();
    if allowed.iter().any(|a| !a) {
        tracing::info!(
            ?class,
            "email budget of a recipient spent; message not sent"
        );
    }
    Ok(allowed)
}

/// 429 unless `inviter_id` may create or resend another invitation this minute.
pub async fn take_invitation(state: &AppState, inviter_id: &str) -> Result<(), ApiError> {
    let id = inviter_id.to_string();
    let limit = state.config.rate_limits.invitations_per_minute;
    let taken = state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |c| {
                take(c, kinds::INVITER_CREATIONS, &id, MINUTE, limit)
            })?)
        })
        .await?;
    taken.map_err(ApiError::rate_limited)
}

#[cfg(test)]
mod tests {
    use super::mailbox;

    #[test]
    fn plus_tags_share_one_mailbox() {
        assert_eq!(mailbox("Ann+1@Example.com"), "ann@example.com");
        assert_eq!(mailbox("ann+x+y@example.com"), "ann@example.com");
        assert_eq!(mailbox("ann@example.com"), "ann@example.com");
    }
}
