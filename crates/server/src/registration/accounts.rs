//! The writes of registration: the transaction bodies (the user insert with its session and
//! audit events, the guarded use of an invitation) and the rows of the same registration
//! written in one statement on PostgreSQL (`group_commit`).

use super::group_commit::Registration;
use crate::audit_trail::AuditEntry;
use crate::auth::session;
use crate::error::ApiError;
use crate::http::RequestMeta;
use crate::invitations::rules::state_error;
use crate::organization_domains::service as domains;
use crate::state::AppState;
use crate::storage::audit::AuditRow;
use crate::storage::models::{InvitationRow, UserRow};
use crate::storage::{self, DbConn, invitations, users};
use invitegate_core::ErrorCode;
use invitegate_core::model::RegistrationBasis as Basis;
use invitegate_core::model::{ActorRef, ActorType, AuditAction, OrganizationRole, Role};

/// The account being created: its address, name and password hash.
pub(super) struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: Option<String>,
    pub password_hash: String,
}

/// The user row of `account`, invited by `invitation` if any.
fn user_row(account: NewAccount<'_>, invitation: Option<&InvitationRow>) -> UserRow {
    let NewAccount {
        email,
        display_name,
        password_hash,
    } = account;
    UserRow {
        id: storage::new_id(),
        email: email.to_string(),
        display_name,
        password_hash,
        role: invitation.map(|i| i.role()).unwrap_or(Role::Member),
        created_at: storage::now(),
        disabled_at: None,
        invited_by_type: invitation.map(|i| i.inviter_type),
        invited_by_id: invitation.map(|i| i.inviter_id.clone()),
        invitation_id: invitation.map(|i| i.id.clone()),
        invitation_serial: 0,
    }
}

fn as_actor(user: &UserRow) -> Option<ActorRef> {
    Some(ActorRef {
        kind: ActorType::User,
        id: user.id.clone(),
    })
}

/// `invitation.redeemed` by the new `user`.
fn redeemed_event(user: &UserRow, inv: &InvitationRow, meta: &RequestMeta) -> AuditRow {
    AuditEntry::success(AuditAction::InvitationRedeemed)
        .actor(as_actor(user))
        .target("invitation", inv.id.clone())
        .details(serde_json::json!({"user_id": user.id, "inviter": inv.inviter()}))
        .into_row(meta)
}

/// `registration.succeeded` of the new `user`.
fn succeeded_event(user: &UserRow, basis: Basis, meta: &RequestMeta) -> AuditRow {
    AuditEntry::success(AuditAction::RegistrationSucceeded)
        .actor(as_actor(user))
        .target("user", user.id.clone())
        .details(serde_json::json!({"email": user.email, "role": user.role, "basis": basis.as_str(), "invitation_id": user.invitation_id}))
        .into_row(meta)
}

/// Inserts the user for a redeemed invitation, with its session and audit events.
pub(super) fn insert_user(
    conn: &mut DbConn,
    state: &AppState,
    meta: &RequestMeta,
    account: NewAccount<'_>,
    invitation: Option<&InvitationRow>,
    basis: Basis,
) -> Result<(UserRow, session::NewSession), crate::storage::DbError> {
    let user = user_row(account, invitation);
    users::insert(conn, &user)?;
    let invitation_org = invitation.and_then(|i| i.organization_id.as_deref());
    let domain_org = domains::auto_join_target(conn, &user)?
        .filter(|org| Some(org.id.as_str()) != invitation_org);
    let mut redeemed = invitation.map(|inv| redeemed_event(&user, inv, meta));
    // Events are written (and their webhooks queued) in the order they happen; without a
    // membership between them, the two of the common case share one insert and one read of
    // the webhook endpoints.
    if (invitation_org.is_some() || domain_org.is_some())
        && let Some(row) = redeemed.take()
    {
        crate::audit_trail::write_row(conn, &row)?;
    }
    if let (Some(inv), Some(org)) = (invitation, invitation_org) {
        crate::organizations::service::join(
            conn,
            org,
            &user.id,
            inv.organization_role.unwrap_or(OrganizationRole::Member),
            Some(inv.inviter()),
            "invitation",
            Some(&inv.id),
            meta,
        )?;
    }
    if let Some(org) = domain_org {
        domains::join_by_domain(conn, &org.id, &user, meta)?;
    }
    let succeeded = succeeded_event(&user, basis, meta);
    match redeemed {
        Some(redeemed) => {
            let events = [redeemed, succeeded];
            storage::audit::insert_two(conn, &events)?;
            storage::webhooks::enqueue_for_all(conn, &events)?;
        }
        None => crate::audit_trail::write_row(conn, &succeeded)?,
    }
    let new_session = session::new_session(state, &user.id, meta);
    session::insert(conn, &new_session)?;
    Ok((user, new_session))
}

/// The rows of registering with an invitation when nothing else joins in, for
/// [`crate::storage::registrations::insert_at_once`]: the same [`insert_user`] writes for an invitation
/// outside any organisation.
pub(super) struct AtOnceRows {
    pub user: UserRow,
    pub events: [AuditRow; 2],
    pub session: session::NewSession,
}

impl AtOnceRows {
    /// The rows of `r`, with new ids and the current time.
    pub fn new(r: &Registration) -> Self {
        let account = NewAccount {
            email: r.email.as_str(),
            display_name: r.display_name.clone(),
            password_hash: r.password_hash.clone(),
        };
        let user = user_row(account, Some(&r.invitation));
        let events = [
            redeemed_event(&user, &r.invitation, &r.meta),
            succeeded_event(&user, Basis::Invitation, &r.meta),
        ];
        let session = session::new_session(&r.state, &user.id, &r.meta);
        Self {
            user,
            events,
            session,
        }
    }
}

pub(super) enum TxError {
    Api(ApiError),
    Existing,
}

impl From<crate::storage::DbError> for TxError {
    fn from(e: crate::storage::DbError) -> Self {
        if storage::is_unique_violation(&e) {
            Self::Existing
        } else {
            Self::Api(e.into())
        }
    }
}

impl From<ApiError> for TxError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

/// Takes one use of the invitation with the guarded statement; when the guard refuses, the
/// error says why (used, expired, revoked).
pub(super) fn take_use(
    conn: &mut DbConn,
    id: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), TxError> {
    if invitations::redeem(conn, id, now)?.is_some() {
        return Ok(());
    }
    Err(TxError::Api(refusal(conn, id, now)?))
}

/// Why the guarded statement refused a use of invitation `id` at `now` (it wrote nothing):
/// `invitation_used`, `_expired`, `_revoked` or `_declined`, else `invalid_invitation`.
pub(super) fn refusal(
    conn: &mut DbConn,
    id: &str,
    now: chrono::NaiveDateTime,
) -> Result<ApiError, crate::storage::DbError> {
    let current = invitations::find(conn, id)?;
    Ok(current
        .and_then(|c| state_error(c.state(now)))
        .unwrap_or_else(|| ApiError::new(ErrorCode::InvalidInvitation)))
}
