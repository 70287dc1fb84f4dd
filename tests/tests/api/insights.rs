//! Insights (issue 14): the funnel counts a known set of invitations right, by period,
//! organisation and inviter.

use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{ActorType, Scope};

both_backends!(
    the_funnel_counts_what_became_of_each_invitation,
    time_series_have_a_point_per_bucket_and_inviters_are_ranked_by_acceptance,
);

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

    // A member sees the funnel of their own invitations, and no one else's.
    let (member, me) = app.member(&admin, "mia@example.com").await;
    member
        .create_invitation(&email_req("ned@example.com"))
        .await
        .unwrap();
    let own = member
        .insights_funnel(&InsightsQuery::default())
        .await
        .unwrap();
    assert_eq!((own.created, own.accepted), (1, 0), "{own:?}");
    let mine = InsightsQuery {
        inviter_id: Some(me.user.id.clone()),
        ..Default::default()
    };
    let asked = member.insights_funnel(&mine).await.unwrap();
    assert_eq!((asked.created, asked.accepted), (1, 0));
    assert_problem(
        member
            .insights_funnel(&InsightsQuery {
                inviter_id: Some(admin_id(&app, &admin).await),
                ..Default::default()
            })
            .await,
        403,
        ErrorCode::Forbidden,
    );
    assert_problem(
        member
            .insights_timeseries(&TimeseriesQuery::new(InsightsMetric::Registrations))
            .await,
        403,
        ErrorCode::Forbidden,
    );
}

async fn admin_id(_app: &TestApp, admin: &invitegate_client::Client) -> String {
    admin.me().await.unwrap().user.id
}

/// Sets `created_at` of the invitation or user `id`, or `occurred_at` of every failed audit
/// event, to `at`.
async fn backdate(app: &TestApp, table: &'static str, id: &str, at: chrono::NaiveDateTime) {
    let id = id.to_string();
    app.db(move |c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::{audit_events as a, invitations as i, users as u};
        match table {
            "invitations" => diesel::update(i::table.filter(i::id.eq(id)))
                .set(i::created_at.eq(at))
                .execute(c)?,
            "users" => diesel::update(u::table.filter(u::id.eq(id)))
                .set(u::created_at.eq(at))
                .execute(c)?,
            _ => diesel::update(a::table.filter(a::outcome.eq("failure")))
                .set(a::occurred_at.eq(at))
                .execute(c)?,
        };
        Ok(())
    })
    .await
}

