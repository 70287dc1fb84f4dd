//! Verifying an invitation: what its preview names (read in one statement), and no transaction
//! of its own: its audit events are stored in batches, every one of them, and all of them by a
//! flush (which a clean shutdown does).

use crate::both_backends;
use crate::helpers::*;
use futures_util::future::join_all;

both_backends!(
    every_verification_is_audited_once_the_batch_is_stored,
    the_preview_and_a_dead_link_name_the_inviter_people_know,
);

/// The detail of a 410 from verifying `token`.
async fn dead_link_detail(app: &TestApp, token: &str) -> Option<String> {
    match app.api.verify_invitation(token).await {
        Err(invitegate_client::ClientError::Api {
            status: 410,
            problem,
        }) => problem.detail,
        other => panic!("expected a 410, got {other:?}"),
    }
}

async fn the_preview_and_a_dead_link_name_the_inviter_people_know(b: Backend) {
    use invitegate_core::model::Scope;
    use invitegate_server::invitations::service::{AdminInvitation, admin_invitation};
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let shown =
        |v: invitegate_core::api::VerifyInvitationResponse| v.invitation.inviter_display_name;
    // An API key is known by its name, a user by their email (no display name set).
    let key = app.api_key(&admin, &[Scope::InvitationsWrite]).await;
    let by_key = key
        .create_invitation(&email_req("kim@example.com"))
        .await
        .unwrap();
    let preview = app.api.verify_invitation(&by_key.token).await.unwrap();
    assert_eq!(shown(preview).as_deref(), Some("test"));
    let by_owner = admin
        .create_invitation(&email_req("lee@example.com"))
        .await
        .unwrap();
    let preview = app.api.verify_invitation(&by_owner.token).await.unwrap();
    assert_eq!(shown(preview).as_deref(), Some("owner@example.com"));
    // The server itself (the command line) is "The administrator".
    let link = admin_invitation(
        &app.state,
        AdminInvitation::ForEmail {
            email: invitegate_core::Email::parse("ops@example.com").unwrap(),
            days: 3,
        },
    )
    .await
    .unwrap()
    .unwrap();
    let by_system = link.split("#token=").nth(1).unwrap().to_string();
    let preview = app.api.verify_invitation(&by_system).await.unwrap();
    let system_id = preview.invitation.id.clone();
    assert_eq!(shown(preview).as_deref(), Some("The administrator"));
    // An expired link says whom to ask; a revoked one (it may have leaked) names no one.
    app.expire_invitation(&by_key.invitation.id).await;
    assert_eq!(
        dead_link_detail(&app, &by_key.token).await.as_deref(),
        Some("Ask test for a new invitation.")
    );
    app.expire_invitation(&system_id).await;
    assert_eq!(
        dead_link_detail(&app, &by_system).await.as_deref(),
        Some("Ask your administrator for a new invitation.")
    );
    admin
        .revoke_invitation(&by_owner.invitation.id)
        .await
        .unwrap();
    assert!(
        !dead_link_detail(&app, &by_owner.token)
            .await
            .unwrap_or_default()
            .contains("Ask")
    );
}

async fn every_verification_is_audited_once_the_batch_is_stored(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let results = join_all((0..40).map(|_| app.api.verify_invitation(&inv.token))).await;
    assert!(results.iter().all(Result::is_ok));
    app.state.audit.flush().await;
    let invitation = inv.invitation.id.clone();
    let stored = app
        .db(move |c| {
            use diesel::prelude::*;
            use invitegate_server::storage::schema::audit_events::dsl::*;
            Ok(audit_events
                .filter(action.eq("invitation.verified"))
                .filter(outcome.eq("success"))
                .filter(target_id.eq(invitation))
                .count()
                .get_result::<i64>(c)?)
        })
        .await;
    assert_eq!(stored, 40, "one event per verification, none lost");
}
