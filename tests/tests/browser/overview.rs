//! The admin console's Overview (issue 14) in Chromium: the numbers of a known set of
//! invitations in the charts' text alternatives, the invite tree with its cascade revoke, the
//! dark theme and a 375 px screen, each audited with axe.

use crate::harness::*;
use crate::helpers::*;
use invitegate_core::api::*;

const DESKTOP: u32 = 1280;
const PHONE: u32 = 375;

async fn sign_in_to_overview(b: &Browser, app: &TestApp) {
    b.open(&app.url("/login")).await;
    b.fill("#email", "owner@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_path("/app").await;
    b.click_link("Admin").await;
    b.wait_path("/admin").await;
    b.wait_text("Overview").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_the_funnel_and_revokes_a_branch() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    // Ann accepted, Bob only opened, Cat's was revoked; Ann brought in Dan.
    let (ann, _) = app.invited(&admin, "ann@example.com").await;
    let bob = admin
        .create_invitation(&email_req("bob@example.com"))
        .await
        .unwrap();
    let cat = admin
        .create_invitation(&email_req("cat@example.com"))
        .await
        .unwrap();
    admin.revoke_invitation(&cat.invitation.id).await.unwrap();
    app.invited(&ann, "dan@example.com").await;
    app.api.verify_invitation(&bob.token).await.unwrap();
    for _ in 0..2 {
        assert!(
            app.api
                .login("ann@example.com", "wrong password")
                .await
                .is_err()
        );
    }
    // Every email out (or dropped) first, so "delivered" no longer moves.
    eventually("the outbox is empty", || async {
        let pending = app
            .db(|c| invitegate_server::storage::outbox::pending_count(c).map_err(Into::into))
            .await;
        (pending == 0).then_some(())
    })
    .await;
    let funnel = eventually("bob's opening is recorded", || async {
        let f = admin
            .insights_funnel(&InsightsQuery::default())
            .await
            .unwrap();
        (f.opened == 3).then_some(f)
    })
    .await;
    assert_eq!((funnel.created, funnel.accepted, funnel.revoked), (4, 2, 1));

    eventually("the failed sign-ins are audited", || async {
        let s = admin
            .insights_timeseries(&TimeseriesQuery::new(InsightsMetric::FailedAttempts))
            .await
            .unwrap();
        (s.points.iter().map(|p| p.value).sum::<u64>() == 2).then_some(())
    })
    .await;

    let mut b = Browser::start("overview", DESKTOP).await;
    sign_in_to_overview(&b, &app).await;
    let desc = b.text_of("funnel-desc").await;
    assert_eq!(
        desc,
        format!(
            "Created: 4, Delivered: {}, Opened: 3, Accepted: 2",
            funnel.delivered
        )
    );
    let page = b.wait_text("Acceptance rate").await;
    assert!(page.contains("50%"), "2 of 4 accepted: {page}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let registrations = b.text_of("registrations-desc").await;
    assert!(
        registrations.starts_with("3 in all from "),
        "the owner, Ann and Dan: {registrations}"
    );
    // The browser reads the buckets' RFC 3339 times: the last one is today's (UTC).
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        registrations.contains(&format!(" to {today}"))
            || registrations.contains(&format!(" to {an_hour_ago}")),
        "the last bucket is today's: {registrations}"
    );
    let failures = b.text_of("failed-attempts-desc").await;
    assert!(failures.starts_with("2 in all"), "{failures}");
    let inviters = b.wait_text("Top inviters").await;
    assert!(inviters.contains("owner@example.com"), "{inviters}");
    b.screen("overview").await;

    // Ann's branch: Ann and Dan; revoking it disables both.
    b.fill("#tree-email", "ann@example.com").await;
    b.click_button("Show tree").await;
    b.wait_text("invited by ann@example.com").await;
    b.el("[aria-label='Revoke branch of ann@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.c.accept_alert().await.expect("a confirmation is asked");
    b.wait_text("2 accounts disabled, 0 invitations revoked.")
        .await;
    assert!(app.api.login("dan@example.com", PASSWORD).await.is_err());
    b.screen("overview-tree").await;
    b.close().await;

    // Dark and narrow: the charts take the theme's colours and nothing scrolls sideways.
    let mut b = Browser::start_with("overview-dark", PHONE, &["--force-dark-mode"]).await;
    sign_in_to_overview(&b, &app).await;
    b.text_of("funnel-desc").await;
    let look =
        b.c.execute(
            "return [matchMedia('(prefers-color-scheme: dark)').matches,
                     getComputedStyle(document.querySelector('svg.chart text.value')).fill,
                     getComputedStyle(document.body).color,
                     document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(look[0], serde_json::json!(true), "dark mode: {look}");
    assert_eq!(
        look[1], look[2],
        "chart text in the theme's text colour: {look}"
    );
    let wide = b
        .c
        .execute(
            "return [...document.querySelectorAll('body *')]
               .filter(e => !(e.parentElement && e.parentElement.closest('.table-wrap')) && e.getBoundingClientRect().right > innerWidth + 1)
               .slice(0, 12).map(e => e.tagName + '.' + e.className + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        look[3].as_u64().unwrap() <= u64::from(PHONE),
        "{look}: wider than the screen: {wide}"
    );
    b.screen("overview-dark-phone").await;
    b.close().await;
}
