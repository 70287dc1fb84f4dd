//! Organisation screens: an existing account opens an organisation invitation, signs in and
//! accepts it; an owner invites and manages roles from the member area; the admin console's
//! Organisations screen.

use crate::harness::{Browser, spawn_web_app};
use crate::helpers::{Backend, PASSWORD, TestApp, email_req, register_req};
use invitegate_client::{Client, Registration};
use invitegate_core::api::{
    CreateInvitationRequest, CreateOrganizationRequest, InvitationListQuery,
};
use invitegate_core::model::OrganizationRole;

async fn acme(admin: &Client) -> String {
    admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

/// Registers `email` through an invitation into `org` as `role`.
async fn joined(app: &TestApp, admin: &Client, org: &str, email: &str, role: OrganizationRole) {
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.into()),
            organization_role: Some(role),
            ..email_req(email)
        })
        .await
        .unwrap();
    let registered = app
        .api
        .register(&register_req(email, Some(&inv.token)))
        .await
        .unwrap();
    assert!(matches!(registered, Registration::SignedIn(_)));
}

async fn sign_in(b: &Browser, email: &str) {
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_account_opens_an_organisation_invitation_signs_in_and_accepts() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let org = acme(&admin).await;
    let (_, mia) = app.member(&admin, "mia@example.com").await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.clone()),
            send_email: Some(false),
            ..email_req("mia@example.com")
        })
        .await
        .unwrap();

    let mut b = Browser::start("org-invite", 1280).await;
    b.open(&inv.url).await;
    b.wait_text("invited you to join Acme.").await;
    b.screen("organisation-invitation").await;
    b.click_button("Sign in to accept").await;
    b.wait_path("/login").await;
    sign_in(&b, "mia@example.com").await;
    // Back on the invitation, which names the account that would accept it.
    b.wait_path("/invite").await;
    b.wait_text("You are signed in as mia@example.com").await;
    b.screen("organisation-invitation-signed-in").await;
    b.click_button("Accept invitation").await;
    b.wait_text("You joined Acme.").await;
    b.click_button("Go to your account").await;
    b.wait_text("Acme — member").await;
    let members = admin
        .organization_members(&org, &Default::default())
        .await
        .unwrap();
    assert!(members.data.iter().any(|m| m.user.id == mia.user.id));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_invites_and_manages_roles_from_the_member_area() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let org = acme(&admin).await;
    joined(
        &app,
        &admin,
        &org,
        "olive@example.com",
        OrganizationRole::Owner,
    )
    .await;
    joined(
        &app,
        &admin,
        &org,
        "max@example.com",
        OrganizationRole::Member,
    )
    .await;

    let mut b = Browser::start("org-manage", 1280).await;
    b.open(&app.url("/login")).await;
    sign_in(&b, "olive@example.com").await;
    b.wait_path("/app").await;
    b.wait_text("Manage Acme").await;
    b.wait_text("Whoever can read the email sent to this address can join Acme as member.")
        .await;
    b.screen("organisation-manage").await;

    let field = |s: &str| format!("#org-invite-{s}-{org}");
    b.fill(&field("email"), "pat@example.com").await;
    b.fill(&field("email-again"), "pat@exmaple.com").await;
    b.click_button("Send invitation").await;
    b.wait_text("The two addresses differ.").await;
    b.fill(&field("email-again"), "pat@example.com").await;
    b.click_button("Send invitation").await;
    b.wait_text("Invitation sent to pat@example.com.").await;

    // Max becomes an admin of Acme from the members table.
    let max = admin
        .organization_members(&org, &Default::default())
        .await
        .unwrap()
        .data
        .into_iter()
        .find(|m| m.user.email == "max@example.com")
        .unwrap();
    b.el(&format!("#role-{}", max.user.id))
        .await
        .select_by_value("admin")
        .await
        .expect("selects");
    b.wait_text("max@example.com is now admin.").await;
    b.screen("organisation-role-changed").await;

    let members = admin
        .organization_members(&org, &Default::default())
        .await
        .unwrap();
    let role_of = |email: &str| {
        members
            .data
            .iter()
            .find(|m| m.user.email == email)
            .map(|m| m.role)
    };
    assert_eq!(role_of("max@example.com"), Some(OrganizationRole::Admin));
    let invitations = admin
        .list_invitations(&InvitationListQuery::default())
        .await
        .unwrap();
    let pat = invitations
        .data
        .iter()
        .find(|i| i.email.as_deref() == Some("pat@example.com"))
        .expect("invited");
    assert_eq!(
        pat.organization.as_ref().map(|o| o.id.as_str()),
        Some(org.as_str())
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_console_creates_and_manages_organisations() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    acme(&admin).await;

    let mut b = Browser::start("admin-orgs", 1280).await;
    b.open(&app.url("/login?next=/admin/organizations")).await;
    sign_in(&b, "owner@example.com").await;
    b.wait_path("/admin/organizations").await;
    b.wait_text("acme").await;
    b.fill("#org-name", "Initech").await;
    b.click_button("Create organisation").await;
    b.wait_text("Manage Initech").await;
    b.wait_text("initech").await;
    b.screen("admin-organisations").await;

    let listed = admin.list_organizations(&Default::default()).await.unwrap();
    let initech = listed
        .data
        .iter()
        .find(|o| o.slug == "initech")
        .expect("created");
    // The administrator who created it owns it, and the management card lists them with a
    // role they may change.
    assert_eq!(initech.member_count, 1);
    let me = admin.me().await.unwrap();
    let role = b.el(&format!("#role-{}", me.user.id)).await;
    assert_eq!(role.prop("value").await.unwrap().as_deref(), Some("owner"));

    // Inviting into it from its card lists the invitation there.
    b.fill(
        &format!("#org-invite-email-{}", initech.id),
        "quinn@example.com",
    )
    .await;
    b.fill(
        &format!("#org-invite-email-again-{}", initech.id),
        "quinn@example.com",
    )
    .await;
    b.click_button("Send invitation").await;
    b.wait_text("Invitation sent to quinn@example.com.").await;
    let table = b.el("[data-testid=organization-invitations]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !table.text().await.unwrap().contains("quinn@example.com") {
        assert!(
            std::time::Instant::now() < deadline,
            "the card lists the invitation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_account_proves_the_invited_address_at_accept_invitation() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let org = acme(&admin).await;
    app.member(&admin, "cy@example.com").await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.clone()),
            send_email: Some(false),
            ..email_req("cy@work.example")
        })
        .await
        .unwrap();

    let mut b = Browser::start("org-proof", 1280).await;
    b.open(&app.url("/login")).await;
    sign_in(&b, "cy@example.com").await;
    b.wait_path("/app").await;
    b.open(&inv.url).await;
    b.wait_text("The invitation is for cy@work.example. You are signed in as cy@example.com")
        .await;
    b.click_button("Accept invitation").await;
    b.wait_text("We sent a link to cy@work.example to confirm that the address is yours.")
        .await;
    b.screen("organisation-proof-sent").await;

    let proof = app
        .link_token_for("cy@work.example", "/accept-invitation")
        .await;
    b.open(&app.url(&format!("/accept-invitation#token={proof}")))
        .await;
    b.wait_text("join with the account cy@example.com").await;
    b.screen("accept-invitation").await;
    b.click_button("Accept invitation").await;
    b.wait_text("You joined Acme.").await;
    let members = admin
        .organization_members(&org, &Default::default())
        .await
        .unwrap();
    assert!(
        members
            .data
            .iter()
            .any(|m| m.user.email == "cy@example.com")
    );
    b.close().await;
}
