//! Proof of ownership (seed 003): a signed-in account that holds the link of an invitation
//! addressed to another email accepts it only after following a link emailed to that address,
//! while signed in as the same account. Whoever merely holds the invitation link — forwarded,
//! leaked, or opened in the wrong browser profile — cannot join with another account.

use crate::audit_trail::AuditEntry;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::invitations::rules::inviter_name;
use crate::mail::{self, ProofEmail};
use crate::ratelimit::{self, ClientLimit};
use crate::state::AppState;
use crate::storage::models::{AcceptanceProofRow, InvitationRow, UserRow};
use crate::storage::{self, acceptance_proofs as proofs, organizations as orgs};
use crate::tokens::{Purpose, hash_token};
use invitegate_core::ErrorCode;
use invitegate_core::model::{ActorRef, AuditAction};
use std::sync::Arc;

/// Emails a proof-of-ownership link for invitation `inv` (bound to an address other than
/// `user`'s) to that address, replacing any earlier link `user` asked for, within the
/// recipient's email budget (over it, nothing is sent and the answer is the same); audited as
/// `invitation.proof_requested`. The link is `/accept-invitation#token=…` and lives as long as
/// an email verification (`email_verification_ttl_hours`).
pub async fn request(
    state: &Arc<AppState>,
    user: &UserRow,
    actor: ActorRef,
    inv: InvitationRow,
    meta: &RequestMeta,
) -> ApiResult<()> {
    let to = inv
        .email
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::EmailMismatch))?;
    let token = state.keys.issue(Purpose::AcceptanceProof);
    let url = state.link("/accept-invitation", &token);
    let hours = state.config.email_verification_ttl_hours;
    let (st, user, meta) = (state.clone(), user.clone(), meta.clone());
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let org_id = inv.organization_id.as_deref().unwrap_or_default();
                let org =
                    orgs::find(conn, org_id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                proofs::consume_open(conn, &inv.id, &user.id, now)?;
                proofs::insert(
                    conn,
                    &AcceptanceProofRow {
                        id: storage::new_id(),
                        token_hash: hash_token(&token),
                        invitation_id: inv.id.clone(),
                        user_id: user.id.clone(),
                        created_at: now,
                        expires_at: now + chrono::Duration::hours(hours),
                        consumed_at: None,
                    },
                )?;
                // The invitation class: a flood of proofs must not use up the address's budget
                // of password-reset and verification emails.
                if ratelimit::email_budget(conn, &st, &to, ratelimit::EmailClass::Invitation)? {
                    let inviter = inviter_name(conn, &inv.inviter())?
                        .unwrap_or_else(|| "Someone".to_string());
                    let proof = ProofEmail {
                        inviter: &inviter,
                        organization: &org.name,
                        account: &user.email,
                        url: &url,
                    };
                    mail::enqueue(conn, &st.templates.acceptance_proof(&to, &proof, hours))?;
                }
                AuditEntry::success(AuditAction::InvitationProofRequested)
                    .actor(Some(actor))
                    .target("invitation", inv.id.clone())
                    .details(serde_json::json!({"organization_id": org.id}))
                    .write(conn, &meta)?;
                Ok::<_, ApiError>(())
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(())
}

/// The open proof of `token` for `user`: its id and the invitation it is for. Failures count
/// against the client like any failed link. Errors: 400 `invalid_token` (forged, unknown or
/// used), 410 `token_expired`, 403 `forbidden` (another account asked for it; the link stays
/// usable by that account), 429.
pub async fn open(
    state: &AppState,
    user: &UserRow,
    token: &str,
    meta: &RequestMeta,
) -> ApiResult<AcceptanceProofRow> {
    let lookup = async {
        let invalid = || ApiError::new(ErrorCode::InvalidToken);
        state
            .keys
            .verify(Purpose::AcceptanceProof, token)
            .map_err(|_| invalid())?;
        let hash = hash_token(token);
        let proof = state
            .db(move |conn| Ok(proofs::find_by_token_hash(conn, &hash)?))
            .await?
            .filter(|p| p.consumed_at.is_none())
            .ok_or_else(invalid)?;
        if proof.expires_at <= storage::now() {
            return Err(ApiError::new(ErrorCode::TokenExpired));
        }
        if proof.user_id != user.id {
            return Err(ApiError::new(ErrorCode::Forbidden));
        }
        Ok(proof)
    };
    (state.limits)
        .guarded(state, ClientLimit::AuthFailures, meta, lookup, |e| {
            let entry = AuditEntry::failure(AuditAction::InvitationAccepted)
                .details(serde_json::json!({"reason": e.code, "proof": true}));
            (entry, e.code == ErrorCode::InvalidToken)
        })
        .await
}

/// Uses proof `id` inside the accepting transaction; a concurrent use that won first makes
/// this one 400 `invalid_token`.
pub fn consume(conn: &mut storage::DbConn, id: &str) -> ApiResult<()> {
    if proofs::consume(conn, id, storage::now())? {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::InvalidToken))
    }
}
