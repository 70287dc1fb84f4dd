//! Session endpoints: login, refresh, logout, and who am I.

use crate::audit::{AuditEntry, RequestMeta};
use crate::auth::password::Verified;
use crate::auth::session::{self, SignedIn};
use crate::auth::{Principal, authenticate};
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::ratelimit::{self, ClientLimit, kinds::ACCOUNT_LOGIN_FAILURES as ACCOUNT};
use crate::settings;
use crate::state::AppState;
use crate::storage::{self, invitations, sessions, users};
use crate::tokens::hash_token;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use invitegate_core::api::{InviteQuota, LoginRequest, MeResponse, Problem, SessionResponse};
use invitegate_core::model::{ActorRef, ActorType, AuditAction, Role};
use invitegate_core::{Email, ErrorCode, password};

/// Signs in with email and password. Unknown email and wrong password get the same status,
/// body and timing (a dummy hash is verified; ASVS 6.3.8); a disabled account too.
#[utoipa::path(
    tag = "sessions",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the refresh cookie", body = SessionResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited` (per IP, and per account: 100 attempts an hour)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    state.limits.check(ClientLimit::AuthFailures, &meta)?;
    let req = body.into_inner();
    let email = Email::parse(&req.email).ok();
    let lookup = email.clone();
    let limit = i64::from(state.config.rate_limits.login_per_account_per_hour);
    let client = meta.ip.map(|ip| ip.to_string());
    let user = match lookup {
        Some(e) => {
            let (user, locked) = state
                .db(move |conn| {
                    let user = users::find_by_email(conn, e.as_str())?;
                    let (failures, retry) = ratelimit::count(conn, ACCOUNT, e.as_str(), 3600)?;
                    // Past the account's limit only a client that signed in to it before may
                    // try, so an attacker's failures cannot lock the owner out (ASVS 6.1.1).
                    let locked = failures >= limit
                        && !match (&user, &client) {
                            (Some(u), Some(ip)) => sessions::signed_in_from(conn, &u.id, ip)?,
                            _ => false,
                        };
                    Ok((user, locked.then_some(retry)))
                })
                .await?;
            if let Some(retry) = locked {
                return Err(ApiError::rate_limited(retry));
            }
            user
        }
        None => None,
    };
    let active = user.filter(|u| u.disabled_at.is_none());
    let too_long = req.password.len() > state.config.password_max_length * 4;
    let candidate = if too_long {
        String::new()
    } else {
        password::normalize(&req.password)
    };
    let verified = state
        .hasher
        .verify(candidate, active.as_ref().map(|u| u.password_hash.clone()))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable).detail(e.to_string()))?;
    let user = match (verified, active) {
        (Verified::No, _) | (_, None) => {
            if let Some(e) = email.clone() {
                state
                    .db(move |conn| {
                        Ok(storage::write_tx(conn, |c| {
                            ratelimit::take(c, ACCOUNT, e.as_str(), 3600, u32::MAX)
                        })?)
                    })
                    .await?
                    .ok();
            }
            let entry = AuditEntry::failure(AuditAction::LoginFailed)
                .details(serde_json::json!({"email": email.map(|e| e.into_inner())}));
            (state.limits)
                .failure(&state, ClientLimit::AuthFailures, &meta, entry, false)
                .await;
            return Err(ApiError::new(ErrorCode::InvalidCredentials));
        }
        (v, Some(user)) => (v, user),
    };
    let (verified, user) = user;
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

/// Exchanges the refresh cookie for a new access token and a new refresh token (rotation).
/// Needs an allowed `Origin` header (CSRF).
#[utoipa::path(
    tag = "sessions",
    responses(
        (status = 200, description = "New access token; the refresh cookie is replaced", body = SessionResponse),
        (status = 401, description = "No valid refresh cookie", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing or foreign `Origin`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    session::check_origin(&state, &req)?;
    let token = session::refresh_token_from(&state, &req);
    let (user, sid, new_refresh) = session::refresh(&state, token).await?;
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
