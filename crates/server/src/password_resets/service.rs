//! The rules of password resets: the same answer and work whether or not the account exists
//! (ASVS 6.3.8), single-use short-lived links, and a confirmation that ends every other
//! session (ASVS 7.4.3).

use crate::audit_trail::AuditEntry;
use crate::auth::policy::password_issues;
use crate::auth::session;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::mail;
use crate::ratelimit::{self, ClientLimit};
use crate::sessions::service::Started;
use crate::state::AppState;
use crate::storage::models::PasswordResetRow;
use crate::storage::{self, password_resets, sessions, users};
use crate::tokens::{Purpose, hash_token};
use invitegate_core::api::PasswordResetConfirm;
use invitegate_core::model::{ActorRef, ActorType, AuditAction};
use invitegate_core::{Email, ErrorCode, password};
use std::sync::Arc;

/// Emails a reset link to `email`'s account when there is an active one, within the
/// recipient's email budget; audits either way in one transaction. Errors: 422 `email`
/// `invalid`, 429 `rate_limited`.
pub async fn request(state: &Arc<AppState>, meta: &RequestMeta, email: &str) -> ApiResult<()> {
    let email = state.limits.email_request(meta, email)?;
    let token = state.keys.issue(Purpose::PasswordReset);
    let url = state.link("/reset-password", &token);
    let minutes = state.config.password_reset_ttl_minutes;
    let templates = state.templates.clone();
    let m = meta.clone();
    let st = state.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let user =
                    users::find_by_email(conn, email.as_str())?.filter(|u| u.disabled_at.is_none());
                let entry = AuditEntry::success(AuditAction::PasswordResetRequested);
                match user {
                    Some(user) => {
                        password_resets::consume_all_for_user(conn, &user.id, now)?;
                        let row = PasswordResetRow {
                            id: storage::new_id(),
                            user_id: user.id.clone(),
                            token_hash: hash_token(&token),
                            created_at: now,
                            expires_at: now + chrono::Duration::minutes(minutes),
                            consumed_at: None,
                        };
                        password_resets::insert(conn, &row)?;
                        if ratelimit::email_budget(
                            conn,
                            &st,
                            &user.email,
                            ratelimit::EmailClass::Account,
                        )? {
                            mail::enqueue(
                                conn,
                                &templates.password_reset(&user.email, &url, minutes),
                            )?;
                        }
                        entry.target("user", user.id).write(conn, &m)?;
                    }
                    None => {
                        AuditEntry {
                            outcome: invitegate_core::model::Outcome::Failure,
                            ..entry
                        }
                        .details(
                            serde_json::json!({"reason": "no_account", "email": email.as_str()}),
                        )
                        .write(conn, &m)?;
                    }
                }
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(())
}

/// Sets a new password with a reset link's token, ends every session and starts one, in one
/// transaction; failures are counted against the client. Errors: 400 `invalid_token`, 410
/// `token_expired`, 422 `password` (the sign-up policy's codes), 429 `rate_limited`.
pub async fn confirm(
    state: &AppState,
    meta: &RequestMeta,
    body: PasswordResetConfirm,
) -> ApiResult<Started> {
    (state.limits)
        .guarded(
            state,
            ClientLimit::AuthFailures,
            meta,
            confirm_inner(state, meta, body),
            |e| {
                let entry = AuditEntry::failure(AuditAction::PasswordResetCompleted)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidToken)
            },
        )
        .await
}

/// Checks the token and the new password, then sets it, ends every session and starts one, in
/// one transaction: the user, the new session's id and its refresh token.
async fn confirm_inner(
    state: &AppState,
    meta: &RequestMeta,
    body: PasswordResetConfirm,
) -> ApiResult<Started> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken);
    if state
        .keys
        .verify(Purpose::PasswordReset, &body.token)
        .is_err()
    {
        return Err(invalid());
    }
    let hash = hash_token(&body.token);
    let found = state
        .db(move |conn| {
            let Some(reset) = password_resets::find_by_token_hash(conn, &hash)? else {
                return Ok(None);
            };
            Ok(users::find(conn, &reset.user_id)?.map(|u| (reset, u)))
        })
        .await?;
    let Some((reset, user)) =
        found.filter(|(r, u)| r.consumed_at.is_none() && u.disabled_at.is_none())
    else {
        return Err(invalid());
    };
    if reset.expires_at <= storage::now() {
        return Err(ApiError::new(ErrorCode::TokenExpired));
    }
    let email = Email::parse(&user.email).ok();
    let issues = password_issues(state, &body.password, email.as_ref());
    if !issues.is_empty() {
        return Err(ApiError::fields(
            [(
                "password".to_string(),
                issues.iter().map(|i| i.code()).collect(),
            )]
            .into(),
        ));
    }
    let new_hash = state
        .hasher
        .hash(password::normalize(&body.password))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable).detail(e.to_string()))?;
    let new_session = session::new_session(state, &user.id, meta);
    let refresh_token = new_session.refresh_token.clone();
    let sid = new_session.row.id.clone();
    let uid = user.id.clone();
    let m = meta.clone();
    let user_row = user.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                if !password_resets::consume(conn, &reset.id, now)? {
                    return Err(ApiError::new(ErrorCode::InvalidToken));
                }
                password_resets::consume_all_for_user(conn, &uid, now)?;
                users::set_password_hash(conn, &uid, &new_hash)?;
                let ended = sessions::revoke_all_for_user(conn, &uid, now)?;
                session::insert(conn, &new_session)?;
                AuditEntry::success(AuditAction::PasswordResetCompleted)
                    .actor(Some(ActorRef {
                        kind: ActorType::User,
                        id: uid.clone(),
                    }))
                    .target("user", uid.clone())
                    .details(serde_json::json!({"sessions_ended": ended}))
                    .write(conn, &m)?;
                Ok(())
            })
        })
        .await?;
    Ok(Started {
        user: user_row,
        session_id: sid,
        refresh_token,
    })
}
