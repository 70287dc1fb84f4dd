//! The rules of signing in and out: credential checks under the login limits, the session
//! transaction with its audit event, and the current user's quota.

use crate::audit_trail::AuditEntry;
use crate::auth::password::Verified;
use crate::auth::session::{self, NewSession};
use crate::auth::{Principal, authenticate};
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::ratelimit::{self, ClientLimit};
use crate::settings;
use crate::state::AppState;
use crate::storage::models::UserRow;
use crate::storage::{self, invitations, sessions, users};
use crate::tokens::hash_token;
use invitegate_core::api::{InviteQuota, LoginRequest, MeResponse};
use invitegate_core::model::{ActorRef, ActorType, AuditAction, Role};
use invitegate_core::{Email, ErrorCode};

/// A session that has just started: its user, its id and the raw refresh token for the cookie.
#[derive(Debug)]
pub struct Started {
    /// The signed-in account.
    pub user: UserRow,
    /// The new session's id.
    pub session_id: String,
    /// The refresh token (shown only in the cookie).
    pub refresh_token: String,
}

impl Started {
    /// The 200 answer that signs it in: the session body, with the refresh cookie set.
    pub fn respond(&self, state: &AppState) -> actix_web::HttpResponse {
        session::signed_in(state, &self.user, &self.session_id, &self.refresh_token).ok()
    }
}

/// Signs in with email and password; failures are counted against the client and audited.
/// Errors: 401 `invalid_credentials` (unknown email, disabled account or wrong password, after
/// the same hashing work; ASVS 6.3.8), 429 `rate_limited`, 503 `unavailable`.
pub async fn login(state: &AppState, meta: &RequestMeta, req: LoginRequest) -> ApiResult<Started> {
    let email = Email::parse(&req.email).ok();
    let shown = email.as_ref().map(|e| e.as_str().to_string());
    let (verified, user) = (state.limits)
        .guarded(
            state,
            ClientLimit::AuthFailures,
            meta,
            check_credentials(state, meta, email, req.password),
            |_| {
                let entry = AuditEntry::failure(AuditAction::LoginFailed)
                    .details(serde_json::json!({ "email": shown }));
                (entry, false)
            },
        )
        .await?;
    let new_session = session::new_session(state, &user.id, meta);
    let started = Started {
        session_id: new_session.row.id.clone(),
        refresh_token: new_session.refresh_token.clone(),
        user,
    };
    let uid = started.user.id.clone();
    let account = started.user.clone();
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if let Verified::YesRehashed(h) = &verified {
                    users::set_password_hash(conn, &uid, h)?;
                }
                start(conn, &new_session, &uid, &m)?;
                // An account at a domain that became `auto_join` joins when it next signs in.
                crate::organization_domains::service::auto_join(conn, &account, &m)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    state
        .metrics
        .events
        .with_label_values(&["login.succeeded", "success"])
        .inc();
    Ok(started)
}

fn start(
    conn: &mut storage::DbConn,
    new_session: &NewSession,
    uid: &str,
    meta: &RequestMeta,
) -> ApiResult<()> {
    session::insert(conn, new_session)?;
    AuditEntry::success(AuditAction::LoginSucceeded)
        .actor(Some(ActorRef {
            kind: ActorType::User,
            id: uid.to_string(),
        }))
        .target("session", new_session.row.id.clone())
        .write(conn, meta)?;
    Ok(())
}

