//! Queries on `users`.

use super::DbConn;
use super::models::*;
use super::schema::users::dsl as u;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Insertable)]
// `None` binds NULL (no column here has another default): one INSERT text, kept prepared.
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub disabled_at: Option<NaiveDateTime>,
    pub invited_by_type: Option<ActorType>,
    pub invited_by_id: Option<String>,
    pub invitation_id: Option<String>,
    pub invitation_serial: i64,
}

impl UserRow {
    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The API object.
    pub fn to_api(&self) -> api::User {
        api::User {
            id: self.id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
            created_at: utc(self.created_at),
            invited_by: actor(self.invited_by_type, self.invited_by_id.as_deref()),
            invitation_id: self.invitation_id.clone(),
            disabled_at: self.disabled_at.map(utc),
        }
    }

    /// A name to show others: the display name, else the email.
    pub fn shown_name(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| self.email.clone())
    }
}

/// Inserts a user; a duplicate email is a unique violation.
pub fn insert(conn: &mut DbConn, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(u::users)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Inserts many users (seeding), a statement per 1,000 (see [`super::insert_rows`]).
pub fn insert_many(conn: &mut DbConn, rows: &[UserRow]) -> QueryResult<()> {
    for chunk in rows.chunks(1_000) {
        super::insert_rows!(conn, u::users, chunk)?;
    }
    Ok(())
}

/// The user with this normalised email.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    u::users.filter(u::email.eq(email)).first(conn).optional()
}

/// The user with this id.
pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    u::users.find(id).first(conn).optional()
}

/// Whether an account exists for this email.
pub fn email_exists(conn: &mut DbConn, email: &str) -> QueryResult<bool> {
    let n: i64 = u::users
        .filter(u::email.eq(email))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Which of `emails` (normalised) have an account: one statement.
pub fn existing_emails(
    conn: &mut DbConn,
    emails: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    let found: Vec<String> = u::users
        .filter(u::email.eq_any(emails))
        .select(u::email)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// Whether any active administrator exists.
pub fn active_admin_exists(conn: &mut DbConn) -> QueryResult<bool> {
    let n: i64 = u::users
        .filter(u::role.eq(invitegate_core::model::Role::Admin))
        .filter(u::disabled_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Takes the row lock of an active account that creates invitations: false when the account
/// is disabled or gone. A disable that committed first is seen here; one that comes later
/// waits for this transaction and then revokes what it made.
pub fn lock_active_inviter(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        u::users
            .filter(u::id.eq(id))
            .filter(u::disabled_at.is_null()),
    )
    .set(u::invitation_serial.eq(u::invitation_serial + 1))
    .execute(conn)?;
    Ok(n == 1)
}

/// Takes the row lock that serialises a user's invitation creations (quota checks).
pub fn lock_for_quota(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(u::users.filter(u::id.eq(id)))
        .set(u::invitation_serial.eq(u::invitation_serial + 1))
        .execute(conn)?;
    Ok(n == 1)
}

/// Replaces a password hash (parameter upgrades at login).
pub fn set_password_hash(conn: &mut DbConn, id: &str, hash: &str) -> QueryResult<()> {
    diesel::update(u::users.filter(u::id.eq(id)))
        .set(u::password_hash.eq(hash))
        .execute(conn)
        .map(|_| ())
}

/// Disables the account if active; returns whether it changed.
pub fn disable(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        u::users
            .filter(u::id.eq(id))
            .filter(u::disabled_at.is_null()),
    )
    .set(u::disabled_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// One page of users, newest first.
pub fn list(
    conn: &mut DbConn,
    email: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> QueryResult<Vec<UserRow>> {
    let mut q = u::users.into_boxed();
    if let Some(c) = cursor {
        q = q.filter(u::id.lt(c.to_string()));
    }
    if let Some(e) = email {
        q = q.filter(
            u::email
                .like(format!("%{}%", super::like_escape(&e.to_lowercase())))
                .escape('\\'),
        );
    }
    q.order(u::id.desc()).limit(limit + 1).load(conn)
}

/// Display names for inviter ids that are users.
pub fn shown_name(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    Ok(find(conn, id)?.map(|u| u.shown_name()))
}

/// Enables the account if disabled; returns whether it changed.
pub fn enable(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        u::users
            .filter(u::id.eq(id))
            .filter(u::disabled_at.is_not_null()),
    )
    .set(u::disabled_at.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    Ok(n == 1)
}

/// Sets the role.
pub fn set_role(conn: &mut DbConn, id: &str, role: Role) -> QueryResult<()> {
    diesel::update(u::users.filter(u::id.eq(id)))
        .set(u::role.eq(role))
        .execute(conn)
        .map(|_| ())
}

/// Sets (or with `None` clears) the display name.
pub fn set_display_name(conn: &mut DbConn, id: &str, name: Option<&str>) -> QueryResult<()> {
    diesel::update(u::users.filter(u::id.eq(id)))
        .set(u::display_name.eq(name))
        .execute(conn)
        .map(|_| ())
}

/// Takes the lock that serialises every change that could leave no active administrator, and
/// counts the active administrators under it. One row on both backends (`write_lock`), so two
/// administrators demoting each other at once cannot both see the other still standing.
pub fn lock_active_admins(conn: &mut DbConn) -> QueryResult<i64> {
    super::bump_write_lock(conn)?;
    u::users
        .filter(u::role.eq(Role::Admin))
        .filter(u::disabled_at.is_null())
        .count()
        .get_result(conn)
}
