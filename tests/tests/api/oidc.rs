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
    let (code, nonce, verifier) =
        code_for(&app, &ed, &owner.access_token, &["organizations"]).await;
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

async fn a_reused_code_is_refused_and_revokes_what_the_first_use_issued(b: Backend) {
    let app = spawn_app(b).await;
    let admin = app.admin().await;
    let (_, ann) = app.member(&admin, "ann@example.com").await;
    let rp = Rp::register(&app, &admin, client_req(false)).await;
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &["offline_access"]).await;
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
    let refreshed = rp.refresh(first.refresh_token().unwrap()).await;
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
    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &[]).await;
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

    let (code, _, verifier) = code_for(&app, &rp, &ann.access_token, &[]).await;
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
