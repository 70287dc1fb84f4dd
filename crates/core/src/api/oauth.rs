//! Bodies of the OpenID Provider's administration (`/api/v1/oauth-clients`) and of the calls
//! the web app makes to carry an authorization or logout request through sign-in
//! (`/api/v1/oauth2/...`). The protocol endpoints themselves (`/oauth2/token`, userinfo, ...)
//! speak OAuth 2.0 / OpenID Connect, not these types.

use super::*;
use crate::model::AuthorizeStatus;

/// A relying party registered with this OpenID Provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b60-0000-7000-8000-0000000000c1", "client_id": "igc_4q1QmYQ6c2V0dXAtZXhhbXBsZQ", "name": "Team wiki", "public": false, "redirect_uris": ["https://wiki.example.com/oidc/callback"], "post_logout_redirect_uris": ["https://wiki.example.com/"], "initiate_login_uri": "https://wiki.example.com/login", "id_token_signed_response_alg": "RS256", "created_at": "2026-12-04T09:30:00Z"})))]
pub struct OAuthClient {
    /// Row id (for `DELETE`).
    pub id: String,
    /// The OAuth `client_id` (RFC 6749 §2.2).
    pub client_id: String,
    /// Shown on the sign-in screen: "Continue to <name>".
    pub name: String,
    /// A public client (SPA, mobile or desktop app, RFC 6749 §2.1) has no secret and must use
    /// PKCE.
    pub public: bool,
    /// Redirect URIs, compared with the request's as exact strings (RFC 9700 §2.1).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return to (exact strings).
    pub post_logout_redirect_uris: Vec<String>,
    /// Where an invitee is sent after registering (OpenID Connect Core §4), if set.
    pub initiate_login_uri: Option<String>,
    /// The ID token algorithm: `RS256` (the default) or `EdDSA`.
    pub id_token_signed_response_alg: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/oauth-clients` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Team wiki", "redirect_uris": ["https://wiki.example.com/oidc/callback"], "post_logout_redirect_uris": ["https://wiki.example.com/"], "initiate_login_uri": "https://wiki.example.com/login"})))]
#[serde(deny_unknown_fields)]
pub struct CreateOAuthClientRequest {
    /// 1 to 100 characters.
    pub name: String,
    /// 1 to 10 absolute URIs without a fragment: `https`, or `http` on a loopback host
    /// (`localhost`, `127.0.0.1`, `[::1]`), or a private-use scheme of a native app
    /// (`com.example.app:/callback`, RFC 8252 §7.1).
    pub redirect_uris: Vec<String>,
    /// Up to 10 URIs, same rules.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// An `https` URI (or `http` on a loopback host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    /// A public client gets no secret and must use PKCE. Default false.
    #[serde(default)]
    pub public: bool,
    /// `RS256` (default) or `EdDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signed_response_alg: Option<String>,
}

/// 201 body of `POST /api/v1/oauth-clients`: the client and, for a confidential client, its
/// secret, shown this once (only its hash is kept).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"id": "01936b60-0000-7000-8000-0000000000c1", "client_id": "igc_4q1QmYQ6c2V0dXAtZXhhbXBsZQ", "name": "Team wiki", "public": false, "redirect_uris": ["https://wiki.example.com/oidc/callback"], "post_logout_redirect_uris": ["https://wiki.example.com/"], "initiate_login_uri": "https://wiki.example.com/login", "id_token_signed_response_alg": "RS256", "created_at": "2026-12-04T09:30:00Z", "client_secret": "igs_c2VjcmV0LXNob3duLW9uY2UtZXhhbXBsZS12YWx1ZQ"})))]
pub struct CreatedOAuthClient {
    /// The client.
    #[serde(flatten)]
    pub client: OAuthClient,
    /// The client secret (absent for public clients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// `POST /api/v1/oauth2/authorize` body: the web app forwards the query string of an
/// authorization request (OpenID Connect Core §3.1.2.1) it received at `/authorize`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"query": "response_type=code&client_id=igc_4q1QmYQ6c2V0dXAtZXhhbXBsZQ&redirect_uri=https%3A%2F%2Fwiki.example.com%2Foidc%2Fcallback&scope=openid%20email&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", "fresh_sign_in": false})))]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The request's query string, without the leading `?`.
    pub query: String,
    /// True when the web app has just taken the person through the sign-in form for this
    /// request (answers `prompt=login` and `max_age`; honoured only for a session under 2
    /// minutes old).
    #[serde(default)]
    pub fresh_sign_in: bool,
}

/// 200 body of `POST /api/v1/oauth2/authorize`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "redirect", "client_name": "Team wiki", "redirect_to": "https://wiki.example.com/oidc/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj&iss=https%3A%2F%2Finvitegate.example.com", "login_hint": null})))]
pub struct AuthorizeOutcome {
    /// What to do next.
    pub status: AuthorizeStatus,
    /// The client's name.
    pub client_name: String,
    /// With `redirect`: where to go.
    pub redirect_to: Option<String>,
    /// The request's `login_hint`, to fill the sign-in form.
    pub login_hint: Option<String>,
}

/// `POST /api/v1/oauth2/logout` body: the query string of an RP-initiated logout request
/// (OpenID Connect RP-Initiated Logout 1.0 §2) the web app received at `/logout`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"query": "id_token_hint=eyJhbGciOiJSUzI1NiJ9.e30.c2ln&post_logout_redirect_uri=https%3A%2F%2Fwiki.example.com%2F&state=xyz", "confirm": false})))]
#[serde(deny_unknown_fields)]
pub struct EndSessionRequest {
    /// The request's query string, without the leading `?`.
    pub query: String,
    /// The person clicked "Sign out": needed when the request has no `id_token_hint`.
    #[serde(default)]
    pub confirm: bool,
}

/// 200 body of `POST /api/v1/oauth2/logout`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"signed_out": true, "client_name": "Team wiki", "redirect_to": "https://wiki.example.com/?state=xyz", "confirmation_required": false})))]
pub struct EndSessionOutcome {
    /// Whether a session was ended.
    pub signed_out: bool,
    /// The client the request came from, when the ID token hint named one.
    pub client_name: Option<String>,
    /// Where to go next: the registered `post_logout_redirect_uri` with `state`; null to stay.
    pub redirect_to: Option<String>,
    /// The request has no ID token hint: ask the person, then send it again with `confirm`.
    pub confirmation_required: bool,
}
