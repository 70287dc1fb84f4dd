use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;

both_backends!(
    login_is_uniform_for_unknown_emails_and_wrong_passwords,
    refresh_rotates_and_logout_ends_the_session,
    rate_limits_answer_429_with_retry_after,
    repeated_failures_raise_a_security_alert,
    login_attempts_are_limited_per_account,
    cors_answers_only_configured_origins,
    password_reset_reveals_nothing_and_ends_other_sessions,
);

async fn login_is_uniform_for_unknown_emails_and_wrong_passwords(b: Backend) {
    let app = spawn_app(b).await;
    app.admin().await;
    let mut answers = Vec::new();
    for (email, password) in [
        ("owner@example.com", "wrong password entirely"),
        ("nobody@example.com", PASSWORD),
        ("not-an-email", PASSWORD),
    ] {
        let res = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&LoginRequest {
                email: email.into(),
                password: password.into(),
            })
            .send()
            .await
            .unwrap();
        answers.push((
            res.status().as_u16(),
            res.headers()["content-type"].to_str().unwrap().to_string(),
            res.text().await.unwrap(),
        ));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0].0, 401);
    assert!(answers[0].2.contains("invalid_credentials"));
    let ok = app.api.login(" OWNER@example.com", PASSWORD).await.unwrap();
    assert_eq!(ok.user.email, "owner@example.com");
    let admin = app.api.with_bearer(&ok.access_token);
    let failed = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("login.failed")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.data.len(), 3);
}

