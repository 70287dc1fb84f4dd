//! The rules of organisation domains: who adds and removes them, the public mail domains no
//! organisation may claim, the suggestions a signed-in account sees, and joining by an
//! `auto_join` domain.

use crate::audit_trail::AuditEntry;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::organizations::service::{Access, access, join};
use crate::state::AppState;
use crate::storage::models::{DomainRow, UserRow};
use crate::storage::{self, DbConn, organization_domains as domains, organizations as orgs};
use invitegate_core::api::{AddDomainRequest, Organization, OrganizationDomain};
use invitegate_core::model::{AuditAction, DomainPolicy, OrganizationRole, Scope};
use invitegate_core::{Email, ErrorCode, FieldCode};
use std::collections::HashSet;
use std::sync::LazyLock;

static PUBLIC_DOMAINS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../assets/public_email_domains.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Whether anyone can get an address at `domain` (the shipped list of public mail domains).
pub fn is_public(domain: &str) -> bool {
    PUBLIC_DOMAINS.contains(domain)
}

/// A domain an organisation may claim, normalised (`" Acme.EXAMPLE"` → `acme.example`).
/// Errors: 422 `domain` `invalid`, or `public_email_domain` for a public mail domain.
pub fn parse_domain(input: &str) -> ApiResult<String> {
    let domain = invitegate_core::email::parse_domain(input)
        .ok_or_else(|| ApiError::field("domain", FieldCode::Invalid))?;
    if is_public(&domain) {
        return Err(ApiError::field("domain", FieldCode::PublicEmailDomain));
    }
    Ok(domain)
}

/// Reaches `org` as someone who manages it (owner, admin, instance); members get 403, others
/// 404.
fn managing(
    conn: &mut DbConn,
    principal: &Principal,
    org: &str,
    scope: Scope,
) -> ApiResult<Access> {
    let (_, access) = access(conn, principal, org, scope)?;
    if access.manages() {
        Ok(access)
    } else {
        Err(ApiError::new(ErrorCode::Forbidden))
    }
}

/// Adds a domain to `org`: instance administrators any domain, its owners only the domain of
/// their own (proven) address, so nobody claims another company's people. Audited as
/// `organization.domain_added`. Errors: 404, 403 `forbidden`, 422 `domain` (`invalid`,
/// `public_email_domain`), 409 `domain_taken` (any organisation has it already).
pub async fn add(
    state: &AppState,
    principal: &Principal,
    org: String,
    req: AddDomainRequest,
    meta: &RequestMeta,
) -> ApiResult<OrganizationDomain> {
    let domain = parse_domain(&req.domain)?;
    let (principal, meta) = (principal.clone(), meta.clone());
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let (_, access) = access(conn, &principal, &org, Scope::OrganizationsWrite)?;
                let own_domain = principal
                    .user()
                    .and_then(|u| Email::parse(&u.email).ok())
                    .is_some_and(|e| e.domain() == domain);
                let allowed = match access {
                    Access::Instance => true,
                    Access::Member(OrganizationRole::Owner) => own_domain,
                    Access::Member(_) => false,
                };
                if !allowed {
                    return Err(ApiError::new(ErrorCode::Forbidden));
                }
                let row = DomainRow {
                    domain,
                    organization_id: org.clone(),
                    policy: req.policy,
                    created_at: storage::now(),
                };
                match storage::savepoint(conn, |conn| domains::insert(conn, &row)) {
                    Err(e) if storage::is_unique_violation(&e) => {
                        return Err(ApiError::new(ErrorCode::DomainTaken));
                    }
                    other => other?,
                }
                AuditEntry::success(AuditAction::OrganizationDomainAdded)
                    .actor(Some(principal.actor()))
                    .target("organization", org.clone())
                    .details(serde_json::json!({"domain": row.domain, "policy": row.policy}))
                    .write(conn, &meta)?;
                Ok(row.to_api())
            })
        })
        .await
}

/// `org`'s domains, for its owners and admins and instance administrators. Errors: 404, 403.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    org: String,
) -> ApiResult<Vec<OrganizationDomain>> {
    let principal = principal.clone();
    state
        .db(move |conn| {
            managing(conn, &principal, &org, Scope::OrganizationsRead)?;
            Ok(domains::of_organization(conn, &org)?
                .iter()
                .map(DomainRow::to_api)
                .collect())
        })
        .await
}

