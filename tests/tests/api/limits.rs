//! Limits count failures, not people, and hold across nodes (issue 8, items 3–5). Each test
//! sends from its own 127.x.y.z address or runs its own server, so no other test shares its
//! counters.

use crate::both_backends;
use crate::helpers::*;
use invitegate_client::{Client, Registration};
use invitegate_core::api::*;
use invitegate_server::config::RateLimits;
use invitegate_server::ratelimit::ClientLimit;

async fn verify_status(http: &reqwest::Client, base: &str, token: &str) -> u16 {
    http.post(format!("{base}/api/v1/invitations/verify"))
        .json(&TokenRequest {
            token: token.into(),
        })
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// With the default limits, 200 invitees behind one address all verify and register within a
/// minute: successful use of valid invitations is never throttled per client.
async fn two_hundred_invitees_behind_one_nat_all_get_in(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.rate_limits = RateLimits {
            sync_interval_milliseconds: 50,
            ..RateLimits::default()
        };
        c.hash_workers = Some(2);
    })
    .await;
    let admin = app.admin().await;
    let bulk = admin
        .bulk_create_invitations(&BulkCreateRequest {
            invitations: (0..200)
                .map(|i| email_req(&format!("staff{i}@office.example")))
                .collect(),
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(bulk.summary.created, 200);
    let office = Client::with_http(&app.address, http_from("127.0.20.1"));
    for (i, row) in bulk.results.iter().enumerate() {
        let token = row.token.as_deref().unwrap();
        office.verify_invitation(token).await.unwrap();
        let email = format!("staff{i}@office.example");
        assert!(matches!(
            office
                .register(&register_req(&email, Some(token)))
                .await
                .unwrap(),
            Registration::SignedIn(_)
        ));
    }
    assert_eq!(app.count_users().await, 201);
}

/// Forged tokens are limited per client; other clients are unaffected; the flood is audited
/// as aggregated events, not a row per request.
async fn forged_tokens_are_limited_per_client_and_audited_in_aggregate(backend: Backend) {
    early_in_limit_windows(&[60]).await;
    let app = spawn_app_with(backend, |c| c.rate_limits.verify_per_minute = 5).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let attacker = http_from("127.0.30.1");
    let mut statuses = Vec::new();
    for i in 0..7 {
        statuses.push(verify_status(&attacker, &app.address, &format!("forged.{i}.x")).await);
    }
    assert_eq!(statuses, [400, 400, 400, 400, 400, 429, 429]);
    assert_eq!(
        verify_status(&attacker, &app.address, &inv.token).await,
        429,
        "the blocked client waits, whatever it sends"
    );
    let neighbour = http_from("127.0.30.2");
    assert_eq!(
        verify_status(&neighbour, &app.address, &inv.token).await,
        200
    );

    let events = eventually("the aggregated failure event", || async {
        let events = admin
            .list_audit_events(&invitegate_core::api::AuditEventQuery {
                action: Some(String::from("invitation.verified")),
                outcome: Some("failure".parse().unwrap()),
                ..Default::default()
            })
            .await
            .unwrap();
        let total: i64 = events
            .data
            .iter()
            .map(|e| e.details["failures"].as_i64().unwrap_or(1))
            .sum();
        (total == 5).then_some(events)
    })
    .await;
    assert!(
        events.data.len() < 5,
        "fewer rows than failures: {:?}",
        events.data
    );
    assert_eq!(events.data[0].ip.as_deref(), Some("127.0.30.1"));
    assert_eq!(events.data[0].details["reason"], "aggregated");
    let failed = admin
        .insights_timeseries(&invitegate_core::api::TimeseriesQuery::new(
            invitegate_core::api::InsightsMetric::FailedAttempts,
        ))
        .await
        .unwrap();
    assert_eq!(
        failed.points.iter().map(|p| p.value).sum::<u64>(),
        5,
        "the insights count each forged link, not each audit row"
    );
}

/// Forged bearer credentials are failed attempts of the client: past the limit even a valid
/// key from there waits. A token this server signed, of a session that ended, does not count.
async fn forged_bearer_credentials_count_as_failures(backend: Backend) {
    early_in_limit_windows(&[60]).await;
    let app = spawn_app_with(backend, |c| c.rate_limits.auth_per_minute = 3).await;
    let admin = app.admin().await;
    let key = admin
        .create_api_key(&CreateApiKeyRequest {
            name: "seed".into(),
            scopes: vec![invitegate_core::model::Scope::InvitationsRead],
        })
        .await
        .unwrap()
        .key;
    let me = |http: &reqwest::Client, credential: String| {
        http.get(app.url("/api/v1/invitations"))
            .bearer_auth(credential)
            .send()
    };
    let prober = http_from("127.0.40.1");
    for guess in ["igk_guess1", "igk_guess2", "not.a.jwt"] {
        let res = me(&prober, guess.into()).await.unwrap();
        assert_eq!(res.status().as_u16(), 401);
    }
    assert_eq!(
        me(&prober, key.clone()).await.unwrap().status().as_u16(),
        429
    );
    assert_eq!(
        me(&http_from("127.0.40.3"), key)
            .await
            .unwrap()
            .status()
            .as_u16(),
        200,
        "other clients are unaffected"
    );

    let routine = Client::with_http(&app.address, http_from("127.0.40.2"));
    let session = routine.login("owner@example.com", PASSWORD).await.unwrap();
    routine
        .with_bearer(&session.access_token)
        .logout()
        .await
        .unwrap();
    for _ in 0..5 {
        assert_problem(
            routine.with_bearer(&session.access_token).me().await,
            401,
            invitegate_core::ErrorCode::Unauthenticated,
        );
    }
    routine
        .login("owner@example.com", PASSWORD)
        .await
        .expect("an ended session's token is not a failed attempt");
}

/// Waits, if needed, so that the next few seconds stay within one hour (budgets count per
/// clock hour).
async fn clear_of_the_hour_boundary() {
    use chrono::Timelike;
    let now = chrono::Utc::now();
    let left = 3600 - i64::from(now.minute() * 60 + now.second());
    if left < 30 {
        tokio::time::sleep(std::time::Duration::from_secs(left as u64 + 1)).await;
    }
}

/// How many of `emails` went to `addr`.
fn sent_to(emails: &[String], addr: &str) -> usize {
    emails
        .iter()
        .filter(|m| m.contains(&format!("To: {addr}")))
        .count()
}

/// A bulk creation cannot mail-bomb a mailbox through its +tags either: every row is created,
/// the first rows of a mailbox take what is left of its budget and the others get no email.
async fn a_bulk_creation_mails_each_mailbox_within_its_budget(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.rate_limits.emails_per_recipient_per_hour = 3).await;
    let admin = app.admin().await;
    clear_of_the_hour_boundary().await;
    admin
        .create_invitation(&email_req("ann+first@example.com"))
        .await
        .unwrap();
    let rows: Vec<_> = (0..5)
        .map(|i| email_req(&format!("ann+{i}@example.com")))
        .chain([email_req("bob@example.com")])
        .collect();
    let bulk = admin
        .bulk_create_invitations(&BulkCreateRequest {
            invitations: rows,
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(bulk.summary.created, 6);
    let emails = app.emails().await;
    let to = |addr: &str| sent_to(&emails, addr);
    let ann: Vec<usize> = (0..5)
        .map(|i| to(&format!("ann+{i}@example.com")))
        .collect();
    assert_eq!(ann, [1, 1, 0, 0, 0], "one earlier email, then two more");
    assert_eq!(to("bob@example.com"), 1);
}

/// No one can mail-bomb an address: at most `emails_per_recipient_per_hour` account emails
/// and as many invitation emails, whatever sends them, while every answer stays the same.
async fn a_mailbox_gets_at_most_its_hourly_budget(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.rate_limits.emails_per_recipient_per_hour = 5).await;
    let admin = app.admin().await;
    clear_of_the_hour_boundary().await;
    for _ in 0..4 {
        app.api
            .request_password_reset("owner@example.com")
            .await
            .expect("202 every time");
    }
    // Registering an existing address sends a notice from the same budget; +tags share it.
    let domain = admin
        .create_invitation(&domain_req("example.com", 10))
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(
            app.api
                .register(&register_req("owner@example.com", Some(&domain.token)))
                .await
                .unwrap(),
            Registration::VerificationPending
        ));
    }
    app.api
        .request_password_reset("owner+tag@example.com")
        .await
        .unwrap();
    let inv = admin
        .create_invitation(&email_req("guest@example.com"))
        .await
        .unwrap();
    for _ in 0..7 {
        admin
            .resend_invitation(&inv.invitation.id, &ResendInvitationRequest::default())
            .await
            .expect("the resend itself still works");
    }
    let emails = app.emails().await;
    let to = |addr: &str| sent_to(&emails, addr);
    assert_eq!(
        to("owner@example.com"),
        5,
        "resets and notices share one budget"
    );
    assert_eq!(to("owner+tag@example.com"), 0);
    assert_eq!(
        to("guest@example.com"),
        5,
        "the invitation and four resends"
    );
}

