//! The rules of user administration: listing, and disabling an account together with
//! everything that carries its authority.

use crate::audit_trail::AuditEntry;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::invitations::lifecycle::revoke_all_of_inviter;
use crate::paging::PageRequest;
use crate::state::AppState;
use crate::storage::models::UserRow;
use crate::storage::{self, sessions, users};
use invitegate_core::ErrorCode;
use invitegate_core::model::{ActorRef, AuditAction};

/// One page of users, newest first, whose email contains `email` (at most 254 characters are
/// compared; empty means all). Returns one row more than the page when there is a next page.
pub async fn list(
    state: &AppState,
    email: Option<String>,
    page: &PageRequest,
) -> ApiResult<Vec<UserRow>> {
    let p = page.clone();
    let email = email
        .filter(|e| !e.is_empty())
        .map(|e| e.chars().take(254).collect::<String>());
    state
        .db(move |conn| {
            Ok(users::list(
                conn,
                email.as_deref(),
                p.limit,
                p.after_id.as_deref(),
            )?)
        })
        .await
}

/// Disables account `id`: its sessions end, its pending invitations are revoked, and so are the
/// API keys it created with their pending invitations, in one transaction (GitLab 222349;
/// security.md, "Revocation is complete"). Disabling a disabled account changes nothing.
/// `own_id` is the acting user's id. Errors: 403 `forbidden` for oneself, 404 `not_found`.
pub async fn disable(
    state: &AppState,
    id: String,
    actor: ActorRef,
    own_id: Option<&str>,
    meta: &RequestMeta,
) -> ApiResult<UserRow> {
    if own_id == Some(id.as_str()) {
        return Err(
            ApiError::new(ErrorCode::Forbidden).detail("You cannot disable your own account.")
        );
    }
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                if users::disable(conn, &id, now)? {
                    let ended = sessions::revoke_all_for_user(conn, &id, now)?;
                    let revoked =
                        revoke_all_of_inviter(conn, &id, &actor, "inviter_disabled", &meta)?;
                    // The keys they created would keep their authority alive.
                    let keys = storage::api_keys::revoke_all_created_by(conn, &id, now)?;
                    for key in &keys {
                        AuditEntry::success(AuditAction::ApiKeyRevoked)
                            .actor(Some(actor.clone()))
                            .target("api_key", key.clone())
                            .details(serde_json::json!({"reason": "creator_disabled"}))
                            .write(conn, &meta)?;
                        revoke_all_of_inviter(conn, key, &actor, "api_key_revoked", &meta)?;
                    }
                    AuditEntry::success(AuditAction::UserDisabled)
                        .actor(Some(actor.clone()))
                        .target("user", id.clone())
                        .details(serde_json::json!({"sessions_ended": ended, "invitations_revoked": revoked, "api_keys_revoked": keys.len()}))
                        .write(conn, &meta)?;
                }
                users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))
            })
        })
        .await
}
