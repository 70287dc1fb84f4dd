//! Parsing an authorization request (OpenID Connect Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636)
//! into an [`AuthorizationRequest`] that holds only what the rules allow, and the responses
//! that go back to the client's redirect URI (with `iss`, RFC 9207).

use crate::storage::models::OAuthClientRow;
use std::collections::BTreeMap;

/// The scopes this provider knows.
pub const SCOPES: [&str; 5] = [
    "openid",
    "email",
    "profile",
    "organizations",
    "offline_access",
];

/// Form-encoded parameters. A parameter without a value counts as absent (RFC 6749 §3.1).
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a body).
    pub fn parse(text: &str) -> Self {
        let mut params = Self::default();
        for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
            if v.is_empty() {
                continue;
            }
            if params.values.insert(k.to_string(), v.to_string()).is_some() {
                params.repeated.push(k.to_string());
            }
        }
        params
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether `name` was given more than once.
    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    /// The first parameter given more than once (RFC 6749 §3.1: "MUST NOT be included more
    /// than once").
    pub fn repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }
}

/// An error response sent to the client's redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The `error` code.
    pub error: &'static str,
    /// The `error_description`.
    pub description: String,
}

fn err(error: &'static str, description: impl Into<String>) -> ErrorResponse {
    ErrorResponse {
        error,
        description: description.into(),
    }
}

/// `prompt` (OpenID Connect Core §3.1.2.1; `create` from Initiating User Registration via
/// OpenID Connect 1.0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// Never show a screen: answer `login_required` when there is no session.
    pub none: bool,
    /// Sign in again even with a session.
    pub login: bool,
    /// Show account creation.
    pub create: bool,
}

/// An authorization request for a known client and a registered redirect URI that passed
/// every rule.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The scopes, each one of [`SCOPES`], `openid` among them.
    pub scopes: Vec<String>,
    /// Returned unchanged.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge (43 base64url characters); required of public clients.
    pub code_challenge: Option<String>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`, to fill the sign-in form.
    pub login_hint: Option<String>,
}

fn is_base64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A PKCE verifier's form (RFC 7636 §4.1): 43 to 128 unreserved characters.
pub fn is_code_verifier(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Applies the rules past the client and the redirect URI, which the caller has checked.
/// Errors are sent back to the client.
pub fn parse(
    params: &Params,
    client: &OAuthClientRow,
) -> Result<AuthorizationRequest, ErrorResponse> {
    if let Some(name) = params.repeated() {
        return Err(err(
            "invalid_request",
            format!("`{name}` is given more than once"),
        ));
    }
    if params.get("request").is_some() {
        return Err(err(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(err(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    match params.get("response_type") {
        Some("code") => {}
        None => return Err(err("invalid_request", "`response_type` is required")),
        Some(_) => {
            return Err(err("unsupported_response_type", "only `code` is supported"));
        }
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(err(
            "invalid_request",
            "only `response_mode=query` is supported",
        ));
    }
    let scopes: Vec<String> = params
        .get("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(err("invalid_scope", format!("unknown scope `{unknown}`")));
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(err("invalid_scope", "the `openid` scope is required"));
    }
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (Some(c), Some("S256")) if c.len() == 43 && is_base64url(c) => Some(c.to_string()),
        (Some(_), Some("S256")) => {
            return Err(err(
                "invalid_request",
                "`code_challenge` is not an S256 challenge",
            ));
        }
        (Some(_), _) | (None, Some(_)) => {
            return Err(err(
                "invalid_request",
                "PKCE needs `code_challenge` with `code_challenge_method=S256` (plain is not supported)",
            ));
        }
        (None, None) if client.is_public() => {
            return Err(err(
                "invalid_request",
                "a public client must use PKCE (S256)",
            ));
        }
        (None, None) => None,
    };
    let mut prompt = Prompt::default();
    for value in params.get("prompt").unwrap_or_default().split(' ') {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "create" => prompt.create = true,
            // No consent screen (clients are registered by administrators) and one account
            // per browser: both are met as asked.
            "consent" | "select_account" | "" => {}
            other => return Err(err("invalid_request", format!("unknown prompt `{other}`"))),
        }
    }
    if prompt.none && (prompt.login || prompt.create) {
        return Err(err("invalid_request", "`prompt=none` cannot be combined"));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => Some(
            v.parse::<u32>()
                .map_err(|_| err("invalid_request", "`max_age` is not a number of seconds"))?
                .into(),
        ),
    };
    let bounded = |name: &str, max: usize| -> Result<Option<String>, ErrorResponse> {
        match params.get(name) {
            Some(v) if v.len() > max => {
                Err(err("invalid_request", format!("`{name}` is too long")))
            }
            v => Ok(v.map(str::to_string)),
        }
    };
    Ok(AuthorizationRequest {
        scopes,
        nonce: bounded("nonce", 512)?,
        code_challenge,
        prompt,
        max_age,
        login_hint: bounded("login_hint", 320)?,
    })
}

/// `redirect_uri` with `params` added to its query (RFC 6749 §3.1.2: keep its own query).
pub fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        out.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", out.finish())
}

/// The error response at the client's redirect URI, with `state` and `iss` (RFC 9207).
pub fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    issuer: &str,
    e: &ErrorResponse,
) -> String {
    let mut params = vec![
        ("error", e.error),
        ("error_description", e.description.as_str()),
    ];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    with_query(redirect_uri, &params)
}
