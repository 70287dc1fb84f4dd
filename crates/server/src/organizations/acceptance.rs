//! Existing accounts joining an organisation: the invitations addressed to the signed-in
//! account, and accepting one. The invitation's use and the membership are one transaction, so
//! concurrent accepts make exactly one membership.

use super::proof;
use super::service::join;
use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::invitations::rules::{inviter_name, resolve_token, state_error};
use crate::ratelimit::ClientLimit;
use crate::state::AppState;
use crate::storage::models::InvitationRow;
use crate::storage::{self, invitations, organizations as orgs};
use invitegate_core::api::{AcceptInvitationRequest, Invitation, Membership};
use invitegate_core::model::{ActorRef, AuditAction, OrganizationRole};
use invitegate_core::{Email, ErrorCode, FieldCode};
use std::sync::Arc;

/// The pending organisation invitations addressed to the signed-in account's email (at most
/// 100, newest first). Errors: 403 for an API key.
pub async fn mine(state: &AppState, principal: &Principal) -> ApiResult<Vec<Invitation>> {
    let user = principal.require_user()?.clone();
    state
        .db(move |conn| {
            let now = storage::now();
            let rows = invitations::pending_for_account(conn, &user.email, now)?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let org = invitations::organization_of(conn, &row)?;
                out.push(Invitation {
                    inviter_name: inviter_name(conn, &row.inviter())?,
                    ..row.to_api_in(now, org.as_ref())
                });
            }
            Ok(out)
        })
        .await
}

/// Which invitation to accept.
#[derive(Debug, Clone)]
pub enum Which {
    /// By id: one addressed to the account's email.
    Id(String),
    /// By the token of its link.
    Token(String),
    /// By the token of a proof-of-ownership link (see [`super::proof`]).
    Proof(String),
}

impl Which {
    /// Exactly one of `invitation_id`, `token` and `verification_token`; 422 otherwise.
    pub fn parse(req: AcceptInvitationRequest) -> ApiResult<Self> {
        match (req.invitation_id, req.token, req.verification_token) {
            (Some(id), None, None) => Ok(Self::Id(id)),
            (None, Some(token), None) => Ok(Self::Token(token)),
            (None, None, Some(token)) => Ok(Self::Proof(token)),
            _ => Err(ApiError::field("invitation_id", FieldCode::Required)),
        }
    }
}

/// What accepting did.
#[derive(Debug)]
pub enum Accepted {
    /// The account is now a member.
    Member(Membership),
    /// The invitation names another address: a proof-of-ownership link went there (202).
    ProofSent,
}

/// What entitles the account to the invitation.
enum Entitlement {
    /// Listed by `/me/invitations`: bound to the account's own address.
    Listed,
    /// Its link's token: also domain and open invitations the account matches.
    Token,
    /// An open proof-of-ownership of the invited address, consumed with the acceptance.
    Proof(String),
}

/// Accepts an organisation invitation for the signed-in account. By id, the invitation must
/// be addressed to the account's email (others are 404, as if they did not exist). By token (a
/// failed token counts against the client, like a failed verification), it may also be a
/// domain invitation for the account's domain or an open one; one bound to another address
/// sends a proof-of-ownership link there instead ([`Accepted::ProofSent`], seed 003) and stays
/// intact; a domain invitation for another domain is 403 `email_mismatch`. By proof, the
/// account that asked for it completes the acceptance. The use and the membership are one
/// transaction. Errors: 400 `invalid_invitation` / `invalid_token`, 403 (`email_mismatch`,
/// `forbidden`), 404, 409 `already_member`, 410 `invitation_expired` / `invitation_revoked`
/// / `invitation_declined` / `invitation_used` / `token_expired`, 429.
pub async fn accept(
    state: &Arc<AppState>,
    principal: &Principal,
    which: Which,
    meta: &RequestMeta,
) -> ApiResult<Accepted> {
    let user = principal.require_user()?.clone();
    let (id, entitlement) = match which {
        Which::Id(id) => (id, Entitlement::Listed),
        Which::Proof(token) => {
            let p = proof::open(state, &user, &token, meta).await?;
            (p.invitation_id, Entitlement::Proof(p.id))
        }
        Which::Token(token) => {
            let row = (state.limits)
                .guarded(
                    state,
                    ClientLimit::VerifyFailures,
                    meta,
                    resolve_token(state, &token),
                    |e| {
                        let entry = AuditEntry::failure(AuditAction::InvitationAccepted)
                            .details(serde_json::json!({"reason": e.code}));
                        (entry, e.code == ErrorCode::InvalidInvitation)
                    },
                )
                .await?;
            let Some(org_id) = row.organization_id.clone() else {
                return Err(ApiError::new(ErrorCode::NotFound));
            };
            if !addressed_to(&row, &user.email, &Entitlement::Token) {
                if row.email.is_none() {
                    return Err(ApiError::new(ErrorCode::EmailMismatch));
                }
                let uid = user.id.clone();
                let member = state
                    .db(move |conn| Ok(orgs::membership(conn, &org_id, &uid)?))
                    .await?;
                if member.is_some() {
                    return Err(ApiError::new(ErrorCode::AlreadyMember));
                }
                // Each 202 sends an email: the per-client limit of email-sending requests applies.
                state.limits.hit(ClientLimit::EmailRequests, meta)?;
                proof::request(state, &user, principal.actor(), row, meta).await?;
                return Ok(Accepted::ProofSent);
            }
            (row.id, Entitlement::Token)
        }
    };
    accept_addressed(state, user, principal.actor(), id, entitlement, meta)
        .await
        .map(Accepted::Member)
}

