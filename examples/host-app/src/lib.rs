//! A host app that signs its users in with Invitegate, using only a standard OpenID Connect
//! library (`openidconnect`): discovery, the code flow with PKCE and a nonce, the `iss` check
//! of RFC 9207, ID token validation against the JWKS, userinfo, third-party-initiated login
//! (`/login?iss=…&login_hint=…`, OpenID Connect Core §4) and RP-initiated logout.

use actix_web::cookie::Cookie;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, LoginHint,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long a sign-in may take from `/login` to `/callback`.
const SIGN_IN_WINDOW: Duration = Duration::from_secs(600);

/// Where the provider is and who this app is.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Invitegate issuer (its `public_base_url`).
    pub issuer: String,
    /// The registered `client_id`.
    pub client_id: String,
    /// The client secret (none for a public client).
    pub client_secret: Option<String>,
    /// This app's own origin, e.g. `http://localhost:3000`.
    pub base_url: String,
}

struct State {
    config: Config,
    /// Discovery and the key set, fetched again when an ID token names a key it lacks (after
    /// the provider rotated its keys).
    metadata: RwLock<CoreProviderMetadata>,
    end_session: Option<String>,
    /// Sign-ins under way, by `state`: PKCE verifier, nonce, and when it began.
    pending: Mutex<HashMap<String, (PkceCodeVerifier, Nonce, Instant)>>,
    /// Session cookie → (access token, ID token).
    sessions: Mutex<HashMap<String, (openidconnect::AccessToken, String)>>,
}

/// The `openidconnect` crate's HTTP client: reqwest, never following redirects.
pub async fn http(
    req: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (parts, body) = req.into_parts();
    let res = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut out = http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        out = out.header(k, v);
    }
    Ok(out
        .body(res.bytes().await?.to_vec())
        .expect("status and headers came from a response"))
}

impl State {
    fn client(
        &self,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            self.metadata.read().expect("lock").clone(),
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(
            RedirectUrl::new(format!("{}/callback", self.config.base_url)).expect("a URL"),
        )
    }
}

fn page(body: &str) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Example app</title></head>\
         <body><main><h1>Example app</h1>{body}</main></body></html>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The user's claims, asked of userinfo on every visit: a grant revoked at Invitegate (the
/// user signed out there, an administrator deleted the app) signs the user out here too.
async fn claims(
    state: &State,
    access_token: openidconnect::AccessToken,
) -> Option<serde_json::Value> {
    let info: CoreUserInfoClaims = state
        .client()
        .user_info(access_token, None)
        .ok()?
        .request_async(&http)
        .await
        .ok()?;
    serde_json::to_value(&info).ok()
}

async fn home(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let sid = req.cookie("sid").map(|c| c.value().to_string());
    let session = sid.and_then(|s| state.sessions.lock().expect("lock").get(&s).cloned());
    let signed_in = match session {
        Some((access_token, _)) => claims(&state, access_token).await,
        None => None,
    };
    match signed_in {
        Some(claims) => page(&format!(
            "<p>Signed in as <strong>{}</strong>.</p><pre>{}</pre><p><a href=\"/logout\">Sign out</a></p>",
            escape(claims["email"].as_str().unwrap_or_default()),
            escape(&serde_json::to_string_pretty(&claims).unwrap_or_default())
        )),
        None => page("<p><a href=\"/login\">Sign in with Invitegate</a></p>"),
    }
}

fn bad(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().body(message.to_string())
}

async fn login(state: web::Data<State>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    // Third-party-initiated login (OpenID Connect Core §4): only from our own issuer.
    if q.get("iss").is_some_and(|iss| *iss != state.config.issuer) {
        return bad("unknown issuer");
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = state.client();
    let mut req = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("organizations".into()))
        .set_pkce_challenge(challenge);
    if let Some(hint) = q.get("login_hint") {
        req = req.set_login_hint(LoginHint::new(hint.clone()));
    }
    let (url, csrf, nonce) = req.url();
    {
        let mut pending = state.pending.lock().expect("lock");
        pending.retain(|_, (_, _, at)| at.elapsed() < SIGN_IN_WINDOW);
        pending.insert(csrf.secret().clone(), (verifier, nonce, Instant::now()));
    }
    // The state is bound to this browser: a callback URL made in another browser (login
    // CSRF) finds no matching cookie. Lax, because the callback is a navigation from the
    // provider's site.
    HttpResponse::Found()
        .cookie(
            Cookie::build("oidc_state", csrf.secret().clone())
                .path("/callback")
                .http_only(true)
                .same_site(actix_web::cookie::SameSite::Lax)
                .finish(),
        )
        .insert_header(("location", url.to_string()))
        .finish()
}

