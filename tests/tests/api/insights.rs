//! Insights (issue 14): the funnel counts a known set of invitations right, by period,
//! organisation and inviter.

use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::Scope;

both_backends!(the_funnel_counts_what_became_of_each_invitation);

async fn the_funnel_counts_what_became_of_each_invitation(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let empty = admin
        .insights_funnel(&InsightsQuery::default())
        .await
        .unwrap();
    assert_eq!(
        empty,
        Funnel::default(),
        "the owner invitation does not count"
    );

    // Accepted: emailed, registered with.
    let ann = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    // Opened only: emailed, verified.
    let bob = admin
        .create_invitation(&email_req("bob@example.com"))
        .await
        .unwrap();
    // Revoked before any email went out.
    let cat = admin
        .create_invitation(&CreateInvitationRequest {
            send_email: Some(false),
            ..email_req("cat@example.com")
        })
        .await
        .unwrap();
    admin.revoke_invitation(&cat.invitation.id).await.unwrap();
    // Expired: emailed, never opened.
    let dan = admin
        .create_invitation(&email_req("dan@example.com"))
        .await
        .unwrap();
    // A link for a domain, used once of three: accepted, though not used up.
    let team = admin
        .create_invitation(&domain_req("example.org", 3))
        .await
        .unwrap();
    app.emails().await;

    app.api
        .register(&register_req("ann@example.com", Some(&ann.token)))
        .await
        .unwrap();
    app.api.verify_invitation(&bob.token).await.unwrap();
    app.expire_invitation(&dan.invitation.id).await;
    app.api
        .register(&register_req("eve@example.org", Some(&team.token)))
        .await
        .unwrap();
    // A domain's address is proven by email before the use counts.
    let proof = app.link_token_for("eve@example.org", "/verify-email").await;
    app.api.confirm_email(&proof, PASSWORD).await.unwrap();

    let funnel = eventually("bob's opening is recorded", || async {
        let f = admin
            .insights_funnel(&InsightsQuery::default())
            .await
            .unwrap();
        (f.opened == 3).then_some(f)
    })
    .await;
    assert_eq!(
        (
            funnel.created,
            funnel.delivered,
            funnel.opened,
            funnel.accepted,
            funnel.expired,
            funnel.revoked,
            funnel.declined
        ),
        (5, 3, 3, 2, 1, 1, 0),
        "{funnel:?}"
    );
    let median = funnel.median_seconds_to_accept.expect("ann's was accepted");
    assert!((0.0..60.0).contains(&median), "{median}");

    // By inviter and organisation.
    let key = app.api_key(&admin, &[Scope::InvitationsWrite]).await;
    key.create_invitation(&email_req("kim@example.com"))
        .await
        .unwrap();
    let key_id = admin.list_api_keys().await.unwrap()[0].id.clone();
    let by_key = admin
        .insights_funnel(&InsightsQuery {
            inviter_id: Some(key_id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((by_key.created, by_key.accepted), (1, 0));
    let org = admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    admin
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.clone()),
            ..email_req("lee@example.com")
        })
        .await
        .unwrap();
    let in_org = admin
        .insights_funnel(&InsightsQuery {
            organization_id: Some(org),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(in_org.created, 1);

    // By period: nothing was created two hours to one hour ago; a period must end
    // after it starts and last at most 366 days.
    let now = chrono::Utc::now();
    let before = admin
        .insights_funnel(&InsightsQuery {
            since: Some(now - chrono::Duration::hours(2)),
            until: Some(now - chrono::Duration::hours(1)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(before, Funnel::default());
    for (since, until) in [(now, now), (now - chrono::Duration::days(400), now)] {
        assert_problem(
            admin
                .insights_funnel(&InsightsQuery {
                    since: Some(since),
                    until: Some(until),
                    ..Default::default()
                })
                .await,
            422,
            ErrorCode::ValidationFailed,
        );
    }
    let (member, _) = app.member(&admin, "mia@example.com").await;
    assert_problem(
        member.insights_funnel(&InsightsQuery::default()).await,
        403,
        ErrorCode::Forbidden,
    );
}