/// Whether `inv` is for the account with `email`: bound to that address, or — for whoever
/// holds its token — a domain invitation for its domain or an open one. A proof of ownership
/// makes an invitation bound to another address the account's too.
fn addressed_to(inv: &InvitationRow, email: &str, entitlement: &Entitlement) -> bool {
    let token_held = !matches!(entitlement, Entitlement::Listed);
    match (&inv.email, &inv.email_domain) {
        (Some(_), _) if matches!(entitlement, Entitlement::Proof(_)) => true,
        (Some(e), _) => e == email,
        (None, Some(d)) => {
            token_held && Email::parse(email).is_ok_and(|e| e.domain() == d.as_str())
        }
        (None, None) => token_held,
    }
}

/// Accepts invitation `id` for `user` in one transaction (with the proof it consumes, if any).
/// Without the token, only an invitation bound to the account's own email qualifies: the token
/// is what entitles anyone to a domain or open invitation.
async fn accept_addressed(
    state: &AppState,
    user: storage::models::UserRow,
    actor: ActorRef,
    id: String,
    entitlement: Entitlement,
    meta: &RequestMeta,
) -> ApiResult<Membership> {
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let not_found = || ApiError::new(ErrorCode::NotFound);
                let inv = invitations::find(conn, &id)?.ok_or_else(not_found)?;
                if !addressed_to(&inv, &user.email, &entitlement) {
                    return Err(not_found());
                }
                if let Entitlement::Proof(proof_id) = &entitlement {
                    proof::consume(conn, proof_id)?;
                }
                let org_id = inv.organization_id.clone().ok_or_else(not_found)?;
                if orgs::membership(conn, &org_id, &user.id)?.is_some() {
                    return Err(ApiError::new(ErrorCode::AlreadyMember));
                }
                if let Some(e) = state_error(inv.state(now)) {
                    return Err(e);
                }
                if invitations::redeem(conn, &inv.id, now)?.is_none() {
                    let current = invitations::find(conn, &inv.id)?.ok_or_else(not_found)?;
                    return Err(state_error(current.state(now))
                        .unwrap_or_else(|| ApiError::new(ErrorCode::InvitationUsed)));
                }
                let role = inv.organization_role.unwrap_or(OrganizationRole::Member);
                let joined = storage::savepoint(conn, |conn| {
                    let inviter = Some(inv.inviter());
                    let invitation = Some(inv.id.as_str());
                    join(
                        conn,
                        &org_id,
                        &user.id,
                        role,
                        inviter,
                        "invitation",
                        invitation,
                        &meta,
                    )
                });
                match joined {
                    Err(e) if storage::is_unique_violation(&e) => {
                        return Err(ApiError::new(ErrorCode::AlreadyMember));
                    }
                    other => other?,
                }
                AuditEntry::success(AuditAction::InvitationAccepted)
                    .actor(Some(actor.clone()))
                    .target("invitation", inv.id.clone())
                    .details(serde_json::json!({"organization_id": org_id, "role": role}))
                    .write(conn, &meta)?;
                let org = orgs::find(conn, &org_id)?.ok_or_else(not_found)?;
                let membership =
                    orgs::membership(conn, &org_id, &user.id)?.ok_or_else(not_found)?;
                Ok(membership.to_api(&org, &user))
            })
        })
        .await
}

/// Declines invitation `id`, addressed to the signed-in account: it ends at once (its token
/// stops working) and no longer counts against its inviter's quota. Errors: 403 for an API key,
/// 404 (another account's invitation), 409 `invitation_not_pending`.
pub async fn decline(
    state: &AppState,
    principal: &Principal,
    id: String,
    meta: &RequestMeta,
) -> ApiResult<Invitation> {
    let user = principal.require_user()?.clone();
    let actor = principal.actor();
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let now = storage::now();
                let inv = invitations::find(conn, &id)?
                    .filter(|i| i.email.as_deref() == Some(user.email.as_str()))
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                if !invitations::decline(conn, &inv.id, now)? {
                    return Err(ApiError::new(ErrorCode::InvitationNotPending));
                }
                AuditEntry::success(AuditAction::InvitationDeclined)
                    .actor(Some(actor.clone()))
                    .target("invitation", inv.id.clone())
                    .details(serde_json::json!({"organization_id": inv.organization_id}))
                    .write(conn, &meta)?;
                let updated = invitations::find(conn, &inv.id)?.unwrap_or(inv);
                let org = invitations::organization_of(conn, &updated)?;
                Ok(updated.to_api_in(now, org.as_ref()))
            })
        })
        .await
}
