//! The token endpoint (RFC 6749 §3.2, OpenID Connect Core §3.1.3): client authentication
//! (`client_secret_basic`, `client_secret_post`, `none` for public clients), the
//! `authorization_code` grant with PKCE (RFC 7636; S256 only, and no verifier for a code
//! issued without a challenge, so no downgrade), and `refresh_token` with rotation (RFC 9700
//! §4.14.2: a replayed refresh token revokes the grant).

use super::jwt::{self, Issue};
use super::request::{Params, is_code_verifier};
use crate::audit_trail::AuditEntry;
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::{OAuthClientRow, OAuthGrantRow};
use crate::storage::{self, DbConn, oauth, organizations, sessions, users};
use crate::tokens::{hash_token, opaque_secret};
use base64::Engine;
use invitegate_core::model::AuditAction;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// An error response of the token endpoint (RFC 6749 §5.2).
#[derive(Debug)]
pub enum TokenError {
    /// 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// 401 `invalid_client`; `basic` when the client tried HTTP Basic (then the answer carries
    /// `WWW-Authenticate`).
    InvalidClient { basic: bool },
    /// 400 `invalid_grant`.
    InvalidGrant(&'static str),
    /// 400 `unsupported_grant_type`.
    UnsupportedGrantType,
    /// 400 `invalid_scope`.
    InvalidScope,
    /// Anything else: the usual problem (500, 503).
    Server(ApiError),
}

impl From<ApiError> for TokenError {
    fn from(e: ApiError) -> Self {
        Self::Server(e)
    }
}

impl From<storage::DbError> for TokenError {
    fn from(e: storage::DbError) -> Self {
        Self::Server(e.into())
    }
}

/// A successful token response (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// An RFC 9068 JWT.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: i64,
    /// The granted scopes.
    pub scope: String,
    /// The ID token.
    pub id_token: String,
    /// With `offline_access`: the next refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

fn same_secret(expected_hash: &str, given: &str) -> bool {
    let given = hash_token(given);
    given.len() == expected_hash.len()
        && given
            .bytes()
            .zip(expected_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Authenticates the client by the method it used. Errors: `invalid_request` (two methods,
/// or no client), `invalid_client`.
pub async fn authenticate_client(
    state: &AppState,
    authorization: Option<&str>,
    params: &Params,
) -> Result<OAuthClientRow, TokenError> {
    let basic = authorization
        .map(|h| basic_credentials(h).ok_or(TokenError::InvalidClient { basic: true }));
    let (client_id, secret, basic) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(TokenError::InvalidRequest(
                "use one client authentication method",
            ));
        }
        (Some(creds), None) => {
            let (id, secret) = creds?;
            if params.get("client_id").is_some_and(|c| c != id) {
                return Err(TokenError::InvalidRequest(
                    "client_id differs from the authenticated client",
                ));
            }
            (id, Some(secret), true)
        }
        (None, secret) => {
            let id = params
                .get("client_id")
                .ok_or(TokenError::InvalidClient { basic: false })?;
            (id.to_string(), secret.map(str::to_string), false)
        }
    };
    let client = state
        .db(move |conn| Ok(oauth::client_by_client_id(conn, &client_id)?))
        .await?
        .ok_or(TokenError::InvalidClient { basic })?;
    let ok = match (&client.secret_hash, secret) {
        (Some(hash), Some(secret)) => same_secret(hash, &secret),
        (None, None) => true,
        _ => false,
    };
    if ok {
        Ok(client)
    } else {
        Err(TokenError::InvalidClient { basic })
    }
}

fn pkce_ok(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), TokenError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(TokenError::InvalidGrant("code_verifier is required")),
        (None, Some(_)) => Err(TokenError::InvalidGrant(
            "this code was issued without a code_challenge",
        )),
        (Some(challenge), Some(verifier)) => {
            let digest = Sha256::digest(verifier.as_bytes());
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
            if is_code_verifier(verifier) && computed == challenge {
                Ok(())
            } else {
                Err(TokenError::InvalidGrant(
                    "code_verifier does not match the code_challenge",
                ))
            }
        }
    }
}

struct Minted {
    grant: OAuthGrantRow,
    /// The scope of these tokens: the grant's, or the narrower one a refresh asked for.
    scope: String,
    user_claims: serde_json::Map<String, serde_json::Value>,
    refresh_token: Option<String>,
}

