use crate::both_backends;
use crate::helpers::*;
use crate::smtp::{SmtpSink, link_token};
use invitegate_client::Registration;
use invitegate_core::api::*;

both_backends!(
    invitation_and_verification_emails_arrive_over_smtp,
    an_unreachable_smtp_server_delays_delivery_without_losing_it,
    dead_items_are_visible_and_can_be_retried,
    verification_links_can_be_resent_without_revealing_anything,
    emails_are_branded_and_templates_can_be_overridden,
    the_outbox_checks_permission_before_the_query,
    a_stopping_server_records_the_emails_it_sent,
);

/// Only administrators learn what the outbox query accepts; to them an unknown status names
/// its field.
async fn the_outbox_checks_permission_before_the_query(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (member, _) = app.member(&admin, "mo@example.com").await;
    let lost = [("status", "lost")];
    assert_problem(
        member
            .get_with_raw_query::<Vec<invitegate_core::api::OutboxItem>>("/outbox", &lost)
            .await,
        403,
        invitegate_core::ErrorCode::Forbidden,
    );
    match admin
        .get_with_raw_query::<Vec<invitegate_core::api::OutboxItem>>("/outbox", &lost)
        .await
    {
        Err(invitegate_client::ClientError::Api { status, problem }) => {
            assert_eq!(status, 422);
            assert_eq!(problem.errors.unwrap()["status"], ["invalid"]);
        }
        other => panic!("expected a 422, got {other:?}"),
    }
    // An empty status still means every item.
    admin
        .get_with_raw_query::<Vec<invitegate_core::api::OutboxItem>>("/outbox", &[("status", "")])
        .await
        .unwrap();
}

