//! The rules of organisations: who may see and manage one (instance administrators and keys
//! with `organizations:*` anywhere; its owners and admins; its members read), names and slugs,
//! and the last owner who may not leave. Each change is one transaction with its audit event.

use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::paging::PageRequest;
use crate::state::AppState;
use crate::storage::models::{MembershipRow, OrganizationRow, UserRow};
use crate::storage::{self, DbConn, organizations as orgs};
use invitegate_core::api::{
    CreateOrganizationRequest, Membership, Organization, UpdateOrganizationRequest,
};
use invitegate_core::model::{ActorRef, AuditAction, OrganizationRole, Scope};
use invitegate_core::{ErrorCode, FieldCode};

/// Longest organisation name, in characters.
pub const MAX_NAME_LENGTH: usize = 100;
/// Longest slug, in characters.
pub const MAX_SLUG_LENGTH: usize = 63;

/// How a principal reaches an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Instance-wide: an instance administrator, or a key with the `organizations:*` scope.
    Instance,
    /// As a member with this role.
    Member(OrganizationRole),
}

impl Access {
    /// Whether it may manage the organisation (rename, change roles, remove members).
    pub fn manages(self) -> bool {
        matches!(
            self,
            Access::Instance | Access::Member(OrganizationRole::Owner | OrganizationRole::Admin)
        )
    }

    /// Whether it may grant or take away the `owner` role (admins may not).
    pub fn governs_owners(self) -> bool {
        matches!(
            self,
            Access::Instance | Access::Member(OrganizationRole::Owner)
        )
    }
}

/// A trimmed organisation name of 1 to 100 characters without control characters.
pub fn parse_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_LENGTH
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::field("name", FieldCode::Invalid));
    }
    Ok(name.to_string())
}

/// A slug: lower-case ASCII letters, digits and inner `-`, 2 to 63 characters; given, or
/// derived from the name (other characters become `-`).
pub fn parse_slug(given: Option<&str>, name: &str) -> ApiResult<String> {
    let slug = match given {
        Some(s) => s.trim().to_string(),
        None => {
            let mut out = String::new();
            for c in name.to_lowercase().chars() {
                if c.is_ascii_alphanumeric() {
                    out.push(c);
                } else if !out.ends_with('-') {
                    out.push('-');
                }
            }
            out.trim_matches('-')
                .chars()
                .take(MAX_SLUG_LENGTH)
                .collect::<String>()
        }
    };
    let slug = slug.trim_end_matches('-').to_string();
    let valid = (2..=MAX_SLUG_LENGTH).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.contains("--");
    if valid {
        Ok(slug)
    } else {
        Err(ApiError::field("slug", FieldCode::Invalid))
    }
}

/// How `principal` reaches organisation `org` on `conn`; 404 `not_found` when it does not
/// exist or the principal neither belongs to it nor has `scope` instance-wide.
pub fn access(
    conn: &mut DbConn,
    principal: &Principal,
    org: &str,
    scope: Scope,
) -> ApiResult<(OrganizationRow, Access)> {
    let not_found = || ApiError::new(ErrorCode::NotFound);
    let organization = orgs::find(conn, org)?.ok_or_else(not_found)?;
    if principal.has_scope(scope) {
        return Ok((organization, Access::Instance));
    }
    let role = match principal.user() {
        Some(user) => orgs::membership(conn, org, &user.id)?.map(|m| m.role),
        None => None,
    };
    match role {
        Some(role) => Ok((organization, Access::Member(role))),
        None => Err(not_found()),
    }
}

fn view(conn: &mut DbConn, org: &OrganizationRow) -> ApiResult<Organization> {
    Ok(org.to_api(orgs::member_count(conn, &org.id)?))
}

