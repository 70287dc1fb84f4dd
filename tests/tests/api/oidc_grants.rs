//! What happens to a grant after the code flow: refresh rotation and replay, logout, racing
//! code exchanges, invitations made for an app, key rotation and the webhooks of it all.

use crate::both_backends;
use crate::helpers::*;
use crate::oidc_support::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use openidconnect::{OAuth2TokenResponse, PkceCodeVerifier, TokenResponse};

both_backends!(
    a_replayed_refresh_token_revokes_the_grant,
    logout_ends_the_session_and_its_grants,
    concurrent_uses_of_one_code_give_one_set_of_tokens_and_then_none,
    an_invitation_made_for_an_app_names_where_the_invitee_continues,
    key_rotation_keeps_existing_app_sessions_valid,
    client_changes_and_authorizations_reach_webhooks,
    dead_grants_are_purged_and_live_ones_kept,
);

async fn a_replayed_refresh_token_revokes_the_grant(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (code, _, verifier) =
        code_for(&app, &rp, &ann.access_token, &["email", "offline_access"]).await;
    let first = exchange(&rp, &code, Some(verifier)).await.unwrap();
    let r1 = first.refresh_token().unwrap().clone();
    let client = rp.client();
    let refresh = |token: openidconnect::RefreshToken, scope: Option<&'static str>| {
        let client = client.clone();
        async move {
            let mut req = client.exchange_refresh_token(&token).unwrap();
            if let Some(s) = scope {
                req = req.add_scope(openidconnect::Scope::new(s.into()));
            }
            req.request_async(&send).await
        }
    };
    // A narrower scope is granted as asked (RFC 6749 §6); a wider one is refused.
    let narrow = refresh(r1.clone(), Some("openid"))
        .await
        .expect("narrower scope");
    assert_eq!(
        narrow
            .scopes()
            .map(|s| s.iter().map(|x| x.as_str().to_string()).collect::<Vec<_>>()),
        Some(vec!["openid".to_string()])
    );
    let info: serde_json::Value = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(narrow.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        info.get("email").is_none(),
        "the narrower token shows no email: {info}"
    );
    let r2 = narrow.refresh_token().unwrap().clone();
    assert!(
        refresh(r2.clone(), Some("profile")).await.is_err(),
        "wider than granted"
    );
    let r3 = refresh(r2, None)
        .await
        .expect("the refused widening kept the token")
        .refresh_token()
        .unwrap()
        .clone();
    // The attacker replays R1, two rotations old: the whole grant is revoked.
    assert!(refresh(r1, None).await.is_err());
    assert!(
        refresh(r3, None).await.is_err(),
        "replaying any earlier refresh token revoked the whole grant (RFC 9700 §4.14.2)"
    );
}

async fn logout_ends_the_session_and_its_grants(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (ann_api, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &["offline_access"]).await;
    let tokens = exchange(&rp, &code, Some(verifier)).await.unwrap();
    let hint = tokens.id_token().unwrap().to_string();
    let page = app.http.get(app.url("/end-session")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    // The hint is an ID token of another session of Ann's: she is asked first.
    let other = app.api.login("ann@example.com", PASSWORD).await.unwrap();
    let asked = app
        .api
        .with_bearer(&other.access_token)
        .end_session(&EndSessionRequest {
            query: format!("id_token_hint={hint}"),
            confirm: false,
        })
        .await
        .unwrap();
    assert!(asked.confirmation_required && !asked.signed_out && asked.redirect_to.is_none());
    // A return address the client did not register: a page error.
    let query = |uri: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", &hint)
            .append_pair("post_logout_redirect_uri", uri)
            .append_pair("state", "s1")
            .finish()
    };
    assert_problem(
        ann_api
            .end_session(&EndSessionRequest {
                query: query("https://evil.example/"),
                confirm: false,
            })
            .await,
        400,
        ErrorCode::RedirectUriMismatch,
    );
    let out = ann_api
        .end_session(&EndSessionRequest {
            query: query("https://app.example.com/"),
            confirm: false,
        })
        .await
        .unwrap();
    assert!(out.signed_out);
    assert_eq!(
        out.redirect_to.as_deref(),
        Some("https://app.example.com/?state=s1")
    );
    assert_problem(ann_api.me().await, 401, ErrorCode::Unauthenticated);
    let refreshed = rp.refresh(tokens.refresh_token().unwrap()).await;
    assert!(refreshed.is_err(), "the grants of the session end with it");
}

async fn concurrent_uses_of_one_code_give_one_set_of_tokens_and_then_none(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (ann_api, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &["offline_access"]).await;
    let secret = verifier.secret().clone();
    let results = futures_util::future::join_all(
        (0..10).map(|_| exchange(&rp, &code, Some(PkceCodeVerifier::new(secret.clone())))),
    )
    .await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "exactly one exchange succeeds");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e == "invalid_grant")
    );
    for tokens in won {
        let info = app
            .http
            .get(app.url("/oauth2/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(
            info.status(),
            401,
            "a code used more than once revokes what it issued"
        );
    }

    // A grant ends with the sign-in it was made in: signing out of Invitegate ends it.
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &["offline_access"]).await;
    let tokens = exchange(&rp, &code, Some(verifier)).await.unwrap();
    ann_api.logout().await.unwrap();
    let info = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
    let refreshed = rp.refresh(tokens.refresh_token().unwrap()).await;
    assert!(refreshed.is_err());
}

