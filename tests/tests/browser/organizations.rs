//! Organisations in the member area: an existing account signs in, sees the invitations
//! addressed to it, accepts one and declines another.

use crate::harness::{Browser, spawn_web_app};
use crate::helpers::{Backend, PASSWORD, email_req};
use invitegate_core::api::{CreateInvitationRequest, CreateOrganizationRequest};
use invitegate_core::model::OrganizationRole;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_member_accepts_and_declines_organisation_invitations() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let (_, mia) = app.member(&admin, "mia@example.com").await;
    let mut orgs = Vec::new();
    for (name, role) in [
        ("Acme", OrganizationRole::Admin),
        ("Globex", OrganizationRole::Member),
    ] {
        let org = admin
            .create_organization(&CreateOrganizationRequest {
                name: name.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        orgs.push(org.id.clone());
        admin
            .create_invitation(&CreateInvitationRequest {
                organization_id: Some(org.id),
                organization_role: Some(role),
                ..email_req("mia@example.com")
            })
            .await
            .unwrap();
    }
    let mut b = Browser::start("organizations", 1280).await;
    b.open(&app.url("/login?login_hint=mia%40example.com"))
        .await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_path("/app").await;
    // The inviter is named: the administrator's address, as they have no display name.
    b.wait_text("owner@example.com invited you to join Acme as admin.")
        .await;
    b.wait_text("invited you to join Globex as member.").await;
    b.screen("organisation-invitations").await;

    // Each invitation is answered from its own row.
    let accept_acme =
        "//li[contains(normalize-space(.), 'join Acme')]//button[normalize-space(.)='Accept']";
    b.click_xpath(accept_acme).await;
    b.wait_text("You joined Acme.").await;
    let page = b.wait_text("Acme — admin").await;
    assert!(page.contains("Your organisations"), "{page}");
    let decline_globex =
        "//li[contains(normalize-space(.), 'join Globex')]//button[normalize-space(.)='Decline']";
    b.click_xpath(decline_globex).await;
    let page = b.wait_text("You declined the invitation to Globex.").await;
    assert!(
        !page.contains("Globex — "),
        "not a member of Globex: {page}"
    );
    b.screen("organisation-joined").await;

    // The server agrees: an admin of Acme, not a member of Globex.
    let acme = admin
        .organization_members(&orgs[0], &Default::default())
        .await
        .unwrap();
    let in_acme = acme
        .data
        .iter()
        .find(|m| m.user.id == mia.user.id)
        .expect("joined");
    assert_eq!(in_acme.role, OrganizationRole::Admin);
    let globex = admin
        .organization_members(&orgs[1], &Default::default())
        .await
        .unwrap();
    assert!(globex.data.iter().all(|m| m.user.id != mia.user.id));
    b.close().await;
}
