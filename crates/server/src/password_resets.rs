//! Password resets: `POST /password-resets` always answers 202 with the same body and the same
//! work (one transaction) whether or not the account exists (ASVS 6.3.8); existing accounts get
//! a single-use, short-lived link by email. Confirming sets the password under the sign-up
//! policy, ends every other session (ASVS 7.4.3) and signs in.

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::policy::password_issues;
use crate::auth::session::{self, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::mail;
use crate::ratelimit::{self, ClientLimit};
use crate::state::AppState;
use crate::storage::models::{PasswordResetRow, UserRow};
use crate::storage::{self, password_resets, sessions, users};
use crate::tokens::{Purpose, hash_token};
use actix_web::{HttpResponse, post, web};
use invitegate_core::api::{
    PasswordResetConfirm, PasswordResetRequest, Problem, SessionResponse, StatusResponse,
};
use invitegate_core::model::{ActorRef, ActorType, AuditAction};
use invitegate_core::{Email, ErrorCode, password};

/// Emails a reset link to the account, if there is one. Always 202.
#[utoipa::path(
    operation_id = "requestPasswordReset",
    tag = "sessions",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "`accepted`, whether or not the account exists", body = StatusResponse),
        (status = 422, description = "`email`: `invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/password-resets")]
pub async fn request_reset(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetRequest>,
) -> ApiResult<HttpResponse> {
    let email = state.limits.email_request(&meta, &body.email)?;
    let token = state.keys.issue(Purpose::PasswordReset);
    let url = state.link("/reset-password", &token);
    let minutes = state.config.password_reset_ttl_minutes;
    let templates = state.templates.clone();
    let st = state.clone().into_inner();
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
                        entry.target("user", user.id).write(conn, &meta)?;
                    }
                    None => {
                        AuditEntry {
                            outcome: invitegate_core::model::Outcome::Failure,
                            ..entry
                        }
                        .details(
                            serde_json::json!({"reason": "no_account", "email": email.as_str()}),
                        )
                        .write(conn, &meta)?;
                    }
                }
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Accepted().json(StatusResponse {
        status: "accepted".into(),
    }))
}

/// Sets a new password with a reset link's token, ends every other session, and signs in.
#[utoipa::path(
    operation_id = "confirmPasswordReset",
    tag = "sessions",
    request_body = PasswordResetConfirm,
    responses(
        (status = 200, description = "Password changed and signed in; sets the refresh cookie", body = SessionResponse),
        (status = 400, description = "`invalid_token` (malformed, forged, unknown or already used)", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`token_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`password`: `too_short`, `too_long`, `too_common`, `contains_email`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/password-resets/confirm")]
pub async fn confirm_reset(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetConfirm>,
) -> ApiResult<HttpResponse> {
    let (user, sid, refresh_token) = (state.limits)
        .guarded(
            &state,
            ClientLimit::AuthFailures,
            &meta,
            confirm_reset_inner(&state, &meta, body.into_inner()),
            |e| {
                let entry = AuditEntry::failure(AuditAction::PasswordResetCompleted)
                    .details(serde_json::json!({"reason": e.code}));
                (entry, e.code == ErrorCode::InvalidToken)
            },
        )
        .await?;
    let SignedIn { body, cookie } = session::signed_in(&state, &user, &sid, &refresh_token);
    Ok(HttpResponse::Ok().cookie(cookie).json(body))
}

/// Checks the token and the new password, then sets it, ends every session and starts one, in
/// one transaction: the user, the new session's id and its refresh token.
async fn confirm_reset_inner(
    state: &AppState,
    meta: &RequestMeta,
    body: PasswordResetConfirm,
) -> ApiResult<(UserRow, String, String)> {
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
                issues.iter().map(|i| i.code().to_string()).collect(),
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
    Ok((user_row, sid, refresh_token))
}
