//! The rules of user administration: listing; disabling, enabling, changing and deleting an
//! account, with everything that carries its authority; the last active administrator stays.

use crate::audit_trail::AuditEntry;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::RequestMeta;
use crate::invitations::lifecycle::revoke_all_of_inviter;
use crate::paging::PageRequest;
use crate::registration::rules::parse_display_name;
use crate::state::AppState;
use crate::storage::models::UserRow;
use crate::storage::{self, sessions, users};
use invitegate_core::ErrorCode;
use invitegate_core::api::UpdateUserRequest;
use invitegate_core::model::{ActorRef, AuditAction, OrganizationRole, Role};

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
/// `own_id` is the acting user's id; an administrator's account needs `may_manage_admins` (the
/// `admin` scope), since disabling it revokes every key it made. Errors: 403 `forbidden` for
/// oneself or without that scope, 404 `not_found`, 409 `last_admin`.
pub async fn disable(
    state: &AppState,
    id: String,
    actor: ActorRef,
    own_id: Option<&str>,
    may_manage_admins: bool,
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
                let (user, admins) = lock_account(conn, &id)?;
                if user.role() == Role::Admin && !may_manage_admins {
                    return Err(ApiError::new(ErrorCode::Forbidden)
                        .detail("Disabling an administrator needs the `admin` scope."));
                }
                keep_an_admin(&user, admins)?;
                disable_in_tx(conn, &id, &actor, None, now, &meta)?;
                users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))
            })
        })
        .await
}

/// Disables account `id` in the caller's transaction if it is active: its sessions end, what
/// carries its authority is revoked ([`revoke_authority`]), and `user.disabled` is audited
/// (with `branch_of` when the account goes with the invite tree of that one). Returns how
/// many invitations were revoked, or `None` when the account was already disabled.
pub(super) fn disable_in_tx(
    conn: &mut storage::DbConn,
    id: &str,
    actor: &ActorRef,
    branch_of: Option<&str>,
    now: chrono::NaiveDateTime,
    meta: &RequestMeta,
) -> ApiResult<Option<usize>> {
    if !users::disable(conn, id, now)? {
        return Ok(None);
    }
    let ended = sessions::revoke_all_for_user(conn, id, now)?;
    let (revoked, keys) = revoke_authority(conn, id, actor, "disabled", meta)?;
    let mut details = serde_json::json!({"sessions_ended": ended, "invitations_revoked": revoked, "api_keys_revoked": keys});
    if let Some(root) = branch_of {
        details["branch_of"] = root.into();
    }
    AuditEntry::success(AuditAction::UserDisabled)
        .actor(Some(actor.clone()))
        .target("user", id.to_string())
        .details(details)
        .write(conn, meta)?;
    Ok(Some(revoked))
}

/// Takes the lock that serialises every change that could leave no active administrator
/// ([`users::lock_active_admins`]), then reads account `id` afresh: the account and how many
/// active administrators there are. Every path that removes an administrator calls this first,
/// so its count sees every earlier removal. Errors: 404 `not_found`.
fn lock_account(conn: &mut storage::DbConn, id: &str) -> ApiResult<(UserRow, i64)> {
    let admins = users::lock_active_admins(conn)?;
    let user = users::find(conn, id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    Ok((user, admins))
}

/// 409 `last_admin` when `user` is the last active administrator.
fn keep_an_admin(user: &UserRow, admins: i64) -> ApiResult<()> {
    if user.role() == Role::Admin && user.disabled_at.is_none() && admins <= 1 {
        return Err(ApiError::new(ErrorCode::LastAdmin));
    }
    Ok(())
}

/// Enables account `id` again: sign-in works; what disabling revoked (sessions, invitations,
/// keys) stays revoked. Enabling an administrator's account needs the `admin` scope
/// (`may_grant_admin`), so a `users:write` key cannot bring back admin authority. Enabling an
/// active account changes nothing. Errors: 403 `forbidden`, 404 `not_found`.
pub async fn enable(
    state: &AppState,
    id: String,
    actor: ActorRef,
    may_grant_admin: bool,
    meta: &RequestMeta,
) -> ApiResult<UserRow> {
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let user =
                    users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                if user.role() == Role::Admin && !may_grant_admin {
                    return Err(ApiError::new(ErrorCode::Forbidden)
                        .detail("Enabling an administrator needs the `admin` scope."));
                }
                if users::enable(conn, &id)? {
                    AuditEntry::success(AuditAction::UserEnabled)
                        .actor(Some(actor.clone()))
                        .target("user", id.clone())
                        .write(conn, &meta)?;
                }
                users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))
            })
        })
        .await
}

/// A parsed `PATCH /users/{id}`: the new role and display name (`Some(None)` clears it).
#[derive(Debug, Clone)]
pub struct UserUpdate {
    role: Option<Role>,
    display_name: Option<Option<String>>,
}

impl UserUpdate {
    /// Parses the body. Errors: 422 `display_name` (`too_long`, `invalid`).
    pub fn parse(req: UpdateUserRequest) -> ApiResult<Self> {
        let mut errors = FieldErrors::new();
        let display_name = req
            .display_name
            .as_deref()
            .map(|n| parse_display_name(Some(n), &mut errors));
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        Ok(Self {
            role: req.role,
            display_name,
        })
    }
}

