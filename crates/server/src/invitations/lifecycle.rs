//! Rules for an invitation's later life: revocation when its issuer's authority ends, and
//! revival of an expired one.

use crate::audit_trail::AuditEntry;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::settings::RuntimeSettings;
use crate::storage::models::InvitationRow;
use crate::storage::{self, DbConn, invitations, users};
use chrono::NaiveDateTime;
use invitegate_core::ErrorCode;
use invitegate_core::model::{ActorRef, ActorType, AuditAction, Role};

/// Revokes every live invitation issued by `inviter_id` (a user or an API key whose authority
/// ended), each with its `invitation.revoked` event giving `reason`, inside the caller's
/// transaction (security.md, "Revocation is complete"). Returns how many were revoked.
pub fn revoke_all_of_inviter(
    conn: &mut DbConn,
    inviter_id: &str,
    actor: &ActorRef,
    reason: &str,
    meta: &RequestMeta,
) -> crate::storage::DbResult<usize> {
    let revoked = invitations::revoke_all_by_inviter(conn, inviter_id, storage::now())?;
    for id in &revoked {
        AuditEntry::success(AuditAction::InvitationRevoked)
            .actor(Some(actor.clone()))
            .target("invitation", id.clone())
            .details(serde_json::json!({ "reason": reason }))
            .write(conn, meta)?;
    }
    Ok(revoked.len())
}

/// 403 `invite_quota_exceeded` when reviving `row` (expired) would put its inviter, a member,
/// over `max_invites_per_user`; serialised by the inviter's row lock like creation.
pub fn check_revival_quota(
    conn: &mut DbConn,
    row: &InvitationRow,
    settings: &RuntimeSettings,
    now: NaiveDateTime,
) -> ApiResult<()> {
    if row.inviter_type != ActorType::User {
        return Ok(());
    }
    let Some(inviter) = users::find(conn, &row.inviter_id)? else {
        return Ok(());
    };
    if inviter.role() != Role::Member {
        return Ok(());
    }
    users::lock_for_quota(conn, &inviter.id)?;
    if invitations::count_for_quota(conn, &inviter.id, now)?
        >= i64::from(settings.max_invites_per_user)
    {
        return Err(ApiError::new(ErrorCode::InviteQuotaExceeded));
    }
    Ok(())
}