async fn callback(
    state: web::Data<State>,
    req: HttpRequest,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let ours = req.cookie("oidc_state").map(|c| c.value().to_string());
    let Some((verifier, nonce, at)) = q
        .get("state")
        .filter(|s| ours.as_deref() == Some(s.as_str()))
        .and_then(|s| state.pending.lock().expect("lock").remove(s))
    else {
        return bad("unknown state, or a sign-in begun in another browser");
    };
    if at.elapsed() > SIGN_IN_WINDOW {
        return bad("the sign-in took too long; try again");
    }
    // RFC 9207: the response must come from the issuer the request went to.
    if q.get("iss") != Some(&state.config.issuer) {
        return bad("missing or wrong iss");
    }
    if let Some(error) = q.get("error") {
        return bad(&format!("sign-in failed: {error}"));
    }
    let Some(code) = q.get("code") else {
        return bad("no code");
    };
    let client = state.client();
    let tokens = match client.exchange_code(AuthorizationCode::new(code.clone())) {
        Ok(req) => match req.set_pkce_verifier(verifier).request_async(&http).await {
            Ok(t) => t,
            Err(e) => return bad(&format!("token request failed: {e}")),
        },
        Err(e) => return bad(&format!("{e}")),
    };
    let Some(id_token) = tokens.id_token() else {
        return bad("no ID token");
    };
    if id_token
        .claims(&client.id_token_verifier(), &nonce)
        .is_err()
    {
        // Perhaps signed by a key published since discovery: fetch the key set again, once.
        if let Ok(fresh) = discover(&state.config.issuer).await {
            *state.metadata.write().expect("lock") = fresh;
        }
        if let Err(e) = id_token.claims(&state.client().id_token_verifier(), &nonce) {
            return bad(&format!("invalid ID token: {e}"));
        }
    }
    let sid = CsrfToken::new_random().secret().clone();
    state.sessions.lock().expect("lock").insert(
        sid.clone(),
        (tokens.access_token().clone(), id_token.to_string()),
    );
    HttpResponse::Found()
        .cookie(Cookie::build("sid", sid).path("/").http_only(true).finish())
        .insert_header(("location", "/"))
        .finish()
}

async fn logout(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    let ended = req
        .cookie("sid")
        .and_then(|c| state.sessions.lock().expect("lock").remove(c.value()));
    let to = match (ended, &state.end_session) {
        (Some((_, id_token)), Some(end)) => {
            let mut url = openidconnect::url::Url::parse(end).expect("a URL");
            url.query_pairs_mut()
                .append_pair("id_token_hint", &id_token)
                .append_pair(
                    "post_logout_redirect_uri",
                    &format!("{}/", state.config.base_url),
                );
            url.to_string()
        }
        _ => "/".to_string(),
    };
    HttpResponse::Found()
        .insert_header(("location", to))
        .finish()
}

async fn discover(issuer: &str) -> anyhow::Result<CoreProviderMetadata> {
    let issuer = IssuerUrl::new(issuer.to_string())?;
    Ok(CoreProviderMetadata::discover_async(issuer, &http).await?)
}

/// Discovers the provider and serves the app on `listener`.
pub async fn serve(
    config: Config,
    listener: std::net::TcpListener,
) -> anyhow::Result<actix_web::dev::Server> {
    let metadata = discover(&config.issuer).await?;
    let discovery: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        config.issuer
    ))
    .await?
    .json()
    .await?;
    let state = web::Data::new(State {
        config,
        metadata: RwLock::new(metadata),
        end_session: discovery["end_session_endpoint"]
            .as_str()
            .map(str::to_string),
        pending: Mutex::default(),
        sessions: Mutex::default(),
    });
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/", web::get().to(home))
            .route("/login", web::get().to(login))
            .route("/callback", web::get().to(callback))
            .route("/logout", web::get().to(logout))
    })
    .workers(1)
    .listen(listener)?
    .run())
}
