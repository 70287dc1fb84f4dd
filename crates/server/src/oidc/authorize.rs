//! The authorization endpoint's rules (OpenID Connect Core §3.1.2). The web app forwards the
//! request's query with its own same-origin credentials (a cross-site navigation does not
//! carry the `SameSite=Strict` refresh cookie), and gets back what to do next: sign in, or go
//! to the client's redirect URI with a code or an error. An unknown client or redirect URI is
//! a problem shown on Invitegate's page and never a redirect (RFC 6749 §4.1.2.1).

use super::request::{self, AuthorizationRequest, ErrorResponse, Params};
use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::oauth_clients::redirect_uri;
use crate::state::AppState;
use crate::storage::models::{OAuthClientRow, OAuthGrantRow};
use crate::storage::{self, oauth, sessions};
use crate::tokens::{hash_token, opaque_secret};
use invitegate_core::ErrorCode;
use invitegate_core::api::{AuthorizeOutcome, AuthorizeRequest};
use invitegate_core::model::{AuditAction, AuthorizeStatus};

/// How long an authorization code lives, in seconds (RFC 6749 §4.1.2 recommends ≤ 10 min;
/// RFC 9700 short-lived).
pub const CODE_TTL_SECONDS: i64 = 60;
/// How recent a sign-in must be to answer `prompt=login` or `max_age`, in seconds.
pub const FRESH_SIGN_IN_SECONDS: i64 = 120;

/// The client and redirect URI of a request, checked; anything wrong is a page error.
pub async fn client_and_redirect(
    state: &AppState,
    params: &Params,
) -> ApiResult<(OAuthClientRow, String)> {
    if params.is_repeated("client_id") || params.is_repeated("redirect_uri") {
        return Err(ApiError::new(ErrorCode::BadRequest)
            .detail("The sign-in link names its app or return address more than once."));
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownClient))?
        .to_string();
    let client = state
        .db(move |conn| Ok(oauth::client_by_client_id(conn, &client_id)?))
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownClient))?;
    // OpenID Connect Core §3.1.2.1 makes redirect_uri required.
    let given = params
        .get("redirect_uri")
        .ok_or_else(|| ApiError::new(ErrorCode::RedirectUriMismatch))?;
    if !redirect_uri::matches(&client.redirect_uris(), given) {
        return Err(ApiError::new(ErrorCode::RedirectUriMismatch));
    }
    Ok((client, given.to_string()))
}

fn outcome(
    client: &OAuthClientRow,
    status: AuthorizeStatus,
    req: Option<&AuthorizationRequest>,
) -> AuthorizeOutcome {
    AuthorizeOutcome {
        status,
        client_name: client.name.clone(),
        redirect_to: None,
        login_hint: req.and_then(|r| r.login_hint.clone()),
    }
}

/// Answers an authorization request for `principal` (the web app's session, if any).
/// Errors (a page, not a redirect): 400 `unknown_client`, 400 `redirect_uri_mismatch`, 400
/// `bad_request` (either given twice), 403 `forbidden` for an API key.
pub async fn authorize(
    state: &AppState,
    principal: Option<Principal>,
    body: AuthorizeRequest,
    meta: &RequestMeta,
) -> ApiResult<AuthorizeOutcome> {
    let params = Params::parse(&body.query);
    let (client, redirect_uri) = client_and_redirect(state, &params).await?;
    let issuer = state.base_url.clone();
    let client_state = params.get("state").map(str::to_string);
    let redirect_error = |e: ErrorResponse| AuthorizeOutcome {
        redirect_to: Some(request::error_redirect(
            &redirect_uri,
            client_state.as_deref(),
            &issuer,
            &e,
        )),
        ..outcome(&client, AuthorizeStatus::Redirect, None)
    };
    let req = match request::parse(&params, &client) {
        Ok(req) => req,
        Err(e) => return Ok(redirect_error(e)),
    };
    let login_required = |why: &str| ErrorResponse {
        error: "login_required",
        description: why.to_string(),
    };
    let signed_in = match &principal {
        Some(Principal::ApiKey(_)) => return Err(ApiError::new(ErrorCode::Forbidden)),
        Some(Principal::User { session_id, .. }) => {
            let sid = session_id.clone();
            // A session ended since the token was issued counts as none (`prompt=none` then
            // answers login_required at the client, not an error page).
            state
                .db(move |conn| Ok(sessions::find_active(conn, &sid, storage::now())?))
                .await?
        }
        None => None,
    };
    let Some((session, user)) = signed_in else {
        return Ok(if req.prompt.none {
            redirect_error(login_required("no session"))
        } else if req.prompt.create {
            outcome(&client, AuthorizeStatus::CreateAccount, Some(&req))
        } else {
            outcome(&client, AuthorizeStatus::SignIn, Some(&req))
        });
    };
    let session_id = session.id.clone();
    let now = storage::now();
    let age = (now - session.created_at).num_seconds();
    // A sign-in the web app has just taken the person through for this request answers both
    // prompt=login and max_age (even max_age=0, which a sign-in cannot beat to the second).
    let fresh = body.fresh_sign_in && age <= FRESH_SIGN_IN_SECONDS;
    let too_old = req.max_age.is_some_and(|max| age > max) && !fresh;
    let needs_login = req.prompt.login && !fresh;
    if too_old || needs_login {
        if req.prompt.none {
            return Ok(redirect_error(login_required(
                "the session is older than max_age",
            )));
        }
        return Ok(outcome(&client, AuthorizeStatus::SignIn, Some(&req)));
    }
    let code = opaque_secret();
    let grant = OAuthGrantRow {
        id: storage::new_id(),
        client_id: client.id.clone(),
        user_id: user.id.clone(),
        session_id,
        scope: req.scopes.join(" "),
        nonce: req.nonce.clone(),
        auth_time: session.created_at,
        code_hash: hash_token(&code),
        redirect_uri: redirect_uri.clone(),
        code_challenge: req.code_challenge.clone(),
        code_expires_at: now + chrono::Duration::seconds(CODE_TTL_SECONDS),
        code_used_at: None,
        refresh_token_hash: None,
        previous_refresh_token_hash: None,
        refresh_expires_at: None,
        created_at: now,
        revoked_at: None,
    };
    let m = meta.clone();
    let actor = principal.as_ref().map(Principal::actor);
    let client_id = client.client_id.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                oauth::insert_grant(conn, &grant)?;
                AuditEntry::success(AuditAction::OauthAuthorizationGranted)
                    .actor(actor)
                    .target("oauth_client", grant.client_id.clone())
                    .details(serde_json::json!({
                        "client_id": client_id,
                        "grant_id": grant.id,
                        "scope": grant.scope,
                    }))
                    .write(conn, &m)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = client_state.as_deref() {
        params.push(("state", s));
    }
    params.push(("iss", issuer.as_str()));
    Ok(AuthorizeOutcome {
        redirect_to: Some(request::with_query(&redirect_uri, &params)),
        ..outcome(&client, AuthorizeStatus::Redirect, Some(&req))
    })
}
