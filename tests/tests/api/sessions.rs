use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;

both_backends!(
    login_is_uniform_for_unknown_emails_and_wrong_passwords,
    refresh_rotates_and_logout_ends_the_session,
    rate_limits_answer_429_with_retry_after,
    repeated_failures_raise_a_security_alert,
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
        .list_audit_events(&[("action", "login.failed")])
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
    for expected in [200, 200, 429] {
        let res = app
            .http
            .post(app.url("/api/v1/invitations/verify"))
            .json(&TokenRequest {
                token: app.owner_token.clone(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), expected);
    }
}

async fn repeated_failures_raise_a_security_alert(b: Backend) {
    let app = spawn_app_with(b, |c| c.rate_limits.alert_failures_threshold = 5).await;
    let admin = app.admin().await;
    for i in 0..7 {
        let _ = app.api.verify_invitation(&format!("forged-{i}")).await;
    }
    let alerts = admin
        .list_audit_events(&[("action", "security.alert")])
        .await
        .unwrap();
    assert_eq!(alerts.data.len(), 1, "one alert per window");
    assert_eq!(alerts.data[0].target.as_ref().unwrap().id, "127.0.0.1");
    assert_eq!(alerts.data[0].details["failures"], 5);
}
