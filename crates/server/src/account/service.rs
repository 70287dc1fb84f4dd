//! The rules of a signed-in person's own account: changing the password (which ends every
//! other session), seeing and ending sessions, exporting their data and deleting the account.
//! Anything that needs the password again counts wrong answers against the client like a
//! failed sign-in.

use crate::audit_trail::AuditEntry;
use crate::auth::password::Verified;
use crate::auth::policy::{password_issues, sign_in_candidate};
use crate::auth::session;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::ratelimit::{self, ClientLimit};
use crate::sessions::service::Started;
use crate::state::AppState;
use crate::storage::models::UserRow;
use crate::storage::{self, accounts, organizations, password_resets, sessions, users};
use invitegate_core::api::{AccountExport, ChangePasswordRequest, SessionInfo};
use invitegate_core::model::{ActorRef, ActorType, AuditAction};
use invitegate_core::{Email, ErrorCode, password};

fn as_actor(user: &UserRow) -> ActorRef {
    ActorRef {
        kind: ActorType::User,
        id: user.id.clone(),
    }
}

/// 401 `invalid_credentials` unless `given` is `user`'s password, under the same limits as a
/// sign-in: the client's failures (`AuthFailures`) and the account's login limit, so a stolen
/// session cannot guess its way to the password from many addresses. A wrong password is
/// audited as `authentication.failed` with the `operation` it was for. Errors: 401, 429, 503.
async fn reauthenticate(
    state: &AppState,
    meta: &RequestMeta,
    user: &UserRow,
    given: &str,
    operation: &'static str,
) -> ApiResult<()> {
    let check = async {
        let attempt = ratelimit::take_login(
            state,
            &user.email,
            Some(user.id.clone()),
            meta.ip_or_unspecified(),
        )
        .await?;
        match state
            .hasher
            .verify(
                sign_in_candidate(state, given),
                Some(user.password_hash.clone()),
            )
            .await
        {
            Ok(Verified::No) => Err(ApiError::new(ErrorCode::InvalidCredentials)),
            Ok(_) => ratelimit::refund_login(state, attempt).await,
            Err(e) => {
                ratelimit::refund_login(state, attempt).await?;
                Err(ApiError::new(ErrorCode::Unavailable).detail(e.to_string()))
            }
        }
    };
    (state.limits)
        .guarded(state, ClientLimit::AuthFailures, meta, check, |e| {
            let entry = AuditEntry::failure(AuditAction::AuthenticationFailed)
                .actor(Some(as_actor(user)))
                .target("user", user.id.clone())
                .details(serde_json::json!({"operation": operation, "reason": e.code}));
            (entry, false)
        })
        .await
}

/// Changes the password of `user`, signed in as session `session_id`: every session ends, this
/// one included, and a new one starts (a stolen refresh cookie does not outlive the change);
/// pending password-reset links stop working too (NIST SP 800-63B §4.1.3: a changed secret
/// ends the sessions it let in). Returns the new session. Errors: 401 `invalid_credentials`
/// (wrong current password, counted like a failed sign-in), 422 `new_password` (`too_short`,
/// `too_long`, `too_common`, `contains_email`), 429 `rate_limited`, 503.
pub async fn change_password(
    state: &AppState,
    meta: &RequestMeta,
    user: &UserRow,
    req: ChangePasswordRequest,
) -> ApiResult<Started> {
    reauthenticate(state, meta, user, &req.current_password, "change_password").await?;
    let email = Email::parse(&user.email).ok();
    let issues = password_issues(state, &req.new_password, email.as_ref());
    if !issues.is_empty() {
        return Err(ApiError::fields(
            [(
                "new_password".to_string(),
                issues.iter().map(|i| i.code()).collect(),
            )]
            .into(),
        ));
    }
    let hash = state
        .hasher
        .hash(password::normalize(&req.new_password))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable).detail(e.to_string()))?;
    let new_session = session::new_session(state, &user.id, meta);
    let started = Started {
        user: user.clone(),
        session_id: new_session.row.id.clone(),
        refresh_token: new_session.refresh_token.clone(),
    };
    let (uid, actor, m) = (user.id.clone(), as_actor(user), meta.clone());
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                users::set_password_hash(conn, &uid, &hash)?;
                password_resets::consume_all_for_user(conn, &uid, now)?;
                let ended = sessions::revoke_all_for_user(conn, &uid, now)?;
                session::insert(conn, &new_session)?;
                AuditEntry::success(AuditAction::UserPasswordChanged)
                    .actor(Some(actor))
                    .target("user", uid.clone())
                    .details(serde_json::json!({"other_sessions_ended": ended.saturating_sub(1)}))
                    .write(conn, &m)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    Ok(started)
}