async fn refresh_rotates_and_logout_ends_the_session(b: Backend) {
    let app = spawn_app(b).await;
    app.admin().await;
    let origin = app.address.clone();
    // A client with its own cookie store.
    let client = invitegate_client::Client::new(&app.address).unwrap();
    let session = client.login("owner@example.com", PASSWORD).await.unwrap();
    let cookie_client = client.with_origin(&origin);
    // Without an allowed Origin, the cookie is not honoured (CSRF).
    assert_problem(client.refresh().await, 403, ErrorCode::Forbidden);
    assert_problem(
        client
            .with_origin("https://evil.example.net")
            .refresh()
            .await,
        403,
        ErrorCode::Forbidden,
    );
    let refreshed = cookie_client.refresh().await.unwrap();
    assert_ne!(refreshed.access_token, session.access_token);
    client
        .with_bearer(&refreshed.access_token)
        .me()
        .await
        .unwrap();
    // A replayed, already-rotated refresh token ends the session.
    let login2 = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&LoginRequest {
            email: "owner@example.com".into(),
            password: PASSWORD.into(),
        })
        .send()
        .await
        .unwrap();
    let cookie = login2.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let access2 = login2.json::<SessionResponse>().await.unwrap().access_token;
    let first = app
        .http
        .post(app.url("/api/v1/auth/refresh"))
        .header("Cookie", &cookie)
        .header("Origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    // Past the grace window for concurrent tabs (see sessions_survive_two_tabs_refreshing).
    app.age_sessions(60).await;
    let replay = app
        .http
        .post(app.url("/api/v1/auth/refresh"))
        .header("Cookie", &cookie)
        .header("Origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 401);
    assert_problem(
        app.api.with_bearer(&access2).me().await,
        401,
        ErrorCode::Unauthenticated,
    );
    // Logout ends the access token and the refresh cookie at once.
    let bearer = client
        .with_bearer(&refreshed.access_token)
        .with_origin(&origin);
    bearer.logout().await.unwrap();
    assert_problem(bearer.me().await, 401, ErrorCode::Unauthenticated);
    assert_problem(
        cookie_client.refresh().await,
        401,
        ErrorCode::Unauthenticated,
    );
    // Tampered and foreign-audience tokens are refused.
    let mut tampered = session.access_token.clone();
    tampered.push('x');
    assert_problem(
        app.api.with_bearer(&tampered).me().await,
        401,
        ErrorCode::Unauthenticated,
    );
    assert_problem(
        app.api.with_bearer("igk_unknown").me().await,
        401,
        ErrorCode::Unauthenticated,
    );
}

async fn rate_limits_answer_429_with_retry_after(b: Backend) {
    early_in_limit_windows(&[60]).await;
    let app = spawn_app_with(b, |c| {
        c.rate_limits.auth_per_minute = 3;
        c.rate_limits.verify_per_minute = 2;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .json(&LoginRequest {
                email: "a@example.com".into(),
                password: "x".into(),
            })
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status().as_u16() == 429 {
            let wait: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait));
            assert!(res.text().await.unwrap().contains("rate_limited"));
        }
    }
    assert_eq!(statuses, vec![401, 401, 401, 429]);
    // Verification counts failures only: a valid token is never throttled; forged ones are.
    let verify = |token: String| {
        app.http
            .post(app.url("/api/v1/invitations/verify"))
            .json(&TokenRequest { token })
            .send()
    };
    for _ in 0..3 {
        let res = verify(app.owner_token.clone()).await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    for expected in [400, 400, 429] {
        let res = verify("forged".into()).await.unwrap();
        assert_eq!(res.status().as_u16(), expected);
    }
}

async fn repeated_failures_raise_a_security_alert(b: Backend) {
    early_in_limit_windows(&[600]).await;
    let app = spawn_app_with(b, |c| c.rate_limits.alert_failures_threshold = 5).await;
    let admin = app.admin().await;
    for i in 0..7 {
        let _ = app.api.verify_invitation(&format!("forged-{i}")).await;
    }
    let alerts = eventually("the alert", || async {
        let alerts = admin
            .list_audit_events(&invitegate_core::api::AuditEventQuery {
                action: Some(String::from("security.alert")),
                ..Default::default()
            })
            .await
            .unwrap();
        (!alerts.data.is_empty()).then_some(alerts)
    })
    .await;
    for i in 7..12 {
        let _ = app.api.verify_invitation(&format!("forged-{i}")).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let again = admin
        .list_audit_events(&invitegate_core::api::AuditEventQuery {
            action: Some(String::from("security.alert")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(again.data.len(), 1, "one alert per window");
    assert_eq!(alerts.data[0].target.as_ref().unwrap().id, "127.0.0.1");
    assert!(alerts.data[0].details["failures"].as_i64().unwrap() >= 5);
}

async fn login_attempts_are_limited_per_account(b: Backend) {
    early_in_limit_windows(&[3_600]).await;
    let app = spawn_app_with(b, |c| c.rate_limits.login_per_account_per_hour = 3).await;
    app.admin().await;
    // Successful logins never count.
    for _ in 0..4 {
        app.api.login("owner@example.com", PASSWORD).await.unwrap();
    }
    let attacker = invitegate_client::Client::with_http(&app.address, http_from("127.0.9.1"));
    for _ in 0..3 {
        assert_problem(
            attacker
                .login("owner@example.com", "not the right password")
                .await,
            401,
            ErrorCode::InvalidCredentials,
        );
    }
    // The attacking client is done with this account, whatever it sends now.
    assert_problem(
        attacker.login("OWNER@example.com", PASSWORD).await,
        429,
        ErrorCode::RateLimited,
    );
    // While the account is under attack a client that never signed in to it waits, even with
    // the right password; the owner's own client (the owner registered from 127.0.0.1) gets
    // in (ASVS 6.1.1); another account is unaffected.
    let fresh = invitegate_client::Client::with_http(&app.address, http_from("127.0.9.2"));
    assert_problem(
        fresh.login("owner@example.com", PASSWORD).await,
        429,
        ErrorCode::RateLimited,
    );
    app.api
        .login("OWNER@example.com", PASSWORD)
        .await
        .expect("the owner's known client is not locked out");
    assert_problem(
        fresh.login("someone@example.com", PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
}

async fn cors_answers_only_configured_origins(b: Backend) {
    let app = spawn_app_with(b, |c| {
        c.cors_allowed_origins = vec!["https://app.example.com".into()]
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/register"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        ok.headers().get("access-control-allow-origin").unwrap(),
        "https://app.example.com"
    );
    let other = preflight("https://evil.example.net").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

async fn password_reset_reveals_nothing_and_ends_other_sessions(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let other_session = app.api.login("owner@example.com", PASSWORD).await.unwrap();
    // Same status and body for an account and for no account.
    let mut answers = Vec::new();
    for email in ["owner@example.com", "nobody@example.com"] {
        let res = app
            .http
            .post(app.url("/api/v1/password-resets"))
            .json(&PasswordResetRequest {
                email: email.into(),
            })
            .send()
            .await
            .unwrap();
        answers.push((res.status().as_u16(), res.text().await.unwrap()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 202);
    let mails = app.emails().await;
    assert!(!mails.iter().any(|m| m.contains("To: nobody@example.com")));
    let first = app
        .link_token_for("owner@example.com", "/reset-password")
        .await;
    app.api
        .request_password_reset("owner@example.com")
        .await
        .unwrap();
    let second = app
        .link_token_for("owner@example.com", "/reset-password")
        .await;
    assert_ne!(first, second);
    // A newer link makes the older one useless; policy applies; tokens of other purposes fail.
    assert_problem(
        app.api
            .confirm_password_reset(&first, "a brand new passphrase")
            .await,
        400,
        ErrorCode::InvalidToken,
    );
    assert_problem(
        app.api.confirm_password_reset(&second, "short").await,
        422,
        ErrorCode::ValidationFailed,
    );
    assert_problem(
        app.api
            .confirm_password_reset(&app.owner_token, "a brand new passphrase")
            .await,
        400,
        ErrorCode::InvalidToken,
    );
    let session = app
        .api
        .confirm_password_reset(&second, "a brand new passphrase")
        .await
        .unwrap();
    assert_eq!(session.user.email, "owner@example.com");
    // Every other session ended; the link works once; the new password works, the old does not.
    assert_problem(admin.me().await, 401, ErrorCode::Unauthenticated);
    assert_problem(
        app.api.with_bearer(&other_session.access_token).me().await,
        401,
        ErrorCode::Unauthenticated,
    );
    app.api
        .with_bearer(&session.access_token)
        .me()
        .await
        .unwrap();
    assert_problem(
        app.api
            .confirm_password_reset(&second, "yet another passphrase")
            .await,
        400,
        ErrorCode::InvalidToken,
    );
    assert_problem(
        app.api.login("owner@example.com", PASSWORD).await,
        401,
        ErrorCode::InvalidCredentials,
    );
    app.api
        .login("owner@example.com", "a brand new passphrase")
        .await
        .unwrap();
    // Expired links answer token_expired.
    app.api
        .request_password_reset("owner@example.com")
        .await
        .unwrap();
    let third = app
        .link_token_for("owner@example.com", "/reset-password")
        .await;
    app.db(|c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::password_resets::dsl::*;
        let past = invitegate_server::storage::now() - chrono::Duration::minutes(1);
        diesel::update(password_resets.filter(consumed_at.is_null()))
            .set(expires_at.eq(past))
            .execute(c)?;
        Ok(())
    })
    .await;
    assert_problem(
        app.api
            .confirm_password_reset(&third, "a brand new passphrase 2")
            .await,
        410,
        ErrorCode::TokenExpired,
    );
}
