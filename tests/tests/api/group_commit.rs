//! Registrations that sign in at once are written several to a commit (a group commit); each
//! must still come out exactly as if written alone, whatever the others in its group do.

use crate::both_backends;
use crate::helpers::*;
use futures_util::future::join_all;
use invitegate_client::Registration;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::InvitationState;
use invitegate_server::registration::group_commit::MAX_GROUP;

both_backends!(
    registrations_arriving_together_share_commits_and_each_gets_its_account,
    an_address_with_an_account_in_a_group_leaves_the_others_written,
    a_use_refused_in_a_group_leaves_the_others_written,
);

fn commits(app: &TestApp) -> (u64, f64) {
    let h = &app.state.metrics.registrations_per_commit;
    (h.get_sample_count(), h.get_sample_sum())
}

/// One more invitee than a group holds registering at once (one into an organisation, which
/// the one statement on PostgreSQL leaves to the transaction) each get their own account,
/// session, membership and used invitation, in fewer commits than registrations.
async fn registrations_arriving_together_share_commits_and_each_gets_its_account(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let acme = org(&admin, "Acme").await;
    let mut invitations = Vec::new();
    let n = MAX_GROUP + 1;
    for i in 0..n {
        let email = format!("invitee{i}@example.com");
        let req = match i {
            3 => CreateInvitationRequest {
                organization_id: Some(acme.id.clone()),
                ..email_req(&email)
            },
            _ => email_req(&email),
        };
        invitations.push((email, admin.create_invitation(&req).await.unwrap()));
    }
    let requests: Vec<RegisterRequest> = invitations
        .iter()
        .map(|(email, inv)| register_req(email, Some(&inv.token)))
        .collect();
    let before = commits(&app);
    let registered = join_all(requests.iter().map(|r| app.api.register(r))).await;
    let after = commits(&app);
    for ((email, inv), registered) in invitations.iter().zip(registered) {
        let Registration::SignedIn(session) = registered.unwrap() else {
            panic!("{email}: an email-bound invitation signs in at once");
        };
        let me = app
            .api
            .with_bearer(&session.access_token)
            .me()
            .await
            .unwrap();
        assert_eq!(me.user.email, *email);
        let in_acme = me.memberships.iter().any(|m| m.organization.id == acme.id);
        assert_eq!(in_acme, email == "invitee3@example.com", "{email}");
        let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
        assert_eq!((got.uses, got.state), (1, InvitationState::Accepted));
        let login = app.api.login(email, PASSWORD).await.unwrap();
        assert_eq!(login.user.id, me.user.id);
    }
    assert_eq!(app.count_users().await, n as i64 + 1);
    let (count, sum) = (after.0 - before.0, after.1 - before.1);
    // On PostgreSQL the invitation into an organisation is written alone, outside the group.
    let grouped = if b == Backend::Postgres { n - 1 } else { n } as f64;
    assert_eq!(sum, grouped, "registrations written by group commits");
    assert!(
        (count as f64) < grouped,
        "{count} commits for {grouped} registrations arriving together"
    );
}

/// In a group, the registration of an address that got an account after its invitation was
/// made changes nothing of that account and leaves its invitation unused (the owner is told
/// instead); the others in the group are written.
async fn an_address_with_an_account_in_a_group_leaves_the_others_written(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.invitation_whitelist_emails = vec!["ann@example.com".into()]
    })
    .await;
    let admin = app.admin().await;
    let anns = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    app.api
        .register(&register_req("ann@example.com", None))
        .await
        .unwrap();
    let link = app.link_token_for("ann@example.com", "/verify-email").await;
    let ann = app.api.confirm_email(&link, PASSWORD).await.unwrap();
    let mut others = Vec::new();
    for i in 0..5 {
        let email = format!("other{i}@example.com");
        others.push((
            email.clone(),
            admin.create_invitation(&email_req(&email)).await.unwrap(),
        ));
    }
    let attacker = RegisterRequest {
        password: Some("attacker chosen password 1".into()),
        ..register_req("ann@example.com", Some(&anns.token))
    };
    let anns_registration = async {
        app.http
            .post(app.url("/api/v1/register"))
            .json(&attacker)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let requests: Vec<RegisterRequest> = others
        .iter()
        .map(|(email, inv)| register_req(email, Some(&inv.token)))
        .collect();
    let (anns_status, registered) = tokio::join!(
        anns_registration,
        join_all(requests.iter().map(|r| app.api.register(r)))
    );
    assert_eq!(anns_status, 202);
    let got = admin.get_invitation(&anns.invitation.id).await.unwrap();
    assert_eq!((got.uses, got.state), (0, InvitationState::Pending));
    assert_eq!(
        app.api
            .login("ann@example.com", PASSWORD)
            .await
            .unwrap()
            .user
            .id,
        ann.user.id
    );
    for ((email, inv), registered) in others.iter().zip(registered) {
        assert!(
            matches!(registered.unwrap(), Registration::SignedIn(_)),
            "{email}"
        );
        let got = admin.get_invitation(&inv.invitation.id).await.unwrap();
        assert_eq!(got.uses, 1, "{email}");
    }
    assert_eq!(app.count_users().await, 7);
}

