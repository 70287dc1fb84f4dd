//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). The web app forwards the
//! request with its own session; the session ends, with every grant made in it. A
//! `post_logout_redirect_uri` must be registered for the client named by the ID token hint
//! (or `client_id`), compared as an exact string; anything wrong is a page error, never a
//! redirect. Without an ID token hint the person confirms first (§2: the OP SHOULD ask).

use super::jwt;
use super::request::{Params, with_query};
use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::{self, oauth, sessions};
use invitegate_core::ErrorCode;
use invitegate_core::api::EndSessionOutcome;
use invitegate_core::model::AuditAction;

/// Answers a logout request. `confirmed` is the person's explicit "Sign out" (needed when the
/// request has no valid `id_token_hint`). Errors: 400 `bad_request` (a parameter given twice,
/// or `client_id` differing from the hint's audience), 400 `unknown_client`, 400
/// `redirect_uri_mismatch`.
pub async fn end_session(
    state: &AppState,
    principal: Option<Principal>,
    query: &str,
    confirmed: bool,
    meta: &RequestMeta,
) -> ApiResult<EndSessionOutcome> {
    let params = Params::parse(query);
    let bad = |d: &str| ApiError::new(ErrorCode::BadRequest).detail(d.to_string());
    if params.repeated().is_some() {
        return Err(bad("A parameter is given more than once."));
    }
    let keys = state.oidc_keys.get();
    // A hint we cannot read (signed by a key since retired, or not ours) counts as none: the
    // person is asked instead.
    let hint = params
        .get("id_token_hint")
        .and_then(|t| jwt::decode_id_token_hint(&keys, &state.base_url, t));
    let client_id = match (
        hint.as_ref().map(|h| h.aud.clone()),
        params.get("client_id"),
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(bad("client_id differs from the ID token's audience."));
        }
        (Some(a), _) => Some(a),
        (None, b) => b.map(str::to_string),
    };
    let client = match client_id {
        Some(id) => Some(
            state
                .db(move |conn| Ok(oauth::client_by_client_id(conn, &id)?))
                .await?
                .ok_or_else(|| ApiError::new(ErrorCode::UnknownClient))?,
        ),
        None => None,
    };
    let redirect_to = match (params.get("post_logout_redirect_uri"), &client) {
        (None, _) => None,
        (Some(uri), Some(c)) if c.post_logout_redirect_uris().iter().any(|r| r == uri) => {
            let mut extra = vec![];
            if let Some(s) = params.get("state") {
                extra.push(("state", s));
            }
            Some(if extra.is_empty() {
                uri.to_string()
            } else {
                with_query(uri, &extra)
            })
        }
        (Some(_), _) => return Err(ApiError::new(ErrorCode::RedirectUriMismatch)),
    };
    let session = match principal {
        Some(Principal::User { user, session_id }) => Some((user.id.clone(), session_id)),
        _ => None,
    };
    // Without asking, only when the hint is an ID token of this very session; otherwise the
    // person confirms (RP-Initiated Logout 1.0 §2).
    let hint_names_session = match (&hint, &session) {
        (Some(h), Some((uid, sid))) => h.sub == *uid && h.sid.as_deref() == Some(sid.as_str()),
        _ => false,
    };
    let may_end = session.is_some() && (hint_names_session || confirmed);
    let confirmation_required = session.is_some() && !may_end;
    let mut signed_out = false;
    if let (true, Some((uid, sid))) = (may_end, session) {
        let m = meta.clone();
        let client_ref = client.as_ref().map(|c| c.client_id.clone());
        state
            .db(move |conn| {
                storage::write_tx(conn, |conn| {
                    let now = storage::now();
                    sessions::revoke(conn, &sid, now)?;
                    let grants = oauth::revoke_grants_of_session(conn, &sid, now)?;
                    AuditEntry::success(AuditAction::Logout)
                        .actor(Some(invitegate_core::model::ActorRef {
                            kind: invitegate_core::model::ActorType::User,
                            id: uid,
                        }))
                        .target("session", sid)
                        .details(
                            serde_json::json!({"client_id": client_ref, "grants_revoked": grants}),
                        )
                        .write(conn, &m)?;
                    Ok::<_, ApiError>(())
                })
            })
            .await?;
        signed_out = true;
    }
    Ok(EndSessionOutcome {
        signed_out,
        client_name: client.map(|c| c.name),
        redirect_to: redirect_to.filter(|_| !confirmation_required),
        confirmation_required,
    })
}
