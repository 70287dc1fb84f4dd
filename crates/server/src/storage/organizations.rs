//! Queries on `organizations` and `memberships`.

use super::DbConn;
use super::models::*;
use super::schema::memberships::dsl as m;
use super::schema::organizations::dsl as o;
use super::schema::users::dsl as u;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use invitegate_core::model::OrganizationRole;

/// A row of `organizations`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub members_can_invite: bool,
    pub created_at: NaiveDateTime,
}

impl OrganizationRow {
    /// How other objects name it.
    pub fn to_ref(&self) -> api::OrganizationRef {
        api::OrganizationRef {
            id: self.id.clone(),
            name: self.name.clone(),
            slug: self.slug.clone(),
        }
    }

    /// The API object, with its member count.
    pub fn to_api(&self, member_count: u64) -> api::Organization {
        api::Organization {
            id: self.id.clone(),
            name: self.name.clone(),
            slug: self.slug.clone(),
            created_at: utc(self.created_at),
            member_count,
            members_can_invite: self.members_can_invite,
        }
    }
}

/// A row of `memberships`.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub organization_id: String,
    pub user_id: String,
    pub role: OrganizationRole,
    pub invited_by_type: Option<ActorType>,
    pub invited_by_id: Option<String>,
    pub joined_at: NaiveDateTime,
}

impl MembershipRow {
    /// The API object, given its organisation and user.
    pub fn to_api(&self, org: &OrganizationRow, user: &UserRow) -> api::Membership {
        api::Membership {
            organization: org.to_ref(),
            user: api::MemberUser {
                id: user.id.clone(),
                email: user.email.clone(),
                display_name: user.display_name.clone(),
            },
            role: self.role,
            joined_at: utc(self.joined_at),
            invited_by: actor(self.invited_by_type, self.invited_by_id.as_deref()),
        }
    }
}

/// Inserts an organisation (a taken slug is a unique violation).
pub fn insert(conn: &mut DbConn, row: &OrganizationRow) -> QueryResult<()> {
    diesel::insert_into(o::organizations)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The organisation `id`.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrganizationRow>> {
    o::organizations.find(id).first(conn).optional()
}

/// The organisation with `slug`.
pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<OrganizationRow>> {
    o::organizations
        .filter(o::slug.eq(slug))
        .first(conn)
        .optional()
}

/// Takes the row lock that serialises changes to an organisation's owners (the last owner
/// stays); on SQLite the write transaction already serialises them. Returns whether it exists.
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(o::organizations.find(id))
        .set(o::members_can_invite.eq(o::members_can_invite))
        .execute(conn)?;
    Ok(n == 1)
}

/// Renames it and/or changes `members_can_invite`.
pub fn update(
    conn: &mut DbConn,
    id: &str,
    name: Option<&str>,
    members_can_invite: Option<bool>,
) -> QueryResult<()> {
    if let Some(n) = name {
        diesel::update(o::organizations.find(id))
            .set(o::name.eq(n))
            .execute(conn)?;
    }
    if let Some(c) = members_can_invite {
        diesel::update(o::organizations.find(id))
            .set(o::members_can_invite.eq(c))
            .execute(conn)?;
    }
    Ok(())
}

/// A page of organisations, newest first: all of them, or those `member` belongs to; `text`
/// filters on name or slug. Returns one row more than `limit` when there is a next page.
pub fn list(
    conn: &mut DbConn,
    member: Option<&str>,
    text: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> QueryResult<Vec<OrganizationRow>> {
    let mut q = o::organizations.into_boxed();
    if let Some(user) = member {
        q = q.filter(
            o::id.eq_any(
                m::memberships
                    .filter(m::user_id.eq(user.to_string()))
                    .select(m::organization_id),
            ),
        );
    }
    if let Some(t) = text {
        let pattern = format!("%{}%", super::like_escape(&t.to_lowercase()));
        q = q.filter(
            o::slug
                .like(pattern.clone())
                .escape('\\')
                .or(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("LOWER(name) LIKE ")
                        .bind::<diesel::sql_types::Text, _>(pattern)
                        .sql(" ESCAPE '\\'"),
                ),
        );
    }
    if let Some(c) = cursor {
        q = q.filter(o::id.lt(c.to_string()));
    }
    q.order(o::id.desc()).limit(limit + 1).load(conn)
}

/// How many members `id` has.
pub fn member_count(conn: &mut DbConn, id: &str) -> QueryResult<u64> {
    let n: i64 = m::memberships
        .filter(m::organization_id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(n as u64)
}

/// Adds a membership (an existing one is a unique violation).
pub fn add_member(conn: &mut DbConn, row: &MembershipRow) -> QueryResult<()> {
    diesel::insert_into(m::memberships)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// `user`'s membership of `org`.
pub fn membership(conn: &mut DbConn, org: &str, user: &str) -> QueryResult<Option<MembershipRow>> {
    m::memberships.find((org, user)).first(conn).optional()
}

/// A page of `org`'s members with their accounts, by user id descending.
pub fn members(
    conn: &mut DbConn,
    org: &str,
    limit: i64,
    cursor: Option<&str>,
) -> QueryResult<Vec<(MembershipRow, UserRow)>> {
    let mut q = m::memberships
        .inner_join(u::users)
        .filter(m::organization_id.eq(org.to_string()))
        .select((m::memberships::all_columns(), u::users::all_columns()))
        .into_boxed();
    if let Some(c) = cursor {
        q = q.filter(m::user_id.lt(c.to_string()));
    }
    q.order(m::user_id.desc()).limit(limit + 1).load(conn)
}

/// Every membership of `user`, with its organisation, oldest first.
pub fn memberships_of(
    conn: &mut DbConn,
    user: &str,
) -> QueryResult<Vec<(MembershipRow, OrganizationRow)>> {
    m::memberships
        .inner_join(o::organizations)
        .filter(m::user_id.eq(user))
        .select((
            m::memberships::all_columns(),
            o::organizations::all_columns(),
        ))
        .order(m::joined_at.asc())
        .load(conn)
}

/// Sets a member's role; returns whether the membership exists.
pub fn set_role(
    conn: &mut DbConn,
    org: &str,
    user: &str,
    role: OrganizationRole,
) -> QueryResult<bool> {
    let n = diesel::update(m::memberships.find((org, user)))
        .set(m::role.eq(role))
        .execute(conn)?;
    Ok(n == 1)
}

/// Removes a membership; returns whether it existed.
pub fn remove_member(conn: &mut DbConn, org: &str, user: &str) -> QueryResult<bool> {
    let n = diesel::delete(m::memberships.find((org, user))).execute(conn)?;
    Ok(n == 1)
}

/// Records that `user` left or was removed from `org` (see [`has_left`]).
pub fn record_exit(
    conn: &mut DbConn,
    org: &str,
    user: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    use super::schema::membership_exits::dsl as x;
    diesel::delete(x::membership_exits.find((org, user))).execute(conn)?;
    diesel::insert_into(x::membership_exits)
        .values((
            x::organization_id.eq(org),
            x::user_id.eq(user),
            x::left_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Whether `user` ever left or was removed from `org`.
pub fn has_left(conn: &mut DbConn, org: &str, user: &str) -> QueryResult<bool> {
    use super::schema::membership_exits::dsl as x;
    Ok(x::membership_exits
        .find((org, user))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// How many owners `org` has.
pub fn owner_count(conn: &mut DbConn, org: &str) -> QueryResult<i64> {
    m::memberships
        .filter(m::organization_id.eq(org))
        .filter(m::role.eq(OrganizationRole::Owner))
        .count()
        .get_result(conn)
}
