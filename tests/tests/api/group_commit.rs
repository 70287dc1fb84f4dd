//! Registrations that sign in at once are written several to a commit (a group commit); each
//! must still come out exactly as if written alone, whatever the others in its group do.

use crate::both_backends;
use crate::helpers::*;
use futures_util::future::join_all;
use invitegate_client::Registration;
use invitegate_core::api::*;
use invitegate_core::model::InvitationState;

both_backends!(
    registrations_arriving_together_share_commits_and_each_gets_its_account,
    an_address_with_an_account_in_a_group_leaves_the_others_written,
);

fn commits(app: &TestApp) -> (u64, f64) {
    let h = &app.state.metrics.registrations_per_commit;
    (h.get_sample_count(), h.get_sample_sum())
}

/// Ten invitees registering at once (one into an organisation, which the one statement on
/// PostgreSQL leaves to the transaction) each get their own account, session, membership and
/// used invitation, in fewer commits than registrations.
async fn registrations_arriving_together_share_commits_and_each_gets_its_account(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let acme = org(&admin, "Acme").await;
    let mut invitations = Vec::new();
    for i in 0..10 {
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
    assert_eq!(app.count_users().await, 11);
    let (count, sum) = (after.0 - before.0, after.1 - before.1);
    assert_eq!(sum, 10.0, "each registration is in one group");
    assert!(
        count < 10,
        "{count} commits for 10 registrations arriving together"
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
