//! Registrations that sign in at once, written several to a commit.
//!
//! A registration's rows are small next to what writing them costs per commit: on SQLite the
//! commit rewrites the pages the rows share (the rightmost leaves of each index, the funnel's
//! count rows) once per commit, and was a fifth of the server's CPU in a registration; on
//! PostgreSQL every statement costs an executor start, its triggers' run and a WAL flush
//! (docs/performance.md). While registrations saturate the hashing workers, those costs take
//! CPU from the hashes, which set the rate.
//!
//! So a registration whose password is hashed queues its write here. One writer at a time
//! takes what is queued (at most [`MAX_GROUP`]), waiting for more up to [`MAX_WAIT`] while
//! other registrations are still being hashed; a lone registration waits for no company (only
//! for a group being written). It writes them:
//! - on SQLite in one transaction, each written only when nothing will refuse it: one whose
//!   invitation was used meanwhile writes nothing and is told why, one whose address has an
//!   account goes back to its request, which writes it alone and learns why not;
//! - on PostgreSQL in one statement (`storage::registrations`), each with an invitation of its
//!   own. One the statement does not write goes back to its request, which writes it alone in
//!   the transaction and learns why.
//!
//! A registration is answered after the commit that holds it, never before. The writer runs on
//! the server's main runtime, not on an HTTP worker: a worker that stops at shutdown does not
//! take a group being written with it, and a SQLite group's transaction does not hold up the
//! worker's other requests.

use super::accounts::{AtOnceRows, NewAccount, TxError, insert_user, refusal, take_use};
use crate::auth::session::NewSession;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::{InvitationRow, UserRow};
use crate::storage::registrations::{self, InvitedAccount, MAX_AT_ONCE};
use crate::storage::{self, Backend, DbConn, invitations, users};
use invitegate_core::Email;
use invitegate_core::model::RegistrationBasis as Basis;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// Registrations written by one commit at most.
pub const MAX_GROUP: usize = MAX_AT_ONCE;
/// How long the writer waits for more registrations while others are being hashed. A hash
/// takes 12–25 ms of a core on the machines measured, so on 2 cores 6–13 arrive meanwhile when
/// the workers are saturated. A SQLite commit cost the server about 1.2 ms of CPU whatever its
/// size (the pages registrations share are written once per commit): the server spent 0.54 ms
/// per registration at 40 ms (6 registrations to a commit) and 0.44 ms at 80 ms (12). At
/// 160 ms (24) it spent 0.39 ms, but the bench's ratio to the argon2 ceiling stayed within its
/// noise on both backends and verifications beside registrations had a longer tail
/// (docs/performance.md). A registration waits for company only while others are being
/// hashed (one held back because its invitation is in the group being written waits for the
/// next); while the workers are saturated it waits here instead of in their queue.
pub const MAX_WAIT: Duration = Duration::from_millis(80);

/// The registrations of one server waiting for their commit (shared by its HTTP workers).
pub struct GroupCommit {
    /// Where writers run: the server's main runtime.
    runtime: tokio::runtime::Handle,
    queue: Mutex<Queue>,
    /// Signalled when a registration is queued and when the last one being hashed is done.
    arrived: Notify,
    /// Registrations between the start of their hash and their place in the queue.
    hashing: AtomicUsize,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Pending>,
    /// Whether a writer is gathering or writing (then it takes what is queued next).
    writing: bool,
}

/// A registration with an invitation that proves the address, its password hashed.
#[derive(Clone)]
pub(super) struct Registration {
    pub state: Arc<AppState>,
    pub meta: RequestMeta,
    pub email: Email,
    pub display_name: Option<String>,
    pub password_hash: String,
    pub invitation: InvitationRow,
}

struct Pending {
    registration: Registration,
    reply: oneshot::Sender<Grouped>,
}

/// What became of a queued registration.
pub(super) enum Grouped {
    /// Committed: the user and its session.
    Written(Box<UserRow>, Box<NewSession>),
    /// Refused, nothing of it written, and why.
    Refused(TxError),
    /// Not written: the request writes it alone.
    Alone(Box<Registration>),
}

/// A registration being hashed (see [`GroupCommit::hashing`]).
pub(super) struct Hashing<'a>(&'a GroupCommit);

impl Drop for Hashing<'_> {
    fn drop(&mut self) {
        if self.0.hashing.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.arrived.notify_one();
        }
    }
}

