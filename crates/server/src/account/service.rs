//! The rules of a signed-in person's own account: changing the password (which ends every
//! other session), seeing and ending sessions, exporting their data and deleting the account.
//! Anything that needs the password again counts wrong answers against the client like a
//! failed sign-in.

use crate::audit_trail::AuditEntry;
use crate::auth::password::Verified;
use crate::auth::policy::password_issues;
use crate::auth::session;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::ratelimit::ClientLimit;
use crate::state::AppState;
use crate::storage::models::UserRow;
use crate::storage::{self, accounts, organizations, password_resets, sessions, users};
use invitegate_core::api::{AccountExport, ChangePasswordRequest, SessionInfo, SessionResponse};
use invitegate_core::model::{ActorRef, ActorType, AuditAction};
use invitegate_core::{Email, ErrorCode, password};

fn as_actor(user: &UserRow) -> ActorRef {
    ActorRef {
        kind: ActorType::User,
        id: user.id.clone(),
    }
}

/// 401 `invalid_credentials` unless `given` is `user`'s password (503 when the hashing pool
/// is full).
async fn check_password(state: &AppState, user: &UserRow, given: &str) -> ApiResult<()> {
    let candidate = if given.len() > state.config.password_max_length * 4 {
        String::new()
    } else {
        password::normalize(given)
    };
    match state
        .hasher
        .verify(candidate, Some(user.password_hash.clone()))
        .await
    {
        Ok(Verified::No) => Err(ApiError::new(ErrorCode::InvalidCredentials)),
        Ok(_) => Ok(()),
        Err(e) => Err(ApiError::new(ErrorCode::Unavailable).detail(e.to_string())),
    }
}

/// Changes the password of `user`, signed in as session `session_id`: every other session
/// ends, and so do pending password-reset links (NIST SP 800-63B §4.1.3: a changed secret
/// ends the sessions it let in). Returns a fresh access token for the current session.
/// Errors: 401 `invalid_credentials` (wrong current password, counted like a failed
/// sign-in), 422 `new_password` (`too_short`, `too_long`, `too_common`, `contains_email`),
/// 429 `rate_limited`.
pub async fn change_password(
    state: &AppState,
    meta: &RequestMeta,
    user: &UserRow,
    session_id: &str,
    req: ChangePasswordRequest,
) -> ApiResult<SessionResponse> {
    let work = async {
        check_password(state, user, &req.current_password).await?;
        let issues = password_issues(
            state,
            &req.new_password,
            Email::parse(&user.email).ok().as_ref(),
        );
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
        let (uid, sid, m) = (user.id.clone(), session_id.to_string(), meta.clone());
        state
            .db(move |conn| {
                storage::write_tx(conn, |conn| {
                    let now = storage::now();
                    users::set_password_hash(conn, &uid, &hash)?;
                    password_resets::consume_all_for_user(conn, &uid, now)?;
                    let ended = sessions::revoke_others(conn, &uid, &sid, now)?;
                    AuditEntry::success(AuditAction::UserPasswordChanged)
                        .actor(Some(ActorRef {
                            kind: ActorType::User,
                            id: uid.clone(),
                        }))
                        .target("user", uid.clone())
                        .details(serde_json::json!({"sessions_ended": ended}))
                        .write(conn, &m)?;
                    Ok::<_, ApiError>(())
                })
            })
            .await
    };
    (state.limits)
        .guarded(state, ClientLimit::AuthFailures, meta, work, |e| {
            let entry = AuditEntry::failure(AuditAction::UserPasswordChanged)
                .actor(Some(as_actor(user)))
                .target("user", user.id.clone())
                .details(serde_json::json!({"reason": e.code}));
            (entry, false)
        })
        .await?;
    Ok(session::session_body(state, user, session_id))
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
                audit_events: rows.audit.iter().map(|a| a.to_api()).collect(),
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
    let work = async {
        check_password(state, user, &password_given).await?;
        let (uid, actor, m) = (user.id.clone(), as_actor(user), meta.clone());
        state
            .db(move |conn| {
                storage::write_tx(conn, |conn| {
                    let me = users::find(conn, &uid)?
                        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                    crate::users::service::erase_in(conn, &me, &actor, &m)
                })
            })
            .await
    };
    (state.limits)
        .guarded(state, ClientLimit::AuthFailures, meta, work, |e| {
            let entry = AuditEntry::failure(AuditAction::UserDeleted)
                .actor(Some(as_actor(user)))
                .target("user", user.id.clone())
                .details(serde_json::json!({"reason": e.code}));
            (entry, false)
        })
        .await
}
