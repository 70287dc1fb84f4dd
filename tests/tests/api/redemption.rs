//! Headless redemption: a host app that keeps its own accounts uses an invitation in its own
//! sign-up, atomically, with an `invitations:redeem` key.

use crate::both_backends;
use crate::helpers::*;
use futures_util::future::join_all;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{InvitationState, Scope};

both_backends!(
    a_host_app_redeems_an_invitation_without_an_account,
    thirty_concurrent_redemptions_of_one_token_make_one,
);

fn redeem(token: &str, email: &str) -> RedeemInvitationRequest {
    RedeemInvitationRequest {
        token: token.into(),
        email: email.into(),
        external_id: Some("crm-42".into()),
    }
}

async fn a_host_app_redeems_an_invitation_without_an_account(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let host = app.api_key(&admin, &[Scope::InvitationsRedeem]).await;
    let writer = app.api_key(&admin, &[Scope::InvitationsWrite]).await;
    let users_before = app.count_users().await;

    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    // Only the redeem scope may; the address must be the invited one.
    assert_problem(
        writer
            .redeem_invitation(&redeem(&inv.token, "ann@example.com"))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        host.redeem_invitation(&redeem(&inv.token, "eve@example.com"))
            .await,
        403,
        ErrorCode::EmailMismatch,
    );
    assert_problem(
        host.redeem_invitation(&redeem("forged.token.value", "ann@example.com"))
            .await,
        400,
        ErrorCode::InvalidInvitation,
    );
    let done = host
        .redeem_invitation(&redeem(&inv.token, "Ann@Example.com"))
        .await
        .unwrap();
    assert_eq!(done.invitation.state, InvitationState::Accepted);
    assert_eq!(done.redemption.email, "ann@example.com");
    assert_eq!(done.redemption.external_id.as_deref(), Some("crm-42"));
    assert_problem(
        host.redeem_invitation(&redeem(&inv.token, "ann@example.com"))
            .await,
        410,
        ErrorCode::InvitationUsed,
    );
    assert_eq!(
        app.count_users().await,
        users_before,
        "no Invitegate account"
    );

    // A domain invitation: any address at the domain, one use each.
    let corp = admin
        .create_invitation(&domain_req("corp.example", 2))
        .await
        .unwrap();
    assert_problem(
        host.redeem_invitation(&redeem(&corp.token, "bo@other.example"))
            .await,
        403,
        ErrorCode::EmailMismatch,
    );
    for who in ["bo@corp.example", "cy@corp.example"] {
        host.redeem_invitation(&redeem(&corp.token, who))
            .await
            .unwrap();
    }
    assert_problem(
        host.redeem_invitation(&redeem(&corp.token, "dee@corp.example"))
            .await,
        410,
        ErrorCode::InvitationUsed,
    );

    // Audited like a registration, marked headless.
    let audit = admin
        .list_audit_events(&AuditEventQuery {
            action: Some("invitation.redeemed".into()),
            target_id: Some(inv.invitation.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let event = audit
        .data
        .iter()
        .find(|e| e.details["headless"] == true && e.details["email"] == "ann@example.com")
        .expect("audited");
    assert_eq!(event.details["external_id"], "crm-42");
}

async fn thirty_concurrent_redemptions_of_one_token_make_one(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let host = app.api_key(&admin, &[Scope::InvitationsRedeem]).await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let body = redeem(&inv.token, "ann@example.com");
    let results = join_all((0..30).map(|_| host.redeem_invitation(&body))).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), Some(ErrorCode::InvitationUsed), "{r:?}");
    }
}
