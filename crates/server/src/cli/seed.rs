//! `invitegate bench-seed`: fills a database with many invitations and users, so that
//! `cargo xtask bench --seed N` can show latency at 10⁶ rows. Not for production databases.

use crate::config::Config;
use crate::storage::models::{InvitationRow, UserRow};
use crate::storage::{self, invitations, users};
use crate::tokens::hash_token;
use invitegate_core::model::{ActorType, Role};
use std::process::ExitCode;

/// Rows per transaction (on SQLite also per statement: 25 columns × 1,000 bound parameters,
/// under its 32,766; PostgreSQL takes them by `COPY`).
const BATCH: usize = 1_000;

/// Inserts `n_invitations` invitations (a quarter each pending, accepted, expired and revoked;
/// one every 30 seconds back from now, so 10⁶ span about a year; from 997 inviters; four in
/// five delivered) and `n_users` members sharing one password hash, in batches.
pub(super) async fn run(
    config: Config,
    n_invitations: usize,
    n_users: usize,
) -> anyhow::Result<ExitCode> {
    let bind = config.bind.parse()?;
    let state = crate::startup::build_state(config, bind).await?;
    let hash = state
        .hasher
        .hash("seeded account password".into())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = storage::new_id();
    let now = storage::now();
    for start in (0..n_invitations).step_by(BATCH) {
        let rows: Vec<InvitationRow> = (start..(start + BATCH).min(n_invitations))
            .map(|i| invitation(&run, i, now))
            .collect();
        state
            .db(move |conn| {
                Ok(storage::write_tx(conn, |c| {
                    invitations::insert_many(c, &rows)
                })?)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if (start / BATCH) % 100 == 99 {
            eprintln!("{} invitations", start + BATCH);
        }
    }
    for start in (0..n_users).step_by(BATCH) {
        let rows: Vec<UserRow> = (start..(start + BATCH).min(n_users))
            .map(|i| user(&run, i, &hash, now))
            .collect();
        state
            .db(move |conn| Ok(storage::write_tx(conn, |c| users::insert_many(c, &rows))?))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if (start / BATCH) % 100 == 99 {
            eprintln!("{} users", start + BATCH);
        }
    }
    // The jobs would fold the seeding's count deltas over many runs; a measurement wants them
    // folded now.
    state
        .db(|conn| {
            while storage::insights::compact(conn, 100_000)? > 0 {}
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("seeded {n_invitations} invitations and {n_users} users");
    Ok(ExitCode::SUCCESS)
}

fn invitation(run: &str, i: usize, now: chrono::NaiveDateTime) -> InvitationRow {
    let created_at = now - chrono::Duration::seconds(30 * i as i64);
    let email = format!("seed-{run}-{i}@example.com");
    let kind = i % 4;
    InvitationRow {
        id: storage::new_id(),
        token_hash: hash_token(&format!("seed-{run}-{i}")),
        email: Some(email),
        pending_email: None,
        email_domain: None,
        role: Role::Member,
        max_uses: 1,
        uses: i32::from(kind == 1),
        expires_at: if kind == 2 {
            now - chrono::Duration::days(1)
        } else {
            now + chrono::Duration::days(30)
        },
        created_at,
        accepted_at: (kind == 1)
            .then(|| created_at + chrono::Duration::seconds((i % 7_200) as i64)),
        revoked_at: (kind == 3).then_some(created_at),
        inviter_type: ActorType::User,
        inviter_id: format!("seed-{run}-inviter-{}", i % 997),
        note: None,
        bootstrap: false,
        reminded_at: None,
        // As the expiry job leaves them.
        expired_at: (kind == 2).then(|| now - chrono::Duration::days(1)),
        email_proof_required: false,
        organization_id: None,
        organization_role: None,
        declined_at: None,
        client_id: None,
        delivered_at: (!i.is_multiple_of(5)).then_some(created_at),
        opened_at: (kind == 1 || i.is_multiple_of(8)).then_some(created_at),
    }
}

fn user(run: &str, i: usize, hash: &str, now: chrono::NaiveDateTime) -> UserRow {
    UserRow {
        id: storage::new_id(),
        email: format!("seed-{run}-{i}@users.example.com"),
        display_name: None,
        password_hash: hash.to_string(),
        role: Role::Member,
        created_at: now - chrono::Duration::seconds(i as i64),
        disabled_at: None,
        invited_by_type: None,
        invited_by_id: None,
        invitation_id: None,
        invitation_serial: 0,
    }
}
