//! Requests to join an organisation through its `suggest` domain: the suggested account asks,
//! an owner or admin approves (the account becomes a `member`) or rejects. Deciding is a
//! guarded update, so of two concurrent decisions one wins.

use super::service::matching;
use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::organizations::service::{access, join};
use crate::state::AppState;
use crate::storage::models::JoinRequestRow;
use crate::storage::{self, organization_domains as domains, organizations as orgs};
use invitegate_core::ErrorCode;
use invitegate_core::api::{JoinRequest, Membership};
use invitegate_core::model::{
    AuditAction, DomainPolicy, JoinRequestState, OrganizationRole, Scope,
};

/// Most pending requests one list returns.
pub const MAX_LISTED: i64 = 200;

/// What an owner or admin decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The account joins as `member`.
    Approve,
    /// It does not.
    Reject,
}

/// What deciding made.
#[derive(Debug)]
pub enum Decided {
    /// Approved: the new membership.
    Member(Membership),
    /// Rejected: the request.
    Rejected(JoinRequest),
}

/// Asks to join `org`, whose `suggest` domain matches the signed-in account's email; asking
/// again while a request is pending returns that request. Audited as `join_request.created`.
/// Errors: 403 `forbidden` (no matching `suggest` domain, or an API key), 404, 409
/// `already_member`.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    org: String,
    meta: &RequestMeta,
) -> ApiResult<JoinRequest> {
    let user = principal.require_user()?.clone();
    let (actor, meta) = (principal.actor(), meta.clone());
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let organization =
                    orgs::find(conn, &org)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                if orgs::membership(conn, &org, &user.id)?.is_some() {
                    return Err(ApiError::new(ErrorCode::AlreadyMember));
                }
                if matching(conn, &user, DomainPolicy::Suggest)?.map(|o| o.id) != Some(org.clone())
                {
                    return Err(ApiError::new(ErrorCode::Forbidden));
                }
                if let Some(pending) = domains::pending_request(conn, &org, &user.id)? {
                    return Ok(pending.to_api(&organization, &user));
                }
                let row = JoinRequestRow {
                    id: storage::new_id(),
                    organization_id: org.clone(),
                    user_id: user.id.clone(),
                    state: JoinRequestState::Pending,
                    created_at: storage::now(),
                    decided_at: None,
                    decided_by: None,
                };
                match storage::savepoint(conn, |conn| domains::insert_request(conn, &row)) {
                    // A concurrent request of the same account won: answer with it.
                    Err(e) if storage::is_unique_violation(&e) => {
                        let pending = domains::pending_request(conn, &org, &user.id)?
                            .ok_or_else(|| ApiError::from(e))?;
                        return Ok(pending.to_api(&organization, &user));
                    }
                    other => other?,
                }
                AuditEntry::success(AuditAction::JoinRequestCreated)
                    .actor(Some(actor.clone()))
                    .target("organization", org.clone())
                    .details(serde_json::json!({"join_request_id": row.id}))
                    .write(conn, &meta)?;
                Ok(row.to_api(&organization, &user))
            })
        })
        .await
}

/// `org`'s pending requests, newest first (at most [`MAX_LISTED`]), for its owners and admins
/// and instance administrators. Errors: 404, 403.
pub async fn pending(
    state: &AppState,
    principal: &Principal,
    org: String,
) -> ApiResult<Vec<JoinRequest>> {
    let principal = principal.clone();
    state
        .db(move |conn| {
            let (organization, access) = access(conn, &principal, &org, Scope::OrganizationsRead)?;
            if !access.manages() {
                return Err(ApiError::new(ErrorCode::Forbidden));
            }
            Ok(domains::pending_requests(conn, &org, MAX_LISTED)?
                .iter()
                .map(|(r, u)| r.to_api(&organization, u))
                .collect())
        })
        .await
}

/// Approves or rejects request `id` of `org`. Approving makes the account a `member` in the
/// same transaction (`membership.created`, `"basis": "domain"`); both are audited
/// (`join_request.approved` / `join_request.rejected`). Errors: 404, 403, 409
/// `join_request_not_pending`.
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    org: String,
    id: String,
    decision: Decision,
    meta: &RequestMeta,
) -> ApiResult<Decided> {
    let (principal, meta) = (principal.clone(), meta.clone());
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let (organization, access) =
                    access(conn, &principal, &org, Scope::OrganizationsWrite)?;
                if !access.manages() {
                    return Err(ApiError::new(ErrorCode::Forbidden));
                }
                let (request, user) = domains::find_request(conn, &org, &id)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                let (state_to, action) = match decision {
                    Decision::Approve => {
                        (JoinRequestState::Approved, AuditAction::JoinRequestApproved)
                    }
                    Decision::Reject => {
                        (JoinRequestState::Rejected, AuditAction::JoinRequestRejected)
                    }
                };
                let actor = principal.actor();
                let now = storage::now();
                if !domains::decide(conn, &id, state_to, &actor.id, now)? {
                    return Err(ApiError::new(ErrorCode::JoinRequestNotPending));
                }
                AuditEntry::success(action)
                    .actor(Some(actor.clone()))
                    .target("organization", org.clone())
                    .details(serde_json::json!({"join_request_id": id, "user_id": user.id}))
                    .write(conn, &meta)?;
                if decision == Decision::Reject {
                    let decided = JoinRequestRow {
                        state: state_to,
                        decided_at: Some(now),
                        decided_by: Some(actor.id),
                        ..request
                    };
                    return Ok(Decided::Rejected(decided.to_api(&organization, &user)));
                }
                // Joined meanwhile (an invitation, an auto_join sign-in): the membership stands.
                let joined = storage::savepoint(conn, |conn| {
                    join(
                        conn,
                        &org,
                        &user.id,
                        OrganizationRole::Member,
                        Some(actor),
                        "domain",
                        None,
                        &meta,
                    )
                });
                match joined {
                    Err(e) if storage::is_unique_violation(&e) => {}
                    other => other?,
                }
                let membership = orgs::membership(conn, &org, &user.id)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                Ok(Decided::Member(membership.to_api(&organization, &user)))
            })
        })
        .await
}
