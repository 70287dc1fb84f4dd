//! The OpenID Provider (OpenID Connect Core 1.0, Discovery 1.0, RFC 7636, RFC 9068, RFC 9207,
//! RFC 9700). Protocol endpoints at the root — discovery, JWKS, token, userinfo — speak OAuth
//! 2.0 and are readable from any origin (no cookies). The authorization and end-session
//! endpoints are pages of the web app (`/authorize`, `/end-session`): a cross-site navigation
//! does not carry the `SameSite=Strict` refresh cookie, so the app resumes the request with
//! its own same-origin calls to `/api/v1/oauth2/authorize` and `/api/v1/oauth2/logout`.

pub mod authorize;
pub mod jwt;
pub mod logout;
pub mod request;
pub mod token;

use crate::auth::{Principal, bearer};
use crate::error::ApiResult;
use crate::http::{Json, RequestMeta};
use crate::state::AppState;
use crate::storage::{oauth, organizations};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use invitegate_core::api::{
    AuthorizeOutcome, AuthorizeRequest, EndSessionOutcome, EndSessionRequest, Problem,
};
use serde_json::json;

/// Carries an authorization request through sign-in: the web app sends the query string it
/// received at `/authorize` with its own session (if any), and gets back what to do next.
/// Errors here are shown on Invitegate's page, never redirected (RFC 6749 §4.1.2.1); errors
/// of the request itself come back as a `redirect` to the client with `error` and `iss`.
#[utoipa::path(
    operation_id = "authorize",
    tag = "oidc",
    request_body = AuthorizeRequest,
    responses(
        (status = 200, description = "Sign in first, or go to `redirect_to`", body = AuthorizeOutcome),
        (status = 400, description = "`unknown_client`, `redirect_uri_mismatch`, or `bad_request` (either given twice)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API key cannot authorize", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oauth2/authorize")]
pub async fn authorize_api(
    state: web::Data<AppState>,
    principal: Option<Principal>,
    meta: RequestMeta,
    body: Json<AuthorizeRequest>,
) -> ApiResult<web::Json<AuthorizeOutcome>> {
    let outcome = authorize::authorize(&state, principal, body.into_inner(), &meta).await?;
    Ok(web::Json(outcome))
}

/// Carries an RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0): the web
/// app sends the query string it received at `/end-session` with its session; the session and
/// the grants made in it end.
#[utoipa::path(
    operation_id = "endSession",
    tag = "oidc",
    request_body = EndSessionRequest,
    responses(
        (status = 200, description = "Signed out (or asks for confirmation); `redirect_to` is the registered return address", body = EndSessionOutcome),
        (status = 400, description = "`bad_request` (a parameter twice, or `client_id` not the hint's audience), `unknown_client`, `redirect_uri_mismatch`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oauth2/logout")]
pub async fn end_session_api(
    state: web::Data<AppState>,
    principal: Option<Principal>,
    meta: RequestMeta,
    body: Json<EndSessionRequest>,
) -> ApiResult<web::Json<EndSessionOutcome>> {
    let body = body.into_inner();
    let outcome = logout::end_session(&state, principal, &body.query, body.confirm, &meta).await?;
    Ok(web::Json(outcome))
}

/// `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    let base = &state.base_url;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/oauth2/token"),
            "userinfo_endpoint": format!("{base}/oauth2/userinfo"),
            "jwks_uri": format!("{base}/oauth2/jwks"),
            "end_session_endpoint": format!("{base}/end-session"),
            "scopes_supported": request::SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login", "create", "consent", "select_account"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "sid", "email", "email_verified", "name", "orgs"],
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "claims_parameter_supported": false,
        }))
}

/// `GET /oauth2/jwks`: the published keys (RFC 7517 §5).
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.oidc_keys.get().jwks())
}

fn no_store(mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    res
}

/// `POST /oauth2/token` (RFC 6749 §3.2), form-encoded.
pub async fn token_endpoint(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let result = match (form, std::str::from_utf8(&body)) {
        (true, Ok(text)) => {
            let auth = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            token::token(&state, auth, text, &RequestMeta::of(&req)).await
        }
        _ => Err(token::TokenError::InvalidRequest(
            "send application/x-www-form-urlencoded",
        )),
    };
    match result {
        Ok(tokens) => no_store(HttpResponse::Ok()).json(tokens),
        Err(e) => {
            if let token::TokenError::Server(inner) = &e {
                tracing::error!(error = %inner, "token endpoint failed");
            }
            let (status, error, description) = e.parts();
            let mut res = no_store(HttpResponse::build(
                actix_web::http::StatusCode::from_u16(status).expect("a valid status"),
            ));
            if matches!(e, token::TokenError::InvalidClient { basic: true }) {
                res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"invitegate\""));
            }
            res.json(json!({"error": error, "error_description": description}))
        }
    }
}

/// `GET`/`POST /oauth2/userinfo` (OpenID Connect Core §5.3): the claims the access token's
/// scopes allow. A token that is not ours, expired, or whose grant was revoked is 401 with
/// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3).
pub async fn userinfo(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let invalid = || {
        HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
            .finish()
    };
    let keys = state.oidc_keys.get();
    let Some(claims) =
        bearer(&req).and_then(|t| jwt::decode_access_token(&keys, &state.base_url, &t))
    else {
        return Ok(invalid());
    };
    let found = state
        .db(move |conn| {
            let Some((grant, user)) = oauth::live_grant_user(conn, &claims.gid)? else {
                return Ok(None);
            };
            if grant.user_id != claims.sub {
                return Ok(None);
            }
            let orgs = organizations::memberships_of(conn, &user.id)?;
            Ok(Some(jwt::user_claims(&user, &claims.scope, &orgs)))
        })
        .await?;
    Ok(match found {
        Some(claims) => no_store(HttpResponse::Ok()).json(claims),
        None => invalid(),
    })
}

/// CORS of the protocol endpoints: any origin, no cookies (browser apps call them).
fn open_cors() -> actix_cors::Cors {
    actix_cors::Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(3600)
}

/// Registers the protocol endpoints at the root.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/.well-known/openid-configuration")
            .wrap(open_cors())
            .route(web::get().to(discovery)),
    )
    .service(
        web::resource("/oauth2/jwks")
            .wrap(open_cors())
            .route(web::get().to(jwks)),
    )
    .service(
        web::resource("/oauth2/token")
            .wrap(open_cors())
            .app_data(web::PayloadConfig::new(16 * 1024))
            .route(web::post().to(token_endpoint)),
    )
    .service(
        web::resource("/oauth2/userinfo")
            .wrap(open_cors())
            .route(web::get().to(userinfo))
            .route(web::post().to(userinfo)),
    );
}