async fn time_series_have_a_point_per_bucket_and_inviters_are_ranked_by_acceptance(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    // Admin: three sent, one accepted. Mia: two sent, both accepted. A key: one, pending.
    let (mia, mia_session) = app.member(&admin, "mia@example.com").await;
    let mia_id = mia_session.user.id.clone();
    let a2 = admin
        .create_invitation(&email_req("a2@example.com"))
        .await
        .unwrap();
    let a3 = admin
        .create_invitation(&email_req("a3@example.com"))
        .await
        .unwrap();
    let mut registered = Vec::new();
    let mut by_mia = Vec::new();
    for email in ["m1@example.com", "m2@example.com"] {
        let (_, session) = app.invited(&mia, email).await;
        registered.push(session.user.id.clone());
        by_mia.push(
            session
                .user
                .invitation_id
                .expect("registered with an invitation"),
        );
    }
    let key = app.api_key(&admin, &[Scope::InvitationsWrite]).await;
    let k1 = key
        .create_invitation(&email_req("k1@example.com"))
        .await
        .unwrap();
    // Failed attempts: two wrong passwords and a registration with a made-up link.
    for _ in 0..2 {
        assert!(
            app.api
                .login("mia@example.com", "wrong password")
                .await
                .is_err()
        );
    }
    assert!(
        app.api
            .register(&register_req("zed@example.com", Some("not-a-real-token")))
            .await
            .is_err()
    );
    eventually("the failures are audited", || async {
        let page = admin
            .list_audit_events(&AuditEventQuery {
                outcome: Some(invitegate_core::model::Outcome::Failure),
                ..Default::default()
            })
            .await
            .unwrap();
        (page.data.len() >= 3).then_some(())
    })
    .await;

    // Everything moves into four days ten days ago; the second of them stays empty.
    let day0 = (chrono::Utc::now() - chrono::Duration::days(10))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let at = |day: i64, hour: i64, minute: i64| {
        day0 + chrono::Duration::days(day)
            + chrono::Duration::hours(hour)
            + chrono::Duration::minutes(minute)
    };
    let mia_invitation = mia_session.user.invitation_id.clone().unwrap();
    for (id, when) in [
        (&mia_invitation, at(0, 10, 0)),
        (&a2.invitation.id, at(0, 11, 0)),
        (&a3.invitation.id, at(2, 9, 0)),
        (&by_mia[0], at(2, 10, 0)),
        (&by_mia[1], at(3, 23, 0)),
        (&k1.invitation.id, at(3, 23, 30)),
    ] {
        backdate(&app, "invitations", id, when).await;
    }
    backdate(&app, "users", &mia_id, at(0, 12, 0)).await;
    backdate(&app, "users", &registered[0], at(2, 12, 0)).await;
    backdate(&app, "users", &registered[1], at(2, 13, 0)).await;
    backdate(&app, "audit_events", "", at(1, 8, 0)).await;

    let period = |metric| TimeseriesQuery {
        since: Some(at(0, 0, 0).and_utc()),
        until: Some(at(4, 0, 0).and_utc()),
        ..TimeseriesQuery::new(metric)
    };
    let values = |series: Timeseries| {
        assert_eq!(
            series.points.iter().map(|p| p.t).collect::<Vec<_>>(),
            (0..4).map(|d| at(d, 0, 0).and_utc()).collect::<Vec<_>>(),
            "a point for every day, the empty one included"
        );
        series
            .points
            .into_iter()
            .map(|p| p.value)
            .collect::<Vec<_>>()
    };
    let created = admin
        .insights_timeseries(&period(InsightsMetric::InvitationsCreated))
        .await
        .unwrap();
    assert_eq!(
        (created.metric, created.interval),
        (InsightsMetric::InvitationsCreated, InsightsInterval::Day)
    );
    assert_eq!(values(created), vec![2, 0, 2, 2]);
    let registrations = admin
        .insights_timeseries(&period(InsightsMetric::Registrations))
        .await
        .unwrap();
    assert_eq!(values(registrations), vec![1, 0, 2, 0]);
    let invited_by_mia = admin
        .insights_timeseries(&TimeseriesQuery {
            inviter_id: Some(mia_id.clone()),
            ..period(InsightsMetric::Registrations)
        })
        .await
        .unwrap();
    assert_eq!(values(invited_by_mia), vec![0, 0, 2, 0]);
    let failed = admin
        .insights_timeseries(&period(InsightsMetric::FailedAttempts))
        .await
        .unwrap();
    assert_eq!(values(failed), vec![0, 3, 0, 0]);

    // By hour, over the last two hours of the fourth day.
    let hours = admin
        .insights_timeseries(&TimeseriesQuery {
            interval: Some(InsightsInterval::Hour),
            since: Some(at(3, 22, 0).and_utc()),
            until: Some(at(4, 0, 0).and_utc()),
            ..TimeseriesQuery::new(InsightsMetric::InvitationsCreated)
        })
        .await
        .unwrap();
    assert_eq!(
        hours
            .points
            .iter()
            .map(|p| (p.t, p.value))
            .collect::<Vec<_>>(),
        vec![(at(3, 22, 0).and_utc(), 0), (at(3, 23, 0).and_utc(), 2)]
    );

    // The ranking: Mia (2 of 2), the administrator (1 of 3), the key (0 of 1).
    let ranking = admin
        .insights_inviters(&InvitersQuery {
            since: Some(at(0, 0, 0).and_utc()),
            until: Some(at(4, 0, 0).and_utc()),
            ..Default::default()
        })
        .await
        .unwrap();
    let admin_id = admin_id(&app, &admin).await;
    let key_id = admin.list_api_keys().await.unwrap()[0].id.clone();
    assert_eq!(
        ranking
            .data
            .iter()
            .map(|r| (r.inviter.kind, r.inviter.id.clone(), r.sent, r.accepted))
            .collect::<Vec<_>>(),
        vec![
            (ActorType::User, mia_id, 2, 2),
            (ActorType::User, admin_id, 3, 1),
            (ActorType::ApiKey, key_id, 1, 0),
        ]
    );
    assert_eq!(
        ranking.data[0].inviter.display_name.as_deref(),
        Some("mia@example.com")
    );
    assert_eq!(
        ranking.data[2].inviter.display_name.as_deref(),
        Some("test")
    );
    let top = admin
        .insights_inviters(&InvitersQuery {
            limit: Some(1),
            since: Some(at(0, 0, 0).and_utc()),
            until: Some(at(4, 0, 0).and_utc()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(top.data.len(), 1);
    for limit in [0, 101] {
        assert_problem(
            admin
                .insights_inviters(&InvitersQuery {
                    limit: Some(limit),
                    ..Default::default()
                })
                .await,
            422,
            ErrorCode::ValidationFailed,
        );
    }
}
