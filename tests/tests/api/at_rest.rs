//! Nothing usable at rest (issue 8, item 7): a database backup or the mail folder yields no
//! working link once an email is delivered.

use crate::both_backends;
use crate::helpers::*;
use diesel::prelude::*;
use invitegate_server::storage::{self, models::OutboxRow, schema::outbox::dsl as o};

async fn outbox_payloads(app: &TestApp) -> Vec<(String, String)> {
    app.db(|c| Ok(o::outbox.select((o::status, o::payload)).load(c)?))
        .await
}

/// Delivered emails keep their recipient and subject, not the body with its token; `.eml`
/// files are readable by the service's user only.
async fn delivered_emails_keep_no_live_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let token_in = |text: &str| text.contains(&inv.token);
    // The file transport wrote the email with the live link (that is its job) ...
    let emails = app.emails().await;
    assert!(emails.iter().any(|m| token_in(m)));
    // ... but the delivered row no longer holds it.
    let rows = outbox_payloads(&app).await;
    assert!(!rows.is_empty());
    for (status, payload) in &rows {
        assert_eq!(status, "sent");
        assert!(!token_in(payload), "a live token at rest: {payload}");
        assert!(!payload.contains("#token="), "{payload}");
    }
    let listed = admin.list_outbox(&Default::default()).await.unwrap();
    assert_eq!(listed[0].recipient.as_deref(), Some("ann@example.com"));
    assert!(
        listed[0].summary.is_some(),
        "the subject is kept for administrators"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(app.dir.path().join("outbox")).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

/// Dead items are deleted, payload and all, once past `outbox_retention_days`; emails
/// delivered before bodies were scrubbed on delivery lose their bodies in the same run.
async fn dead_items_are_purged_after_their_retention(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.outbox_retention_days = 3).await;
    app.admin().await;
    let dead = |id: &str, age_days: i64| OutboxRow {
        id: id.into(),
        kind: "email".parse().unwrap(),
        payload: r#"{"to":"x@example.com","subject":"s","text":"/invite#token=secret"}"#.into(),
        status: "dead".parse().unwrap(),
        attempts: 8,
        next_attempt_at: storage::now(),
        locked_until: None,
        created_at: storage::now() - chrono::Duration::days(age_days),
        sent_at: None,
        last_error: Some("refused".into()),
        endpoint_id: None,
        response_status: None,
    };
    let (old, recent) = (dead("old-dead-item", 4), dead("recent-dead-item", 1));
    // An email delivered before bodies were scrubbed on delivery, still holding its link.
    let delivered_earlier = OutboxRow {
        status: "sent".parse().unwrap(),
        sent_at: Some(storage::now()),
        ..dead("sent-before-upgrade", 0)
    };
    app.db(move |c| {
        storage::outbox::insert(c, &old)?;
        storage::outbox::insert(c, &recent)?;
        storage::outbox::insert(c, &delivered_earlier)?;
        Ok(())
    })
    .await;
    invitegate_server::jobs::run_once(&app.state).await.unwrap();
    let ids: Vec<String> = app
        .db(|c| {
            Ok(o::outbox
                .filter(o::status.eq("dead"))
                .select(o::id)
                .load(c)?)
        })
        .await;
    assert_eq!(ids, ["recent-dead-item"]);
    let kept: String = app
        .db(|c| {
            Ok(o::outbox
                .filter(o::id.eq("sent-before-upgrade"))
                .select(o::payload)
                .first(c)?)
        })
        .await;
    assert!(!kept.contains("#token="), "{kept}");
    assert!(
        kept.contains("x@example.com"),
        "the recipient is kept: {kept}"
    );
}

both_backends!(
    delivered_emails_keep_no_live_link,
    dead_items_are_purged_after_their_retention,
);