/// Creates an organisation; a user who creates it becomes its `owner`. Errors: 403 without
/// `organizations:write` (instance administrators have it), 422 `name` / `slug` `invalid`, 409
/// `slug_taken`.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    req: CreateOrganizationRequest,
    meta: &RequestMeta,
) -> ApiResult<Organization> {
    principal.require(Scope::OrganizationsWrite)?;
    let name = parse_name(&req.name)?;
    let slug = parse_slug(req.slug.as_deref(), &name)?;
    let row = OrganizationRow {
        id: storage::new_id(),
        name,
        slug,
        members_can_invite: req.members_can_invite.unwrap_or(true),
        created_at: storage::now(),
    };
    let actor = principal.actor();
    let owner = principal.user().map(|u| u.id.clone());
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if let Err(e) = storage::savepoint(conn, |conn| orgs::insert(conn, &row)) {
                    return Err(if storage::is_unique_violation(&e) {
                        ApiError::new(ErrorCode::SlugTaken)
                    } else {
                        e.into()
                    });
                }
                AuditEntry::success(AuditAction::OrganizationCreated)
                    .actor(Some(actor.clone()))
                    .target("organization", row.id.clone())
                    .details(serde_json::json!({"name": row.name, "slug": row.slug}))
                    .write(conn, &meta)?;
                if let Some(user) = owner {
                    join(
                        conn,
                        &row.id,
                        &user,
                        OrganizationRole::Owner,
                        None,
                        "creator",
                        None,
                        &meta,
                    )?;
                }
                view(conn, &row)
            })
        })
        .await
}

/// Adds `user` to `org` with `role` and audits it (`basis`: how they joined; `invitation`: the
/// invitation that brought them, if any). A membership that exists is a unique violation.
#[allow(clippy::too_many_arguments)]
pub fn join(
    conn: &mut DbConn,
    org: &str,
    user: &str,
    role: OrganizationRole,
    invited_by: Option<ActorRef>,
    basis: &str,
    invitation: Option<&str>,
    meta: &RequestMeta,
) -> storage::DbResult<()> {
    let row = MembershipRow {
        organization_id: org.to_string(),
        user_id: user.to_string(),
        role,
        invited_by_type: invited_by.as_ref().map(|a| a.kind),
        invited_by_id: invited_by.as_ref().map(|a| a.id.clone()),
        joined_at: storage::now(),
    };
    orgs::add_member(conn, &row)?;
    AuditEntry::success(AuditAction::MembershipCreated)
        .actor(Some(ActorRef {
            kind: invitegate_core::model::ActorType::User,
            id: user.to_string(),
        }))
        .target("organization", org.to_string())
        .details(match invitation {
            Some(id) => serde_json::json!({"user_id": user, "role": role, "basis": basis, "invitation_id": id}),
            None => serde_json::json!({"user_id": user, "role": role, "basis": basis}),
        })
        .write(conn, meta)
}

/// A page of organisations, newest first: all of them with `organizations:read`, else the
/// signed-in user's own. `text` filters on name or slug. Errors: 403 for a key without the
/// scope.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    text: Option<String>,
    page: &PageRequest,
) -> ApiResult<Vec<Organization>> {
    let member = if principal.has_scope(Scope::OrganizationsRead) {
        None
    } else {
        Some(principal.require_user()?.id.clone())
    };
    let text = text
        .map(|t| t.trim().chars().take(100).collect::<String>())
        .filter(|t| !t.is_empty());
    let p = page.clone();
    state
        .db(move |conn| {
            let rows = orgs::list(
                conn,
                member.as_deref(),
                text.as_deref(),
                p.limit,
                p.after_id.as_deref(),
            )?;
            rows.iter().map(|r| view(conn, r)).collect()
        })
        .await
}

/// One organisation. Errors: 404 (also for non-members).
pub async fn get(state: &AppState, principal: &Principal, id: String) -> ApiResult<Organization> {
    let principal = principal.clone();
    state
        .db(move |conn| {
            let (org, _) = access(conn, &principal, &id, Scope::OrganizationsRead)?;
            view(conn, &org)
        })
        .await
}