/// Two nodes on one PostgreSQL allow what one allows, and raise one alert, not two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_the_alarm_are_shared_across_nodes() {
    early_in_limit_windows(&[60, 600]).await;
    let app = spawn_app_with(Backend::Postgres, |c| {
        c.rate_limits.verify_per_minute = 6;
        c.rate_limits.alert_failures_threshold = 8;
    })
    .await;
    let admin = app.admin().await;
    let (peer, peer_state) = app.spawn_peer_node().await;
    let client = http_from("127.0.50.1");
    for i in 0..4 {
        assert_eq!(
            verify_status(&client, &app.address, &format!("forged.a{i}.x")).await,
            400
        );
    }
    // Once the peer has heard of the four, it allows the two left and no more.
    let meta = invitegate_server::http::RequestMeta {
        ip: Some("127.0.50.1".parse().unwrap()),
        user_agent: None,
    };
    eventually("the peer hears of the failures", || async {
        (peer_state.limits.known(ClientLimit::VerifyFailures, &meta) == 4).then_some(())
    })
    .await;
    let mut on_peer = Vec::new();
    for i in 0..3 {
        on_peer.push(verify_status(&client, peer.base_url(), &format!("forged.b{i}.x")).await);
    }
    assert_eq!(on_peer, [400, 400, 429]);
    eventually("the first node refuses too", || async {
        (verify_status(&client, &app.address, "forged.c.x").await == 429).then_some(())
    })
    .await;
    // Two login failures (one per node) bring the client's failures to the threshold.
    let login = |base: String| {
        let c = client.clone();
        async move {
            c.post(format!("{base}/api/v1/auth/login"))
                .json(&serde_json::json!({"email": "owner@example.com", "password": "wrong one"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(login(app.address.clone()).await, 401);
    assert_eq!(login(peer.base_url().to_string()).await, 401);
    eventually("the alert", || async {
        let alerts = admin
            .list_audit_events(&invitegate_core::api::AuditEventQuery {
                action: Some(String::from("security.alert")),
                ..Default::default()
            })
            .await
            .unwrap();
        (!alerts.data.is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let alerts = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("security.alert")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts.data.len(), 1, "one alert for the whole cluster");
    assert_eq!(alerts.data[0].target.as_ref().unwrap().id, "127.0.50.1");
}

both_backends!(
    two_hundred_invitees_behind_one_nat_all_get_in,
    forged_tokens_are_limited_per_client_and_audited_in_aggregate,
    forged_bearer_credentials_count_as_failures,
    a_mailbox_gets_at_most_its_hourly_budget,
    a_bulk_creation_mails_each_mailbox_within_its_budget,
);