/// `user`'s live sessions, newest first; `current` marks `session_id`.
pub async fn list_sessions(
    state: &AppState,
    user: &UserRow,
    session_id: &str,
) -> ApiResult<Vec<SessionInfo>> {
    let uid = user.id.clone();
    let rows = state
        .db(move |conn| Ok(sessions::live_for_user(conn, &uid, storage::now())?))
        .await?;
    Ok(rows.iter().map(|s| s.to_api(s.id == session_id)).collect())
}

/// Ends `user`'s live session `id` (the current one too: that is signing out), audited as
/// `session.revoked`. Errors: 404 `not_found` (unknown, ended, or another account's).
pub async fn end_session(
    state: &AppState,
    meta: &RequestMeta,
    user: &UserRow,
    id: String,
) -> ApiResult<()> {
    let actor = as_actor(user);
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if !sessions::revoke_own(conn, &actor.id, &id, storage::now())? {
                    return Err(ApiError::new(ErrorCode::NotFound));
                }
                AuditEntry::success(AuditAction::SessionRevoked)
                    .actor(Some(actor.clone()))
                    .target("session", id.clone())
                    .write(conn, &m)?;
                Ok(())
            })
        })
        .await
}

/// Everything held about `user` (GDPR art. 15 and 20): see [`AccountExport`].
pub async fn export(state: &AppState, user: &UserRow) -> ApiResult<AccountExport> {
    let me = user.clone();
    state
        .db(move |conn| {
            let now = storage::now();
            let memberships = organizations::memberships_of(conn, &me.id)?
                .into_iter()
                .map(|(m, org)| m.to_api(&org, &me))
                .collect();
            let rows = accounts::export_rows(conn, &me)?;
            Ok(AccountExport {
                exported_at: chrono::Utc::now(),
                user: me.to_api(),
                memberships,
                sessions: rows.sessions.iter().map(|s| s.to_api(false)).collect(),
                invitations_sent: rows.sent.iter().map(|i| i.to_api(now)).collect(),
                invitations_received: rows.received.iter().map(|i| i.to_api(now)).collect(),
                audit_events: rows
                    .audit
                    .iter()
                    .map(|a| {
                        let mut event = a.to_api();
                        // Where someone else acted on the account, their address is theirs.
                        if a.actor_id.as_deref() != Some(me.id.as_str()) {
                            event.ip = None;
                            event.user_agent = None;
                        }
                        event
                    })
                    .collect(),
            })
        })
        .await
}

/// Deletes `user`'s own account after checking the password (see
/// [`crate::users::service::erase_in`]). Errors: 401 `invalid_credentials` (counted like a
/// failed sign-in), 409 `last_admin`, 409 `last_owner`, 429 `rate_limited`.
pub async fn delete(
    state: &AppState,
    meta: &RequestMeta,
    user: &UserRow,
    password_given: String,
) -> ApiResult<()> {
    reauthenticate(state, meta, user, &password_given, "delete_account").await?;
    let (uid, actor, m) = (user.id.clone(), as_actor(user), meta.clone());
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                crate::users::service::erase_in(conn, &uid, &actor, &m)
            })
        })
        .await
}