/// The account these credentials open, or 401 `invalid_credentials` (the same answer, after the
/// same hashing work, for an unknown email, a disabled account or a wrong password). The
/// account's login limits are taken first and given back on success.
async fn check_credentials(
    state: &AppState,
    meta: &RequestMeta,
    email: Option<Email>,
    password_given: String,
) -> ApiResult<(Verified, UserRow)> {
    let user = match &email {
        Some(e) => {
            let e = e.clone();
            state
                .db(move |conn| Ok(users::find_by_email(conn, e.as_str())?))
                .await?
        }
        None => None,
    };
    let attempt = match &email {
        Some(e) => Some(
            ratelimit::take_login(
                state,
                e.as_str(),
                user.as_ref().map(|u| u.id.clone()),
                meta.ip_or_unspecified(),
            )
            .await?,
        ),
        None => None,
    };
    let active = user.filter(|u| u.disabled_at.is_none());
    let candidate = crate::auth::policy::sign_in_candidate(state, &password_given);
    let verified = state
        .hasher
        .verify(candidate, active.as_ref().map(|u| u.password_hash.clone()))
        .await;
    let give_back = |attempt: Option<ratelimit::LoginAttempt>| async move {
        match attempt {
            Some(a) => ratelimit::refund_login(state, a).await,
            None => Ok(()),
        }
    };
    match (verified, active) {
        (Err(e), _) => {
            give_back(attempt).await?;
            Err(ApiError::new(ErrorCode::Unavailable).detail(e.to_string()))
        }
        (Ok(Verified::No), _) | (_, None) => Err(ApiError::new(ErrorCode::InvalidCredentials)),
        (Ok(v), Some(user)) => {
            give_back(attempt).await?;
            Ok((v, user))
        }
    }
}

/// Rotates a refresh token (see [`session::refresh`]); a cookie this server never issued is a
/// forged attempt, counted and audited in aggregate. Errors: 401 `unauthenticated`, 429.
pub async fn refresh(
    state: &AppState,
    meta: &RequestMeta,
    token: String,
) -> ApiResult<session::Refreshed> {
    (state.limits)
        .guarded(
            state,
            ClientLimit::AuthFailures,
            meta,
            session::refresh(state, Some(token)),
            |_| {
                let entry = AuditEntry::failure(AuditAction::AuthenticationFailed)
                    .details(serde_json::json!({"reason": "invalid_refresh_token"}));
                (entry, true)
            },
        )
        .await
}

/// Ends the session of the bearer access token or, when there is none, of the refresh cookie
/// (only with an allowed `Origin`: `cookie_allowed`). Ending nothing is not an error.
pub async fn logout(
    state: &AppState,
    meta: &RequestMeta,
    bearer: Option<String>,
    cookie: Option<String>,
    cookie_allowed: bool,
) -> ApiResult<()> {
    let mut ended: Option<(String, Option<String>)> = None;
    if let Some(b) = bearer
        && let Ok(Principal::User { user, session_id }) = authenticate(state, Some(b)).await
    {
        ended = Some((session_id, Some(user.id.clone())));
    }
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let sid = match (ended, cookie) {
                    (Some((sid, uid)), _) => {
                        sessions::revoke(conn, &sid, now)?;
                        Some((sid, uid))
                    }
                    (None, Some(t)) if cookie_allowed => {
                        sessions::revoke_by_refresh_hash(conn, &hash_token(&t), now)?
                            .map(|s| (s, None))
                    }
                    _ => None,
                };
                if let Some((sid, uid)) = sid {
                    AuditEntry::success(AuditAction::Logout)
                        .actor(uid.map(|id| ActorRef {
                            kind: ActorType::User,
                            id,
                        }))
                        .target("session", sid)
                        .write(conn, &m)?;
                }
                Ok::<_, ApiError>(())
            })
        })
        .await
}

/// The signed-in user and their invitation quota (members only have a limit). Errors: 403
/// `forbidden` for an API key.
pub async fn me(state: &AppState, principal: &Principal) -> ApiResult<MeResponse> {
    let user = principal.require_user()?.clone();
    let settings = settings::current(state).await?;
    let uid = user.id.clone();
    let me = user.clone();
    let (used, memberships) = state
        .db(move |conn| {
            let used = invitations::count_for_quota(conn, &uid, storage::now())? as u32;
            let memberships = storage::organizations::memberships_of(conn, &uid)?
                .into_iter()
                .map(|(m, org)| m.to_api(&org, &me))
                .collect();
            Ok((used, memberships))
        })
        .await?;
    let limit = (user.role() == Role::Member).then_some(settings.max_invites_per_user);
    Ok(MeResponse {
        user: user.to_api(),
        invite_quota: InviteQuota {
            limit,
            used,
            remaining: limit.map(|l| l.saturating_sub(used)),
        },
        memberships,
    })
}