async fn invitation_and_verification_emails_arrive_over_smtp(b: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(b, |c| c.smtp_url = Some(format!("smtp://{}", sink.addr))).await;
    let admin = app.admin().await;
    admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            note: Some("Hi Ann".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mail = sink.wait_for("ann@example.com", 10).await;
    assert!(
        mail.contains("Subject: owner@example.com invited you to join"),
        "{mail}"
    );
    assert!(
        mail.contains("multipart/alternative")
            && mail.contains("text/html")
            && mail.contains("text/plain")
    );
    assert!(mail.contains("From: Invitegate <no-reply@localhost>"));
    let token = link_token(&mail, "/invite");
    assert!(matches!(
        app.api
            .register(&register_req("ann@example.com", Some(&token)))
            .await
            .unwrap(),
        Registration::SignedIn(_)
    ));
    // The verification flow, end to end through the mailbox.
    let domain = admin
        .create_invitation(&CreateInvitationRequest {
            email_domain: Some("partner.org".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    app.api
        .register(&register_req("zoe@partner.org", Some(&domain.token)))
        .await
        .unwrap();
    let verification = sink.wait_for("zoe@partner.org", 10).await;
    let session = app
        .api
        .confirm_email(&link_token(&verification, "/verify-email"), PASSWORD)
        .await
        .unwrap();
    assert_eq!(session.user.email, "zoe@partner.org");
}

async fn an_unreachable_smtp_server_delays_delivery_without_losing_it(b: Backend) {
    // Reserve a port, then leave nothing listening on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(b, |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let admin = app.admin().await;
    admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let failed_once = || async {
        app.db(|c| {
            use diesel::prelude::*;
            use invitegate_server::storage::schema::outbox::dsl::*;
            Ok(outbox
                .filter(attempts.ge(1))
                .filter(status.eq("pending"))
                .count()
                .get_result::<i64>(c)?)
        })
        .await
    };
    for _ in 0..100 {
        if failed_once().await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        failed_once().await,
        1,
        "the first attempt failed and a retry is scheduled"
    );
    let sink = SmtpSink::start_on(&format!("127.0.0.1:{port}")).await;
    let mail = sink.wait_for("ann@example.com", 20).await;
    assert!(mail.contains("/invite#token="));
}

async fn dead_items_are_visible_and_can_be_retried(b: Backend) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(b, |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    // Let the first attempt fail and be recorded, then use up the attempts.
    eventually("the first attempt is recorded as failed", || async {
        admin
            .list_outbox(&invitegate_core::api::OutboxListQuery {
                status: Some("pending".parse().unwrap()),
                ..Default::default()
            })
            .await
            .unwrap()
            .iter()
            .any(|i| i.attempts >= 1 && i.last_error.is_some())
            .then_some(())
    })
    .await;
    app.db(|c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::outbox::dsl::*;
        diesel::update(outbox)
            .set((status.eq("dead"), attempts.eq(8)))
            .execute(c)?;
        Ok(())
    })
    .await;
    let dead = admin
        .list_outbox(&invitegate_core::api::OutboxListQuery {
            status: Some("dead".parse().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].kind.as_str(), dead[0].recipient.as_deref()),
        ("email", Some("ann@example.com"))
    );
    assert!(dead[0].last_error.is_some());
    let listed = serde_json::to_string(&dead).unwrap();
    assert!(
        !listed.contains(&inv.token),
        "queue listings never show tokens"
    );
    let sink = SmtpSink::start_on(&format!("127.0.0.1:{port}")).await;
    admin.retry_outbox_item(&dead[0].id).await.unwrap();
    sink.wait_for("ann@example.com", 10).await;
    // The sink has the message before the worker has recorded the delivery.
    eventually("the retried item is recorded as sent", || async {
        let sent = admin
            .list_outbox(&invitegate_core::api::OutboxListQuery {
                status: Some("sent".parse().unwrap()),
                ..Default::default()
            })
            .await
            .unwrap();
        (sent.len() == 1).then_some(())
    })
    .await;
    assert_problem(
        admin.retry_outbox_item("nope").await,
        404,
        invitegate_core::ErrorCode::NotFound,
    );
    assert_problem(
        admin
            .get_with_raw_query::<Vec<invitegate_core::api::OutboxItem>>(
                "/outbox",
                &[("status", "lost")],
            )
            .await,
        422,
        invitegate_core::ErrorCode::ValidationFailed,
    );
}

async fn verification_links_can_be_resent_without_revealing_anything(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.invitation_whitelist_emails = vec!["friends.org".into()]
    })
    .await;
    app.admin().await;
    app.api
        .register(&register_req("amy@friends.org", None))
        .await
        .unwrap();
    let first = app.link_token_for("amy@friends.org", "/verify-email").await;
    let mut answers = Vec::new();
    for email in ["amy@friends.org", "nobody@friends.org", "owner@example.com"] {
        let res = app
            .http
            .post(app.url("/api/v1/email-verifications/resend"))
            .json(&ResendVerificationRequest {
                email: email.into(),
            })
            .send()
            .await
            .unwrap();
        answers.push((res.status().as_u16(), res.text().await.unwrap()));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0].0, 202);
    let second = app.link_token_for("amy@friends.org", "/verify-email").await;
    assert_ne!(first, second);
    assert_problem(
        app.api.confirm_email(&first, PASSWORD).await,
        400,
        invitegate_core::ErrorCode::InvalidToken,
    );
    app.api.confirm_email(&second, PASSWORD).await.unwrap();
    assert!(
        !app.emails()
            .await
            .iter()
            .any(|m| m.contains("To: nobody@friends.org"))
    );
}