impl GroupCommit {
    /// A group commit whose writers run on `runtime` (one that outlives the HTTP workers).
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        Self {
            runtime,
            queue: Mutex::default(),
            arrived: Notify::new(),
            hashing: AtomicUsize::new(0),
        }
    }

    /// Counts a registration as being hashed until the guard drops (when it is queued, or its
    /// hash failed): the writer waits for it.
    pub(super) fn hashing(&self) -> Hashing<'_> {
        self.hashing.fetch_add(1, Ordering::AcqRel);
        Hashing(self)
    }

    /// Queues `registration` (whose hash is done: `hashed`) and waits for its commit.
    /// Errors: 500 when the writer stopped without an answer.
    pub(super) async fn write(
        self: &Arc<Self>,
        hashed: Hashing<'_>,
        registration: Registration,
    ) -> ApiResult<Grouped> {
        let (reply, answer) = oneshot::channel();
        let lead = {
            let mut queue = self.lock();
            queue.waiting.push(Pending {
                registration,
                reply,
            });
            !std::mem::replace(&mut queue.writing, true)
        };
        drop(hashed);
        self.arrived.notify_one();
        if lead {
            // A task of its own: a request that goes away does not take the others' writes.
            let leading = Leading {
                group: self.clone(),
                done: false,
            };
            self.runtime.spawn(writer(leading));
        }
        answer
            .await
            .map_err(|_| ApiError::internal("the registration writer stopped"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the writer should stop gathering: a full group, or nobody else being hashed.
    fn gathered(&self) -> bool {
        self.lock().waiting.len() >= MAX_GROUP || self.hashing.load(Ordering::Acquire) == 0
    }

    /// The oldest registrations whose requests still wait, at most [`MAX_GROUP`], each with
    /// an invitation of its own (the one statement takes each invitation's use once); `None`
    /// once nothing waits, and then the writer is done.
    fn take(&self) -> Option<Vec<Pending>> {
        let mut queue = self.lock();
        queue.waiting.retain(|p| !p.reply.is_closed());
        if queue.waiting.is_empty() {
            queue.writing = false;
            return None;
        }
        let mut invitations = HashSet::new();
        let (mut group, mut rest) = (Vec::new(), Vec::new());
        for pending in queue.waiting.drain(..) {
            if group.len() < MAX_GROUP
                && invitations.insert(pending.registration.invitation.id.clone())
            {
                group.push(pending);
            } else {
                rest.push(pending);
            }
        }
        queue.waiting = rest;
        Some(group)
    }
}

/// The writer's role, handed back if its task ends before the queue is empty (its runtime
/// stopping, a panic, or never run): whoever waits in the queue then writes alone, and the
/// next registration starts a writer. A group taken and being written when its task is dropped
/// is answered by nobody (500), though it may commit.
struct Leading {
    group: Arc<GroupCommit>,
    done: bool,
}

impl Drop for Leading {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let waiting = {
            let mut queue = self.group.lock();
            queue.writing = false;
            std::mem::take(&mut queue.waiting)
        };
        waiting.into_iter().for_each(alone);
    }
}

async fn writer(mut leading: Leading) {
    let group = leading.group.clone();
    loop {
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        while !group.gathered() {
            if tokio::time::timeout_at(deadline, group.arrived.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        let Some(taken) = group.take() else {
            leading.done = true;
            return;
        };
        let state = taken[0].registration.state.clone();
        match state.backend {
            Backend::Sqlite => in_one_transaction(&state, taken).await,
            Backend::Postgres => in_one_statement(&state, taken).await,
        }
    }
}

/// Takes the invitation's use and writes the account, its events and its session on `conn`
/// (in the caller's transaction): the user and the session, or why not.
pub(super) fn write_alone(
    conn: &mut DbConn,
    r: &Registration,
) -> Result<(UserRow, NewSession), TxError> {
    take_use(conn, &r.invitation.id, storage::now())?;
    // An existing account surfaces as the unique violation of the insert (and the whole
    // transaction, the use included, rolls back): no lookup round trip first.
    Ok(insert_account(conn, r)?)
}

/// Writes the account of `r`, its events and its session (its invitation's use is taken).
fn insert_account(
    conn: &mut DbConn,
    r: &Registration,
) -> Result<(UserRow, NewSession), storage::DbError> {
    let account = NewAccount {
        email: r.email.as_str(),
        display_name: r.display_name.clone(),
        password_hash: r.password_hash.clone(),
    };
    insert_user(
        conn,
        &r.state,
        &r.meta,
        account,
        Some(&r.invitation),
        Basis::Invitation,
    )
}

/// Counts a commit of `written` registrations (`invitegate_registrations_per_commit`).
fn observe(state: &AppState, written: usize) {
    if written > 0 {
        (state.metrics.registrations_per_commit).observe(written as f64);
    }
}

fn answer(pending: Pending, outcome: Grouped) {
    // A request that went away leaves its outcome unread; what was committed stays.
    let _ = pending.reply.send(outcome);
}

fn alone(pending: Pending) {
    let Pending {
        registration,
        reply,
    } = pending;
    let _ = reply.send(Grouped::Alone(Box::new(registration)));
}

async fn in_one_transaction(state: &AppState, taken: Vec<Pending>) {
    let registrations: Vec<Registration> = taken.iter().map(|p| p.registration.clone()).collect();
    let written = state
        .db_write(move |conn| {
            registrations
                .iter()
                .map(|r| in_the_transaction(conn, r))
                .collect::<Result<Vec<_>, _>>()
        })
        .await;
    match written {
        Ok(Ok(outcomes)) => {
            let committed = outcomes
                .iter()
                .filter(|o| matches!(o, Grouped::Written(..)));
            observe(state, committed.count());
            for (pending, outcome) in taken.into_iter().zip(outcomes) {
                answer(pending, outcome);
            }
        }
        // The commit (or the connection, or a write after a use was taken) failed: nothing of
        // the group was written, and each tries alone and meets its own outcome.
        _ => taken.into_iter().for_each(alone),
    }
}

/// Writes `r` in the group's SQLite transaction, without a savepoint of its own: a savepoint
/// spanning a registration journals every page the registration changes, and past 64 KiB
/// SQLite moves the journal from memory to a temporary file, two writes per page (61 file
/// writes per registration with savepoints, 30 without: docs/performance.md). So nothing is
/// written for a registration that is refused:
/// - an address with an account goes back to its request ([`Grouped::Alone`], its registration
///   unused), which learns in a transaction of its own what the guard and the insert say;
/// - a use the guard refuses writes nothing ([`Grouped::Refused`], and why).
///
/// Errors: any failure, the writes after a taken use included, fails the whole transaction.
fn in_the_transaction(conn: &mut DbConn, r: &Registration) -> Result<Grouped, storage::DbError> {
    if users::email_exists(conn, r.email.as_str())? {
        return Ok(Grouped::Alone(Box::new(r.clone())));
    }
    let now = storage::now();
    if invitations::redeem(conn, &r.invitation.id, now)?.is_none() {
        let why = refusal(conn, &r.invitation.id, now)?;
        return Ok(Grouped::Refused(TxError::Api(why)));
    }
    let (user, session) = insert_account(conn, r)?;
    Ok(Grouped::Written(Box::new(user), Box::new(session)))
}

/// How long registrations go through the transaction after the one statement found a webhook
/// endpoint (seconds): then the statement is tried again, so an endpoint deleted on any node
/// soon stops costing each registration a refused statement.
const WEBHOOKS_PAUSE: i64 = 60;

async fn in_one_statement(state: &AppState, taken: Vec<Pending>) {
    let paused = &state.one_statement_paused_until;
    let skip = paused.load(Ordering::Relaxed) > chrono::Utc::now().timestamp();
    let (taken, others): (Vec<_>, Vec<_>) = taken
        .into_iter()
        .partition(|p| !skip && p.registration.invitation.organization_id.is_none());
    others.into_iter().for_each(alone);
    if taken.is_empty() {
        return;
    }
    let registrations: Vec<Registration> = taken.iter().map(|p| p.registration.clone()).collect();
    let written = state
        .db(move |conn| {
            // Made after the pool's wait, like the transaction's: the events' ids and times are
            // those of the write.
            let now = storage::now();
            let rows: Vec<AtOnceRows> = registrations.iter().map(AtOnceRows::new).collect();
            let accounts: Vec<InvitedAccount<'_>> = registrations
                .iter()
                .zip(&rows)
                .map(|(r, rows)| InvitedAccount {
                    invitation_id: &r.invitation.id,
                    now,
                    email_domain: r.email.domain(),
                    user: &rows.user,
                    events: &rows.events,
                    session: &rows.session.row,
                })
                .collect();
            let outcome = registrations::insert_at_once(conn, &accounts);
            Ok(outcome.map(|o| (o, rows)))
        })
        .await;
    let Ok(Ok((outcome, rows))) = written else {
        // An address with an account fails the statement, and so would anything else: each
        // tries alone and learns its own outcome.
        return taken.into_iter().for_each(alone);
    };
    if outcome.webhooks {
        let until = chrono::Utc::now().timestamp() + WEBHOOKS_PAUSE;
        paused.store(until, Ordering::Relaxed);
    }
    observe(state, outcome.written.len());
    let written: HashSet<&str> = outcome.written.iter().map(String::as_str).collect();
    for (pending, rows) in taken.into_iter().zip(rows) {
        if written.contains(pending.registration.invitation.id.as_str()) {
            answer(
                pending,
                Grouped::Written(Box::new(rows.user), Box::new(rows.session)),
            );
        } else {
            alone(pending);
        }
    }
}
