//! Sessions: a short-lived JWT access token (HS256 with `aud`, `exp`, `nbf` and the session id,
//! ASVS 7.4) and an opaque refresh token, stored hashed, rotated on use, sent as an `HttpOnly`
//! `SameSite=Strict` cookie (`Secure` and `__Host-` under https). Ending the session
//! server-side makes both stop working.

use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::{SessionRow, UserRow};
use crate::storage::{self, DbConn, sessions};
use crate::tokens::{KeyRing, hash_token, opaque_secret};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};
use invitegate_core::ErrorCode;
use invitegate_core::api::SessionResponse;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The `aud` of every access token.
pub const AUDIENCE: &str = "invitegate";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: String,
    /// Session id; the session must still be live.
    pub sid: String,
    /// Audience: `invitegate`.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Not before (seconds since the epoch).
    pub nbf: u64,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Unique token id (128 random bits), so no two tokens are equal.
    pub jti: String,
}

/// Signs an access token for `user_id` in session `sid`, valid `ttl` seconds.
pub fn encode_access_token(keys: &KeyRing, user_id: &str, sid: &str, ttl: u64) -> String {
    let now = chrono::Utc::now().timestamp() as u64;
    let claims = AccessClaims {
        sub: user_id.into(),
        sid: sid.into(),
        aud: AUDIENCE.into(),
        exp: now + ttl,
        nbf: now,
        iat: now,
        jti: crate::tokens::opaque_secret()[..22].to_string(),
    };
    let kid = keys.current_id().to_string();
    let key = keys.access_key(&kid).expect("the current key exists");
    let header = Header {
        kid: Some(kid),
        ..Header::new(Algorithm::HS256)
    };
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&key))
        .expect("HS256 encoding cannot fail")
}

/// Verifies signature, algorithm, audience, `exp` and `nbf`; `None` for anything wrong.
pub fn decode_access_token(keys: &KeyRing, token: &str) -> Option<AccessClaims> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != Algorithm::HS256 {
        return None;
    }
    let key = keys.access_key(header.kid.as_deref()?)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    validation.validate_nbf = true;
    validation.leeway = 5;
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "sub"]);
    jsonwebtoken::decode::<AccessClaims>(token, &DecodingKey::from_secret(&key), &validation)
        .ok()
        .map(|d| d.claims)
}

/// Whether `token` is an access token this server signed, expired or not: an expired token is
/// a client's routine, not a failed attempt to be counted.
pub fn is_genuine_access_token(keys: &KeyRing, token: &str) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return false;
    };
    let Some(key) = header
        .kid
        .as_deref()
        .filter(|_| header.alg == Algorithm::HS256)
        .and_then(|kid| keys.access_key(kid))
    else {
        return false;
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[AUDIENCE]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["aud", "sub"]);
    jsonwebtoken::decode::<AccessClaims>(token, &DecodingKey::from_secret(&key), &validation)
        .is_ok()
}

/// A new session's row and its raw refresh token.
pub struct NewSession {
    /// The row to insert.
    pub row: SessionRow,
    /// The refresh token for the cookie.
    pub refresh_token: String,
}

/// Builds a session for `user_id` expiring after the configured refresh lifetime.
pub fn new_session(state: &AppState, user_id: &str, meta: &RequestMeta) -> NewSession {
    let refresh_token = opaque_secret();
    let now = storage::now();
    NewSession {
        row: SessionRow {
            id: storage::new_id(),
            user_id: user_id.to_string(),
            refresh_token_hash: hash_token(&refresh_token),
            previous_refresh_token_hash: None,
            created_at: now,
            expires_at: now + chrono::Duration::days(state.config.refresh_token_ttl_days),
            last_used_at: now,
            revoked_at: None,
            ip: meta.ip.map(|i| i.to_string()),
            user_agent: meta.user_agent.clone(),
        },
        refresh_token,
    }
}

/// Inserts the session on `conn` (inside the caller's transaction).
pub fn insert(conn: &mut DbConn, session: &NewSession) -> crate::storage::DbResult<()> {
    sessions::insert(conn, &session.row)
}

/// The response body and cookie of a signed-in session.
pub struct SignedIn {
    /// Response body.
    pub body: SessionResponse,
    /// Refresh cookie.
    pub cookie: Cookie<'static>,
}

impl SignedIn {
    /// The 200 answer: the body, with the refresh cookie set.
    pub fn ok(self) -> actix_web::HttpResponse {
        actix_web::HttpResponse::Ok()
            .cookie(self.cookie)
            .json(self.body)
    }
}

