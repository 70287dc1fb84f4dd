//! The widget tells its host page what happened: bubbling `invitegate:registered` and
//! `invitegate:error` events, and `redirectTo` on the host's origin after sign-in.

use crate::harness::{Browser, HostSite, spawn_web_app_with, widget_events_page};
use crate::helpers::{Backend, PASSWORD, email_req};

async fn host_and_app() -> (HostSite, String, crate::helpers::TestApp) {
    let host = HostSite::bind();
    let origin = host.origin.clone();
    let app = spawn_web_app_with(Backend::Sqlite, {
        let o = origin.clone();
        move |c| c.cors_allowed_origins = vec![o]
    })
    .await;
    (host, origin, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_announces_a_registration_and_goes_where_the_host_asks() {
    let (host, origin, app) = host_and_app().await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("wil@example.com"))
        .await
        .unwrap();
    host.serve(widget_events_page(
        &app.address,
        &inv.token,
        &format!("{origin}/welcome"),
    ));
    let mut b = Browser::start("widget-events", 1280).await;
    b.open(&format!("{origin}/")).await;
    b.wait_text("invited you to create an account").await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password-confirm", PASSWORD).await;
    b.click_button("Create account").await;
    b.wait_path("/welcome").await;
    let page = b
        .wait_text("invitegate:registered {\"status\":\"signed_in\"")
        .await;
    assert!(
        page.contains("wil@example.com"),
        "the user is in the detail: {page}"
    );
    b.screen("widget-registered").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_announces_an_error() {
    let (host, origin, app) = host_and_app().await;
    host.serve(widget_events_page(
        &app.address,
        "forged.token.value",
        &format!("{origin}/welcome"),
    ));
    let b = Browser::start("widget-error", 1280).await;
    b.open(&format!("{origin}/")).await;
    b.wait_text("invitegate:error {\"code\":\"invalid_invitation\"}")
        .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_never_redirects_to_another_origin() {
    let (host, origin, app) = host_and_app().await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("xia@example.com"))
        .await
        .unwrap();
    host.serve(widget_events_page(
        &app.address,
        &inv.token,
        "https://evil.example/",
    ));
    let b = Browser::start("widget-no-redirect", 1280).await;
    b.open(&format!("{origin}/")).await;
    b.wait_text("invited you to create an account").await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password-confirm", PASSWORD).await;
    b.click_button("Create account").await;
    b.wait_text("invitegate:registered {\"status\":\"signed_in\"")
        .await;
    b.wait_text("Welcome aboard").await;
    let url = b.wait_path("/").await;
    assert_eq!(url.origin().ascii_serialization(), origin);
    b.close().await;
}
