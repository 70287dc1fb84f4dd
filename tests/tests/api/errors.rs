use crate::both_backends;
use crate::helpers::*;
use invitegate_core::ErrorCode;

both_backends!(
    every_response_names_its_request,
    hostile_bodies_on_every_json_route_change_nothing,
    bad_input_gets_a_problem_response_and_changes_nothing,
    every_response_carries_the_security_headers,
    a_verification_waits_for_a_busy_pool,
    a_panicking_read_is_a_500_and_the_server_keeps_serving
);

/// The token lookup runs on the request's worker when a connection is free (SQLite) and on
/// the blocking pool otherwise: with every connection taken, a verification waits for one
/// instead of failing.
async fn a_verification_waits_for_a_busy_pool(b: Backend) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    // A background job left waiting for the one connection as the test ends holds the
    // runtime's shutdown for the pool's timeout: keep that short.
    let app = spawn_app_with(b, |c| {
        c.database_pool_size = 1;
        c.database_timeout_seconds = 2;
    })
    .await;
    let admin = app.admin().await;
    let created = admin
        .create_invitation(&email_req("busy-pool@example.com"))
        .await
        .unwrap();
    app.state.audit.flush().await;
    let (taken, held) = tokio::sync::oneshot::channel();
    let released = Arc::new(AtomicBool::new(false));
    let (state, flag) = (app.state.clone(), released.clone());
    let holder = tokio::spawn(async move {
        state
            .db(move |_| {
                let _ = taken.send(());
                std::thread::sleep(std::time::Duration::from_millis(300));
                flag.store(true, Ordering::SeqCst);
                Ok(())
            })
            .await
    });
    held.await.unwrap();
    let verified = app.api.verify_invitation(&created.token).await.unwrap();
    assert_eq!(verified.invitation.id, created.invitation.id);
    assert!(
        released.load(Ordering::SeqCst),
        "the verification read with the one connection only after it was released"
    );
    holder.await.unwrap().unwrap();
}

/// A read that panics (on SQLite, on the request's worker when a connection is free) is an
/// opaque 500, and the server goes on verifying.
async fn a_panicking_read_is_a_500_and_the_server_keeps_serving(b: Backend) {
    // The pool's timeout bounds how long the test's end waits for a job's checkout.
    let app = spawn_app_with(b, |c| c.database_timeout_seconds = 1).await;
    let admin = app.admin().await;
    let created = admin
        .create_invitation(&email_req("panic-read@example.com"))
        .await
        .unwrap();
    for _ in 0..3 {
        let crashed = app
            .state
            .db_read(|_| -> invitegate_server::error::ApiResult<()> { panic!("a bug in a read") })
            .await;
        assert_eq!(crashed.unwrap_err().code, ErrorCode::Internal);
        app.api.verify_invitation(&created.token).await.unwrap();
    }
}