/// One single-use invitation registered six times, interleaved with six invitees who have
/// invitations of their own, all at once: a group takes each invitation once, so the repeats
/// reach the guard in later groups beside the others. The use is taken once, every repeat is
/// told `invitation_used` and writes nothing, and every other invitee gets an account.
async fn a_use_refused_in_a_group_leaves_the_others_written(b: Backend) {
    let app = spawn_app_with(b, |c| c.hash_queue = 1000).await;
    let admin = app.admin().await;
    let anns = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let mut requests = Vec::new();
    for i in 0..6 {
        let email = format!("other{i}@example.com");
        let inv = admin.create_invitation(&email_req(&email)).await.unwrap();
        requests.push(register_req(&email, Some(&inv.token)));
        requests.push(register_req("ann@example.com", Some(&anns.token)));
    }
    let answers = join_all(requests.iter().map(|r| app.api.register(r))).await;
    let (anns_answers, others): (Vec<_>, Vec<_>) = requests
        .iter()
        .zip(&answers)
        .partition(|(r, _)| r.email == "ann@example.com");
    let created = anns_answers
        .iter()
        .filter(|(_, a)| matches!(a, Ok(Registration::SignedIn(_))))
        .count();
    let used = anns_answers
        .iter()
        .filter(|(_, a)| {
            matches!(a, Err(e @ invitegate_client::ClientError::Api { status: 410, .. })
                if e.code() == Some(ErrorCode::InvitationUsed))
        })
        .count();
    assert_eq!((created, used), (1, 5), "{answers:?}");
    for (request, answer) in others {
        assert!(
            matches!(answer, Ok(Registration::SignedIn(_))),
            "{}: {answer:?}",
            request.email
        );
    }
    assert_eq!(app.count_users().await, 8);
    let got = admin.get_invitation(&anns.invitation.id).await.unwrap();
    assert_eq!((got.uses, got.state), (1, InvitationState::Accepted));
}

mod postgres_only {
    use crate::helpers::*;
    use invitegate_server::storage::{self, registrations::*};

    const EMAILS: [&str; 3] = ["ann@example.com", "bob@example.com", "cy@example.com"];

    /// Three registrations in one statement, one of them with a revoked invitation: the other
    /// two are written, each user with its own two events and session, and the revoked one
    /// writes nothing. The same invitation twice in one statement writes nothing at all.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_statement_writes_each_registration_whose_invitation_can_be_used() {
        let app = spawn_app(Backend::Postgres).await;
        let admin = app.admin().await;
        let mut ids = Vec::new();
        for email in EMAILS {
            let created = admin.create_invitation(&email_req(email)).await.unwrap();
            ids.push(created.invitation.id);
        }
        admin.revoke_invitation(&ids[1]).await.unwrap();
        let all: Vec<_> = EMAILS
            .iter()
            .zip(&ids)
            .map(|(e, id)| invited_account_rows(e, id))
            .collect();
        let users: Vec<String> = all.iter().map(|(u, _, _)| u.id.clone()).collect();
        let invitations = ids.clone();
        let (twice, written) = app
            .db(move |c| {
                let now = storage::now();
                let accounts: Vec<InvitedAccount<'_>> = all
                    .iter()
                    .zip(&invitations)
                    .map(|((user, events, session), id)| InvitedAccount {
                        invitation_id: id,
                        now,
                        email_domain: "example.com",
                        user,
                        events,
                        session,
                    })
                    .collect();
                let (ann, cy) = (&all[0], &all[2]);
                let twice = [
                    InvitedAccount {
                        invitation_id: &invitations[0],
                        now,
                        email_domain: "example.com",
                        user: &ann.0,
                        events: &ann.1,
                        session: &ann.2,
                    },
                    InvitedAccount {
                        invitation_id: &invitations[0],
                        now,
                        email_domain: "example.com",
                        user: &cy.0,
                        events: &cy.1,
                        session: &cy.2,
                    },
                ];
                let twice = insert_at_once(c, &twice)?;
                Ok((twice, insert_at_once(c, &accounts)?))
            })
            .await;
        assert_eq!(
            twice,
            AtOnce {
                written: vec![],
                webhooks: false
            }
        );
        let mut got = written.written.clone();
        got.sort();
        let mut want = vec![ids[0].clone(), ids[2].clone()];
        want.sort();
        assert_eq!(got, want);
        for (n, user) in users.into_iter().enumerate() {
            let (events, sessions, exists) = app
                .db(move |c| {
                    use diesel::prelude::*;
                    use invitegate_server::storage::schema::users as u;
                    use invitegate_server::storage::schema::{audit_events as a, sessions as s};
                    let events: Vec<String> = a::table
                        .filter(a::target_id.eq(&user))
                        .select(a::action)
                        .order(a::action)
                        .load(c)?;
                    let sessions: i64 = s::table
                        .filter(s::user_id.eq(&user))
                        .count()
                        .get_result(c)?;
                    let exists: i64 = u::table.filter(u::id.eq(&user)).count().get_result(c)?;
                    Ok((events, sessions, exists))
                })
                .await;
            if n == 1 {
                assert_eq!((events.len(), sessions, exists), (0, 0, 0), "revoked");
            } else {
                assert_eq!(
                    events,
                    vec!["invitation.redeemed", "registration.succeeded"]
                );
                assert_eq!((sessions, exists), (1, 1));
            }
        }
        for (n, id) in ids.iter().enumerate() {
            let got = admin.get_invitation(id).await.unwrap();
            assert_eq!(got.uses, i32::from(n != 1), "invitation {n}");
        }
    }
}