async fn emails_are_branded_and_templates_can_be_overridden(b: Backend) {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(
        templates.path().join("invitation.subject"),
        "Join {{ product_name }}, {{ inviter }} is waiting",
    )
    .unwrap();
    let dir = templates.path().to_path_buf();
    let app = spawn_app_with(b, move |c| {
        c.product_name = "Acme Beta".into();
        c.brand_color = "#ff3300".into();
        c.templates_dir = Some(dir);
    })
    .await;
    let admin = app.admin().await;
    admin
        .create_invitation(&CreateInvitationRequest {
            email: Some("ann@example.com".into()),
            note: Some("<script>alert(1)</script>".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mail = app
        .emails()
        .await
        .into_iter()
        .find(|m| m.contains("To: ann@example.com"))
        .unwrap();
    assert!(
        mail.contains("Subject: Join Acme Beta, owner@example.com is waiting"),
        "{mail}"
    );
    assert!(
        mail.contains("#ff3300") && mail.contains("Acme Beta"),
        "{mail}"
    );
    assert!(mail.contains("&lt;script&gt;"), "notes are escaped in HTML");
    assert!(!mail.contains("<script>alert(1)</script></blockquote>"));
    // A broken override stops start-up and names the template.
    std::fs::write(templates.path().join("invitation.txt"), "{% if %}").unwrap();
    let config = invitegate_server::config::Config {
        templates_dir: Some(templates.path().to_path_buf()),
        ..Default::default()
    };
    let err = invitegate_server::mail::Templates::load(&config)
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("invitation.txt"), "{err}");
}

mod postgres_nodes {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_nodes_on_one_database_deliver_each_email_once() {
        let sink = SmtpSink::start().await;
        let app = spawn_app_with(Backend::Postgres, |c| {
            c.smtp_url = Some(format!("smtp://{}", sink.addr))
        })
        .await;
        let admin = app.admin().await;
        let session = app.api.login("owner@example.com", PASSWORD).await.unwrap();
        let peer = app.spawn_peer().await.with_bearer(&session.access_token);
        let mut expected = Vec::new();
        for i in 0..30 {
            let email = format!("guest{i}@example.com");
            let node = if i % 2 == 0 { &admin } else { &peer };
            node.create_invitation(&CreateInvitationRequest {
                email: Some(email.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
            expected.push(email);
        }
        for email in &expected {
            sink.wait_for(email, 20).await;
        }
        // Give both workers time to (wrongly) send anything twice.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let messages = sink.messages.lock().unwrap().clone();
        let invitations: Vec<&String> = messages
            .iter()
            .filter(|m| m.contains("invited you"))
            .collect();
        assert_eq!(invitations.len(), 30, "each email exactly once");
        for email in &expected {
            assert_eq!(
                invitations
                    .iter()
                    .filter(|m| m.contains(&format!("To: {email}\n"))
                        || m.contains(&format!("To: {email}\r")))
                    .count(),
                1,
                "{email}"
            );
        }
    }
}

/// A server told to stop (SIGTERM) lets the email in flight finish, records every email it
/// sent before it ends (a restart must not send them again) and sends no more.
async fn a_stopping_server_records_the_emails_it_sent(b: Backend) {
    use diesel::prelude::*;
    use invitegate_server::storage::schema::invitations as i;
    let delay = crate::smtp::Delay(std::time::Duration::from_millis(1500));
    let sink = crate::smtp::SmtpSink::start_slow("127.0.0.1:0", delay).await;
    let app = spawn_app_with(b, |c| c.smtp_url = Some(format!("smtp://{}", sink.addr))).await;
    let admin = app.admin().await;
    invite_in_bulk(&admin, "stopping", 4).await;
    let received = || {
        sink.messages
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.contains("To: stopping"))
            .count()
    };
    eventually("a first email arrives", || async {
        (received() > 0).then_some(())
    })
    .await;
    let db = app.state.clone();
    app.stop.stop().await;
    app.serving.await.unwrap().unwrap();
    let sent = received();
    assert!(
        sent < 4,
        "the stopped server sent no more ({sent} of 4 arrived)"
    );
    let recorded: i64 = db
        .db(|c| {
            Ok(i::table
                .filter(i::email.like("stopping%@example.com"))
                .filter(i::delivered_at.is_not_null())
                .count()
                .get_result(c)?)
        })
        .await
        .unwrap();
    assert_eq!(
        recorded, sent as i64,
        "every email that arrived is recorded as delivered"
    );
}
