//! Invite trees (issue 14): who brought in whom, and revoking a whole branch.

use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::Scope;

both_backends!(
    a_branch_is_shown_depth_first_and_revoked_as_a_whole,
    accounts_that_came_through_a_key_belong_to_the_branch_of_its_maker,
);

async fn a_branch_is_shown_depth_first_and_revoked_as_a_whole(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    // admin → ann → (bob → dan), cat; ann also has eve's invitation pending. admin → zed.
    let (ann, ann_s) = app.invited(&admin, "ann@example.com").await;
    let (bob, bob_s) = app.invited(&ann, "bob@example.com").await;
    app.invited(&ann, "cat@example.com").await;
    let (_, dan_s) = app.invited(&bob, "dan@example.com").await;
    let eve = ann
        .create_invitation(&email_req("eve@example.com"))
        .await
        .unwrap();
    app.invited(&admin, "zed@example.com").await;

    let tree = admin.invite_tree(&ann_s.user.id).await.unwrap();
    assert!(!tree.truncated);
    let shape: Vec<_> = tree
        .nodes
        .iter()
        .map(|n| {
            (
                n.user.email.as_str(),
                n.depth,
                n.parent_id.clone(),
                n.pending_invitations,
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            ("ann@example.com", 0, None, 1),
            ("bob@example.com", 1, Some(ann_s.user.id.clone()), 0),
            ("dan@example.com", 2, Some(bob_s.user.id.clone()), 0),
            ("cat@example.com", 1, Some(ann_s.user.id.clone()), 0),
        ]
    );
    let whole = admin
        .invite_tree(&admin.me().await.unwrap().user.id)
        .await
        .unwrap();
    assert_eq!(whole.nodes.len(), 6, "the owner, ann's four, zed");
    assert_problem(
        admin.invite_tree("no-such-user").await,
        404,
        ErrorCode::NotFound,
    );
    assert_problem(
        bob.invite_tree(&bob_s.user.id).await,
        403,
        ErrorCode::Forbidden,
    );

    // Members cannot revoke; nobody revokes a branch holding their own account.
    assert_problem(
        bob.revoke_invite_tree(&dan_s.user.id).await,
        403,
        ErrorCode::Forbidden,
    );
    let own = admin.me().await.unwrap().user.id;
    assert_problem(
        admin.revoke_invite_tree(&own).await,
        403,
        ErrorCode::Forbidden,
    );

    let done = admin.revoke_invite_tree(&ann_s.user.id).await.unwrap();
    assert_eq!(
        done,
        InviteTreeRevoked {
            accounts_disabled: 4,
            invitations_revoked: 1
        }
    );
    for email in [
        "ann@example.com",
        "bob@example.com",
        "cat@example.com",
        "dan@example.com",
    ] {
        assert!(
            app.api.login(email, PASSWORD).await.is_err(),
            "{email} is out"
        );
    }
    assert!(ann.me().await.is_err(), "ann's session ended");
    assert!(
        app.api.verify_invitation(&eve.token).await.is_err(),
        "eve's link is dead"
    );
    app.api
        .login("zed@example.com", PASSWORD)
        .await
        .expect("zed's branch stays");
    let after = admin.invite_tree(&ann_s.user.id).await.unwrap();
    assert!(
        after
            .nodes
            .iter()
            .all(|n| n.disabled && n.pending_invitations == 0)
    );
    let again = admin.revoke_invite_tree(&ann_s.user.id).await.unwrap();
    assert_eq!(
        again.accounts_disabled, 0,
        "already disabled accounts stay as they are"
    );
}

async fn accounts_that_came_through_a_key_belong_to_the_branch_of_its_maker(b: Backend) {
    let app = spawn_app(b).await;
    let owner = app.admin().await;
    let invitation = owner
        .create_invitation(&CreateInvitationRequest {
            role: Some(invitegate_core::model::Role::Admin),
            ..email_req("ada@example.com")
        })
        .await
        .unwrap();
    let ada_session = match app
        .api
        .register(&register_req("ada@example.com", Some(&invitation.token)))
        .await
        .unwrap()
    {
        invitegate_client::Registration::SignedIn(s) => *s,
        invitegate_client::Registration::VerificationPending => panic!("signed in at once"),
    };
    let ada = app.api.with_bearer(&ada_session.access_token);
    let key = app.api_key(&ada, &[Scope::InvitationsWrite]).await;
    app.invited(&key, "kay@example.com").await;

    let tree = owner.invite_tree(&ada_session.user.id).await.unwrap();
    let shape: Vec<_> = tree
        .nodes
        .iter()
        .map(|n| (n.user.email.as_str(), n.depth, n.parent_id.clone()))
        .collect();
    assert_eq!(
        shape,
        vec![
            ("ada@example.com", 0, None),
            ("kay@example.com", 1, Some(ada_session.user.id.clone())),
        ]
    );
    let done = owner
        .revoke_invite_tree(&ada_session.user.id)
        .await
        .unwrap();
    assert_eq!(
        done.accounts_disabled, 2,
        "Ada, and Kay who came through Ada's key"
    );
    assert!(app.api.login("kay@example.com", PASSWORD).await.is_err());
    assert!(
        key.create_invitation(&email_req("late@example.com"))
            .await
            .is_err(),
        "Ada's key went with her"
    );
}
