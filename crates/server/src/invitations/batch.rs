//! Creating many invitations in the caller's transaction with a fixed number of statements:
//! the same rules as [`create_in_tx`], read and written a set at a time (bulk creation).

use super::creation::{
    CreateError, Inviter, client_accepted, create_in_tx, created_event, may_invite_into, message,
    new_row,
};
use super::rules::NewInvitation;
use crate::http::RequestMeta;
use crate::mail;
use crate::ratelimit::{EmailClass, email_budgets};
use crate::state::AppState;
use crate::storage::models::InvitationRow;
use crate::storage::{self, DbConn, invitations, users, webhooks};
use invitegate_core::model::ActorType;
use std::collections::HashMap;

/// One row's outcome: the invitation and its raw token, or why it was not created.
pub type Created = Result<(InvitationRow, String), CreateError>;

/// Creates `rows` in order on `conn`, inside the caller's transaction, with each row's outcome
/// exactly as [`create_in_tx`] would give it one after the other. About ten statements for
/// all of them; when another request takes one of the addresses meanwhile (the insert meets
/// the reservation index), the set is rolled back to a savepoint and created row by row.
/// `Err` for what refuses them all: `QuotaExceeded`, `OrganizationForbidden`, `Db`.
pub fn create_many_in_tx(
    conn: &mut DbConn,
    state: &AppState,
    inviter: &Inviter,
    rows: &[NewInvitation],
    meta: &RequestMeta,
) -> Result<Vec<Created>, CreateError> {
    match storage::savepoint(conn, |conn| at_once(conn, state, inviter, rows, meta)) {
        Err(CreateError::Db(e)) if storage::is_unique_violation(&e) => rows
            .iter()
            .map(|new| {
                match storage::savepoint(conn, |c| {
                    create_in_tx(c, state, inviter, new, false, meta)
                }) {
                    Err(
                        e @ (CreateError::QuotaExceeded
                        | CreateError::OrganizationForbidden
                        | CreateError::InviterInactive
                        | CreateError::Db(_)),
                    ) => Err(e),
                    outcome => Ok(outcome),
                }
            })
            .collect(),
        other => other,
    }
}

