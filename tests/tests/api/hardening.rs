//! Security defects closed in the hardening round (issue 8): each test fails on the code
//! before the fix.

use crate::both_backends;
use crate::helpers::*;
use invitegate_client::Registration;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::{Role, Scope, SignupMode};

const ATTACKER_PASSWORD: &str = "attacker chosen password 1";

/// Pre-hijacking: whoever registers first for someone else's address never chooses the
/// password; the holder of the emailed link does, and must send it explicitly.
async fn a_password_sent_before_verification_is_never_used(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let domain = admin
        .create_invitation(&domain_req("corp.example", 5))
        .await
        .unwrap();
    let attack = RegisterRequest {
        password: Some(ATTACKER_PASSWORD.into()),
        ..register_req("victim@corp.example", Some(&domain.token))
    };
    assert!(matches!(
        app.api.register(&attack).await.unwrap(),
        Registration::VerificationPending
    ));
    let token = app
        .link_token_for("victim@corp.example", "/verify-email")
        .await;
    let users = app.count_users().await;

    // A scanner (or a page on load) that posts the token alone creates nothing.
    let res = app
        .http
        .post(app.url("/api/v1/email-verifications/confirm"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    let problem: Problem = res.json().await.unwrap();
    assert_eq!(problem.errors.unwrap()["password"], vec!["required"]);
    assert_eq!(app.count_users().await, users, "nothing created");

    // A weak password is refused and the link still works afterwards.
    assert_problem(
        app.api.confirm_email(&token, "short").await,
        422,
        ErrorCode::ValidationFailed,
    );
    let victim_password = "her own long secret for this service";
    let session = app
        .api
        .confirm_email(&token, victim_password)
        .await
        .unwrap();
    assert_eq!(session.user.email, "victim@corp.example");
    assert_problem(
        app.api
            .login("victim@corp.example", ATTACKER_PASSWORD)
            .await,
        401,
        ErrorCode::InvalidCredentials,
    );
    app.api
        .login("victim@corp.example", victim_password)
        .await
        .expect("the victim's own password works");
}

/// The 202 cases take the email only; email-bound invitations still need the password.
async fn registration_asks_for_a_password_only_when_the_invitation_proves_the_email(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    admin
        .patch_settings(&SettingsPatch {
            signup_mode: Some(SignupMode::Open),
            ..Default::default()
        })
        .await
        .unwrap();
    let email_only = RegisterRequest {
        password: None,
        ..register_req("walk-in@example.com", None)
    };
    assert!(matches!(
        app.api.register(&email_only).await.unwrap(),
        Registration::VerificationPending
    ));
    // A password sent in a 202 case is not even checked: it is ignored.
    let weak_ignored = RegisterRequest {
        password: Some("x".into()),
        ..register_req("walk-in-2@example.com", None)
    };
    assert!(matches!(
        app.api.register(&weak_ignored).await.unwrap(),
        Registration::VerificationPending
    ));

    let bound = admin
        .create_invitation(&email_req("bound@example.com"))
        .await
        .unwrap();
    let verify = app.api.verify_invitation(&bound.token).await.unwrap();
    assert!(!verify.invitation.email_verification_required);
    let missing = RegisterRequest {
        password: None,
        ..register_req("bound@example.com", Some(&bound.token))
    };
    match app.api.register(&missing).await {
        Err(invitegate_client::ClientError::Api {
            status: 422,
            problem,
        }) => assert_eq!(problem.errors.unwrap()["password"], vec!["required"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        admin
            .get_invitation(&bound.invitation.id)
            .await
            .unwrap()
            .uses,
        0,
        "a refused registration does not use the invitation"
    );
    let open = admin
        .create_invitation(&CreateInvitationRequest::default())
        .await
        .unwrap();
    let verify = app.api.verify_invitation(&open.token).await.unwrap();
    assert!(verify.invitation.email_verification_required);
}

/// A key with `invitations:write` but not `admin` cannot mint an administrator.
async fn a_narrow_key_cannot_invite_administrators(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let writer = app.api_key(&admin, &[Scope::InvitationsWrite]).await;
    let as_admin = |email: &str| CreateInvitationRequest {
        role: Some(Role::Admin),
        ..email_req(email)
    };
    let before = app.count_invitations().await;
    assert_problem(
        writer
            .create_invitation(&as_admin("mallory@example.com"))
            .await,
        403,
        ErrorCode::Forbidden,
    );
    let open_admin = CreateInvitationRequest {
        role: Some(Role::Admin),
        max_uses: Some(10),
        ..Default::default()
    };
    assert_problem(
        writer.create_invitation(&open_admin).await,
        403,
        ErrorCode::Forbidden,
    );
    // Bulk (the console's and CLI's import go through it): one admin row refuses the batch.
    let bulk = BulkCreateRequest {
        invitations: vec![email_req("fine@example.com"), as_admin("m2@example.com")],
        dry_run: false,
    };
    assert_problem(
        writer.bulk_create_invitations(&bulk).await,
        403,
        ErrorCode::Forbidden,
    );
    assert_eq!(app.count_invitations().await, before, "nothing created");

    // Resending an administrator's invitation would hand the key a working admin link.
    let by_admin = admin
        .create_invitation(&as_admin("new-admin@example.com"))
        .await
        .unwrap();
    assert_problem(
        writer
            .resend_invitation(&by_admin.invitation.id, &ResendInvitationRequest::default())
            .await,
        403,
        ErrorCode::Forbidden,
    );
    app.api
        .verify_invitation(&by_admin.token)
        .await
        .expect("the admin's link still works: the refused resend changed nothing");

    // Member invitations still work with the narrow key; an `admin` key may grant admin.
    writer
        .create_invitation(&email_req("member@example.com"))
        .await
        .unwrap();
    let full = app.api_key(&admin, &[Scope::Admin]).await;
    let ok = full
        .create_invitation(&as_admin("deputy@example.com"))
        .await
        .unwrap();
    assert_eq!(ok.invitation.role, Role::Admin);
}

/// A user agent is the client's words: in the CSV export it must not become a formula.
async fn the_audit_csv_export_neutralises_formulas(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("user-agent", "=HYPERLINK(\"http://evil.example\",\"x\")")
        .json(&serde_json::json!({"email": "owner@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let csv = admin
        .export_audit_events(&invitegate_core::api::AuditEventQuery {
            format: Some(invitegate_core::api::ExportFormat::Csv),
            action: Some(String::from("login.succeeded")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        csv.contains("'=HYPERLINK("),
        "the user agent is prefixed with a quote: {csv}"
    );
    assert!(!csv.contains(",=HYPERLINK("), "{csv}");
}

/// Behind a proxy range, every `X-Forwarded-For` line counts (joined in order, even one with
/// bytes that are not ASCII) and the right-most untrusted address is the client: an entry the
/// client wrote further left never wins.
async fn the_client_ip_is_walked_from_the_right_across_header_lines(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.trusted_proxies = vec!["127.0.0.0/8".into()]).await;
    let admin = app.admin().await;
    let res = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "6.6.6.6")
        // The client's own line carries a non-ASCII byte; the proxy appended to it.
        .header(
            "x-forwarded-for",
            reqwest::header::HeaderValue::from_bytes(b"\xff, 203.0.113.9, 127.0.0.77").unwrap(),
        )
        .json(&serde_json::json!({"email": "owner@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let events = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("login.succeeded")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.data[0].ip.as_deref(), Some("203.0.113.9"));
}

/// Two tabs share one refresh cookie: both refresh at once and neither is signed out; the
/// same old token presented after the grace window still ends the session (reuse detection).
async fn sessions_survive_two_tabs_refreshing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.admin().await;
    let origin = app.address.clone();
    let cookie = app.owner_refresh_cookie().await;
    let refresh = || {
        app.http
            .post(app.url("/api/v1/auth/refresh"))
            .header("Cookie", &cookie)
            .header("Origin", &origin)
            .send()
    };
    let (a, b) = tokio::join!(refresh(), refresh());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let rotated = [&a, &b]
        .iter()
        .filter(|r| r.headers().get("set-cookie").is_some())
        .count();
    assert_eq!(
        rotated, 1,
        "one rotation; the other tab keeps the new cookie"
    );
    let mut access = Vec::new();
    for r in [a, b] {
        let s: SessionResponse = r.json().await.unwrap();
        app.api.with_bearer(&s.access_token).me().await.unwrap();
        access.push(s.access_token);
    }
    app.age_sessions(60).await;
    let late = refresh().await.unwrap();
    assert_eq!(late.status().as_u16(), 401);
    assert_problem(
        app.api.with_bearer(&access[0]).me().await,
        401,
        ErrorCode::Unauthenticated,
    );
}

/// A panic inside a transaction must not hand the next request a connection whose
/// transaction never commits (or, on SQLite, that keeps the write lock).
async fn a_panic_inside_a_transaction_does_not_poison_the_pool(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.database_pool_size = 1).await;
    let admin = app.admin().await;
    let crashed = app
        .state
        .db(|conn| {
            invitegate_server::storage::write_tx(conn, |_| -> Result<(), diesel::result::Error> {
                panic!("a bug inside a transaction")
            })?;
            Ok(())
        })
        .await;
    assert!(crashed.is_err());
    admin
        .create_invitation(&email_req("after-panic@example.com"))
        .await
        .unwrap();
    // Seen from an independent connection, so it really committed.
    let url = app.config.database_url.clone().unwrap();
    let other =
        invitegate_server::storage::pool(&url, 1, std::time::Duration::from_secs(5)).unwrap();
    let committed = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::invitations::dsl::*;
        let mut conn = other.get().unwrap();
        invitations
            .filter(email.eq("after-panic@example.com"))
            .count()
            .get_result::<i64>(&mut **conn)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(committed, 1);
}

/// A public bind without `public_base_url` would mail links to http://0.0.0.0:… and send
/// cookies without `Secure`: the server refuses to start and names the key.
#[tokio::test]
async fn a_public_bind_without_a_public_base_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(
        dir.path(),
        format!("sqlite://{}", dir.path().join("t.db").display()),
    );
    config.bind = "0.0.0.0:0".into();
    let err = invitegate_server::startup::Application::build(config.clone())
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("public_base_url"),
        "names the key: {err}"
    );
    config.public_base_url = Some("https://invite.example.com".into());
    config.bind = "127.0.0.1:0".into();
    invitegate_server::startup::Application::build(config)
        .await
        .expect("a loopback bind, or a base URL, is fine");
}

/// HSTS under https only; `/metrics` behind `metrics_token` when one is set.
async fn hsts_under_https_and_a_metrics_token(backend: Backend) {
    let plain = spawn_app(backend).await;
    let res = plain.http.get(plain.url("/healthz")).send().await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
    let open = plain.http.get(plain.url("/metrics")).send().await.unwrap();
    assert_eq!(open.status().as_u16(), 200, "no token configured: open");

    let app = spawn_app_with(backend, |c| {
        c.public_base_url = Some("https://invite.example.com".into());
        c.metrics_token = Some("metrics-token-0123456789".into());
    })
    .await;
    let res = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let metrics = |token: Option<&'static str>| {
        let mut r = app.http.get(app.url("/metrics"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(metrics(None).await.unwrap().status().as_u16(), 401);
    assert_eq!(
        metrics(Some("metrics-token-wrong-guess"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    let ok = metrics(Some("metrics-token-0123456789")).await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert!(
        ok.text()
            .await
            .unwrap()
            .contains("http_request_duration_seconds")
    );
}

both_backends!(
    hsts_under_https_and_a_metrics_token,
    a_panic_inside_a_transaction_does_not_poison_the_pool,
    sessions_survive_two_tabs_refreshing,
    the_client_ip_is_walked_from_the_right_across_header_lines,
    the_audit_csv_export_neutralises_formulas,
    a_password_sent_before_verification_is_never_used,
    registration_asks_for_a_password_only_when_the_invitation_proves_the_email,
    a_narrow_key_cannot_invite_administrators,
);
