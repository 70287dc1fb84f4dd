//! The provider's JWTs: ID tokens (OpenID Connect Core §2, signed with the client's
//! algorithm) and access tokens (RFC 9068: `typ: at+jwt`, RS256), and the user claims both
//! ID tokens and userinfo carry, by scope (OpenID Connect Core §5.4).

use crate::oidc_keys::KeySet;
use crate::storage::models::{MembershipRow, OAuthGrantRow, OrganizationRow, UserRow};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer (`public_base_url`).
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The client's `client_id`.
    pub aud: String,
    /// The client's `client_id`.
    pub client_id: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// When the user signed in, seconds since the epoch.
    pub auth_time: i64,
    /// Unique token id.
    pub jti: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The grant: revoking it (logout, a replayed code, deleting the client) ends the token.
    pub gid: String,
}

/// What a token carries besides the user's claims.
pub struct Issue<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The grant.
    pub grant: &'a OAuthGrantRow,
    /// The client's `client_id`.
    pub client_id: &'a str,
    /// The client's ID token algorithm (`RS256` or `EdDSA`).
    pub id_token_alg: &'a str,
    /// The scope of the tokens (the grant's, or narrower at refresh).
    pub scope: &'a str,
    /// Lifetime, seconds.
    pub ttl: i64,
}

fn header<'k>(
    keys: &'k KeySet,
    alg: Algorithm,
    typ: &str,
) -> (Header, &'k jsonwebtoken::EncodingKey) {
    let (kid, key) = keys.signing(alg);
    let header = Header {
        kid: Some(kid.to_string()),
        typ: Some(typ.to_string()),
        ..Header::new(alg)
    };
    (header, key)
}

/// Signs an access token for the grant.
pub fn access_token(keys: &KeySet, issue: &Issue<'_>) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = AccessClaims {
        iss: issue.issuer.to_string(),
        sub: issue.grant.user_id.clone(),
        aud: issue.client_id.to_string(),
        client_id: issue.client_id.to_string(),
        exp: now + issue.ttl,
        iat: now,
        auth_time: issue.grant.auth_time.and_utc().timestamp(),
        jti: crate::tokens::opaque_secret()[..22].to_string(),
        scope: issue.scope.to_string(),
        gid: issue.grant.id.clone(),
    };
    let (header, key) = header(keys, Algorithm::RS256, "at+jwt");
    jsonwebtoken::encode(&header, &claims, key).expect("signing with a loaded key cannot fail")
}

/// Signs an ID token carrying `user_claims` (OpenID Connect Core §2): `nonce` is the
/// authorization request's, at refresh too.
pub fn id_token(keys: &KeySet, issue: &Issue<'_>, user_claims: Map<String, Value>) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = user_claims;
    claims.insert("iss".into(), json!(issue.issuer));
    claims.insert("aud".into(), json!(issue.client_id));
    claims.insert("azp".into(), json!(issue.client_id));
    claims.insert("exp".into(), json!(now + issue.ttl));
    claims.insert("iat".into(), json!(now));
    claims.insert(
        "auth_time".into(),
        json!(issue.grant.auth_time.and_utc().timestamp()),
    );
    claims.insert("sid".into(), json!(issue.grant.session_id));
    if let Some(nonce) = &issue.grant.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let alg = match issue.id_token_alg {
        "EdDSA" => Algorithm::EdDSA,
        _ => Algorithm::RS256,
    };
    let (header, key) = header(keys, alg, "JWT");
    jsonwebtoken::encode(&header, &claims, key).expect("signing with a loaded key cannot fail")
}

/// The user's claims for `scope` (OpenID Connect Core §5.4): `sub` always; `email` and
/// `email_verified` with `email`; `name` with `profile`; `orgs` (`[{"id","slug","role"}]`)
/// with `organizations`.
pub fn user_claims(
    user: &UserRow,
    scope: &str,
    orgs: &[(MembershipRow, OrganizationRow)],
) -> Map<String, Value> {
    let has = |s: &str| scope.split(' ').any(|x| x == s);
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id));
    if has("email") {
        claims.insert("email".into(), json!(user.email));
        // Accounts exist only once their address is verified (or an email-bound invitation
        // proved it).
        claims.insert("email_verified".into(), json!(true));
    }
    if has("profile") {
        claims.insert("name".into(), json!(user.shown_name()));
    }
    if has("organizations") {
        let orgs: Vec<Value> = orgs
            .iter()
            .map(|(m, o)| json!({"id": o.id, "slug": o.slug, "role": m.role}))
            .collect();
        claims.insert("orgs".into(), Value::Array(orgs));
    }
    claims
}

/// The published key the header names, when the header's algorithm is that key's.
fn verifying_key<'k>(
    keys: &'k KeySet,
    header: &Header,
) -> Option<(Algorithm, &'k jsonwebtoken::DecodingKey)> {
    let (alg, key) = keys.verifying(header.kid.as_deref()?)?;
    (header.alg == alg).then_some((alg, key))
}

/// Verifies an access token: a published key by `kid` with its own algorithm, `typ` `at+jwt`
/// (RFC 9068 §4, so an ID token is never taken for one), issuer, `exp`. `None` for anything
/// wrong.
pub fn decode_access_token(keys: &KeySet, issuer: &str, token: &str) -> Option<AccessClaims> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if !header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    }) {
        return None;
    }
    let (alg, key) = verifying_key(keys, &header)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.leeway = 5;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .ok()
        .map(|d| d.claims)
}

/// What an `id_token_hint` tells (OpenID Connect RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, Deserialize)]
pub struct IdTokenHint {
    /// The user.
    pub sub: String,
    /// The client.
    pub aud: String,
    /// The Invitegate session the token was issued in.
    #[serde(default)]
    pub sid: Option<String>,
}

/// Claims of an ID token this provider signed, expired or not (an `id_token_hint`): `None`
/// for anything else, an access token included.
pub fn decode_id_token_hint(keys: &KeySet, issuer: &str, token: &str) -> Option<IdTokenHint> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    // An ID token, never an access token (which resource servers hold).
    if header.typ.as_deref() != Some("JWT") {
        return None;
    }
    let (alg, key) = verifying_key(keys, &header)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    jsonwebtoken::decode::<IdTokenHint>(token, key, &validation)
        .ok()
        .map(|d| d.claims)
}
