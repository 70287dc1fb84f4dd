//! "Sign in with Invitegate" in Chromium, with the app on another site (`localhost`) than
//! Invitegate (`127.0.0.1`): the cross-site navigation carries no `SameSite=Strict` cookie, so
//! the web app resumes the authorization with its own calls, through sign-in and registration.

use crate::harness::{Browser, HostSite, spawn_web_app};
use crate::helpers::{Backend, PASSWORD, email_req};
use crate::oidc_support::{Rp, send};
use invitegate_core::api::CreateOAuthClientRequest;
use openidconnect::{AuthorizationCode, TokenResponse};

/// A public client "Team wiki" at `origin` (redirect URI `{origin}/callback`), with
/// `{origin}/login` as its `initiate_login_uri` when `initiates_login`.
pub fn team_wiki_at(origin: &str, initiates_login: bool) -> CreateOAuthClientRequest {
    CreateOAuthClientRequest {
        name: "Team wiki".into(),
        redirect_uris: vec![format!("{origin}/callback")],
        post_logout_redirect_uris: vec![],
        initiate_login_uri: initiates_login.then(|| format!("{origin}/login")),
        public: true,
        id_token_signed_response_alg: None,
    }
}

fn app_page() -> String {
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Team wiki</title></head>\
     <body><main><h1>Team wiki</h1></main></body></html>"
        .into()
}

async fn finish(
    rp: &Rp,
    b: &Browser,
    nonce: &openidconnect::Nonce,
    verifier: openidconnect::PkceCodeVerifier,
    issuer: &str,
) -> String {
    let url = b.wait_path("/callback").await;
    let params: std::collections::HashMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(issuer),
        "RFC 9207 iss"
    );
    let client = rp.client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .expect("the app gets tokens");
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), nonce)
        .expect("a valid ID token")
        .clone();
    claims.email().expect("email").as_str().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_signs_in_to_an_app_on_another_site() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    app.member(&admin, "ann@example.com").await;
    let host = HostSite::bind();
    let origin = host.origin.clone();
    host.serve(app_page());
    let rp = Rp::register(&app, &admin, team_wiki_at(&origin, false)).await;
    let (url, _, nonce, verifier) = rp.authorize_url(&["email"]);
    let mut b = Browser::start("oidc-sign-in", 1280).await;
    b.open(url.as_str()).await;
    b.wait_text("Sign in to continue to Team wiki").await;
    b.audit("oidc-sign-in").await;
    b.screen("oidc-continue-to").await;
    b.fill("#email", "ann@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    assert_eq!(
        finish(&rp, &b, &nonce, verifier, &app.address).await,
        "ann@example.com"
    );

    // Signed in now: the next authorization goes straight back to the app.
    let (url, _, nonce, verifier) = rp.authorize_url(&["email"]);
    b.open(url.as_str()).await;
    assert_eq!(
        finish(&rp, &b, &nonce, verifier, &app.address).await,
        "ann@example.com"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitee_registers_and_lands_in_the_app() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&email_req("bea@example.com"))
        .await
        .unwrap();
    let host = HostSite::bind();
    let origin = host.origin.clone();
    host.serve(app_page());
    let rp = Rp::register(&app, &admin, team_wiki_at(&origin, false)).await;
    let (mut url, _, nonce, verifier) = rp.authorize_url(&["email"]);
    url.query_pairs_mut().append_pair("prompt", "create");
    let mut b = Browser::start("oidc-create", 1280).await;
    b.open(url.as_str()).await;
    b.wait_text("Create an account for Team wiki").await;
    b.audit("oidc-create").await;
    b.screen("oidc-create").await;
    // The invitation link, opened in the same browser: the app still waits.
    b.open(&inv.url).await;
    b.wait_text("invited you").await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password-confirm", PASSWORD).await;
    b.click_button("Create account").await;
    assert_eq!(
        finish(&rp, &b, &nonce, verifier, &app.address).await,
        "bea@example.com"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_registers_an_app_in_the_console() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let mut b = Browser::start("admin-apps", 1280).await;
    b.open(&app.url("/login")).await;
    b.fill("#email", "owner@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_path("/app").await;
    b.open(&app.url("/admin/apps")).await;
    b.fill("#app-name", "Team wiki").await;
    b.fill("#app-redirects", "http://wiki.example.com/cb").await;
    b.click_button("Register app").await;
    b.wait_text("Use https://").await;
    b.fill("#app-redirects", "https://wiki.example.com/cb")
        .await;
    b.click_button("Register app").await;
    b.wait_text("Copy the client secret now").await;
    b.audit("admin-apps").await;
    b.screen("admin-apps").await;
    let listed = admin.list_oauth_clients().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].redirect_uris, ["https://wiki.example.com/cb"]);
    b.wait_text(&listed[0].client_id).await;
    b.click_button("Delete").await;
    for _ in 0..100 {
        if admin.list_oauth_clients().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(admin.list_oauth_clients().await.unwrap().is_empty());
    b.close().await;
}

