//! Proof of ownership (seed 003): a signed-in account holding the link of an invitation
//! addressed to another email joins only after following a link emailed to that address, while
//! signed in as the same account.

use crate::both_backends;
use crate::helpers::*;
use invitegate_client::Acceptance;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::OrganizationRole;

both_backends!(
    another_address_needs_the_emailed_proof_and_only_its_account_can_use_it,
    a_proof_ends_with_its_invitation,
    a_removed_member_is_invited_back_and_a_dead_link_names_whom_to_ask,
    concurrent_uses_of_one_proof_make_one_membership,
);

async fn another_address_needs_the_emailed_proof_and_only_its_account_can_use_it(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Cy's account is on her personal address; Acme invited her work address.
    let (cy, _) = app.member(&admin, "cy@example.com").await;
    let (dee, _) = app.member(&admin, "dee@example.com").await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.id.clone()),
            organization_role: Some(OrganizationRole::Admin),
            ..email_req("cy@work.example")
        })
        .await
        .unwrap();

    assert!(matches!(
        cy.accept_invitation_by_token(&inv.token).await.unwrap(),
        Acceptance::VerificationPending
    ));
    let first = app
        .link_token_for("cy@work.example", "/accept-invitation")
        .await;
    let mail = app.emails().await.pop().unwrap();
    assert!(
        mail.contains("Acme") && mail.contains("cy@example.com"),
        "{mail}"
    );
    // Nothing is used up while the proof is pending, and the invitation is still not Cy's by id.
    app.api.verify_invitation(&inv.token).await.expect("intact");
    assert_problem(
        cy.accept_invitation(&inv.invitation.id).await,
        404,
        ErrorCode::NotFound,
    );

    // Asking again replaces the link: the first one stops working.
    cy.accept_invitation_by_token(&inv.token).await.unwrap();
    let second = app
        .link_token_for("cy@work.example", "/accept-invitation")
        .await;
    assert_ne!(first, second);
    assert_problem(
        cy.accept_invitation_with_proof(&first).await,
        400,
        ErrorCode::InvalidToken,
    );

    // A third account holding the proof cannot use it, and it stays usable for Cy.
    assert_problem(
        dee.accept_invitation_with_proof(&second).await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        cy.accept_invitation_with_proof("forged.token.value").await,
        400,
        ErrorCode::InvalidToken,
    );
    let m = cy.accept_invitation_with_proof(&second).await.unwrap();
    assert_eq!(m.organization.id, org.id);
    assert_eq!(m.user.email, "cy@example.com");
    assert_eq!(m.role, OrganizationRole::Admin);

    // The invitation is used, the proof too, and Dee never joined.
    assert_problem(
        app.api.verify_invitation(&inv.token).await,
        410,
        ErrorCode::InvitationUsed,
    );
    assert_problem(
        cy.accept_invitation_with_proof(&second).await,
        400,
        ErrorCode::InvalidToken,
    );
    let members = admin
        .organization_members(&org.id, &MemberListQuery::default())
        .await
        .unwrap();
    let emails: Vec<_> = members.data.iter().map(|m| m.user.email.as_str()).collect();
    assert!(emails.contains(&"cy@example.com") && !emails.contains(&"dee@example.com"));
}

/// Acme, Cy's account on her personal address, an invitation into Acme for her work address,
/// and the proof-of-ownership link her accepting it sent there.
async fn proof_pending(
    b: Backend,
) -> (
    TestApp,
    invitegate_client::Client,
    Organization,
    invitegate_client::Client,
    InvitationWithToken,
    String,
) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (cy, _) = app.member(&admin, "cy@example.com").await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.id.clone()),
            ..email_req("cy@work.example")
        })
        .await
        .unwrap();
    cy.accept_invitation_by_token(&inv.token).await.unwrap();
    let proof = app
        .link_token_for("cy@work.example", "/accept-invitation")
        .await;
    (app, admin, org, cy, inv, proof)
}

async fn a_proof_ends_with_its_invitation(b: Backend) {
    let (app, admin, org, cy, inv, proof) = proof_pending(b).await;
    admin.revoke_invitation(&inv.invitation.id).await.unwrap();
    assert_problem(
        cy.accept_invitation_with_proof(&proof).await,
        410,
        ErrorCode::InvitationRevoked,
    );
    assert_eq!(
        admin.get_organization(&org.id).await.unwrap().member_count,
        1
    );
    // A revoked link names no one to ask: it may have been withdrawn because it leaked.
    let err = app.api.verify_invitation(&inv.token).await.unwrap_err();
    let invitegate_client::ClientError::Api { status, problem } = err else {
        panic!("{err:?}")
    };
    assert_eq!(status, 410);
    assert!(
        !problem.detail.unwrap_or_default().contains("Ask "),
        "a revoked link names no one"
    );
}

async fn a_removed_member_is_invited_back_and_a_dead_link_names_whom_to_ask(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let org = admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (cy, cy_s) = app.member(&admin, "cy@example.com").await;
    let invite = || async {
        admin
            .create_invitation(&CreateInvitationRequest {
                organization_id: Some(org.id.clone()),
                ..email_req("cy@example.com")
            })
            .await
            .unwrap()
    };
    let first = invite().await;
    cy.accept_invitation(&first.invitation.id).await.unwrap();
    admin
        .remove_organization_member(&org.id, &cy_s.user.id)
        .await
        .unwrap();
    assert!(cy.me().await.unwrap().memberships.is_empty());
    // The used link says so and names whom to ask.
    let err = app.api.verify_invitation(&first.token).await.unwrap_err();
    let invitegate_client::ClientError::Api { status, problem } = err else {
        panic!("{err:?}")
    };
    assert_eq!((status, problem.code.as_str()), (410, "invitation_used"));
    assert_eq!(
        problem.detail.as_deref(),
        Some("Ask owner@example.com for a new invitation.")
    );
    // Rejoining takes a new invitation, accepted like the first.
    let again = invite().await;
    let m = cy.accept_invitation(&again.invitation.id).await.unwrap();
    assert_eq!(m.organization.id, org.id);
    assert_eq!(cy.me().await.unwrap().memberships.len(), 1);
}

async fn concurrent_uses_of_one_proof_make_one_membership(b: Backend) {
    let (_app, admin, org, cy, _, proof) = proof_pending(b).await;
    let results =
        futures_util::future::join_all((0..10).map(|_| cy.accept_invitation_with_proof(&proof)))
            .await;
    let joined = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(joined, 1, "{results:?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        let status = r.status().unwrap_or(0);
        assert!(
            [400, 409, 410].contains(&status),
            "a lost race is a client error, not {status}: {r:?}"
        );
    }
    assert_eq!(
        admin.get_organization(&org.id).await.unwrap().member_count,
        2
    );
}