/// The session body: the user and a new access token for `session_id`.
pub fn session_body(state: &AppState, user: &UserRow, session_id: &str) -> SessionResponse {
    let ttl = state.config.access_token_ttl_seconds;
    SessionResponse {
        user: user.to_api(),
        access_token: encode_access_token(&state.keys, &user.id, session_id, ttl),
        token_type: "Bearer".into(),
        expires_in: ttl,
    }
}

/// Assembles the session body and refresh cookie.
pub fn signed_in(
    state: &AppState,
    user: &UserRow,
    session_id: &str,
    refresh_token: &str,
) -> SignedIn {
    SignedIn {
        body: session_body(state, user, session_id),
        cookie: refresh_cookie(
            state,
            refresh_token.to_string(),
            time::Duration::days(state.config.refresh_token_ttl_days),
        ),
    }
}

fn secure(state: &AppState) -> bool {
    state.base_url.starts_with("https://")
}

/// The refresh cookie's name: `__Host-invitegate_refresh` under https, else `invitegate_refresh`.
pub fn cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-invitegate_refresh"
    } else {
        "invitegate_refresh"
    }
}

fn refresh_cookie(state: &AppState, value: String, max_age: time::Duration) -> Cookie<'static> {
    let secure = secure(state);
    Cookie::build(cookie_name(state), value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path(if secure { "/" } else { "/api/v1/auth" })
        .max_age(max_age)
        .finish()
}

/// A cookie that deletes the refresh cookie.
pub fn clear_cookie(state: &AppState) -> Cookie<'static> {
    refresh_cookie(state, String::new(), time::Duration::ZERO)
}

/// The refresh token from the request's cookie.
pub fn refresh_token_from(state: &AppState, req: &HttpRequest) -> Option<String> {
    req.cookie(cookie_name(state))
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// CSRF defence for cookie-authenticated changes: the `Origin` header must be present and be
/// the service's own origin or a configured CORS origin (OWASP CSRF Prevention Cheat Sheet).
pub fn check_origin(state: &AppState, req: &HttpRequest) -> ApiResult<()> {
    let origin = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let own = origin_of(&state.base_url);
    match origin {
        Some(o) if o == own || state.config.cors_allowed_origins.iter().any(|a| a == o) => Ok(()),
        _ => Err(ApiError::new(ErrorCode::Forbidden)
            .detail("This request needs an allowed Origin header.")),
    }
}

fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// How long a just-rotated refresh token is still accepted: two tabs that refresh at the same
/// moment both hold the old cookie, and the slower one must not look like a replayed, stolen
/// token. Presented later, the old token revokes the session (reuse detection).
pub const REFRESH_GRACE_SECONDS: i64 = 10;

/// What a refresh gives: the user, the session id, and the new refresh token — `None` when the
/// token was the one rotated within [`REFRESH_GRACE_SECONDS`] (the cookie store already holds
/// its successor, so no cookie is set).
pub type Refreshed = (UserRow, String, Option<String>);

/// Rotates the refresh token: a new access token and a new refresh token, the old one dead.
/// The token rotated just before is accepted for [`REFRESH_GRACE_SECONDS`] without rotating
/// again; after that, presenting it ends the session. 401 `unauthenticated` otherwise.
pub async fn refresh(state: &AppState, token: Option<String>) -> ApiResult<Refreshed> {
    let token = token.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    let old_hash = hash_token(&token);
    let new_token = opaque_secret();
    let new_hash = hash_token(&new_token);
    let probe = old_hash.clone();
    // Read first: a cookie that names no session costs no write (and no SQLite write lock).
    if !state
        .db(move |conn| Ok(sessions::refresh_token_known(conn, &probe)?))
        .await?
    {
        return Err(ApiError::new(ErrorCode::Unauthenticated));
    }
    let found = state
        .db(move |conn| {
            let rotated = storage::write_tx(conn, |conn| {
                let now = storage::now();
                match sessions::rotate(conn, &old_hash, &new_hash, now)? {
                    // A disabled user's session: undo the rotation and refuse.
                    Some((sid, _)) => match sessions::find_active(conn, &sid, now)? {
                        Some((_, user)) => Ok(Some((user, sid, true))),
                        None => Err(storage::rollback()),
                    },
                    None => {
                        let since = now - chrono::Duration::seconds(REFRESH_GRACE_SECONDS);
                        if let Some(sid) = sessions::rotated_since(conn, &old_hash, since)?
                            && let Some((_, user)) = sessions::find_active(conn, &sid, now)?
                        {
                            return Ok(Some((user, sid, false)));
                        }
                        sessions::revoke_by_previous_hash(conn, &old_hash, now)?;
                        Ok(None)
                    }
                }
            });
            match rotated {
                Err(e) if storage::is_rollback(&e) => Ok(None),
                other => Ok(other?),
            }
        })
        .await?;
    let (user, sid, rotated) = found.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    Ok((user, sid, rotated.then_some(new_token)))
}