fn at_once(
    conn: &mut DbConn,
    state: &AppState,
    inviter: &Inviter,
    rows: &[NewInvitation],
    meta: &RequestMeta,
) -> Result<Vec<Created>, CreateError> {
    let now = storage::now();
    let emails: Vec<String> = rows
        .iter()
        .filter_map(|r| r.email().map(|e| e.as_str().to_string()))
        .collect();
    // The quota lock first, as in `create_in_tx`, so the two paths take locks in one order. The
    // count covers what is stored; the rows of this set are added as they are made.
    if inviter.actor.kind == ActorType::User
        && !users::lock_active_inviter(conn, &inviter.actor.id)?
    {
        return Err(CreateError::InviterInactive);
    }
    let quota_base = match inviter.quota {
        Some(_) => invitations::count_for_quota(conn, &inviter.actor.id, now)?,
        None => 0,
    };
    let registered = users::existing_emails(conn, &emails)?;
    invitations::release_expired_reservations(conn, &emails, now)?;
    let mut pending = invitations::pending_for_emails(conn, &emails, now)?;
    let mut organizations: HashMap<(String, _), bool> = HashMap::new();
    let mut clients: HashMap<String, bool> = HashMap::new();
    let mut made: i64 = 0;
    let mut outcomes = Vec::with_capacity(rows.len());
    for new in rows {
        let org_manager = match &new.organization {
            Some((org, role)) => match organizations.get(&(org.clone(), *role)) {
                Some(&manages) => manages,
                None => match may_invite_into(conn, inviter, org, *role) {
                    Ok(manages) => *organizations.entry((org.clone(), *role)).or_insert(manages),
                    Err(e @ CreateError::OrganizationNotFound) => {
                        outcomes.push(Err(e));
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            },
            None => false,
        };
        if let Some(limit) = inviter.quota.filter(|_| !org_manager)
            && quota_base + made >= i64::from(limit)
        {
            return Err(CreateError::QuotaExceeded);
        }
        let email = new.email().map(|e| e.as_str().to_string());
        let mut reserve = email.is_some();
        let is_registered = email.as_ref().is_some_and(|e| registered.contains(e));
        if let Some(e) = &email {
            if let Some((org, _)) = new.organization.as_ref().filter(|_| is_registered)
                && !inviter.conceals_accounts
                && let Some(user) = users::find_by_email(conn, e)?
                && storage::organizations::membership(conn, org, &user.id)?.is_some()
            {
                outcomes.push(Err(CreateError::AlreadyMember));
                continue;
            }
            if is_registered && !inviter.conceals_accounts && new.organization.is_none() {
                outcomes.push(Err(CreateError::EmailRegistered));
                continue;
            }
            if let Some(existing) = pending.get(e) {
                if !inviter.conceals_accounts {
                    outcomes.push(Err(CreateError::InvitationPending(Some(existing.clone()))));
                    continue;
                }
                reserve = false;
            }
            reserve &= !is_registered;
        }
        if let Some(id) = &new.client_id {
            let accepted = match clients.get(id) {
                Some(&a) => a,
                None => *clients
                    .entry(id.clone())
                    .or_insert(client_accepted(conn, id)?),
            };
            if !accepted {
                outcomes.push(Err(CreateError::ClientNotFound));
                continue;
            }
        }
        let (row, token) = new_row(state, inviter, new, reserve, false, now);
        if let Some(e) = &row.pending_email {
            pending.insert(e.clone(), row.id.clone());
        }
        made += 1;
        outcomes.push(Ok((row, token)));
    }
    let created: Vec<(&NewInvitation, &(InvitationRow, String))> = rows
        .iter()
        .zip(&outcomes)
        .filter_map(|(new, outcome)| Some((new, outcome.as_ref().ok()?)))
        .collect();
    let inserted: Vec<InvitationRow> = created.iter().map(|(_, (row, _))| row.clone()).collect();
    if inserted.is_empty() {
        return Ok(outcomes);
    }
    let mailed: Vec<&(InvitationRow, String)> = created
        .iter()
        .filter(|(new, (row, _))| new.send_email && row.email.is_some())
        .map(|(_, created)| *created)
        .collect();
    // Rendering and serialising the emails takes about as long as the database takes to insert
    // the invitations: another thread does it meanwhile, so that both cores work.
    let (queued, allowed) = std::thread::scope(|scope| {
        let rendering = scope.spawn(|| {
            mailed
                .iter()
                .map(|(row, token)| {
                    let to = row.email.as_deref().unwrap_or_default();
                    mail::Queued::new(&message(
                        state,
                        inviter,
                        row,
                        token,
                        registered.contains(to),
                    ))
                })
                .collect::<Vec<_>>()
        });
        let allowed = write_rows(conn, state, inviter, meta, &created, &inserted, &mailed);
        (rendering.join().expect("rendering does not panic"), allowed)
    });
    let queued = queued
        .into_iter()
        .zip(allowed?)
        .filter_map(|(queued, allowed)| allowed.then_some(queued))
        .collect();
    mail::enqueue_queued(conn, queued)?;
    Ok(outcomes)
}

/// Inserts the invitations and their audit events (and webhook deliveries); whether each of
/// `mailed` is within its recipient's email budget.
fn write_rows(
    conn: &mut DbConn,
    state: &AppState,
    inviter: &Inviter,
    meta: &RequestMeta,
    created: &[(&NewInvitation, &(InvitationRow, String))],
    inserted: &[InvitationRow],
    mailed: &[&(InvitationRow, String)],
) -> Result<Vec<bool>, CreateError> {
    invitations::insert_many(conn, inserted)?;
    let events: Vec<_> = created
        .iter()
        .map(|(new, (row, _))| created_event(inviter, new, row).into_row(meta))
        .collect();
    storage::audit::insert_many(conn, &events)?;
    webhooks::enqueue_for_all(conn, &events)?;
    let recipients: Vec<&str> = mailed
        .iter()
        .filter_map(|(row, _)| row.email.as_deref())
        .collect();
    Ok(email_budgets(
        conn,
        state,
        &recipients,
        EmailClass::Invitation,
    )?)
}
