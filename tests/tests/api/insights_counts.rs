//! Insights at 10⁶ invitations (issue 14) read the counts the database keeps per hour and per
//! day: the funnel must come out as reading every invitation would, whole hours or not, before
//! and after the jobs fold the recent changes in.

use crate::both_backends;
use crate::helpers::*;
use chrono::{Duration, NaiveDateTime};
use invitegate_core::api::*;
use invitegate_core::model::Scope;

both_backends!(the_counted_funnel_agrees_with_the_invitations_at_every_cut);

async fn the_counted_funnel_agrees_with_the_invitations_at_every_cut(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    // Accepted, opened, revoked, expired (not yet marked by the job), and a key's pending one
    // in an organisation.
    let ann = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let bob = admin
        .create_invitation(&email_req("bob@example.com"))
        .await
        .unwrap();
    let cat = admin
        .create_invitation(&email_req("cat@example.com"))
        .await
        .unwrap();
    admin.revoke_invitation(&cat.invitation.id).await.unwrap();
    let dan = admin
        .create_invitation(&email_req("dan@example.com"))
        .await
        .unwrap();
    let org = admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let key = app.api_key(&admin, &[Scope::InvitationsWrite]).await;
    let eve = key
        .create_invitation(&CreateInvitationRequest {
            organization_id: Some(org.clone()),
            ..email_req("eve@example.com")
        })
        .await
        .unwrap();
    let key_id = admin.list_api_keys().await.unwrap()[0].id.clone();
    app.emails().await;
    app.api
        .register(&register_req("ann@example.com", Some(&ann.token)))
        .await
        .unwrap();
    app.api.verify_invitation(&bob.token).await.unwrap();
    app.expire_invitation(&dan.invitation.id).await;
    let now_funnel = eventually("bob's opening is recorded", || async {
        let f = admin
            .insights_funnel(&InsightsQuery::default())
            .await
            .unwrap();
        (f.opened == 2).then_some(f)
    })
    .await;
    assert_eq!(
        (now_funnel.created, now_funnel.accepted, now_funnel.expired),
        (5, 1, 1)
    );

    // Three days ago, at half past each hour from midnight: ann, bob, cat, dan, eve.
    let now = chrono::Utc::now().naive_utc();
    let base = (now - Duration::days(3))
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let ids = [&ann, &bob, &cat, &dan, &eve].map(|c| c.invitation.id.clone());
    let at = |k: i64, minutes: i64| base + Duration::hours(k) + Duration::minutes(minutes);
    for (k, id) in ids.iter().enumerate() {
        move_creation(&app, id, at(k as i64, 30)).await;
    }
    let funnel =
        |since: NaiveDateTime, until: NaiveDateTime, org: Option<&str>, by: Option<&str>| {
            let query = InsightsQuery {
                since: Some(since.and_utc()),
                until: Some(until.and_utc()),
                organization_id: org.map(str::to_string),
                inviter_id: by.map(str::to_string),
            };
            let admin = &admin;
            async move { admin.insights_funnel(&query).await.unwrap() }
        };
    let figures = |f: &Funnel| {
        (
            f.created,
            f.delivered,
            f.opened,
            f.accepted,
            f.expired,
            f.revoked,
            f.declined,
        )
    };

    // Whole hours and days from the counts (the part hour at each end holds nothing).
    let all = funnel(base - Duration::days(1), now, None, None).await;
    assert_eq!(figures(&all), figures(&now_funnel), "{all:?}");
    let delay = all.median_seconds_to_accept.expect("ann's was accepted");
    assert!(delay > 3.0 * 86_400.0 - 3_600.0, "{delay}");
    let whole_day = funnel(base, base + Duration::days(1), None, None).await;
    assert_eq!(figures(&whole_day), figures(&all));
    let by_key = funnel(base - Duration::days(1), now, None, Some(&key_id)).await;
    assert_eq!((by_key.created, by_key.accepted), (1, 0));
    let in_org = funnel(base - Duration::days(1), now, Some(&org), None).await;
    assert_eq!((in_org.created, in_org.revoked), (1, 0));

    // Each invitation alone, from its whole hour (the counts) and from inside it (the
    // invitations): what became of it.
    let alone = [
        ("ann", (1, 1, 0, 0)),
        ("bob", (1, 0, 0, 0)),
        ("cat", (0, 0, 0, 1)),
        ("dan", (0, 0, 1, 0)),
        ("eve", (0, 0, 0, 0)),
    ];
    for (k, (who, (opened, accepted, expired, revoked))) in alone.into_iter().enumerate() {
        let k = k as i64;
        for (since, until) in [(at(k, 0), at(k + 1, 0)), (at(k, 15), at(k, 45))] {
            let f = funnel(since, until, None, None).await;
            assert_eq!(
                (f.created, f.opened, f.accepted, f.expired, f.revoked),
                (1, opened, accepted, expired, revoked),
                "{who} alone from {since}: {f:?}"
            );
        }
        // Cut inside an hour: whole hours on one side, a part hour on the other.
        let before = funnel(base, at(k, 45), None, None).await;
        let after = funnel(at(k, 45), base + Duration::days(2), None, None).await;
        assert_eq!(
            (before.created, after.created),
            (k as u64 + 1, 4 - k as u64)
        );
        // The administrator's, by day: whole days and part days.
        let by_admin = Some(admin.me().await.unwrap().user.id);
        let theirs = funnel(at(k, 15), now, None, by_admin.as_deref()).await;
        assert_eq!(theirs.created, 4 - k.min(4) as u64, "{who}");
    }

    // The administrator's whole day, from the daily counts.
    let admin_id = admin_id(&admin).await;
    let day = funnel(base, base + Duration::days(1), None, Some(&admin_id)).await;
    assert_eq!((day.created, day.accepted, day.revoked), (4, 1, 1));

    // The jobs mark dan's invitation expired and fold the changes: nothing moves.
    invitegate_server::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(unfolded(&app).await, 0, "the jobs fold every change");
    let folded = funnel(base - Duration::days(1), now, None, None).await;
    assert_eq!(folded, all);
    let moved = funnel(at(3, 0), at(4, 0), None, None).await;
    assert_eq!((moved.created, moved.expired), (1, 1));
    let ranking = |since: NaiveDateTime| {
        let admin = &admin;
        async move {
            admin
                .insights_inviters(&InvitersQuery {
                    since: Some(since.and_utc()),
                    until: Some((base + Duration::days(1)).and_utc()),
                    ..Default::default()
                })
                .await
                .unwrap()
                .data
                .into_iter()
                .map(|r| (r.inviter.id, r.sent, r.accepted))
                .collect::<Vec<_>>()
        }
    };
    // From the daily counts; then with a part day, from the invitations.
    assert_eq!(
        ranking(base).await,
        vec![(admin_id.clone(), 4, 1), (key_id.clone(), 1, 0)]
    );
    assert_eq!(
        ranking(at(0, 45)).await,
        vec![(admin_id.clone(), 3, 0), (key_id.clone(), 1, 0)]
    );

    // A change to counts already folded adds to them.
    admin.revoke_invitation(&eve.invitation.id).await.unwrap();
    invitegate_server::jobs::run_once(&app.state).await.unwrap();
    assert_eq!(unfolded(&app).await, 0);
    let day = funnel(base, base + Duration::days(1), None, None).await;
    assert_eq!((day.created, day.revoked, day.expired), (5, 2, 1));
    let by_key = funnel(base, base + Duration::days(1), None, Some(&key_id)).await;
    assert_eq!((by_key.created, by_key.revoked), (1, 1));
}

async fn admin_id(admin: &invitegate_client::Client) -> String {
    admin.me().await.unwrap().user.id
}

/// Sets `created_at` of invitation `id` to `at`.
async fn move_creation(app: &TestApp, id: &str, at: NaiveDateTime) {
    let id = id.to_string();
    app.db(move |c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::invitations as i;
        diesel::update(i::table.filter(i::id.eq(id)))
            .set(i::created_at.eq(at))
            .execute(c)?;
        Ok(())
    })
    .await
}

/// Changes to the counts not yet folded in.
async fn unfolded(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db(|c| {
        use diesel::RunQueryDsl;
        use invitegate_server::storage::DbConn;
        let query = diesel::sql_query("SELECT COUNT(*) AS n FROM invitation_count_deltas");
        let rows: Vec<Count> = match c {
            DbConn::Pg(c) => query.load(c)?,
            DbConn::Sqlite(c) => query.load(c)?,
        };
        Ok(rows[0].n)
    })
    .await
}