/// Removes a domain from `org` (memberships made through it stay). Audited as
/// `organization.domain_removed`. Errors: 404 (also when `org` does not have it), 403.
pub async fn remove(
    state: &AppState,
    principal: &Principal,
    org: String,
    domain: String,
    meta: &RequestMeta,
) -> ApiResult<()> {
    let domain = invitegate_core::email::parse_domain(&domain)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
    let (principal, meta) = (principal.clone(), meta.clone());
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                managing(conn, &principal, &org, Scope::OrganizationsWrite)?;
                if !domains::remove(conn, &org, &domain)? {
                    return Err(ApiError::new(ErrorCode::NotFound));
                }
                AuditEntry::success(AuditAction::OrganizationDomainRemoved)
                    .actor(Some(principal.actor()))
                    .target("organization", org.clone())
                    .details(serde_json::json!({"domain": domain}))
                    .write(conn, &meta)?;
                Ok(())
            })
        })
        .await
}

/// The organisation whose `policy` domain matches `user`'s email, when `user` is not already
/// a member of it. An account's address is proven: accounts are created by following an
/// emailed link, or from an email-bound invitation whose token went by email — except those an
/// instance administrator or an `invitations:write` key invited without the emailed proof, and
/// those may invite into any organisation anyway.
pub fn matching(
    conn: &mut DbConn,
    user: &UserRow,
    policy: DomainPolicy,
) -> storage::DbResult<Option<crate::storage::models::OrganizationRow>> {
    let Ok(email) = Email::parse(&user.email) else {
        return Ok(None);
    };
    let Some(org) = domains::organization_for(conn, email.domain(), policy)? else {
        return Ok(None);
    };
    Ok(match orgs::membership(conn, &org.id, &user.id)? {
        Some(_) => None,
        None => Some(org),
    })
}

/// The organisations whose `suggest` domain matches the signed-in account's email and that it
/// does not belong to ("Join Acme?"). Errors: 403 for an API key.
pub async fn suggestions(state: &AppState, principal: &Principal) -> ApiResult<Vec<Organization>> {
    let user = principal.require_user()?.clone();
    state
        .db(move |conn| {
            let mut out = Vec::new();
            if let Some(org) = matching(conn, &user, DomainPolicy::Suggest)? {
                out.push(org.to_api(orgs::member_count(conn, &org.id)?));
            }
            Ok(out)
        })
        .await
}

/// Makes `user` a `member` of the organisation whose `auto_join` domain matches its email, if
/// any, not already, and `user` never left or was removed from it (the domain does not undo
/// an owner's removal), inside the caller's transaction; audited as `membership.created` with
/// `"basis": "domain"`. Called when an account is created and when it signs in.
pub fn auto_join(conn: &mut DbConn, user: &UserRow, meta: &RequestMeta) -> storage::DbResult<()> {
    match auto_join_target(conn, user)? {
        Some(org) => join_by_domain(conn, &org.id, user, meta),
        None => Ok(()),
    }
}

/// The organisation [`auto_join`] would make `user` a member of: its `auto_join` domain
/// matches and `user` never left it. Reads only.
pub fn auto_join_target(
    conn: &mut DbConn,
    user: &UserRow,
) -> storage::DbResult<Option<crate::storage::models::OrganizationRow>> {
    let Some(org) = matching(conn, user, DomainPolicy::AutoJoin)? else {
        return Ok(None);
    };
    Ok((!orgs::has_left(conn, &org.id, &user.id)?).then_some(org))
}

/// The write of [`auto_join`] into organisation `org_id`: nothing when `user` is a member
/// already.
pub fn join_by_domain(
    conn: &mut DbConn,
    org_id: &str,
    user: &UserRow,
    meta: &RequestMeta,
) -> storage::DbResult<()> {
    match storage::savepoint(conn, |conn| {
        join(
            conn,
            org_id,
            &user.id,
            OrganizationRole::Member,
            None,
            "domain",
            None,
            meta,
        )
    }) {
        Err(e) if storage::is_unique_violation(&e) => Ok(()),
        other => other,
    }
}

/// Whether an address may sign up without an invitation because an organisation's `auto_join`
/// domain matches it.
pub fn admits(conn: &mut DbConn, email: &Email) -> storage::DbResult<bool> {
    Ok(domains::organization_for(conn, email.domain(), DomainPolicy::AutoJoin)?.is_some())
}
