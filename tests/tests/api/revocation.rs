//! Revocation is complete, and members learn nothing about other people's accounts (issue 8,
//! items 11 and 12).

use crate::both_backends;
use crate::helpers::*;
use invitegate_client::Registration;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{Role, Scope};

/// A revoked key's invitations die with it; a disabled admin's keys and their invitations too.
async fn authority_ends_with_whoever_issued_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.admin().await;
    let key = app.api_key(&owner, &[Scope::InvitationsWrite]).await;
    let by_key = key
        .create_invitation(&email_req("from-key@example.com"))
        .await
        .unwrap();
    let key_id = owner.list_api_keys().await.unwrap()[0].id.clone();
    owner.revoke_api_key(&key_id).await.unwrap();
    assert_problem(
        app.api.verify_invitation(&by_key.token).await,
        410,
        ErrorCode::InvitationRevoked,
    );

    let deputy_inv = owner
        .create_invitation(&CreateInvitationRequest {
            role: Some(Role::Admin),
            ..email_req("deputy@example.com")
        })
        .await
        .unwrap();
    let deputy = match app
        .api
        .register(&register_req("deputy@example.com", Some(&deputy_inv.token)))
        .await
        .unwrap()
    {
        Registration::SignedIn(s) => app.api.with_bearer(&s.access_token),
        Registration::VerificationPending => panic!("email-bound"),
    };
    let deputy_key = app.api_key(&deputy, &[Scope::InvitationsWrite]).await;
    let by_deputy_key = deputy_key
        .create_invitation(&email_req("from-deputy-key@example.com"))
        .await
        .unwrap();
    let deputy_id = deputy.me().await.unwrap().user.id;
    owner.disable_user(&deputy_id).await.unwrap();
    assert_problem(
        deputy_key.list_invitations(&Default::default()).await,
        401,
        ErrorCode::Unauthenticated,
    );
    assert_problem(
        app.api.verify_invitation(&by_deputy_key.token).await,
        410,
        ErrorCode::InvitationRevoked,
    );
}

/// Registrations started with a domain invitation's old token cannot complete after a resend.
async fn a_resend_cancels_verifications_started_with_the_old_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let domain = admin
        .create_invitation(&domain_req("corp.example", 5))
        .await
        .unwrap();
    app.api
        .register(&register_req("early@corp.example", Some(&domain.token)))
        .await
        .unwrap();
    let started = app
        .link_token_for("early@corp.example", "/verify-email")
        .await;
    admin
        .resend_invitation(&domain.invitation.id, &ResendInvitationRequest::default())
        .await
        .unwrap();
    assert_problem(
        app.api.confirm_email(&started, PASSWORD).await,
        400,
        ErrorCode::InvalidToken,
    );
    assert_eq!(app.count_users().await, 1, "only the owner");
}

/// Reviving an expired invitation takes a quota place like creating one.
async fn a_resend_of_an_expired_invitation_respects_the_quota(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    admin
        .patch_settings(&SettingsPatch {
            max_invites_per_user: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let (member, _) = app.member(&admin, "mia@example.com").await;
    let first = member
        .create_invitation(&email_req("one@example.com"))
        .await
        .unwrap();
    app.expire_invitation(&first.invitation.id).await;
    member
        .create_invitation(&email_req("two@example.com"))
        .await
        .expect("the expired one no longer counts");
    assert_problem(
        member
            .resend_invitation(&first.invitation.id, &ResendInvitationRequest::default())
            .await,
        403,
        ErrorCode::InviteQuotaExceeded,
    );
    assert_problem(
        app.api.verify_invitation(&first.token).await,
        410,
        ErrorCode::InvitationExpired,
    );
}

/// A member inviting an address that has an account, or that someone else invited, gets the
/// same answer as for a new address; the account's owner is told to sign in instead.
async fn members_cannot_probe_for_accounts_or_other_invitations(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let (member, _) = app.member(&admin, "mia@example.com").await;
    let fresh = member
        .create_invitation(&email_req("new@example.com"))
        .await
        .unwrap();
    let existing = member
        .create_invitation(&email_req("OWNER@example.com"))
        .await
        .expect("no 409 email_registered for members");
    let by_admin = admin
        .create_invitation(&email_req("popular@example.com"))
        .await
        .unwrap();
    let duplicate = member
        .create_invitation(&email_req("popular@example.com"))
        .await
        .expect("no 409 invitation_pending (with another inviter's id) for members");
    for inv in [&fresh, &existing, &duplicate] {
        assert_eq!(
            inv.invitation.state,
            invitegate_core::model::InvitationState::Pending
        );
        assert_ne!(inv.invitation.id, by_admin.invitation.id);
    }
    let emails = app.emails().await;
    let to_owner = emails
        .iter()
        .rev()
        .find(|m| m.contains("To: owner@example.com"))
        .expect("the owner is told");
    assert!(to_owner.contains("/login?login_hint="), "{to_owner}");
    assert!(!to_owner.contains("/invite#token="), "no invitation link");
    // The member holds the tokens, so redeeming one proves the address by email first: the
    // member can neither choose the invitee's password nor tell a new address (no account is
    // created, 202) from one with an account (202, a notice to its owner).
    for (inv, email) in [
        (&fresh, "new@example.com"),
        (&existing, "owner@example.com"),
    ] {
        let preview = app.api.verify_invitation(&inv.token).await.unwrap();
        assert!(preview.invitation.email_verification_required);
        let users = app.count_users().await;
        assert!(matches!(
            app.api
                .register(&register_req(email, Some(&inv.token)))
                .await
                .unwrap(),
            Registration::VerificationPending
        ));
        assert_eq!(app.count_users().await, users);
    }
    let chosen_later = app.link_token_for("new@example.com", "/verify-email").await;
    app.api
        .confirm_email(&chosen_later, "the invitee's own passphrase")
        .await
        .expect("the invitee chooses the password from their mailbox");
    // A resend by the member does not reveal the admin's invitation either.
    member
        .resend_invitation(
            &duplicate.invitation.id,
            &ResendInvitationRequest::default(),
        )
        .await
        .expect("no 409 invitation_pending on resend");
    // Administrators keep their precise answers.
    assert_problem(
        admin
            .create_invitation(&email_req("owner@example.com"))
            .await,
        409,
        ErrorCode::EmailRegistered,
    );
    assert_problem(
        admin
            .create_invitation(&email_req("popular@example.com"))
            .await,
        409,
        ErrorCode::InvitationPending,
    );
}

both_backends!(
    authority_ends_with_whoever_issued_it,
    a_resend_cancels_verifications_started_with_the_old_token,
    a_resend_of_an_expired_invitation_respects_the_quota,
    members_cannot_probe_for_accounts_or_other_invitations,
);
