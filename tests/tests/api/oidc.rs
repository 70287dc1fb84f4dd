//! The OpenID Provider against a relying party built on the `openidconnect` crate: the whole
//! code flow with PKCE, ID token validation against the JWKS, userinfo, refresh rotation,
//! logout, and each way a request or a client can go wrong.

use crate::both_backends;
use crate::helpers::*;
use crate::oidc_support::*;
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_core::model::AuthorizeStatus;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{AuthorizationCode, OAuth2TokenResponse, PkceCodeVerifier, TokenResponse};

both_backends!(
    a_member_signs_in_to_an_app_through_the_whole_code_flow,
    a_reused_code_is_refused_and_revokes_what_the_first_use_issued,
    pkce_is_s256_only_and_cannot_be_downgraded,
    codes_expire_and_client_secrets_are_checked,
    redirect_uris_match_as_exact_strings_and_errors_never_redirect,
    prompt_none_without_a_session_answers_login_required,
    a_replayed_refresh_token_revokes_the_grant,
    logout_ends_the_session_and_its_grants,
    concurrent_uses_of_one_code_give_one_set_of_tokens_and_then_none,
    an_invitation_made_for_an_app_names_where_the_invitee_continues,
    key_rotation_keeps_existing_app_sessions_valid,
    client_changes_and_authorizations_reach_webhooks,
);

async fn signed_in_member(app: &TestApp) -> (invitegate_client::Client, SessionResponse) {
    let admin = app.admin().await;
    app.member(&admin, "ann@example.com").await
}

async fn a_member_signs_in_to_an_app_through_the_whole_code_flow(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    assert!(
        rp.registered
            .client_secret
            .as_deref()
            .unwrap()
            .starts_with("igs_")
    );

    // Not signed in: the web app shows sign-in for the app, then resumes.
    let (url, csrf, nonce, verifier) = rp.authorize_url(&["email", "profile", "offline_access"]);
    let first = authorize_as(&app, None, &url).await.unwrap();
    assert_eq!(first.status, AuthorizeStatus::SignIn);
    assert_eq!(first.client_name, "Team wiki");
    let outcome = authorize_as(&app, Some(&ann.access_token), &url)
        .await
        .unwrap();
    let code = code_of(&outcome, &csrf, &app.address);

    let client = rp.client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .expect("tokens");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("signature, issuer, audience, nonce and expiry are valid");
    assert_eq!(claims.subject().as_str(), ann.user.id);
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ann@example.com"));
    assert_eq!(claims.email_verified(), Some(true));
    assert!(claims.auth_time().is_some());

    // The access token is an RFC 9068 JWT and opens userinfo.
    let header: serde_json::Value = {
        use base64::Engine;
        let h = tokens.access_token().secret().split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["typ"], "at+jwt");
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&send)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("ann@example.com"));

    // Refresh rotates the token and carries the nonce into the new ID token.
    let refresh = tokens
        .refresh_token()
        .expect("offline_access gives a refresh token");
    let again = client
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&send)
        .await
        .expect("refreshed");
    assert_ne!(again.refresh_token().unwrap().secret(), refresh.secret());
    again
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the refreshed ID token validates with the same nonce");

    // With `organizations`, an EdDSA client gets the orgs claim: the owner's organisation.
    admin
        .create_organization(&CreateOrganizationRequest {
            name: "Acme".into(),
            slug: Some("acme".into()),
            members_can_invite: None,
        })
        .await
        .unwrap();
    let owner = app.api.login("owner@example.com", PASSWORD).await.unwrap();
    let ed = Rp::register(
        &app,
        &admin,
        CreateOAuthClientRequest {
            id_token_signed_response_alg: Some("EdDSA".into()),
            ..client_req(true)
        },
    )
    .await;
    assert!(
        ed.registered.client_secret.is_none(),
        "a public client has no secret"
    );
    let (url, csrf, nonce, verifier) = ed.authorize_url(&["organizations"]);
    let code = code_of(
        &authorize_as(&app, Some(&owner.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
    let client = ed.client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .expect("a public client exchanges with PKCE alone");
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EdDsa]);
    tokens
        .id_token()
        .unwrap()
        .claims(&verifier, &nonce)
        .expect("EdDSA ID token");
    let raw: serde_json::Value = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        raw["orgs"][0]["slug"], "acme",
        "orgs claim under `organizations`: {raw}"
    );
    assert_eq!(raw["orgs"][0]["role"], "owner");
    assert!(
        raw.get("email").is_none(),
        "no email claim without the email scope"
    );
}

