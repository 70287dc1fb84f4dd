//! Headless redemption: a host app that keeps its own accounts uses an invitation in its own
//! sign-up, exactly like a registration (signature first, the guarded update, one transaction,
//! audit event and webhook) but without an Invitegate account.

use super::rules::{resolve_token, state_error};
use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::ratelimit::ClientLimit;
use crate::state::AppState;
use crate::storage::models::RedemptionRow;
use crate::storage::{self, invitations, redemptions};
use invitegate_core::api::{
    MAX_EXTERNAL_ID_LENGTH, RedeemInvitationRequest, RedeemInvitationResponse,
};
use invitegate_core::model::{AuditAction, Scope};
use invitegate_core::{Email, ErrorCode, FieldCode};

/// Uses one use of the invitation of `req.token` for `req.email` and records the redemption.
/// A failed token counts against the client like a failed verification. Of N concurrent calls
/// with a single-use token exactly one succeeds. Errors: 403 `forbidden` (no
/// `invitations:redeem`), 422 `email` / `external_id` `invalid`, 400 `invalid_invitation`, 403
/// `email_mismatch` (an email-bound or domain invitation for another address), 410
/// `invitation_expired` / `invitation_revoked` / `invitation_declined` / `invitation_used`,
/// 429.
pub async fn redeem(
    state: &AppState,
    principal: &Principal,
    req: RedeemInvitationRequest,
    meta: &RequestMeta,
) -> ApiResult<RedeemInvitationResponse> {
    principal.require(Scope::InvitationsRedeem)?;
    let email =
        Email::parse(&req.email).map_err(|_| ApiError::field("email", FieldCode::Invalid))?;
    let external_id = req.external_id.map(|x| x.trim().to_string());
    if external_id
        .as_ref()
        .is_some_and(|x| x.is_empty() || x.chars().count() > MAX_EXTERNAL_ID_LENGTH)
    {
        return Err(ApiError::field("external_id", FieldCode::Invalid));
    }
    let row = (state.limits)
        .guarded(
            state,
            ClientLimit::VerifyFailures,
            meta,
            resolve_token(state, &req.token),
            |e| {
                let entry = AuditEntry::failure(AuditAction::InvitationRedeemed)
                    .details(serde_json::json!({"reason": e.code, "headless": true}));
                (entry, e.code == ErrorCode::InvalidInvitation)
            },
        )
        .await?;
    let matches = match (&row.email, &row.email_domain) {
        (Some(bound), _) => bound == email.as_str(),
        (None, Some(domain)) => domain == email.domain(),
        (None, None) => true,
    };
    if !matches {
        return Err(ApiError::new(ErrorCode::EmailMismatch));
    }
    let actor = principal.actor();
    let meta = meta.clone();
    let response = state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                if invitations::redeem(conn, &row.id, now)?.is_none() {
                    let current = invitations::find(conn, &row.id)?;
                    return Err(current
                        .and_then(|c| state_error(c.state(now)))
                        .unwrap_or_else(|| ApiError::new(ErrorCode::InvitationUsed)));
                }
                let redemption = RedemptionRow {
                    id: storage::new_id(),
                    invitation_id: row.id.clone(),
                    email: email.as_str().to_string(),
                    external_id,
                    api_key_id: principal_key(&actor),
                    redeemed_at: now,
                };
                redemptions::insert(conn, &redemption)?;
                AuditEntry::success(AuditAction::InvitationRedeemed)
                    .actor(Some(actor.clone()))
                    .target("invitation", row.id.clone())
                    .details(serde_json::json!({
                        "headless": true,
                        "redemption_id": redemption.id,
                        "email": redemption.email,
                        "external_id": redemption.external_id,
                        "inviter": row.inviter(),
                    }))
                    .write(conn, &meta)?;
                let current = invitations::find(conn, &row.id)?.unwrap_or(row);
                let org = invitations::organization_of(conn, &current)?;
                Ok(RedeemInvitationResponse {
                    invitation: current.to_api_in(now, org.as_ref()),
                    redemption: redemption.to_api(),
                })
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(response)
}

fn principal_key(actor: &invitegate_core::model::ActorRef) -> Option<String> {
    (actor.kind == invitegate_core::model::ActorType::ApiKey).then(|| actor.id.clone())
}
