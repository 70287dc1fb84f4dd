use diesel::RunQueryDsl;
use invitegate_core::api::*;
use invitegate_core::model::Role;

use crate::harness::{Browser, HostSite, spawn_web_app, spawn_web_app_with, widget_page};
use crate::helpers::{Backend, PASSWORD, email_req, register_req};

const DESKTOP: u32 = 1280;
const PHONE: u32 = 375;

/// Registers through the invitation page: the form must already be showing.
async fn fill_registration(b: &Browser, password: &str) {
    b.fill("#password", password).await;
    b.fill("#password-confirm", password).await;
    b.click_button("Create account").await;
}

async fn invite_flow(backend: Backend, width: u32, name: &str) {
    let app = spawn_web_app(backend).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            note: Some("Welcome to the team".into()),
            ..email_req("ann@example.com")
        })
        .await
        .unwrap();
    let mut b = Browser::start(name, width).await;
    b.open(&inv.url).await;
    let page = b.wait_text("invited you to create an account").await;
    assert!(
        page.contains("owner@example.com"),
        "the inviter is shown: {page}"
    );
    assert!(page.contains("valid until"), "the expiry is shown: {page}");
    // The browser read the RFC 3339 expiry: seven days ahead, less the seconds since.
    assert!(
        page.contains("(in 6 days)"),
        "the expiry's distance: {page}"
    );
    let url = b.c.current_url().await.unwrap();
    assert_eq!(
        url.fragment(),
        None,
        "the token left the address bar: {url}"
    );
    let email = b.el("#email").await;
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some("ann@example.com")
    );
    assert!(
        email.attr("readonly").await.unwrap().is_some(),
        "email-bound: locked"
    );
    b.fill("#password", "short").await;
    b.wait_text("Too short: 5 of at least 15 characters").await;
    b.fill("#password-confirm", "different").await;
    b.wait_text("The passwords do not match.").await;
    b.el("button[aria-controls]").await.click().await.unwrap();
    assert_eq!(
        b.el("#password")
            .await
            .attr("type")
            .await
            .unwrap()
            .as_deref(),
        Some("text"),
        "show toggles"
    );
    b.screen("invite").await;
    fill_registration(&b, PASSWORD).await;
    b.wait_path("/app").await;
    let page = b.wait_text("ann@example.com").await;
    assert!(page.contains("Your invitations"), "{page}");
    b.screen("member-area").await;
    let users = admin
        .list_users(&invitegate_core::api::UserListQuery {
            email: Some(String::from("ann@example.com")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(users.data.len(), 1, "the account exists");
    // The session survives a reload (silent refresh through the cookie).
    b.open(&app.url("/app")).await;
    b.wait_text("ann@example.com").await;
    // A member who opens a console address is refused without fetching the console.
    b.open(&app.url("/admin/users")).await;
    b.wait_text("Administrators only").await;
    assert!(
        !b.loaded("split_console").await,
        "a member's browser never fetches the console's module"
    );
    b.click_link("Go to your account").await;
    b.wait_text("ann@example.com").await;
    b.click_button("Sign out").await;
    b.wait_path("/login").await;
    b.open(&app.url("/admin")).await;
    b.wait_path("/login").await;
    assert!(
        !b.loaded("split_console").await,
        "nor does a signed-out visitor's"
    );
    b.open(&app.url("/app")).await;
    b.wait_path("/login").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitee_registers_from_the_link_and_lands_signed_in_sqlite() {
    invite_flow(Backend::Sqlite, DESKTOP, "invitee-sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitee_registers_from_the_link_and_lands_signed_in_postgres() {
    invite_flow(Backend::Postgres, DESKTOP, "invitee-postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitee_flow_works_on_a_375px_phone() {
    invite_flow(Backend::Sqlite, PHONE, "phone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_revoked_used_and_mismatched_links_each_say_why() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let mut b = Browser::start("dead-links", DESKTOP).await;

    let expired = admin
        .create_invitation(&email_req("old@example.com"))
        .await
        .unwrap();
    app.expire_invitation(&expired.invitation.id).await;
    b.open(&expired.url).await;
    b.wait_text("This invitation has expired").await;
    b.screen("expired").await;

    let revoked = admin
        .create_invitation(&email_req("gone@example.com"))
        .await
        .unwrap();
    admin
        .revoke_invitation(&revoked.invitation.id)
        .await
        .unwrap();
    b.open(&revoked.url).await;
    b.wait_text("This invitation was withdrawn").await;

    let used = admin
        .create_invitation(&email_req("used@example.com"))
        .await
        .unwrap();
    app.api
        .register(&register_req("used@example.com", Some(&used.token)))
        .await
        .unwrap();
    b.open(&used.url).await;
    let page = b.wait_text("This invitation has been used").await;
    assert!(page.contains("sign in instead"), "{page}");

    b.open(&format!("{}/invite#token=not-a-real-token", app.address))
        .await;
    b.wait_text("This invitation link does not work").await;

    let domain = admin
        .create_invitation(&CreateInvitationRequest {
            email_domain: Some("example.com".into()),
            max_uses: Some(5),
            ..Default::default()
        })
        .await
        .unwrap();
    b.open(&domain.url).await;
    b.wait_text("Use your @example.com address").await;
    b.fill("#email", "eve@elsewhere.org").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("#password"))
            .await
            .is_err(),
        "a domain invitation asks for the password only after the email is verified"
    );
    b.click_button("Continue").await;
    b.wait_text("This invitation was sent to a different email address")
        .await;
    b.screen("email-mismatch").await;

    // Without a token: sign-up is by invitation; a pasted link works.
    b.open(&app.url("/register")).await;
    b.wait_text("Sign-up is by invitation").await;
    b.screen("register-without-invitation").await;
    b.fill("#invite-link", &domain.url).await;
    b.click_button("Continue").await;
    b.wait_text("Use your @example.com address").await;
    b.fill("#email", "pat@example.com").await;
    b.click_button("Continue").await;
    b.wait_text("Check your email").await;
    b.screen("check-your-email").await;
    // Opening the link (as a mail scanner that runs JavaScript would) creates nothing: the
    // password is chosen on the page and sent only on an explicit submit.
    let users_before = app.count_users().await;
    let token = app.link_token_for("pat@example.com", "/verify-email").await;
    b.open(&format!("{}/verify-email#token={token}", app.address))
        .await;
    b.wait_text("Choose your password").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        app.count_users().await,
        users_before,
        "opening the link created an account"
    );
    b.screen("verify-email-choose-password").await;
    fill_registration(&b, PASSWORD).await;
    b.wait_path("/app").await;
    b.wait_text("pat@example.com").await;
    assert_eq!(app.count_users().await, users_before + 1);
    b.open(&format!("{}/verify-email#token={token}", app.address))
        .await;
    b.wait_text("Choose your password").await;
    fill_registration(&b, PASSWORD).await;
    b.wait_text("We could not confirm your email").await;
    b.screen("verify-email-failed").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_invites_a_friend_then_hits_the_quota() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    admin
        .patch_settings(&SettingsPatch {
            max_invites_per_user: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    app.member(&admin, "mia@example.com").await;
    let mut b = Browser::start("member", DESKTOP).await;
    b.open(&app.url("/login?login_hint=mia%40example.com"))
        .await;
    let email = b.el("#email").await;
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some("mia@example.com"),
        "login_hint prefills"
    );
    b.screen("login").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_path("/app").await;
    b.wait_text("0 of 1 used, 1 left").await;
    b.wait_text("lets whoever holds it create an account").await;
    b.fill("#invite-email", "friend@example.com").await;
    b.fill("#invite-email-again", "friend@exampel.com").await;
    b.click_button("Send invitation").await;
    b.wait_text("The two addresses differ").await;
    b.fill("#invite-email-again", "friend@example.com").await;
    b.click_button("Send invitation").await;
    b.wait_text("Invitation sent to friend@example.com").await;
    let link = b.value("[data-testid=copy-value]").await;
    assert!(link.contains("/invite#token="), "{link}");
    let page = b.wait_text("1 of 1 used, 0 left").await;
    assert!(
        page.contains("You have used all your invitations"),
        "{page}"
    );
    assert!(page.contains("friend@example.com"), "listed: {page}");
    // The member's own small funnel: one sent, not yet opened or accepted.
    assert_eq!(
        b.text_of("my-funnel-desc").await,
        "Sent: 1, Opened: 0, Accepted: 0"
    );
    b.screen("member-quota-reached").await;
    assert!(!page.contains("Admin\n"), "no console link for members");
    b.open(&app.url("/admin")).await;
    b.wait_text("Administrators only").await;
    b.open(&app.url("/app")).await;
    // Revoking gives the invitation back.
    b.click_button("Revoke").await;
    b.wait_text("0 of 1 used, 1 left").await;
    b.close().await;
}

/// The owner link printed at start-up, in the browser: the owner signs up and lands in the
/// member area.
pub(crate) async fn owner_signs_up(app: &crate::helpers::TestApp, b: &Browser) {
    b.open(&format!("{}/invite#token={}", app.address, app.owner_token))
        .await;
    b.wait_text("invited you to create an account").await;
    b.fill("#email", "owner@example.com").await;
    fill_registration(b, PASSWORD).await;
    b.wait_path("/app").await;
    b.wait_text("Your invitations").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_link_to_admin_console_create_import_revoke_resend() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let mut b = Browser::start("admin", DESKTOP).await;
    owner_signs_up(&app, &b).await;
    assert!(
        !b.loaded("split_console").await,
        "the console's module waits for the console"
    );
    b.click_link("Admin").await;
    b.wait_path("/admin").await;
    b.wait_text("Top inviters").await;
    assert!(
        b.loaded("split_console").await,
        "the console loaded its module"
    );
    b.click_link("Invitations").await;
    b.wait_path("/admin/invitations").await;
    b.wait_text("All invitations").await;

    b.fill("#new-email", "zoe@example.com").await;
    b.fill("#new-note", "See you Monday").await;
    b.click_button("Create invitation").await;
    b.wait_text("Invitation created for zoe@example.com").await;
    let link = b.value("[data-testid=copy-value]").await;
    b.wait_text("See you Monday").await;
    b.screen("admin-invitations").await;

    b.click_link("Import").await;
    b.wait_path("/admin/import").await;
    b.fill("#csv-text", "email,role\nbo@example.com,member\nnot-an-email,member\ncy@example.com,admin\nzoe@example.com,member\n").await;
    b.click_button("Import").await;
    b.wait_text("Dry run result (nothing was created)").await;
    b.wait_text("2 created, 1 already invited, 0 already registered, 1 invalid")
        .await;
    b.el("#dry-run").await.click().await.unwrap();
    b.click_button("Import").await;
    b.wait_text("Import result").await;
    b.screen("admin-import").await;
    assert_eq!(
        app.count_invitations().await,
        4,
        "the owner's, zoe's, then bo's and cy's"
    );

    b.click_link("Invitations").await;
    b.wait_text("bo@example.com").await;
    b.el("[aria-label='Revoke the invitation for bo@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.el("#filter-state")
        .await
        .select_by_value("revoked")
        .await
        .unwrap();
    b.wait_text("bo@example.com").await;
    b.el("#filter-state")
        .await
        .select_by_value("")
        .await
        .unwrap();
    b.el("[aria-label='Resend the invitation for zoe@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("New link for zoe@example.com").await;
    let new_link = b.value("[data-testid=copy-value]").await;
    assert_ne!(link, new_link, "a fresh token");
    let old = app
        .api
        .verify_invitation(link.split("#token=").nth(1).unwrap())
        .await;
    assert!(old.is_err(), "the old link is dead");
    let session = app.api.login("owner@example.com", PASSWORD).await.unwrap();
    let bo = app
        .api
        .with_bearer(&session.access_token)
        .list_invitations(&invitegate_core::api::InvitationListQuery {
            email: Some(String::from("bo@example.com")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(bo.data[0].state.as_str(), "revoked");

    // A CSV file upload, then the table pages through the result.
    let csv = app.dir.path().join("people.csv");
    let rows: String = (0..30).map(|i| format!("p{i:02}@example.com\n")).collect();
    std::fs::write(&csv, rows).unwrap();
    b.click_link("Import").await;
    b.wait_path("/admin/import").await;
    b.el("#csv-file")
        .await
        .send_keys(csv.to_str().unwrap())
        .await
        .unwrap();
    for _ in 0..100 {
        let text = b.value("#csv-text").await;
        if text.contains("p29@example.com") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.el("#dry-run").await.click().await.unwrap();
    b.click_button("Import").await;
    b.wait_text("30 created, 0 already invited, 0 already registered, 0 invalid")
        .await;
    b.click_link("Invitations").await;
    b.click_button("Load more").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let shown =
            b.c.find_all(fantoccini::Locator::Css("tbody tr"))
                .await
                .unwrap()
                .len();
        if shown == 34 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "34 invitations after one more page, saw {shown}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    for (tab, path, text) in [
        ("Users", "/admin/users", "owner@example.com"),
        ("Audit log", "/admin/audit", "invitation.created"),
        ("API keys", "/admin/api-keys", "Scopes"),
        ("Webhooks", "/admin/webhooks", "Endpoints"),
        ("Delivery", "/admin/outbox", "Delivery"),
        ("Settings", "/admin/settings", "Sign-up mode"),
    ] {
        b.click_link(tab).await;
        b.wait_path(path).await;
        b.wait_text(text).await;
        b.screen(&format!("admin-{}", path.trim_start_matches("/admin/")))
            .await;
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_keys_webhooks_dead_deliveries_and_settings() {
    let app = spawn_web_app_with(Backend::Sqlite, |c| c.webhook_allow_private_targets = true).await;
    let admin = app.admin().await;
    app.member(&admin, "max@example.com").await;
    admin
        .create_invitation(&email_req("dee@example.com"))
        .await
        .unwrap();
    app.emails().await;
    app.db(|c| {
        diesel::sql_query("UPDATE outbox SET status = 'dead', attempts = 8, last_error = 'smtp: connection refused'")
            .execute(c)
            .map_err(Into::into)
    })
    .await;
    let mut b = Browser::start("admin-ops", DESKTOP).await;
    b.open(&app.url("/login")).await;
    b.fill("#email", "owner@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_path("/app").await;

    b.open(&app.url("/admin/api-keys")).await;
    b.fill("#key-name", "CRM sync").await;
    b.click_button("Create key").await;
    b.wait_text("Copy this key now").await;
    let key = b.value("[data-testid=copy-value]").await;
    let with_key = app.api.with_bearer(&key);
    with_key
        .create_invitation(&email_req("via-key@example.com"))
        .await
        .expect("the new key works");
    b.wait_text("CRM sync").await;
    b.click_button("Revoke").await;
    b.wait_text("revoked").await;

    b.open(&app.url("/admin/webhooks")).await;
    b.fill("#hook-url", "http://127.0.0.1:9/hook").await;
    b.click_button("Add endpoint").await;
    b.wait_text("Copy the signing secret now").await;
    let secret = b.value("[data-testid=copy-value]").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    b.wait_text("http://127.0.0.1:9/hook").await;
    b.click_button("Deliveries").await;
    b.wait_text("Delivery log").await;
    b.screen("admin-webhooks").await;

    b.open(&app.url("/admin/outbox")).await;
    b.wait_text("smtp: connection refused").await;
    b.screen("admin-dead-deliveries").await;
    b.click_button("Retry").await;
    b.wait_text("Queued for another attempt.").await;

    b.open(&app.url("/admin/users")).await;
    b.el("[aria-label='Disable max@example.com']")
        .await
        .click()
        .await
        .unwrap();
    b.c.accept_alert().await.expect("a confirmation is asked");
    b.wait_text("disabled").await;
    let max = admin
        .list_users(&invitegate_core::api::UserListQuery {
            email: Some(String::from("max@example.com")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(max.data[0].disabled_at.is_some(), "disabled on the server");

    b.open(&app.url("/admin/settings")).await;
    b.wait_text("Sign-up mode").await;
    b.fill("#set-quota", "9").await;
    b.fill("#set-allow", "vip@example.com").await;
    b.click_button("Save settings").await;
    b.wait_text("Settings saved.").await;
    let s = admin.settings().await.unwrap();
    assert_eq!(s.max_invites_per_user, 9);
    assert_eq!(
        s.invitation_whitelist_emails,
        vec!["vip@example.com".to_string()]
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgotten_password_is_reset_from_the_emailed_link() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    app.member(&admin, "kim@example.com").await;
    let mut b = Browser::start("reset", DESKTOP).await;
    b.open(&app.url("/login")).await;
    b.fill("#email", "kim@example.com").await;
    b.fill("#password", "not the password at all").await;
    b.click_button("Sign in").await;
    b.wait_text("The email or password is incorrect.").await;
    b.click_link("Forgot your password?").await;
    b.wait_path("/forgot-password").await;
    assert_eq!(
        b.el("#email").await.prop("value").await.unwrap().as_deref(),
        Some("kim@example.com")
    );
    b.screen("forgot-password").await;
    b.click_button("Send reset link").await;
    b.wait_text("we sent it a link").await;
    let token = app
        .link_token_for("kim@example.com", "/reset-password")
        .await;
    b.open(&format!("{}/reset-password#token={token}", app.address))
        .await;
    b.wait_text("Choose a new password").await;
    b.screen("reset-password").await;
    let new_password = "a brand new passphrase, mine alone";
    b.fill("#password", new_password).await;
    b.fill("#password-confirm", new_password).await;
    b.click_button("Set password and sign in").await;
    b.wait_path("/app").await;
    b.wait_text("kim@example.com").await;
    app.api
        .login("kim@example.com", new_password)
        .await
        .expect("the new password works");
    assert!(
        app.api.login("kim@example.com", PASSWORD).await.is_err(),
        "the old one does not"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_on_another_origin_registers_a_user() {
    let host = HostSite::bind();
    let host_origin = host.origin.clone();
    let app = spawn_web_app_with(Backend::Sqlite, {
        let o = host_origin.clone();
        move |c| c.cors_allowed_origins = vec![o]
    })
    .await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("wil@example.com"))
        .await
        .unwrap();
    host.serve(widget_page(&app.address, &inv.token));
    let mut b = Browser::start("widget", DESKTOP).await;
    b.open(&format!("{host_origin}/")).await;
    b.wait_text("invited you to create an account").await;
    // The strength meter asks the browser for Unicode case and character classes.
    b.fill("#password", "xxWiLxxxxxxxxxxxx").await;
    b.wait_text("The password must not contain your email address.")
        .await;
    b.fill("#password", "abcdefghijklmnop").await;
    b.wait_text("Fair (16 characters)").await;
    b.fill("#password", "Ébcdefghijklmno٣").await;
    b.wait_text("Good (16 characters)").await;
    b.fill("#password", "abcdefghijklmno٣").await;
    b.wait_text("Fair (16 characters)").await;
    b.screen("widget").await;
    fill_registration(&b, PASSWORD).await;
    b.wait_text("Welcome aboard").await;
    let users = admin
        .list_users(&invitegate_core::api::UserListQuery {
            email: Some(String::from("wil@example.com")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(users.data.len(), 1);
    assert_eq!(users.data[0].role, Role::Member);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accessibility_audit_catches_an_unlabelled_field() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let b = Browser::start("axe-self-check", DESKTOP).await;
    b.open(&app.url("/login")).await;
    b.wait_text("Forgot your password?").await;
    assert!(b.violations().await.is_empty(), "the sign-in page is clean");
    b.c.execute(
        "const i = document.createElement('input'); document.querySelector('form').appendChild(i);",
        vec![],
    )
    .await
    .unwrap();
    let found = b.violations().await;
    assert!(
        found.iter().any(|v| v.contains("label")),
        "axe reports the unlabelled input: {found:?}"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_sign_in_returns_to_the_page_asked_for() {
    let app = spawn_web_app_with(Backend::Sqlite, |c| c.product_name = "Acme Guild".into()).await;
    app.admin().await;
    let b = Browser::start("keyboard", DESKTOP).await;
    b.open(&app.url("/admin/settings")).await;
    let url = b.wait_path("/login").await;
    assert_eq!(url.query(), Some("next=%2Fadmin%2Fsettings"));
    b.wait_text("Forgot your password?").await;
    // Focus starts in the email field; Tab moves to the password; Enter submits.
    let active = b.c.active_element().await.unwrap();
    assert_eq!(active.attr("id").await.unwrap().as_deref(), Some("email"));
    active.send_keys("owner@example.com\u{E004}").await.unwrap();
    let active = b.c.active_element().await.unwrap();
    assert_eq!(
        active.attr("id").await.unwrap().as_deref(),
        Some("password")
    );
    active
        .send_keys(&format!("{PASSWORD}\u{E007}"))
        .await
        .unwrap();
    b.wait_path("/admin/settings").await;
    b.wait_text("Sign-up mode").await;
    let brand = b.el(".brand").await.text().await.unwrap();
    assert_eq!(brand, "Acme Guild", "the configured product name");
    assert_eq!(b.c.title().await.unwrap(), "Acme Guild");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pre_approved_email_registers_without_an_invitation() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    admin
        .patch_settings(&SettingsPatch {
            invitation_whitelist_emails: Some(vec!["vip@example.com".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    let b = Browser::start("allowlist", DESKTOP).await;
    b.open(&app.url("/register")).await;
    b.wait_text("Sign-up is by invitation").await;
    b.el("details.allowlist summary")
        .await
        .click()
        .await
        .unwrap();
    b.click_button("Register with my email").await;
    b.fill("#email", "nobody@example.com").await;
    b.click_button("Continue").await;
    b.wait_text("Sign-up is by invitation only").await;
    b.fill("#email", "vip@example.com").await;
    b.click_button("Continue").await;
    b.wait_text("Check your email").await;
    let token = app.link_token_for("vip@example.com", "/verify-email").await;
    b.open(&format!("{}/verify-email#token={token}", app.address))
        .await;
    b.wait_text("Choose your password").await;
    fill_registration(&b, PASSWORD).await;
    b.wait_path("/app").await;
    b.wait_text("vip@example.com").await;
    b.close().await;
}
