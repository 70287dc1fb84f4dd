//! Hardening (issue 8) as a person in a browser meets it.

use crate::harness::{Browser, spawn_web_app};
use crate::helpers::{Backend, PASSWORD};

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
