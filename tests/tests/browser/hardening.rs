//! Hardening (issue 8) as a person in a browser meets it.

use crate::harness::{Browser, HostSite, spawn_web_app, spawn_web_app_with, widget_page};
use crate::helpers::{Backend, PASSWORD};
use invitegate_core::api::CreateInvitationRequest;

const DESKTOP: u32 = 1280;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_leaves_the_site_whatever_next_says() {
    let app = spawn_web_app(Backend::Sqlite).await;
    app.admin().await;
    let b = Browser::start("next-redirect", DESKTOP).await;
    for next in [
        "/%5Cevil.example",
        "//evil.example",
        "https://evil.example/app",
        "/nowhere",
    ] {
        b.open(&app.url(&format!("/login?next={next}"))).await;
        b.wait_text("Forgot your password?").await;
        b.fill("#email", "owner@example.com").await;
        b.fill("#password", PASSWORD).await;
        b.click_button("Sign in").await;
        let url = b.wait_path("/app").await;
        assert_eq!(
            url.host_str(),
            Some("127.0.0.1"),
            "{next} stayed on the site"
        );
        b.c.delete_all_cookies().await.unwrap();
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_docs_run_under_a_csp_without_inline_script() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let res = app.http.get(app.url("/docs/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    let b = Browser::start("docs", DESKTOP).await;
    b.open(&app.url("/docs/")).await;
    // Rendered by Swagger UI's script: it ran under the policy.
    b.wait_text("Invitegate API").await;
    b.wait_text("invitations").await;
    b.close().await;
}

/// The embedded widget, given a domain invitation, asks for the email only; the password is
/// chosen later on the emailed link's page (pre-hijacking).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_asks_no_password_before_the_email_is_verified() {
    let host = HostSite::bind();
    let app = spawn_web_app_with(Backend::Sqlite, {
        let o = host.origin.clone();
        move |c| c.cors_allowed_origins = vec![o]
    })
    .await;
    let admin = app.admin().await;
    let domain = admin
        .create_invitation(&CreateInvitationRequest {
            email_domain: Some("partner.example".into()),
            max_uses: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    let origin = host.origin.clone();
    host.serve(widget_page(&app.address, &domain.token));
    let b = Browser::start("widget-domain", DESKTOP).await;
    b.open(&format!("{origin}/")).await;
    b.wait_text("Use your @partner.example address").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("#password"))
            .await
            .is_err(),
        "no password field before verification"
    );
    b.fill("#email", "kim@partner.example").await;
    b.click_button("Continue").await;
    b.wait_text("Check your email").await;
    assert_eq!(
        app.count_users().await,
        1,
        "only the owner: nothing created yet"
    );
    app.link_token_for("kim@partner.example", "/verify-email")
        .await;
    b.close().await;
}
