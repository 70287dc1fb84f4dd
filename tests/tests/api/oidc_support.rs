//! A relying party built on the `openidconnect` crate, as a host app would use it, and the
//! web app's part of the flow played over the API (the browser tests play it in Chromium).

use crate::helpers::*;
use invitegate_core::api::*;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope,
};

pub const CALLBACK: &str = "https://app.example.com/oidc/callback";

/// The `openidconnect` crate's HTTP client: reqwest without redirects (the example app's).
pub use invitegate_example_host::http as send;

/// A registered client and what the relying party library made of the discovery document.
pub struct Rp {
    pub registered: CreatedOAuthClient,
    pub metadata: CoreProviderMetadata,
}

impl Rp {
    /// Registers a client through `admin` and discovers the provider.
    pub async fn register(
        app: &TestApp,
        admin: &invitegate_client::Client,
        req: CreateOAuthClientRequest,
    ) -> Self {
        let registered = admin
            .create_oauth_client(&req)
            .await
            .expect("client registered");
        let issuer = IssuerUrl::new(app.address.clone()).unwrap();
        let metadata = CoreProviderMetadata::discover_async(issuer, &send)
            .await
            .expect("discovery and JWKS");
        Self {
            registered,
            metadata,
        }
    }

    pub fn client(
        &self,
    ) -> openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.registered.client.client_id.clone()),
            self.registered.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(
            RedirectUrl::new(self.registered.client.redirect_uris[0].clone()).unwrap(),
        )
    }

    /// Exchanges `token` at the token endpoint, as the relying party library does.
    pub async fn refresh(
        &self,
        token: &openidconnect::RefreshToken,
    ) -> Result<openidconnect::core::CoreTokenResponse, impl std::fmt::Debug> {
        self.client()
            .exchange_refresh_token(token)
            .unwrap()
            .request_async(&send)
            .await
    }

    /// An authorization URL with PKCE S256 and `scopes` (besides `openid`).
    pub fn authorize_url(&self, scopes: &[&str]) -> (url::Url, CsrfToken, Nonce, PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let client = self.client();
        let mut req = client.authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in scopes {
            req = req.add_scope(Scope::new(s.to_string()));
        }
        let (url, csrf, nonce) = req.set_pkce_challenge(challenge).url();
        (url, csrf, nonce, verifier)
    }
}

/// The web app's part: loads `/authorize` (the page) and forwards its query with the
/// signed-in person's session.
pub async fn authorize_as(
    app: &TestApp,
    session: Option<&str>,
    url: &url::Url,
) -> Result<AuthorizeOutcome, invitegate_client::ClientError> {
    assert_eq!(url.path(), "/authorize");
    let page = app.http.get(url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200, "the authorization endpoint is a page");
    let api = match session {
        Some(token) => app.api.with_bearer(token),
        None => app.api.clone(),
    };
    api.authorize(&AuthorizeRequest {
        query: url.query().unwrap_or_default().to_string(),
        fresh_sign_in: false,
    })
    .await
}

/// The query parameters of a redirect.
pub fn redirect_params(to: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(to)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The code from a successful authorization, after checking `state` and `iss` (RFC 9207), as
/// an RP that requires `iss` does.
pub fn code_of(outcome: &AuthorizeOutcome, csrf: &CsrfToken, issuer: &str) -> String {
    assert_eq!(
        outcome.status,
        invitegate_core::model::AuthorizeStatus::Redirect
    );
    let to = outcome.redirect_to.as_deref().unwrap();
    assert!(to.starts_with(CALLBACK), "{to}");
    let params = redirect_params(to);
    assert_eq!(params.get("state"), Some(csrf.secret()));
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some(issuer),
        "RFC 9207 iss"
    );
    params["code"].clone()
}

pub fn client_req(public: bool) -> CreateOAuthClientRequest {
    CreateOAuthClientRequest {
        name: "Team wiki".into(),
        redirect_uris: vec![CALLBACK.into()],
        post_logout_redirect_uris: vec!["https://app.example.com/".into()],
        initiate_login_uri: Some("https://app.example.com/login".into()),
        public,
        id_token_signed_response_alg: None,
    }
}

/// Exchanges `code` (with `verifier`) as `rp`; the OAuth `error` code when refused.
pub async fn exchange(
    rp: &Rp,
    code: &str,
    verifier: Option<PkceCodeVerifier>,
) -> Result<openidconnect::core::CoreTokenResponse, String> {
    let client = rp.client();
    let mut req = client
        .exchange_code(openidconnect::AuthorizationCode::new(code.to_string()))
        .unwrap();
    if let Some(v) = verifier {
        req = req.set_pkce_verifier(v);
    }
    req.request_async(&send).await.map_err(|e| match e {
        openidconnect::RequestTokenError::ServerResponse(r) => r.error().as_ref().to_string(),
        other => format!("{other:?}"),
    })
}

/// A code for `scopes` that the session `access_token` authorized (the web app's part done
/// over the API), checked for `state` and `iss`: `(code, nonce, verifier)`.
pub async fn code_for(
    app: &TestApp,
    rp: &Rp,
    access_token: &str,
    scopes: &[&str],
) -> (String, Nonce, PkceCodeVerifier) {
    let (url, csrf, nonce, verifier) = rp.authorize_url(scopes);
    let outcome = authorize_as(app, Some(access_token), &url).await.unwrap();
    (code_of(&outcome, &csrf, &app.address), nonce, verifier)
}
