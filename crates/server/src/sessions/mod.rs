//! Session endpoints: login, refresh, logout, and who am I.

pub mod service;

use crate::auth::Principal;
use crate::auth::session;
use crate::error::{ApiError, ApiResult};
use crate::http::Json;
use crate::http::RequestMeta;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use invitegate_core::ErrorCode;
use invitegate_core::api::{LoginRequest, MeResponse, Problem, SessionResponse};

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
    let started = service::login(&state, &meta, body.into_inner()).await?;
    Ok(started.respond(&state))
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
        (status = 429, description = "`rate_limited` (cookies this server never issued count as failures)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
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
    let (user, sid, new_refresh) = service::refresh(&state, &meta, token).await?;
    match new_refresh {
        Some(refresh) => Ok(session::signed_in(&state, &user, &sid, &refresh).ok()),
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
    service::logout(
        &state,
        &meta,
        crate::auth::bearer(&req),
        session::refresh_token_from(&state, &req),
        session::check_origin(&state, &req).is_ok(),
    )
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
    Ok(web::Json(service::me(&state, &principal).await?))
}
