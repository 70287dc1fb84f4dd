//! Per-account login limits (ASVS 6.1.1, NIST SP 800-63B §5.2.2): failures are counted per
//! account and per (account, client); an attempt is taken before the password is checked, so
//! concurrent guesses cannot all slip under the limit, and given back when it succeeds.
//!
//! A client may try while it has fewer than `login_per_account_per_hour` failures on the
//! account, and the account as a whole has fewer — or, past that, when it signed in to the
//! account before (same IPv4 address or IPv6 /64). An attacker's failures therefore never lock
//! the owner out of a client they used before, and lock a new client out only while the
//! attack lasts (at most the hour's window); an attacker at one of the owner's addresses still
//! meets the per-(account, client) limit.

use super::exact::{add, kinds};
use crate::client_ip::limit_key;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{self, sessions};
use std::net::IpAddr;

const HOUR: i64 = 3600;

/// A login attempt taken against an account's limits; refund it when the login succeeds.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    account: String,
    pair: String,
}

/// Takes one attempt at the account `email` (of `user_id`, when it exists) from `ip`. 429
/// `rate_limited` when the client may not try now; nothing is counted then.
pub async fn take_login(
    state: &AppState,
    email: &str,
    user_id: Option<String>,
    ip: IpAddr,
) -> Result<LoginAttempt, ApiError> {
    let client = limit_key(ip);
    let attempt = LoginAttempt {
        account: email.to_string(),
        pair: format!("{email}|{client}"),
    };
    let limit = i64::from(state.config.rate_limits.login_per_account_per_hour);
    let a = attempt.clone();
    let refused = state
        .db(move |conn| {
            Ok(storage::write_tx(conn, |conn| {
                let (from_client, retry) =
                    add(conn, kinds::ACCOUNT_CLIENT_LOGIN_FAILURES, &a.pair, HOUR, 1)?;
                let (overall, _) = add(conn, kinds::ACCOUNT_LOGIN_FAILURES, &a.account, HOUR, 1)?;
                let allowed = from_client <= limit
                    && (overall <= limit
                        || match &user_id {
                            Some(id) => sessions::recent_ips(conn, id, 200)?
                                .iter()
                                .filter_map(|s| s.parse::<IpAddr>().ok())
                                .any(|known| limit_key(known) == client),
                            None => false,
                        });
                if allowed {
                    return Ok(None);
                }
                give_back(conn, &a)?;
                Ok::<_, crate::storage::DbError>(Some(retry))
            })?)
        })
        .await?;
    match refused {
        Some(retry) => Err(ApiError::rate_limited(retry)),
        None => Ok(attempt),
    }
}

/// Gives an attempt back: the login succeeded, or failed for no fault of the client's.
pub async fn refund_login(state: &AppState, attempt: LoginAttempt) -> Result<(), ApiError> {
    state
        .db(move |conn| Ok(storage::write_tx(conn, |conn| give_back(conn, &attempt))?))
        .await
}

fn give_back(conn: &mut storage::DbConn, a: &LoginAttempt) -> crate::storage::DbResult<()> {
    add(
        conn,
        kinds::ACCOUNT_CLIENT_LOGIN_FAILURES,
        &a.pair,
        HOUR,
        -1,
    )?;
    add(conn, kinds::ACCOUNT_LOGIN_FAILURES, &a.account, HOUR, -1)?;
    Ok(())
}