async fn bad_input_gets_a_problem_response_and_changes_nothing(b: Backend) {
    let app = spawn_app(b).await;
    app.admin().await;
    let session = app.api.login("owner@example.com", PASSWORD).await.unwrap();
    let users = app.count_users().await;
    let invitations = app.count_invitations().await;
    let json = "application/json";
    let cases: Vec<(&str, &str, &str, String, u16, &str)> = vec![
        ("register", "/api/v1/register", json, "{\"email\": ".into(), 400, "invalid_json"),
        ("register", "/api/v1/register", json, "[1,2,3]".into(), 422, "validation_failed"),
        ("register", "/api/v1/register", json, r#"{"email": 5, "password": "x"}"#.into(), 422, "validation_failed"),
        ("register", "/api/v1/register", json, r#"{"email": "a@b.co", "password": "correct horse battery", "admin": true}"#.into(), 422, "validation_failed"),
        ("register", "/api/v1/register", "text/plain", r#"{"email": "a@b.co", "password": "x"}"#.into(), 415, "unsupported_media_type"),
        ("register", "/api/v1/register", json, format!(r#"{{"email": "a@b.co", "password": "{}"}}"#, "p".repeat(200_000)), 413, "payload_too_large"),
        ("register", "/api/v1/register", json, format!(r#"{{"email": "a@b.co", "password": "{}", "invite_token": "{}"}}"#, "long enough passphrase", "t".repeat(5000)), 400, "invalid_invitation"),
        ("register", "/api/v1/register", json, r#"{"email": "a@b.co\r\nBcc: c@d.co", "password": "correct horse battery"}"#.into(), 422, "validation_failed"),
        ("register", "/api/v1/register", json, r#"{"email": "a@b.co", "password": "correct horse battery", "display_name": "x\u0000y"}"#.into(), 422, "validation_failed"),
        ("invite", "/api/v1/invitations", json, r#"{"email": "a@b.co", "role": "superuser"}"#.into(), 422, "validation_failed"),
        ("invite", "/api/v1/invitations", json, r#"{"email": "a@b.co", "max_uses": "many"}"#.into(), 422, "validation_failed"),
        ("invite", "/api/v1/invitations", json, r#"{"email": "a@b.co", "max_uses": 99999999999}"#.into(), 422, "validation_failed"),
        ("invite", "/api/v1/invitations", json, format!(r#"{{"note": "{}"}}"#, "n".repeat(1001)), 422, "validation_failed"),
        ("bulk", "/api/v1/invitations/bulk", json, "{\"invitations\": [".into(), 400, "invalid_json"),
        ("bulk", "/api/v1/invitations/bulk", "text/csv", "a@b.co".into(), 415, "unsupported_media_type"),
        ("bulk", "/api/v1/invitations/bulk", json, format!(r#"{{"invitations": [{{"note": "{}"}}]}}"#, "n".repeat(9_000_000)), 413, "payload_too_large"),
    ];
    for (label, path, content_type, body, status, code) in cases {
        let res = app
            .http
            .post(app.url(path))
            .bearer_auth(&session.access_token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let got = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let text = res.text().await.unwrap();
        assert_eq!(got, status, "{label} {path}: {text}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{label}");
        let problem: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(problem["code"], code, "{label}: {text}");
        assert!(
            !text.contains("correct horse battery"),
            "error bodies never echo passwords"
        );
    }
    for (query, code) in [
        ("?limit=abc", 422),
        ("?state=weird", 422),
        ("?surprise=1", 422),
    ] {
        let res = app
            .http
            .get(app.url(&format!("/api/v1/invitations{query}")))
            .bearer_auth(&session.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), code, "{query}");
    }
    let res = app
        .http
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(app.count_users().await, users);
    assert_eq!(app.count_invitations().await, invitations);
}

async fn every_response_carries_the_security_headers(b: Backend) {
    let app = spawn_app(b).await;
    for path in [
        "/api/v1/signup-policy",
        "/api/v1/me",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/openapi.json",
        "/docs/",
        "/",
        "/invite",
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert!(res.status().as_u16() < 500, "{path}");
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h.contains_key("content-security-policy"), "{path}");
        if path.starts_with("/api/") {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ready"
    );
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "http_requests_total{method=\"GET\",route=\"/api/v1/signup-policy\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    let docs = app
        .http
        .get(app.url("/docs/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(docs.contains("swagger"), "interactive docs are served");
    assert!(
        !docs.contains("cdn.") && !docs.contains("unpkg.com"),
        "no third-party CDN"
    );
}

mod postgres_outage {
    use crate::helpers::*;
    use invitegate_core::ErrorCode;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_get_503_while_the_database_is_away_and_recover_without_a_restart() {
        let app = spawn_app_with(Backend::Postgres, |c| c.database_timeout_seconds = 1).await;
        let admin = app.admin().await;
        let inv = admin
            .create_invitation(&email_req("later@example.com"))
            .await
            .unwrap();
        let db = app.pg_database().unwrap();
        app.pg_admin_sql(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false"));
        app.pg_admin_sql(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
        ));
        let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status().as_u16(), 503);
        assert_problem(
            admin.list_invitations(&Default::default()).await,
            503,
            ErrorCode::Unavailable,
        );
        assert_problem(
            app.api.login("owner@example.com", PASSWORD).await,
            503,
            ErrorCode::Unavailable,
        );
        // Token lookups are read in batches here: every one waiting is answered.
        let verifications = (0..20).map(|_| app.api.verify_invitation(&inv.token));
        for r in futures_util::future::join_all(verifications).await {
            assert_problem(r, 503, ErrorCode::Unavailable);
        }
        app.pg_admin_sql(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"));
        let mut recovered = false;
        for _ in 0..50 {
            if app
                .http
                .get(app.url("/readyz"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
                == 200
            {
                recovered = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(recovered, "readiness came back");
        admin.list_invitations(&Default::default()).await.unwrap();
        app.api.login("owner@example.com", PASSWORD).await.unwrap();
        app.api.verify_invitation(&inv.token).await.unwrap();
    }

    /// The pool trusts a connection used moments ago without asking the database
    /// (`storage::TRUSTED_FOR`): one the database dropped fails at most once per pooled
    /// connection, is checked before its next use and replaced; an idle one is checked before
    /// it is handed out, so no request fails.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_the_database_dropped_are_replaced_without_a_restart() {
        let app = spawn_app_with(Backend::Postgres, |c| c.database_timeout_seconds = 2).await;
        let admin = app.admin().await;
        let db = app.pg_database().unwrap();
        let kill = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{db}' AND pid <> pg_backend_pid()"
        );
        for _ in 0..3 {
            admin.list_invitations(&Default::default()).await.unwrap();
        }
        app.pg_admin_sql(&kill);
        tokio::time::sleep(invitegate_server::storage::TRUSTED_FOR * 2).await;
        admin
            .list_invitations(&Default::default())
            .await
            .expect("an idle connection is checked, and replaced, before use");

        app.pg_admin_sql(&kill);
        let pooled = app.config.database_pool_size as usize;
        let mut failed = 0;
        for _ in 0..pooled {
            if let Err(e) = admin.list_invitations(&Default::default()).await {
                assert_eq!(e.status(), Some(503), "{e:?}");
                failed += 1;
            }
        }
        assert!(failed < pooled, "{failed} failures in {pooled} requests");
        for _ in 0..10 {
            admin
                .list_invitations(&Default::default())
                .await
                .expect("the pool recovered");
        }
    }
}

/// Every JSON route, fed bodies that are not what it takes: a 4xx problem document each time,
/// never a 5xx, and nothing changes (no user, invitation, key, webhook or token).
async fn hostile_bodies_on_every_json_route_change_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let session = app.api.login("owner@example.com", PASSWORD).await.unwrap();
    let inv = admin
        .create_invitation(&email_req("kept@example.com"))
        .await
        .unwrap();
    let snapshot = || async {
        let keys = admin.list_api_keys().await.unwrap().len();
        let hooks = admin.list_webhooks().await.unwrap().len();
        let settings = serde_json::to_string(&admin.settings().await.unwrap()).unwrap();
        (
            app.count_users().await,
            app.count_invitations().await,
            keys,
            hooks,
            settings,
        )
    };
    let before = snapshot().await;
    let id = &inv.invitation.id;
    let routes = [
        ("POST", "/api/v1/invitations/verify".to_string()),
        ("POST", "/api/v1/invitations".into()),
        ("POST", "/api/v1/invitations/bulk".into()),
        ("POST", format!("/api/v1/invitations/{id}/resend")),
        ("POST", "/api/v1/register".into()),
        ("POST", "/api/v1/email-verifications/confirm".into()),
        ("POST", "/api/v1/email-verifications/resend".into()),
        ("POST", "/api/v1/auth/login".into()),
        ("POST", "/api/v1/password-resets".into()),
        ("POST", "/api/v1/password-resets/confirm".into()),
        ("POST", "/api/v1/api-keys".into()),
        ("PATCH", "/api/v1/settings".into()),
        ("POST", "/api/v1/webhooks".into()),
    ];
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let bodies = [
        "null".to_string(),
        "[]".into(),
        "\"text\"".into(),
        "1e99999".into(),
        "{".into(),
        "{\"unexpected_field\": true}".into(),
        "{\"email\": [\"a@b.co\"], \"token\": {}, \"url\": 7}".into(),
        "\u{feff}{}".into(),
        deep,
    ];
    for (method, path) in &routes {
        for body in &bodies {
            let res = app
                .http
                .request(method.parse().unwrap(), app.url(path))
                .bearer_auth(&session.access_token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let ct = res.headers().get("content-type").cloned();
            let short: String = body.chars().take(40).collect();
            assert!(
                (400..500).contains(&status),
                "{method} {path} {short}: {status} {}",
                res.text().await.unwrap()
            );
            assert_eq!(
                ct.as_ref().and_then(|v| v.to_str().ok()),
                Some("application/problem+json"),
                "{method} {path} {short}"
            );
        }
    }
    assert_eq!(snapshot().await, before, "bad input changed something");
    app.api
        .verify_invitation(&inv.token)
        .await
        .expect("the invitation's token was not replaced by a garbage resend");
}

/// Every response carries the id its log lines were written under: a new one each time, or a
/// proxy's well-formed `X-Request-Id`; a malformed one is replaced, never echoed.
async fn every_response_names_its_request(b: Backend) {
    let app = spawn_app(b).await;
    let id = |res: &reqwest::Response| res.headers()["x-request-id"].to_str().unwrap().to_string();
    let first = app.http.get(app.url("/healthz")).send().await.unwrap();
    let second = app
        .http
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_ne!(id(&first), id(&second));
    assert_eq!(id(&first).len(), 32);
    let proxied = app
        .http
        .get(app.url("/api/v1/signup-policy"))
        .header("x-request-id", "edge-4f2a_77")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&proxied), "edge-4f2a_77");
    let hostile = app
        .http
        .get(app.url("/api/v1/signup-policy"))
        .header("x-request-id", "<script>alert(1)</script>")
        .send()
        .await
        .unwrap();
    assert_ne!(id(&hostile), "<script>alert(1)</script>");
}