fn claims_of(
    conn: &mut DbConn,
    grant: &OAuthGrantRow,
    scope: &str,
) -> storage::DbResult<Option<serde_json::Map<String, serde_json::Value>>> {
    let Some(user) = users::find(conn, &grant.user_id)?.filter(|u| u.disabled_at.is_none()) else {
        return Ok(None);
    };
    let orgs = organizations::memberships_of(conn, &user.id)?;
    Ok(Some(jwt::user_claims(&user, scope, &orgs)))
}

fn refresh_expiry(state: &AppState, now: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    now + chrono::Duration::days(state.config.refresh_token_ttl_days)
}

/// The `authorization_code` grant: one transaction finds the code's grant, checks client,
/// redirect URI and PKCE, and consumes it; a code used before revokes its grant and what the
/// first use issued (RFC 6749 §4.1.2), audited as `oauth.code_reused`.
async fn exchange_code(
    state: &AppState,
    client: &OAuthClientRow,
    params: &Params,
    meta: &RequestMeta,
) -> Result<Minted, TokenError> {
    let code = params
        .get("code")
        .ok_or(TokenError::InvalidRequest("code is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or(TokenError::InvalidRequest("redirect_uri is required"))?
        .to_string();
    let verifier = params.get("code_verifier").map(str::to_string);
    let code_hash = hash_token(code);
    let client_row_id = client.id.clone();
    let refresh_token = opaque_secret();
    let refresh_hash = hash_token(&refresh_token);
    let expiry = refresh_expiry(state, storage::now());
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(
                conn,
                |conn| -> Result<Result<Minted, TokenError>, ApiError> {
                    let now = storage::now();
                    let Some(grant) = oauth::grant_by_code(conn, &code_hash)?
                        .filter(|g| g.client_id == client_row_id)
                    else {
                        return Ok(Err(TokenError::InvalidGrant("unknown code")));
                    };
                    if grant.code_used_at.is_some() {
                        oauth::revoke_grant(conn, &grant.id, now)?;
                        AuditEntry::failure(AuditAction::OauthCodeReused)
                            .target("oauth_client", grant.client_id.clone())
                            .details(
                                serde_json::json!({"grant_id": grant.id, "user_id": grant.user_id}),
                            )
                            .write(conn, &m)?;
                        return Ok(Err(TokenError::InvalidGrant(
                            "the code was already used; its tokens are revoked",
                        )));
                    }
                    if grant.redirect_uri != redirect_uri {
                        return Ok(Err(TokenError::InvalidGrant(
                            "redirect_uri differs from the authorization request",
                        )));
                    }
                    if let Err(e) = pkce_ok(grant.code_challenge.as_deref(), verifier.as_deref()) {
                        return Ok(Err(e));
                    }
                    if grant.code_expires_at <= now
                        || grant.revoked_at.is_some()
                        || !sessions::is_live(conn, &grant.session_id)?
                    {
                        return Ok(Err(TokenError::InvalidGrant("the code has expired")));
                    }
                    let offline = grant.scope.split(' ').any(|s| s == "offline_access");
                    let refresh = offline.then_some((refresh_hash.as_str(), expiry));
                    let Some(user_claims) = claims_of(conn, &grant, &grant.scope)? else {
                        return Ok(Err(TokenError::InvalidGrant("the account is disabled")));
                    };
                    if !oauth::consume_code(conn, &grant.id, refresh, now)? {
                        // Another request used it first (on PostgreSQL both read it unused):
                        // a second use all the same, so what the first one issued is revoked.
                        oauth::revoke_grant(conn, &grant.id, now)?;
                        AuditEntry::failure(AuditAction::OauthCodeReused)
                            .target("oauth_client", grant.client_id.clone())
                            .details(
                                serde_json::json!({"grant_id": grant.id, "user_id": grant.user_id}),
                            )
                            .write(conn, &m)?;
                        return Ok(Err(TokenError::InvalidGrant(
                            "the code was already used; its tokens are revoked",
                        )));
                    }
                    if offline {
                        oauth::record_refresh(conn, &grant.id, &refresh_hash, now)?;
                    }
                    Ok(Ok(Minted {
                        scope: grant.scope.clone(),
                        grant,
                        user_claims,
                        refresh_token: offline.then_some(refresh_token),
                    }))
                },
            )
        })
        .await?
}