/// Changes account `id`'s role and display name in one transaction, audited as
/// `user.role_changed` (details `from`, `to`) and `user.updated`. A demoted administrator's
/// sessions stay, with no admin authority (every request reads the role afresh); their pending
/// invitations and the API keys they created are revoked. Errors: 404 `not_found`, 409
/// `last_admin`.
pub async fn update(
    state: &AppState,
    id: String,
    change: UserUpdate,
    actor: ActorRef,
    meta: &RequestMeta,
) -> ApiResult<UserRow> {
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let (user, admins) = lock_account(conn, &id)?;
                if let Some(role) = change.role.filter(|r| *r != user.role()) {
                    keep_an_admin(&user, admins)?;
                    users::set_role(conn, &id, role)?;
                    // Keys and invitations made with admin authority would outlive it.
                    let (revoked, keys) = if role == Role::Member {
                        revoke_authority(conn, &id, &actor, "demoted", &meta)?
                    } else {
                        (0, 0)
                    };
                    AuditEntry::success(AuditAction::UserRoleChanged)
                        .actor(Some(actor.clone()))
                        .target("user", id.clone())
                        .details(serde_json::json!({"from": user.role(), "to": role, "invitations_revoked": revoked, "api_keys_revoked": keys}))
                        .write(conn, &meta)?;
                }
                if let Some(name) = change.display_name.filter(|n| *n != user.display_name) {
                    users::set_display_name(conn, &id, name.as_deref())?;
                    AuditEntry::success(AuditAction::UserUpdated)
                        .actor(Some(actor.clone()))
                        .target("user", id.clone())
                        .details(serde_json::json!({"fields": ["display_name"]}))
                        .write(conn, &meta)?;
                }
                users::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))
            })
        })
        .await
}

/// Deletes account `id` (see [`erase_in`]). Errors: 403 `forbidden` for one's own account
/// (`DELETE /me` asks for the password), 404 `not_found`, 409 `last_admin`, 409 `last_owner`.
pub async fn delete(
    state: &AppState,
    id: String,
    actor: ActorRef,
    own_id: Option<&str>,
    meta: &RequestMeta,
) -> ApiResult<()> {
    if own_id == Some(id.as_str()) {
        return Err(ApiError::new(ErrorCode::Forbidden).detail(
            "Delete your own account from your security page (it asks for your password).",
        ));
    }
    let meta = meta.clone();
    state
        .db(move |conn| storage::write_tx(conn, |conn| erase_in(conn, &id, &actor, &meta)))
        .await
}

/// Erases account `id` inside the caller's transaction: the last active administrator and the
/// last owner of an organisation with other members stay (409 `last_admin`, `last_owner`);
/// pending invitations it sent are revoked, and so are the API keys it created with theirs;
/// each membership ends (`membership.removed`, reason `account_deleted`); then its rows go
/// ([`storage::accounts::erase`]) and `user.deleted` is audited with the id only. Errors: 404.
pub fn erase_in(
    conn: &mut storage::DbConn,
    id: &str,
    actor: &ActorRef,
    meta: &RequestMeta,
) -> ApiResult<()> {
    let (user, admins) = lock_account(conn, id)?;
    keep_an_admin(&user, admins)?;
    let memberships = storage::organizations::memberships_of(conn, &user.id)?;
    for (membership, org) in &memberships {
        if membership.role == OrganizationRole::Owner {
            storage::organizations::lock(conn, &org.id)?;
            if storage::organizations::owner_count(conn, &org.id)? <= 1
                && storage::organizations::member_count(conn, &org.id)? > 1
            {
                return Err(ApiError::new(ErrorCode::LastOwner)
                    .detail(format!("Make someone else owner of {} first.", org.name)));
            }
        }
    }
    let (revoked, keys) = revoke_authority(conn, &user.id, actor, "deleted", meta)?;
    for (membership, org) in &memberships {
        AuditEntry::success(AuditAction::MembershipRemoved)
            .actor(Some(actor.clone()))
            .target("organization", org.id.clone())
            .details(serde_json::json!({"user_id": user.id, "role": membership.role, "reason": "account_deleted"}))
            .write(conn, meta)?;
    }
    storage::accounts::erase(conn, &user.id, &user.email)?;
    AuditEntry::success(AuditAction::UserDeleted)
        .actor(Some(actor.clone()))
        .target("user", user.id.clone())
        .details(serde_json::json!({"invitations_revoked": revoked, "api_keys_revoked": keys}))
        .write(conn, meta)?;
    Ok(())
}

/// Revokes what carries account `id`'s authority: its pending invitations, and the API keys it
/// created with theirs (the keys would keep its authority alive). `why` (`disabled`,
/// `deleted`) goes into the reasons audited. Returns how many invitations (its own and its
/// keys') and keys.
fn revoke_authority(
    conn: &mut storage::DbConn,
    id: &str,
    actor: &ActorRef,
    why: &str,
    meta: &RequestMeta,
) -> ApiResult<(usize, usize)> {
    let mut revoked = revoke_all_of_inviter(conn, id, actor, &format!("inviter_{why}"), meta)?;
    let keys = storage::api_keys::revoke_all_created_by(conn, id, storage::now())?;
    for key in &keys {
        AuditEntry::success(AuditAction::ApiKeyRevoked)
            .actor(Some(actor.clone()))
            .target("api_key", key.clone())
            .details(serde_json::json!({"reason": format!("creator_{why}")}))
            .write(conn, meta)?;
        revoked += revoke_all_of_inviter(conn, key, actor, "api_key_revoked", meta)?;
    }
    Ok((revoked, keys.len()))
}
