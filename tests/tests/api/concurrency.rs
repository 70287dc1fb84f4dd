use crate::both_backends;
use crate::helpers::*;
use futures_util::future::join_all;
use invitegate_client::Registration;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;

both_backends!(
    fifty_registrations_with_one_single_use_token_make_one_account,
    twenty_redemptions_of_a_three_use_link_make_three_accounts,
    a_member_racing_past_the_quota_cannot_exceed_it,
    bulk_creations_racing_on_the_same_addresses_invite_each_once,
    a_set_of_invitations_meeting_the_reservation_index_is_refused_whole,
    concurrent_verifications_each_show_their_own_invitation,
);

async fn fifty_registrations_with_one_single_use_token_make_one_account(b: Backend) {
    let app = spawn_app_with(b, |c| c.hash_queue = 1000).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let attempts = (0..50).map(|_| {
        let http = app.http.clone();
        let url = app.url("/api/v1/register");
        let body = register_req("ann@example.com", Some(&inv.token));
        async move {
            let res = http.post(url).json(&body).send().await.unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.unwrap_or_default();
            (
                status,
                body["code"].as_str().unwrap_or_default().to_string(),
            )
        }
    });
    let answers = join_all(attempts).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    // Whether a loser saw the use taken before hashing or after, it is told so.
    let used = answers
        .iter()
        .filter(|(s, c)| *s == 410 && c == ErrorCode::InvitationUsed.as_str())
        .count();
    assert_eq!((created, used), (1, 49), "{answers:?}");
    assert_eq!(app.count_users().await, 2);
    let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!(got.uses, 1);
}