/// The app's page: at `/login` (its `initiate_login_uri`) it checks `iss` and starts the
/// authorization at `authorize`, passing the `login_hint` on; elsewhere it shows what it got.
fn initiating_app_page(issuer: &str, authorize: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Team wiki</title></head>\
         <body><main><h1>Team wiki</h1><p id=\"got\"></p></main><script>\
         const q = new URLSearchParams(location.search);\
         document.getElementById(\"got\").textContent = location.pathname + \" \" + q.toString();\
         if (location.pathname === \"/login\" && q.get(\"iss\") === \"{issuer}\") {{\
           sessionStorage.setItem(\"query\", location.search);\
           location.replace(\"{authorize}&login_hint=\" + encodeURIComponent(q.get(\"login_hint\")));\
         }}\
         </script></body></html>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitee_of_an_app_registers_and_lands_in_it_signed_in() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let host = HostSite::bind();
    let origin = host.origin.clone();
    let rp = Rp::register(&app, &admin, team_wiki_at(&origin, true)).await;
    let (url, _, nonce, verifier) = rp.authorize_url(&["email"]);
    host.serve(initiating_app_page(&app.address, url.as_str()));
    let inv = admin
        .create_invitation(&invitegate_core::api::CreateInvitationRequest {
            client_id: Some(rp.registered.client.client_id.clone()),
            ..email_req("fay@example.com")
        })
        .await
        .unwrap();
    let mut b = Browser::start("oidc-invited-to-app", 1280).await;
    b.open(&inv.url).await;
    b.wait_text("Then you continue to Team wiki").await;
    b.audit("oidc-invited-to-app").await;
    b.screen("oidc-invited-to-app").await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password-confirm", PASSWORD).await;
    b.click_button("Create account").await;
    assert_eq!(
        finish(&rp, &b, &nonce, verifier, &app.address).await,
        "fay@example.com"
    );
    // What the app received at its initiate_login_uri: the three standard parameters, and
    // nothing of the invitation.
    let query: String =
        b.c.execute("return sessionStorage.getItem('query')", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string();
    let got: Vec<(String, String)> =
        url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        got,
        [
            ("iss".to_string(), app.address.clone()),
            ("login_hint".to_string(), "fay@example.com".to_string()),
            ("target_link_uri".to_string(), format!("{origin}/")),
        ],
        "only iss, login_hint and target_link_uri reach the app"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_host_app_signs_a_member_in_and_out() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    app.member(&admin, "gus@example.com").await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let client = admin
        .create_oauth_client(&CreateOAuthClientRequest {
            name: "Example app".into(),
            redirect_uris: vec![format!("{base}/callback")],
            post_logout_redirect_uris: vec![format!("{base}/")],
            initiate_login_uri: Some(format!("{base}/login")),
            public: false,
            id_token_signed_response_alg: None,
        })
        .await
        .unwrap();
    let server = invitegate_example_host::serve(
        invitegate_example_host::Config {
            issuer: app.address.clone(),
            client_id: client.client.client_id.clone(),
            client_secret: client.client_secret.clone(),
            base_url: base.clone(),
        },
        listener,
    )
    .await
    .expect("the example discovers Invitegate");
    tokio::spawn(server);
    let mut b = Browser::start("example-host", 1280).await;
    b.open(&format!("{base}/")).await;
    b.click_link("Sign in with Invitegate").await;
    b.wait_text("Sign in to continue to Example app").await;
    b.fill("#email", "gus@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    let page = b.wait_text("Signed in as gus@example.com").await;
    assert!(
        page.contains("email_verified"),
        "the claims are shown: {page}"
    );
    b.screen("example-host-signed-in").await;

    // Keys rotate (new ones signing at once here): the app's session, checked against
    // userinfo on every visit, stays valid.
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
    b.open(&format!("{base}/")).await;
    b.wait_text("Signed in as gus@example.com").await;

    // The app requires `iss` in the authorization response (RFC 9207): a response without it
    // is refused, so a mix-up attack cannot feed it another server's code.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let to = http
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let state = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let refused = http
        .get(format!("{base}/callback?code=stolen&state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("iss"));
    // RP-initiated logout: back at the app, and signed out of Invitegate too.
    b.click_link("Sign out").await;
    b.wait_path("/").await;
    b.wait_text("Sign in with Invitegate").await;
    b.open(&app.url("/app")).await;
    b.wait_path("/login").await;

    // Signing in again gets an ID token from the new key, which the app fetches on its own.
    b.open(&format!("{base}/")).await;
    b.click_link("Sign in with Invitegate").await;
    b.wait_text("Sign in to continue to Example app").await;
    b.fill("#email", "gus@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.wait_text("Signed in as gus@example.com").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_waits_while_the_confirmation_email_opens_in_another_tab() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let inv = admin
        .create_invitation(&crate::helpers::domain_req("corp.example", 5))
        .await
        .unwrap();
    let host = HostSite::bind();
    let origin = host.origin.clone();
    host.serve(app_page());
    let rp = Rp::register(&app, &admin, team_wiki_at(&origin, false)).await;
    let (url, _, nonce, verifier) = rp.authorize_url(&["email"]);
    let b = Browser::start("oidc-other-tab", 1280).await;
    b.open(url.as_str()).await;
    b.wait_text("Sign in to continue to Team wiki").await;
    b.open(&inv.url).await;
    b.fill("#email", "hal@corp.example").await;
    b.click_button("Continue").await;
    b.wait_text("Check your email").await;
    let token = app
        .link_token_for("hal@corp.example", "/verify-email")
        .await;
    // The emailed link opens in a new tab: only local storage carries the waiting request.
    let tab = b.c.new_window(true).await.expect("a new tab");
    b.c.switch_to_window(tab.handle).await.expect("switch");
    b.open(&app.url(&format!("/verify-email#token={token}")))
        .await;
    b.wait_text("Choose your password").await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password-confirm", PASSWORD).await;
    b.click_button("Create account").await;
    assert_eq!(
        finish(&rp, &b, &nonce, verifier, &app.address).await,
        "hal@corp.example"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_account_accepts_an_invitation_made_for_an_app_and_lands_in_it() {
    let app = spawn_web_app(Backend::Sqlite).await;
    let admin = app.admin().await;
    let org = admin
        .create_organization(&invitegate_core::api::CreateOrganizationRequest {
            name: "Acme".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    app.member(&admin, "ivy@example.com").await;
    let host = HostSite::bind();
    let origin = host.origin.clone();
    let rp = Rp::register(&app, &admin, team_wiki_at(&origin, true)).await;
    let (url, _, nonce, verifier) = rp.authorize_url(&["email"]);
    host.serve(initiating_app_page(&app.address, url.as_str()));
    let inv = admin
        .create_invitation(&invitegate_core::api::CreateInvitationRequest {
            organization_id: Some(org.id.clone()),
            client_id: Some(rp.registered.client.client_id.clone()),
            send_email: Some(false),
            ..email_req("ivy@example.com")
        })
        .await
        .unwrap();
    let b = Browser::start("oidc-accept-for-app", 1280).await;
    b.open(&inv.url).await;
    b.wait_text("invited you to join Acme.").await;
    b.click_button("Sign in to accept").await;
    b.wait_path("/login").await;
    b.fill("#email", "ivy@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click_button("Sign in").await;
    // Signing in returns to the invitation (not yet to the app): accepting comes first.
    b.wait_path("/invite").await;
    b.click_button("Accept invitation").await;
    assert_eq!(
        finish(&rp, &b, &nonce, verifier, &app.address).await,
        "ivy@example.com"
    );
    b.close().await;
}
