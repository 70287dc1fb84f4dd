//! Session endpoints: login, refresh, logout, and who am I.

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::password::Verified;
use crate::auth::session::{self, SignedIn};
use crate::auth::{Principal, authenticate};
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::ratelimit::{self, ClientLimit};
use crate::settings;
use crate::state::AppState;
use crate::storage::models::UserRow;
use crate::storage::{self, invitations, sessions, users};
use crate::tokens::hash_token;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use invitegate_core::api::{InviteQuota, LoginRequest, MeResponse, Problem, SessionResponse};
use invitegate_core::model::{ActorRef, ActorType, AuditAction, Role};
use invitegate_core::{Email, ErrorCode, password};

/// Signs in with email and password. Unknown email and wrong password get the same status,
/// body and timing (a dummy hash is verified; ASVS 6.3.8); a disabled account too.
#[utoipa::path(
    operation_id = "login",
    tag = "sessions",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the refresh cookie", body = SessionResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (per IP, and per account: 100 attempts an hour)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    let email = Email::parse(&req.email).ok();
    let shown = email.as_ref().map(|e| e.as_str().to_string());
    let (verified, user) = (state.limits)
        .guarded(
            &state,
            ClientLimit::AuthFailures,
            &meta,
            check_credentials(&state, &meta, email, req.password),
            |_| {
                let entry = AuditEntry::failure(AuditAction::LoginFailed)
                    .details(serde_json::json!({ "email": shown }));
                (entry, false)
            },
        )
        .await?;
    let new_session = session::new_session(&state, &user.id, &meta);
    let refresh_token = new_session.refresh_token.clone();
    let sid = new_session.row.id.clone();
    let uid = user.id.clone();
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if let Verified::YesRehashed(h) = &verified {
                    users::set_password_hash(conn, &uid, h)?;
                }
                session::insert(conn, &new_session)?;
                AuditEntry::success(AuditAction::LoginSucceeded)
                    .actor(Some(ActorRef {
                        kind: ActorType::User,
                        id: uid.clone(),
                    }))
                    .target("session", new_session.row.id.clone())
                    .write(conn, &m)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    state
        .metrics
        .events
        .with_label_values(&["login.succeeded", "success"])
        .inc();
    let SignedIn { body, cookie } = session::signed_in(&state, &user, &sid, &refresh_token);
    Ok(HttpResponse::Ok().cookie(cookie).json(body))
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
    let candidate = if password_given.len() > state.config.password_max_length * 4 {
        String::new()
    } else {
        password::normalize(&password_given)
    };
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

/// Exchanges the refresh cookie for a new access token and a new refresh token (rotation).
/// Needs an allowed `Origin` header (CSRF).
#[utoipa::path(
    operation_id = "refreshSession",
    tag = "sessions",
    responses(
        (status = 200, description = "New access token; the refresh cookie is replaced", body = SessionResponse),
        (status = 401, description = "No valid refresh cookie", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing or foreign `Origin`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
) -> ApiResult<HttpResponse> {
    session::check_origin(&state, &req)?;
    let token = session::refresh_token_from(&state, &req)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    // A cookie this server never issued is a forged attempt: counted, audited in aggregate.
    let (user, sid, new_refresh) = (state.limits)
        .guarded(
            &state,
            ClientLimit::AuthFailures,
            &meta,
            session::refresh(&state, Some(token)),
            |_| {
                let entry = AuditEntry::failure(AuditAction::AuthenticationFailed)
                    .details(serde_json::json!({"reason": "invalid_refresh_token"}));
                (entry, true)
            },
        )
        .await?;
    match new_refresh {
        Some(refresh) => {
            let SignedIn { body, cookie } = session::signed_in(&state, &user, &sid, &refresh);
            Ok(HttpResponse::Ok().cookie(cookie).json(body))
        }
        None => Ok(HttpResponse::Ok().json(session::session_body(&state, &user, &sid))),
    }
}

/// Ends the session of the bearer access token, or of the refresh cookie (with an allowed
/// `Origin`). Its access and refresh tokens stop working. Always 204.
#[utoipa::path(
    operation_id = "logout",
    tag = "sessions",
    responses((status = 204, description = "Signed out; the refresh cookie is cleared"))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
) -> ApiResult<HttpResponse> {
    let bearer = crate::auth::bearer(&req);
    let mut ended: Option<(String, Option<String>)> = None;
    if let Some(b) = bearer
        && let Ok(Principal::User { user, session_id }) = authenticate(&state, Some(b)).await
    {
        ended = Some((session_id, Some(user.id.clone())));
    }
    let cookie_token = session::refresh_token_from(&state, &req);
    let cookie_ok = session::check_origin(&state, &req).is_ok();
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let sid = match (ended, cookie_token) {
                    (Some((sid, uid)), _) => {
                        sessions::revoke(conn, &sid, now)?;
                        Some((sid, uid))
                    }
                    (None, Some(t)) if cookie_ok => {
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
        .await?;
    Ok(HttpResponse::NoContent()
        .cookie(session::clear_cookie(&state))
        .finish())
}

/// The signed-in user and their invitation quota.
#[utoipa::path(
    operation_id = "getMe",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = MeResponse),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "API keys have no user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<web::Json<MeResponse>> {
    let user = principal
        .user()
        .cloned()
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden))?;
    let settings = settings::current(&state).await?;
    let uid = user.id.clone();
    let used = state
        .db(move |conn| Ok(invitations::count_for_quota(conn, &uid, storage::now())?))
        .await? as u32;
    let limit = (user.role() == Role::Member).then_some(settings.max_invites_per_user);
    Ok(web::Json(MeResponse {
        user: user.to_api(),
        invite_quota: InviteQuota {
            limit,
            used,
            remaining: limit.map(|l| l.saturating_sub(used)),
        },
    }))
}