async fn twenty_redemptions_of_a_three_use_link_make_three_accounts(b: Backend) {
    let app = spawn_app_with(b, |c| c.hash_queue = 1000).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            max_uses: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    let emails: Vec<String> = (0..20).map(|i| format!("guest{i}@example.com")).collect();
    let requests: Vec<RegisterRequest> = emails
        .iter()
        .map(|e| register_req(e, Some(&inv.token)))
        .collect();
    let registrations = requests.iter().map(|r| app.api.register(r));
    for r in join_all(registrations).await {
        assert!(matches!(r.unwrap(), Registration::VerificationPending));
    }
    let mut tokens = Vec::new();
    for e in &emails {
        tokens.push(app.link_token_for(e, "/verify-email").await);
    }
    let confirmations = tokens.iter().map(|t| {
        let http = app.http.clone();
        let url = app.url("/api/v1/email-verifications/confirm");
        let body = ConfirmEmailRequest {
            token: t.clone(),
            password: Some(PASSWORD.into()),
            display_name: None,
        };
        async move {
            http.post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(confirmations).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let used = statuses.iter().filter(|s| **s == 410).count();
    assert_eq!((created, used), (3, 17), "{statuses:?}");
    assert_eq!(app.count_users().await, 4);
    let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
    assert_eq!(
        (got.uses, got.state),
        (3, invitegate_core::model::InvitationState::Accepted)
    );
}

async fn a_member_racing_past_the_quota_cannot_exceed_it(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, member) = app.member(&admin, "mia@example.com").await;
    let attempts = (0..20).map(|i| {
        let http = app.http.clone();
        let url = app.url("/api/v1/invitations");
        let token = member.access_token.clone();
        let body = CreateInvitationRequest {
            email: Some(format!("friend{i}@example.com")),
            ..Default::default()
        };
        async move {
            http.post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 403).count();
    assert_eq!((created, refused), (5, 15), "{statuses:?}");
    let me = app
        .api
        .with_bearer(&member.access_token)
        .me()
        .await
        .unwrap();
    assert_eq!(
        (me.invite_quota.used, me.invite_quota.remaining),
        (5, Some(0))
    );
}

/// Four bulk creations of the same addresses (two chunks each) at once, from four keys: each
/// address gets one invitation and one email; every other row says `already_invited`.
async fn bulk_creations_racing_on_the_same_addresses_invite_each_once(b: Backend) {
    let app = spawn_app(b).await;
    let chunk = invitegate_server::invitations::bulk::chunk_rows(app.state.backend);
    let n = chunk + 100;
    let admin = app.admin().await;
    let before = app.count_invitations().await;
    let mut keys = Vec::new();
    for _ in 0..4 {
        keys.push(
            app.api_key(&admin, &[invitegate_core::model::Scope::InvitationsWrite])
                .await,
        );
    }
    let rows: Vec<CreateInvitationRequest> = (0..n)
        .map(|i| email_req(&format!("crowd{i}@example.com")))
        .collect();
    let body = BulkCreateRequest {
        invitations: rows,
        dry_run: false,
    };
    let runs = keys.iter().map(|key| key.bulk_create_invitations(&body));
    let results: Vec<BulkCreateResponse> = join_all(runs)
        .await
        .into_iter()
        .map(|r| r.expect("every bulk call succeeds"))
        .collect();
    for i in 0..n {
        let statuses: Vec<BulkStatus> = results.iter().map(|r| r.results[i].status).collect();
        let created = statuses
            .iter()
            .filter(|s| **s == BulkStatus::Created)
            .count();
        let invited = statuses
            .iter()
            .filter(|s| **s == BulkStatus::AlreadyInvited)
            .count();
        assert_eq!((created, invited), (1, 3), "row {i}: {statuses:?}");
    }
    assert_eq!(app.count_invitations().await, before + n as i64);
    let emails = app.emails().await;
    for i in [0, chunk - 1, chunk, n - 1] {
        let to = format!("To: crowd{i}@example.com");
        assert_eq!(emails.iter().filter(|m| m.contains(&to)).count(), 1, "{to}");
    }
}

/// Bulk creation writes a chunk at once (a `COPY` on PostgreSQL) and, when another request
/// took one of its addresses meanwhile, starts the chunk again row by row. That needs the set
/// refused whole, with the error an INSERT gives: a unique violation.
async fn a_set_of_invitations_meeting_the_reservation_index_is_refused_whole(b: Backend) {
    use invitegate_core::model::{ActorType, Role};
    use invitegate_server::storage::{self, invitations, models::InvitationRow};
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let created = || async {
        admin
            .insights_funnel(&InsightsQuery::default())
            .await
            .unwrap()
            .created
    };
    let (before, counted_before) = (app.count_invitations().await, created().await);
    let row = |n: u32, email: &str| {
        let now = storage::now();
        InvitationRow {
            id: format!("set-{n}"),
            token_hash: format!("set-hash-{n}"),
            email: Some(email.into()),
            pending_email: Some(email.into()),
            email_domain: None,
            role: Role::Member,
            max_uses: 1,
            uses: 0,
            expires_at: now + chrono::Duration::days(1),
            created_at: now,
            accepted_at: None,
            revoked_at: None,
            inviter_type: ActorType::System,
            inviter_id: "system".into(),
            note: None,
            bootstrap: false,
            reminded_at: None,
            expired_at: None,
            email_proof_required: false,
            organization_id: None,
            organization_role: None,
            declined_at: None,
            client_id: None,
            delivered_at: None,
            opened_at: None,
        }
    };
    let taken = row(0, "taken@example.com");
    let set = vec![row(1, "free@example.com"), row(2, "taken@example.com")];
    let refused = app
        .db(move |c| {
            invitations::insert(c, &taken)?;
            Ok(invitations::insert_many(c, &set))
        })
        .await
        .expect_err("the address is reserved");
    assert!(storage::is_unique_violation(&refused), "{refused:?}");
    assert_eq!(app.count_invitations().await, before + 1, "none of the set");

    // 1,400 rows of 25 columns bind more than SQLite's 32,766 parameters in one statement.
    let fresh: Vec<InvitationRow> = (3..1_403)
        .map(|n| row(n, &format!("set{n}@example.com")))
        .collect();
    app.db(move |c| Ok(invitations::insert_many(c, &fresh)?))
        .await;
    assert_eq!(app.count_invitations().await, before + 1 + 1_400);
    assert_eq!(created().await, counted_before + 1 + 1_400);
}

/// Verifications arriving together are read together on PostgreSQL: each must still get its
/// own invitation's preview, the right refusal, and a state no older than its request.
async fn concurrent_verifications_each_show_their_own_invitation(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            slug: None,
            members_can_invite: None,
        })
        .await
        .unwrap();
    let key = app
        .api_key(&admin, &[invitegate_core::model::Scope::InvitationsWrite])
        .await;
    let mut made = Vec::new();
    for i in 0..12 {
        let by = if i % 2 == 0 { &admin } else { &key };
        let inv = by
            .create_invitation(&CreateInvitationRequest {
                email: Some(format!("guest{i}@example.com")),
                organization_id: (i % 3 == 0).then(|| org.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        made.push(inv);
    }
    let revoked = admin
        .create_invitation(&email_req("gone@example.com"))
        .await
        .unwrap();
    admin
        .revoke_invitation(&revoked.invitation.id)
        .await
        .unwrap();
    let api = &app.api;
    let checks = (0..10).flat_map(|_| made.iter()).map(|inv| async move {
        let got = api.verify_invitation(&inv.token).await.unwrap().invitation;
        (inv, got)
    });
    for (inv, got) in join_all(checks).await {
        assert_eq!(got.id, inv.invitation.id);
        assert_eq!(got.email, inv.invitation.email);
        let by_key = got.email.as_deref().is_some_and(|e| {
            e.trim_start_matches("guest")
                .trim_end_matches("@example.com")
                .parse::<u32>()
                .is_ok_and(|n| n % 2 == 1)
        });
        let inviter = if by_key { "test" } else { "owner@example.com" };
        assert_eq!(got.inviter_display_name.as_deref(), Some(inviter));
        let expected = inv.invitation.organization.as_ref();
        assert!(expected.is_none_or(|o| o.id == org.id && o.slug == org.slug));
        assert_eq!(got.organization.as_ref(), expected);
    }
    // On PostgreSQL lookups that arrive together share a statement: these did.
    let largest = app.state.token_lookups.as_ref().map(|l| l.largest_batch());
    match b {
        Backend::Postgres => assert!(largest > Some(1), "largest batch {largest:?}"),
        Backend::Sqlite => assert_eq!(largest, None),
    }
    let refusals = (0..5).map(|_| app.api.verify_invitation(&revoked.token));
    for r in join_all(refusals).await {
        assert_problem(r, 410, ErrorCode::InvitationRevoked);
    }
    // Verifications sent once a registration has answered, some read with other tokens'
    // lookups, must all see it: none may show the invitation as still open.
    for (i, inv) in made.iter().enumerate().take(3) {
        app.api
            .register(&register_req(
                &format!("guest{i}@example.com"),
                Some(&inv.token),
            ))
            .await
            .unwrap();
        let after = (0..8).map(|n| {
            let token = if n % 2 == 0 {
                &inv.token
            } else {
                &made[11 - n].token
            };
            app.api.verify_invitation(token)
        });
        let results = join_all(after).await;
        for (n, r) in results.into_iter().enumerate() {
            if n % 2 == 0 {
                assert_problem(r, 410, ErrorCode::InvitationUsed);
            } else {
                r.unwrap();
            }
        }
    }
}

/// On SQLite, HTTP workers run registrations' transactions themselves only when no other
/// connection holds the write lock. One that meets the lock held elsewhere (a CLI import, a
/// second server on the same file) is not refused: it waits its turn on the blocking pool and
/// commits after the holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_transaction_waits_out_a_write_lock_held_elsewhere() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use invitegate_server::storage::{ConnectionManager, DbConn, DbError, schema::write_lock};
    let app = spawn_app(Backend::Sqlite).await;
    let url = app.config.database_url.clone().unwrap();
    let mut other = ConnectionManager::new(&url).unwrap().establish().unwrap();
    other.batch_execute("BEGIN IMMEDIATE").unwrap();
    let mut waiting = Box::pin(app.state.db_write(|conn| -> Result<i64, DbError> {
        let DbConn::Sqlite(c) = conn else {
            unreachable!("a SQLite app")
        };
        diesel::update(write_lock::table)
            .set(write_lock::counter.eq(write_lock::counter + 1))
            .returning(write_lock::counter)
            .get_result(c)
    }));
    // Its first poll meets the lock and hands the transaction to the blocking pool.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    other
        .batch_execute("UPDATE write_lock SET counter = 41; COMMIT")
        .unwrap();
    let counter = waiting
        .await
        .expect("a pooled connection")
        .expect("committed");
    assert_eq!(counter, 42, "ran after the holder's commit");
}