async fn exchange(
    rp: &Rp,
    code: &str,
    verifier: Option<PkceCodeVerifier>,
) -> Result<openidconnect::core::CoreTokenResponse, String> {
    let client = rp.client();
    let mut req = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .unwrap();
    if let Some(v) = verifier {
        req = req.set_pkce_verifier(v);
    }
    req.request_async(&send).await.map_err(|e| match e {
        openidconnect::RequestTokenError::ServerResponse(r) => r.error().as_ref().to_string(),
        other => format!("{other:?}"),
    })
}

async fn a_reused_code_is_refused_and_revokes_what_the_first_use_issued(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (url, csrf, _, verifier) = rp.authorize_url(&["offline_access"]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
    let secret = verifier.secret().clone();
    let first = exchange(&rp, &code, Some(verifier))
        .await
        .expect("first use");
    let second = exchange(&rp, &code, Some(PkceCodeVerifier::new(secret))).await;
    assert_eq!(second.unwrap_err(), "invalid_grant");
    let info = app
        .http
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(first.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(
        info.status(),
        401,
        "the first use's access token is revoked"
    );
    assert!(
        info.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let refreshed = rp
        .client()
        .exchange_refresh_token(first.refresh_token().unwrap())
        .unwrap()
        .request_async(&send)
        .await;
    assert!(refreshed.is_err(), "and so is its refresh token");
}

async fn pkce_is_s256_only_and_cannot_be_downgraded(b: Backend) {
    let app = spawn_app(b).await;
    let (admin, ann) = {
        let admin = app.admin().await;
        let (_, ann) = app.member(&admin, "ann@example.com").await;
        (admin, ann)
    };
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    // A wrong verifier.
    let (url, csrf, _, _) = rp.authorize_url(&[]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
    let wrong = PkceCodeVerifier::new("x".repeat(43));
    assert_eq!(
        exchange(&rp, &code, Some(wrong)).await.unwrap_err(),
        "invalid_grant"
    );
    // A code issued without a challenge (a confidential client may omit PKCE) refuses a
    // verifier: an attacker cannot strip the challenge and keep the exchange working.
    let mut bare = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    bare.query_pairs_mut().clear().extend_pairs(kept);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &bare)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
    let verifier = PkceCodeVerifier::new("a".repeat(43));
    assert_eq!(
        exchange(&rp, &code, Some(verifier)).await.unwrap_err(),
        "invalid_grant"
    );
    // `plain` is refused at the authorization endpoint, back at the client with iss.
    let mut plain = bare.clone();
    plain
        .query_pairs_mut()
        .append_pair("code_challenge", &"a".repeat(43))
        .append_pair("code_challenge_method", "plain");
    let out = authorize_as(&app, Some(&ann.access_token), &plain)
        .await
        .unwrap();
    let params = redirect_params(out.redirect_to.as_deref().unwrap());
    assert_eq!(params["error"], "invalid_request");
    assert_eq!(params["iss"], app.address);
    // A public client must use PKCE.
    let public = Rp::register(&app, &admin, client_req(true)).await;
    let (url, _, _, _) = public.authorize_url(&[]);
    let mut bare = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    bare.query_pairs_mut().clear().extend_pairs(kept);
    let out = authorize_as(&app, Some(&ann.access_token), &bare)
        .await
        .unwrap();
    assert_eq!(
        redirect_params(out.redirect_to.as_deref().unwrap())["error"],
        "invalid_request"
    );
}

async fn codes_expire_and_client_secrets_are_checked(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (url, csrf, _, verifier) = rp.authorize_url(&[]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
    app.db(|c| {
        use diesel::prelude::*;
        use invitegate_server::storage::schema::oauth_grants::dsl::*;
        let past = invitegate_server::storage::now() - chrono::Duration::seconds(61);
        diesel::update(oauth_grants)
            .set(code_expires_at.eq(past))
            .execute(c)?;
        Ok(())
    })
    .await;
    assert_eq!(
        exchange(&rp, &code, Some(verifier)).await.unwrap_err(),
        "invalid_grant"
    );

    let (url, csrf, _, verifier) = rp.authorize_url(&[]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
    let wrong = Rp {
        registered: CreatedOAuthClient {
            client_secret: Some("igs_not-the-secret".into()),
            ..rp.registered.clone()
        },
        metadata: rp.metadata.clone(),
    };
    assert_eq!(
        exchange(&wrong, &code, Some(verifier)).await.unwrap_err(),
        "invalid_client"
    );
    let raw = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&rp.registered.client.client_id, Some("igs_wrong"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&code=x&redirect_uri={}",
            url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    assert!(raw.headers().contains_key("www-authenticate"));
    assert_eq!(raw.headers()["cache-control"], "no-store");
}

async fn redirect_uris_match_as_exact_strings_and_errors_never_redirect(b: Backend) {
    let app = spawn_app(b).await;
    let (_, ann) = signed_in_member(&app).await;
    let owner = app.api.login("owner@example.com", PASSWORD).await.unwrap();
    let admin = app.api.with_bearer(&owner.access_token);
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (url, _, _, _) = rp.authorize_url(&[]);
    for bad in [
        "https://APP.example.com/oidc/callback",
        "https://app.example.com/oidc/callback/",
        "https://app.example.com/oidc/callback/extra",
        "https://app.example.com/oidc/Callback",
        "http://localhost.evil.example/oidc/callback",
    ] {
        let mut changed = url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "redirect_uri" {
                    bad.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        changed.query_pairs_mut().clear().extend_pairs(kept);
        assert_problem(
            authorize_as(&app, Some(&ann.access_token), &changed).await,
            400,
            ErrorCode::RedirectUriMismatch,
        );
    }
    let mut unknown = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "client_id" {
                "igc_unknown".to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    unknown.query_pairs_mut().clear().extend_pairs(kept);
    assert_problem(
        authorize_as(&app, Some(&ann.access_token), &unknown).await,
        400,
        ErrorCode::UnknownClient,
    );

    // Registration refuses what could not be matched exactly or safely.
    let refused = admin
        .create_oauth_client(&CreateOAuthClientRequest {
            redirect_uris: vec![
                "http://app.example.com/cb".into(),
                "https://*.example.com/cb".into(),
            ],
            ..client_req(false)
        })
        .await;
    let Err(invitegate_client::ClientError::Api { problem, .. }) = refused else {
        panic!("refused: {refused:?}");
    };
    let codes = &problem.errors.as_ref().unwrap()["redirect_uris"];
    assert!(
        codes.contains(&"insecure_scheme".to_string()) && codes.contains(&"not_exact".to_string()),
        "{codes:?}"
    );
    let (member, _) = app.member(&admin, "bo@example.com").await;
    assert_problem(
        member.create_oauth_client(&client_req(false)).await,
        403,
        ErrorCode::Forbidden,
    );
    let listed = admin.list_oauth_clients().await.unwrap();
    assert_eq!(listed.len(), 1);
    admin.delete_oauth_client(&listed[0].id).await.unwrap();
    assert!(admin.list_oauth_clients().await.unwrap().is_empty());
}

async fn prompt_none_without_a_session_answers_login_required(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (mut url, csrf, _, _) = rp.authorize_url(&[]);
    url.query_pairs_mut().append_pair("prompt", "none");
    let out = authorize_as(&app, None, &url).await.unwrap();
    let params = redirect_params(out.redirect_to.as_deref().unwrap());
    assert_eq!(params["error"], "login_required");
    assert_eq!(&params["state"], csrf.secret());
    assert_eq!(params["iss"], app.address);
    let (mut url, _, _, _) = rp.authorize_url(&[]);
    url.query_pairs_mut().append_pair("prompt", "create");
    assert_eq!(
        authorize_as(&app, None, &url).await.unwrap().status,
        AuthorizeStatus::CreateAccount
    );
}

async fn a_replayed_refresh_token_revokes_the_grant(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (url, csrf, _, verifier) = rp.authorize_url(&["email", "offline_access"]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
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
    let (url, csrf, _, verifier) = rp.authorize_url(&["offline_access"]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
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
    let refreshed = rp
        .client()
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&send)
        .await;
    assert!(refreshed.is_err(), "the grants of the session end with it");
}

async fn concurrent_uses_of_one_code_give_one_set_of_tokens_and_then_none(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (ann_api, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (url, csrf, _, verifier) = rp.authorize_url(&["offline_access"]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
    let secret = verifier.secret().clone();
    let results = futures_util::future::join_all(
        (0..10).map(|_| exchange(&rp, &code, Some(PkceCodeVerifier::new(secret.clone())))),
    )
    .await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert!(won.len() <= 1, "at most one exchange succeeds");
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
    let (url, csrf, _, verifier) = rp.authorize_url(&["offline_access"]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
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
    let refreshed = rp
        .client()
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&send)
        .await;
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
    let (url, csrf, nonce, verifier) = rp.authorize_url(&["email", "offline_access"]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
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
    let after = rp
        .client()
        .exchange_refresh_token(before.refresh_token().unwrap())
        .unwrap()
        .request_async(&send)
        .await
        .unwrap();
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
    let (url, csrf, _, verifier) = rp.authorize_url(&[]);
    let code = code_of(
        &authorize_as(&app, Some(&ann.access_token), &url)
            .await
            .unwrap(),
        &csrf,
        &app.address,
    );
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
