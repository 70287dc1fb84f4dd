//! Account lifecycle in the browser: the member's security page (change the password, end
//! another session, delete the account) and the admin console's user actions (promote,
//! disable, enable, delete).

use crate::harness::{Browser, spawn_web_app};
use crate::helpers::{Backend, PASSWORD, assert_problem};
use invitegate_core::ErrorCode;
use invitegate_core::api::UserListQuery;
use invitegate_core::model::Role;

const NEW_PASSWORD: &str = "a different long passphrase";

async fn sign_in(b: &Browser, email: &str, password: &str) {
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click_button("Sign in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_changes_the_password_ends_a_session_and_deletes_the_account() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    app.member(&admin, "ann@example.com").await;
    // Signed in somewhere else too (no User-Agent: "Unknown browser").
    let elsewhere = app.api.with_bearer(
        &app.api
            .login("ann@example.com", PASSWORD)
            .await
            .unwrap()
            .access_token,
    );

    let mut b = Browser::start("security", 1280).await;
    b.open(&app.url("/login")).await;
    sign_in(&b, "ann@example.com", PASSWORD).await;
    b.wait_path("/app").await;
    b.click_link("Password, sessions and your data").await;
    b.wait_path("/app/security").await;
    b.wait_text("this browser").await;
    b.wait_text("Unknown browser from 127.0.0.1").await;
    b.screen("security-page").await;

    // End the other session: it stops working at once.
    elsewhere.me().await.unwrap();
    b.el("[aria-label^='End session: Unknown browser']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("Session ended.").await;
    assert_problem(elsewhere.me().await, 401, ErrorCode::Unauthenticated);

    // A wrong current password is refused in words; the right one changes it.
    b.fill("#current-password", "not my password").await;
    b.fill("#password", NEW_PASSWORD).await;
    b.fill("#password-confirm", NEW_PASSWORD).await;
    b.click_button("Change password").await;
    b.wait_text("The email or password is incorrect.").await;
    b.fill("#current-password", PASSWORD).await;
    b.click_button("Change password").await;
    b.wait_text("Password changed. Every other session of your account has ended.")
        .await;
    b.screen("security-password-changed").await;
    assert_problem(
        app.api.login("ann@example.com", PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    app.api
        .login("ann@example.com", NEW_PASSWORD)
        .await
        .unwrap();

    // This browser's session carries on after the change.
    b.open(&app.url("/app/security")).await;
    b.wait_text("this browser").await;

    b.fill("#delete-password", NEW_PASSWORD).await;
    b.click_button("Delete my account").await;
    b.c.accept_alert().await.expect("a confirmation is asked");
    b.wait_path("/login").await;
    b.wait_text("Your account was deleted.").await;
    b.screen("account-deleted").await;
    assert_problem(
        app.api.login("ann@example.com", NEW_PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_promotes_disables_enables_and_deletes_a_user() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    app.member(&admin, "max@example.com").await;
    let max = || async {
        admin
            .list_users(&UserListQuery {
                email: Some("max@example.com".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .data
    };

    let mut b = Browser::start("admin-users", 1280).await;
    b.open(&app.url("/login")).await;
    sign_in(&b, "owner@example.com", PASSWORD).await;
    b.wait_path("/app").await;
    b.open(&app.url("/admin/users")).await;
    b.wait_text("max@example.com").await;
    // No actions on one's own account here.
    assert!(
        b.c.find(fantoccini::Locator::Css(
            "[aria-label='Delete owner@example.com']"
        ))
        .await
        .is_err()
    );
    b.screen("admin-users-actions").await;

    b.el("[aria-label='Make admin: max@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.c.accept_alert().await.expect("a confirmation is asked");
    b.el("[aria-label='Make member: max@example.com']").await;
    assert_eq!(max().await[0].role, Role::Admin);

    b.el("[aria-label='Disable max@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.c.accept_alert().await.expect("a confirmation is asked");
    b.el("[aria-label='Enable max@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.el("[aria-label='Disable max@example.com']").await;
    assert!(max().await[0].disabled_at.is_none());
    app.api.login("max@example.com", PASSWORD).await.unwrap();

    b.el("[aria-label='Delete max@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.c.accept_alert().await.expect("a confirmation is asked");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while b.body_text().await.contains("max@example.com") {
        assert!(std::time::Instant::now() < deadline, "the row stays");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(max().await.is_empty());
    b.close().await;
}