/// Renames an organisation and/or changes `members_can_invite`. Errors: 404, 403 for a plain
/// member, 422 `name` `invalid`.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: String,
    req: UpdateOrganizationRequest,
    meta: &RequestMeta,
) -> ApiResult<Organization> {
    let name = req.name.as_deref().map(parse_name).transpose()?;
    let principal = principal.clone();
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let (org, access) = access(conn, &principal, &id, Scope::OrganizationsWrite)?;
                if !access.manages() {
                    return Err(ApiError::new(ErrorCode::Forbidden));
                }
                orgs::update(conn, &org.id, name.as_deref(), req.members_can_invite)?;
                AuditEntry::success(AuditAction::OrganizationUpdated)
                    .actor(Some(principal.actor()))
                    .target("organization", org.id.clone())
                    .details(serde_json::json!({"name": name, "members_can_invite": req.members_can_invite}))
                    .write(conn, &meta)?;
                let updated = orgs::find(conn, &org.id)?.unwrap_or(org);
                view(conn, &updated)
            })
        })
        .await
}

/// A page of an organisation's members (rows by user id, one more when there is a next page).
/// Errors: 404 (also for non-members).
pub async fn members(
    state: &AppState,
    principal: &Principal,
    id: String,
    page: &PageRequest,
) -> ApiResult<Vec<Membership>> {
    let principal = principal.clone();
    let p = page.clone();
    state
        .db(move |conn| {
            let (org, _) = access(conn, &principal, &id, Scope::OrganizationsRead)?;
            Ok(
                orgs::members(conn, &org.id, p.limit, p.after_id.as_deref())?
                    .iter()
                    .map(|(m, u)| m.to_api(&org, u))
                    .collect(),
            )
        })
        .await
}

/// What a change of membership is.
#[derive(Debug, Clone, Copy)]
pub enum MemberChange {
    /// Give the member this role.
    Role(OrganizationRole),
    /// Remove the member (themselves: leave).
    Remove,
}

/// Changes a member's role or removes them, under the organisation's row lock so that two
/// concurrent changes can never leave it without an owner. Managers (owners, admins, instance
/// administrators) change others; only owners and instance administrators touch owners; anyone
/// may leave. Returns the membership after a role change. Errors: 404, 403, 409 `last_owner`.
pub async fn change_member(
    state: &AppState,
    principal: &Principal,
    org: String,
    user: String,
    change: MemberChange,
    meta: &RequestMeta,
) -> ApiResult<Option<Membership>> {
    let principal = principal.clone();
    let meta = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let (organization, access) =
                    access(conn, &principal, &org, Scope::OrganizationsWrite)?;
                orgs::lock(conn, &organization.id)?;
                let current = orgs::membership(conn, &organization.id, &user)?
                    .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                let leaving = matches!(change, MemberChange::Remove)
                    && principal.user().is_some_and(|u| u.id == user);
                let touches_owner = current.role == OrganizationRole::Owner
                    || matches!(change, MemberChange::Role(OrganizationRole::Owner));
                let allowed = leaving
                    || (access.manages() && (!touches_owner || access.governs_owners()));
                if !allowed {
                    return Err(ApiError::new(ErrorCode::Forbidden));
                }
                let stays_owner = matches!(change, MemberChange::Role(OrganizationRole::Owner));
                if current.role == OrganizationRole::Owner
                    && !stays_owner
                    && orgs::owner_count(conn, &organization.id)? <= 1
                {
                    return Err(ApiError::new(ErrorCode::LastOwner));
                }
                let entry = match change {
                    MemberChange::Role(role) => {
                        orgs::set_role(conn, &organization.id, &user, role)?;
                        AuditEntry::success(AuditAction::MembershipRoleChanged).details(
                            serde_json::json!({"user_id": user, "from": current.role, "to": role}),
                        )
                    }
                    MemberChange::Remove => {
                        orgs::remove_member(conn, &organization.id, &user)?;
                        orgs::record_exit(conn, &organization.id, &user, storage::now())?;
                        AuditEntry::success(AuditAction::MembershipRemoved).details(
                            serde_json::json!({"user_id": user, "role": current.role, "left": leaving}),
                        )
                    }
                };
                entry
                    .actor(Some(principal.actor()))
                    .target("organization", organization.id.clone())
                    .write(conn, &meta)?;
                match change {
                    MemberChange::Remove => Ok(None),
                    MemberChange::Role(_) => {
                        let m = orgs::membership(conn, &organization.id, &user)?
                            .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                        let u: UserRow = storage::users::find(conn, &user)?
                            .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                        Ok(Some(m.to_api(&organization, &u)))
                    }
                }
            })
        })
        .await
}