async fn an_invitation_made_for_an_app_names_where_the_invitee_continues(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let inv = admin
        .create_invitation(&CreateInvitationRequest {
            client_id: Some(rp.registered.client.client_id.clone()),
            ..email_req("cy@example.com")
        })
        .await
        .unwrap();
    let preview = app
        .api
        .verify_invitation(&inv.token)
        .await
        .unwrap()
        .invitation;
    assert_eq!(
        preview.app,
        Some(InvitationApp {
            name: "Team wiki".into(),
            initiate_login_uri: "https://app.example.com/login".into(),
            issuer: app.address.clone(),
        })
    );
    let plain = admin
        .create_invitation(&email_req("di@example.com"))
        .await
        .unwrap();
    assert!(
        app.api
            .verify_invitation(&plain.token)
            .await
            .unwrap()
            .invitation
            .app
            .is_none()
    );
    // An unknown app, or one without an initiate_login_uri, is refused by name.
    let no_uri = admin
        .create_oauth_client(&CreateOAuthClientRequest {
            initiate_login_uri: None,
            ..client_req(true)
        })
        .await
        .unwrap();
    for client_id in ["igc_unknown".to_string(), no_uri.client.client_id.clone()] {
        let refused = admin
            .create_invitation(&CreateInvitationRequest {
                client_id: Some(client_id),
                ..email_req("ed@example.com")
            })
            .await;
        let Err(invitegate_client::ClientError::Api {
            status: 422,
            problem,
        }) = refused
        else {
            panic!("refused: {refused:?}");
        };
        assert_eq!(problem.errors.unwrap()["client_id"], ["invalid"]);
    }
}

async fn key_rotation_keeps_existing_app_sessions_valid(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (code, nonce, verifier) =
        code_for(&app, &rp, &ann.access_token, &["email", "offline_access"]).await;
    let before = exchange(&rp, &code, Some(verifier)).await.unwrap();
    let kid = |jwt: &str| -> String {
        use base64::Engine;
        let h = jwt.split('.').next().unwrap();
        let v: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap();
        v["kid"].as_str().unwrap().to_string()
    };
    let old_kid = kid(&before.id_token().unwrap().to_string());

    // `invitegate keys rotate`, then the running server's next jobs round.
    let path = app
        .config
        .data_dir
        .join(invitegate_server::oidc_keys::FILE_NAME);
    let mut file = invitegate_server::oidc_keys::KeyFile::read(&path).unwrap();
    file.rotate(
        chrono::Utc::now(),
        chrono::Duration::hours(1),
        chrono::Duration::zero(),
    )
    .unwrap();
    file.write(&path).unwrap();
    app.state.oidc_keys.reload_if_changed();

    // The app's access token signed by the old key still opens userinfo.
    let info = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(before.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200, "tokens of the retired key keep working");
    // New tokens are signed by the new key; an RP that fetches the JWKS again verifies both.
    let after = rp.refresh(before.refresh_token().unwrap()).await.unwrap();
    let new_kid = kid(&after.id_token().unwrap().to_string());
    assert_ne!(new_kid, old_kid);
    let fresh = Rp {
        registered: rp.registered.clone(),
        metadata: openidconnect::core::CoreProviderMetadata::discover_async(
            openidconnect::IssuerUrl::new(app.address.clone()).unwrap(),
            &send,
        )
        .await
        .unwrap(),
    };
    let client = fresh.client();
    before
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the old key is still published");
    after
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the new key is published");
}

async fn client_changes_and_authorizations_reach_webhooks(b: Backend) {
    let (hook_url, got) = crate::webhooks::receiver(0).await;
    let app = spawn_app_with(b, |c| c.webhook_allow_private_targets = true).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    admin
        .create_webhook(&CreateWebhookRequest {
            url: hook_url,
            events: vec![
                "oauth_client.created".into(),
                "oauth.authorization_granted".into(),
                "oauth.code_reused".into(),
                "oauth_client.deleted".into(),
            ],
        })
        .await
        .unwrap();
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &[]).await;
    let secret = verifier.secret().clone();
    exchange(&rp, &code, Some(verifier)).await.unwrap();
    let _ = exchange(&rp, &code, Some(PkceCodeVerifier::new(secret))).await;
    admin
        .delete_oauth_client(&rp.registered.client.id)
        .await
        .unwrap();
    let wanted = [
        "oauth_client.created",
        "oauth.authorization_granted",
        "oauth.code_reused",
        "oauth_client.deleted",
    ];
    let types = eventually("the four events", || {
        let got = got.clone();
        async move {
            let types: Vec<String> = got
                .lock()
                .unwrap()
                .iter()
                .map(|r| {
                    serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["type"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect();
            wanted
                .iter()
                .all(|w| types.iter().any(|t| t == w))
                .then_some(types)
        }
    })
    .await;
    assert!(
        types.iter().all(|t| wanted.contains(&t.as_str())),
        "only what was subscribed: {types:?}"
    );
}

async fn dead_grants_are_purged_and_live_ones_kept(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    // One code never exchanged, one grant with a live refresh token.
    let (url, _, _, _) = rp.authorize_url(&[]);
    authorize_as(&app, Some(&ann.access_token), &url)
        .await
        .unwrap();
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &["offline_access"]).await;
    let live = exchange(&rp, &code, Some(verifier)).await.unwrap();
    app.db(|c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::oauth_grants::dsl::*;
        let past = invitegate_server::storage::now() - chrono::Duration::days(2);
        diesel::update(oauth_grants)
            .set((created_at.eq(past), code_expires_at.eq(past)))
            .execute(c)?;
        Ok(())
    })
    .await;
    let purged = app
        .db(|c| {
            Ok(invitegate_server::storage::oauth::purge_dead_grants(
                c,
                invitegate_server::storage::now(),
                chrono::Duration::days(1),
                100,
            )?)
        })
        .await;
    assert_eq!(purged, 1, "only the code never exchanged");
    rp.refresh(live.refresh_token().unwrap())
        .await
        .expect("the live grant was kept");
}
