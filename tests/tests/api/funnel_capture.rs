//! What the insights funnel (issue 14) is counted from: an invitation records when its email
//! was delivered and when it was first opened (verified), without tracking pixels or rewritten
//! links.

use crate::both_backends;
use crate::helpers::*;
use diesel::prelude::*;
use invitegate_server::storage::schema::invitations as i;

both_backends!(
    an_invitation_records_its_delivery_and_its_first_opening,
    the_sent_emails_of_a_batch_are_recorded_together,
    a_slow_mail_servers_batch_is_recorded_as_it_goes
);

type Marks = (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>);

async fn marks(app: &TestApp, id: &str) -> Marks {
    let id = id.to_string();
    app.db(move |c| {
        Ok(i::table
            .filter(i::id.eq(id))
            .select((i::delivered_at, i::opened_at))
            .first::<Marks>(c)?)
    })
    .await
}

async fn an_invitation_records_its_delivery_and_its_first_opening(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let emailed = admin
        .create_invitation(&email_req("ann@example.com"))
        .await
        .unwrap();
    let link_only = admin
        .create_invitation(&domain_req("example.org", 3))
        .await
        .unwrap();
    app.emails().await;
    let (delivered, opened) = marks(&app, &emailed.invitation.id).await;
    assert!(delivered.is_some(), "the email was written to its file");
    assert!(opened.is_none(), "nobody opened it yet");
    assert_eq!(marks(&app, &link_only.invitation.id).await, (None, None));

    app.api.verify_invitation(&emailed.token).await.unwrap();
    let first = eventually("the opening is recorded", || async {
        marks(&app, &emailed.invitation.id).await.1
    })
    .await;
    app.api.verify_invitation(&emailed.token).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        marks(&app, &emailed.invitation.id).await.1,
        Some(first),
        "the first opening stays"
    );
    // A forged token opens nothing.
    let _ = app
        .api
        .verify_invitation(&format!("{}x", link_only.token))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(marks(&app, &link_only.invitation.id).await.1, None);
}

/// The outbox worker takes a bulk creation's emails 20 at a time and records the sent ones of
/// each batch in one transaction: every email is written once, every invitation is marked
/// delivered, and the marks fall on a few times (one per email when each was recorded on its
/// own).
async fn the_sent_emails_of_a_batch_are_recorded_together(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    invite_in_bulk(&admin, "batch", 45).await;
    let emails = app.emails().await;
    for n in 0..45 {
        let to = format!("To: batch{n}@example.com");
        let written = emails.iter().filter(|m| m.contains(&to)).count();
        assert_eq!(written, 1, "one email to batch{n}@example.com");
    }
    let times = delivery_times(&app, "batch").await;
    // Three batches of 20, 20 and 5, more if another email shared one or a batch took over a
    // second; far from one per email.
    assert!(
        times.len() <= 10,
        "{} times of delivery for 45 emails",
        times.len()
    );
}

/// Over a mail server that takes 0.4 s a message, the sent emails of a batch are recorded in
/// parts, about a second apart, not only once the whole batch is through (its lease must not
/// end before what was sent is recorded).
async fn a_slow_mail_servers_batch_is_recorded_as_it_goes(b: Backend) {
    let delay = crate::smtp::Delay(std::time::Duration::from_millis(400));
    let sink = crate::smtp::SmtpSink::start_slow("127.0.0.1:0", delay).await;
    let app = spawn_app_with(b, |c| c.smtp_url = Some(format!("smtp://{}", sink.addr))).await;
    let admin = app.admin().await;
    invite_in_bulk(&admin, "slow", 5).await;
    for n in 0..5 {
        sink.wait_for(&format!("slow{n}@example.com"), 10).await;
    }
    app.emails().await;
    let times = delivery_times(&app, "slow").await;
    assert!(
        times.len() >= 2,
        "five emails over 2 s recorded at {times:?}"
    );
}

/// The distinct times at which the invitations to `<prefix>…@example.com` were recorded as
/// delivered; every one of them must have been.
async fn delivery_times(
    app: &TestApp,
    prefix: &str,
) -> std::collections::BTreeSet<chrono::NaiveDateTime> {
    let pattern = format!("{prefix}%@example.com");
    let marks: Vec<Option<chrono::NaiveDateTime>> = app
        .db(move |c| {
            Ok(i::table
                .filter(i::email.like(pattern))
                .select(i::delivered_at)
                .load(c)?)
        })
        .await;
    assert!(!marks.is_empty(), "no invitations to {prefix}…");
    assert!(marks.iter().all(Option::is_some), "every delivery recorded");
    marks.into_iter().flatten().collect()
}