/// The `refresh_token` grant: rotates the token (the old one dies); a rotated token presented
/// again revokes the grant (RFC 9700 §4.14.2).
async fn refresh(
    state: &AppState,
    client: &OAuthClientRow,
    params: &Params,
) -> Result<Minted, TokenError> {
    let old = params
        .get("refresh_token")
        .ok_or(TokenError::InvalidRequest("refresh_token is required"))?;
    let asked: Option<Vec<String>> = params.get("scope").map(|s| {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    });
    let old_hash = hash_token(old);
    let new_token = opaque_secret();
    let new_hash = hash_token(&new_token);
    let client_row_id = client.id.clone();
    let result = state
        .db(move |conn| {
            // Err rolls back (a scope wider than granted keeps the token); Ok(Err) commits
            // (a replayed token's grant stays revoked).
            Ok(storage::write_tx(
                conn,
                |conn| -> Result<Result<Minted, TokenError>, TokenError> {
                    let now = storage::now();
                    let Some(grant) =
                        oauth::rotate_refresh(conn, &client_row_id, &old_hash, &new_hash, now)?
                    else {
                        oauth::revoke_by_used_refresh(conn, &old_hash, now)?;
                        return Ok(Err(TokenError::InvalidGrant(
                            "unknown, expired or already used refresh token",
                        )));
                    };
                    if let Some(asked) = &asked
                        && asked
                            .iter()
                            .any(|s| !grant.scope.split(' ').any(|g| g == s))
                    {
                        return Err(TokenError::InvalidScope);
                    }
                    // The grant ends with the sign-in it was made in (sign-out, a password
                    // reset ending every session, a stolen refresh cookie).
                    if !sessions::is_live(conn, &grant.session_id)? {
                        return Err(TokenError::InvalidGrant(
                            "the sign-in behind this grant has ended",
                        ));
                    }
                    // RFC 6749 §6: a narrower scope may be asked for these tokens.
                    let scope = asked
                        .as_ref()
                        .map_or_else(|| grant.scope.clone(), |a| a.join(" "));
                    let Some(user_claims) = claims_of(conn, &grant, &scope)? else {
                        return Ok(Err(TokenError::InvalidGrant("the account is disabled")));
                    };
                    oauth::record_refresh(conn, &grant.id, &new_hash, now)?;
                    Ok(Ok(Minted {
                        grant,
                        scope,
                        user_claims,
                        refresh_token: Some(new_token),
                    }))
                },
            ))
        })
        .await?;
    result?
}

/// Answers a token request. `authorization` is the `Authorization` header.
pub async fn token(
    state: &AppState,
    authorization: Option<&str>,
    body: &str,
    meta: &RequestMeta,
) -> Result<TokenResponse, TokenError> {
    let params = Params::parse(body);
    if params.repeated().is_some() {
        return Err(TokenError::InvalidRequest(
            "a parameter is given more than once",
        ));
    }
    let grant_type = params
        .get("grant_type")
        .ok_or(TokenError::InvalidRequest("grant_type is required"))?;
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return Err(TokenError::UnsupportedGrantType);
    }
    let client = authenticate_client(state, authorization, &params).await?;
    let minted = match grant_type {
        "authorization_code" => exchange_code(state, &client, &params, meta).await?,
        _ => refresh(state, &client, &params).await?,
    };
    let keys = state.oidc_keys.get();
    let ttl = state.config.access_token_ttl_seconds as i64;
    let issue = Issue {
        issuer: &state.base_url,
        grant: &minted.grant,
        client_id: &client.client_id,
        id_token_alg: &client.id_token_signed_response_alg,
        scope: &minted.scope,
        ttl,
    };
    Ok(TokenResponse {
        access_token: jwt::access_token(&keys, &issue),
        token_type: "Bearer",
        expires_in: ttl,
        scope: minted.scope.clone(),
        id_token: jwt::id_token(&keys, &issue, minted.user_claims),
        refresh_token: minted.refresh_token,
    })
}

impl TokenError {
    /// The HTTP status, `error` code and description.
    pub fn parts(&self) -> (u16, &'static str, &'static str) {
        match self {
            Self::InvalidRequest(d) => (400, "invalid_request", d),
            Self::InvalidClient { .. } => (401, "invalid_client", "client authentication failed"),
            Self::InvalidGrant(d) => (400, "invalid_grant", d),
            Self::UnsupportedGrantType => (
                400,
                "unsupported_grant_type",
                "only authorization_code and refresh_token",
            ),
            Self::InvalidScope => (400, "invalid_scope", "more scope than was granted"),
            Self::Server(_) => (500, "server_error", "try again later"),
        }
    }
}
