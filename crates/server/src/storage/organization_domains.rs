//! Queries on `organization_domains` and `join_requests`: the email domains organisations
//! claim, and requests to join through a `suggest` domain.

use super::DbConn;
use super::models::*;
use super::schema::join_requests::dsl as j;
use super::schema::organization_domains::dsl as d;
use super::schema::organizations::dsl as o;
use super::schema::users::dsl as u;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use invitegate_core::model::{DomainPolicy, JoinRequestState};

/// A row of `organization_domains`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = organization_domains)]
pub struct DomainRow {
    pub domain: String,
    pub organization_id: String,
    pub policy: DomainPolicy,
    pub created_at: NaiveDateTime,
}

impl DomainRow {
    /// The API object.
    pub fn to_api(&self) -> api::OrganizationDomain {
        api::OrganizationDomain {
            domain: self.domain.clone(),
            policy: self.policy,
            created_at: utc(self.created_at),
        }
    }
}

/// A row of `join_requests`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = join_requests)]
pub struct JoinRequestRow {
    pub id: String,
    pub organization_id: String,
    pub user_id: String,
    pub state: JoinRequestState,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
}

impl JoinRequestRow {
    /// The API object, given its organisation and user.
    pub fn to_api(&self, org: &OrganizationRow, user: &UserRow) -> api::JoinRequest {
        api::JoinRequest {
            id: self.id.clone(),
            state: self.state,
            organization: org.to_ref(),
            user: api::MemberUser {
                id: user.id.clone(),
                email: user.email.clone(),
                display_name: user.display_name.clone(),
            },
            created_at: utc(self.created_at),
            decided_at: self.decided_at.map(utc),
        }
    }
}

/// Adds a domain (one another organisation has is a unique violation).
pub fn insert(conn: &mut DbConn, row: &DomainRow) -> QueryResult<()> {
    diesel::insert_into(d::organization_domains)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// `org`'s domains, alphabetically.
pub fn of_organization(conn: &mut DbConn, org: &str) -> QueryResult<Vec<DomainRow>> {
    d::organization_domains
        .filter(d::organization_id.eq(org))
        .order(d::domain.asc())
        .load(conn)
}

/// Removes `domain` from `org`; returns whether it had it.
pub fn remove(conn: &mut DbConn, org: &str, domain: &str) -> QueryResult<bool> {
    let n = diesel::delete(
        d::organization_domains
            .filter(d::domain.eq(domain))
            .filter(d::organization_id.eq(org)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// The organisation that has `domain` with `policy`, if any.
pub fn organization_for(
    conn: &mut DbConn,
    domain: &str,
    policy: DomainPolicy,
) -> QueryResult<Option<OrganizationRow>> {
    d::organization_domains
        .inner_join(o::organizations)
        .filter(d::domain.eq(domain))
        .filter(d::policy.eq(policy))
        .select(o::organizations::all_columns())
        .first(conn)
        .optional()
}

/// Inserts a join request (a second pending one for the same account and organisation is a
/// unique violation).
pub fn insert_request(conn: &mut DbConn, row: &JoinRequestRow) -> QueryResult<()> {
    diesel::insert_into(j::join_requests)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The pending request of `user` to join `org`.
pub fn pending_request(
    conn: &mut DbConn,
    org: &str,
    user: &str,
) -> QueryResult<Option<JoinRequestRow>> {
    j::join_requests
        .filter(j::organization_id.eq(org))
        .filter(j::user_id.eq(user))
        .filter(j::state.eq(JoinRequestState::Pending))
        .first(conn)
        .optional()
}

/// Request `id` of `org`, with the account that made it.
pub fn find_request(
    conn: &mut DbConn,
    org: &str,
    id: &str,
) -> QueryResult<Option<(JoinRequestRow, UserRow)>> {
    j::join_requests
        .inner_join(u::users)
        .filter(j::id.eq(id))
        .filter(j::organization_id.eq(org))
        .select((j::join_requests::all_columns(), u::users::all_columns()))
        .first(conn)
        .optional()
}

/// `org`'s pending requests with their accounts, newest first (at most `limit`).
pub fn pending_requests(
    conn: &mut DbConn,
    org: &str,
    limit: i64,
) -> QueryResult<Vec<(JoinRequestRow, UserRow)>> {
    j::join_requests
        .inner_join(u::users)
        .filter(j::organization_id.eq(org))
        .filter(j::state.eq(JoinRequestState::Pending))
        .select((j::join_requests::all_columns(), u::users::all_columns()))
        .order(j::id.desc())
        .limit(limit)
        .load(conn)
}

/// Decides a pending request; returns whether it was still pending (of two concurrent
/// decisions, one wins).
pub fn decide(
    conn: &mut DbConn,
    id: &str,
    state: JoinRequestState,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        j::join_requests
            .filter(j::id.eq(id))
            .filter(j::state.eq(JoinRequestState::Pending)),
    )
    .set((
        j::state.eq(state),
        j::decided_at.eq(Some(now)),
        j::decided_by.eq(Some(by)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
