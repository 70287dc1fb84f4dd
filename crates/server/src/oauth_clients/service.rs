//! The rules of relying parties: what may be registered, the `client_id` and the secret
//! (`igs_` + 256 random bits, stored as SHA-256 and shown once; public clients get none), and
//! the audit trail of every change.

use super::redirect_uri::{UriRejection, check_redirect_uri, check_web_uri};
use crate::audit_trail::AuditEntry;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::RequestMeta;
use crate::state::AppState;
use crate::storage::models::OAuthClientRow;
use crate::storage::{self, oauth};
use crate::tokens::{hash_token, opaque_secret};
use invitegate_core::api::CreateOAuthClientRequest;
use invitegate_core::model::{ActorRef, AuditAction};
use invitegate_core::{ErrorCode, FieldCode};

/// Prefix of every client secret.
pub const CLIENT_SECRET_PREFIX: &str = "igs_";
/// Most redirect URIs (and post-logout redirect URIs) of one client.
pub const MAX_URIS: usize = 10;

/// A client registration that passed the rules.
#[derive(Debug, Clone)]
pub struct NewOAuthClient {
    name: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    initiate_login_uri: Option<String>,
    public: bool,
    alg: &'static str,
}

fn uri_code(r: UriRejection) -> FieldCode {
    match r {
        UriRejection::Malformed => FieldCode::Invalid,
        UriRejection::NotExact => FieldCode::NotExact,
        UriRejection::InsecureScheme => FieldCode::InsecureScheme,
    }
}

fn add(errors: &mut FieldErrors, field: &str, code: FieldCode) {
    let codes = errors.entry(field.to_string()).or_default();
    if !codes.contains(&code) {
        codes.push(code);
    }
}

fn uri_list(errors: &mut FieldErrors, field: &str, uris: &[String], needed: bool) -> Vec<String> {
    if needed && uris.is_empty() {
        add(errors, field, FieldCode::Empty);
    } else if uris.len() > MAX_URIS {
        add(errors, field, FieldCode::TooMany);
    }
    for uri in uris {
        if let Err(r) = check_redirect_uri(uri) {
            add(errors, field, uri_code(r));
        }
    }
    let mut distinct = Vec::new();
    for uri in uris {
        if !distinct.contains(uri) {
            distinct.push(uri.clone());
        }
    }
    distinct
}

impl NewOAuthClient {
    /// Parses a registration; every refused field is reported at once. Errors: 422 with
    /// `name` `invalid`; `redirect_uris` `empty`, `too_many`, `invalid`, `not_exact` or
    /// `insecure_scheme`; the same for `post_logout_redirect_uris` and `initiate_login_uri`;
    /// `id_token_signed_response_alg` `invalid` (not `RS256` or `EdDSA`).
    pub fn parse(req: &CreateOAuthClientRequest) -> ApiResult<Self> {
        let mut errors = FieldErrors::new();
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            add(&mut errors, "name", FieldCode::Invalid);
        }
        let redirect_uris = uri_list(&mut errors, "redirect_uris", &req.redirect_uris, true);
        let post_logout_redirect_uris = uri_list(
            &mut errors,
            "post_logout_redirect_uris",
            &req.post_logout_redirect_uris,
            false,
        );
        if let Some(Err(r)) = req.initiate_login_uri.as_deref().map(check_web_uri) {
            add(&mut errors, "initiate_login_uri", uri_code(r));
        }
        let alg = match req.id_token_signed_response_alg.as_deref() {
            None | Some("RS256") => "RS256",
            Some("EdDSA") => "EdDSA",
            Some(_) => {
                add(
                    &mut errors,
                    "id_token_signed_response_alg",
                    FieldCode::Invalid,
                );
                "RS256"
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        Ok(Self {
            name: name.to_string(),
            redirect_uris,
            post_logout_redirect_uris,
            initiate_login_uri: req.initiate_login_uri.clone(),
            public: req.public,
            alg,
        })
    }
}

/// Registers a client with its audit event in one transaction; returns the row and the
/// secret (`None` for a public client), which is never stored. `creator` is `None` for the
/// command line.
pub async fn create(
    state: &AppState,
    new: NewOAuthClient,
    creator: Option<ActorRef>,
    meta: &RequestMeta,
) -> ApiResult<(OAuthClientRow, Option<String>)> {
    let secret = (!new.public).then(|| format!("{CLIENT_SECRET_PREFIX}{}", opaque_secret()));
    let row = OAuthClientRow {
        id: storage::new_id(),
        client_id: format!("igc_{}", &opaque_secret()[..22]),
        name: new.name,
        secret_hash: secret.as_deref().map(hash_token),
        redirect_uris: new.redirect_uris.join("\n"),
        post_logout_redirect_uris: new.post_logout_redirect_uris.join("\n"),
        initiate_login_uri: new.initiate_login_uri,
        id_token_signed_response_alg: new.alg.to_string(),
        created_at: storage::now(),
        created_by: creator.as_ref().map(|c| c.id.clone()),
    };
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                oauth::insert_client(conn, &row)?;
                AuditEntry::success(AuditAction::OauthClientCreated)
                    .actor(creator)
                    .target("oauth_client", row.id.clone())
                    .details(serde_json::json!({
                        "client_id": row.client_id,
                        "name": row.name,
                        "public": row.is_public(),
                        "redirect_uris": row.redirect_uris(),
                    }))
                    .write(conn, &m)?;
                Ok::<_, ApiError>(())
            })?;
            Ok((row, secret))
        })
        .await
}

/// Every client, newest first.
pub async fn list(state: &AppState) -> ApiResult<Vec<OAuthClientRow>> {
    state.db(|conn| Ok(oauth::clients(conn)?)).await
}

/// Deletes client `id` (by row id or `client_id`) and every grant made to it: its refresh
/// tokens stop working at once, its access tokens at their next use. Errors: 404 `not_found`.
pub async fn delete(
    state: &AppState,
    id: String,
    actor: Option<ActorRef>,
    meta: &RequestMeta,
) -> ApiResult<OAuthClientRow> {
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let row = match oauth::client(conn, &id)? {
                    Some(row) => row,
                    None => oauth::client_by_client_id(conn, &id)?
                        .ok_or_else(|| ApiError::new(ErrorCode::NotFound))?,
                };
                oauth::delete_client(conn, &row.id)?;
                AuditEntry::success(AuditAction::OauthClientDeleted)
                    .actor(actor)
                    .target("oauth_client", row.id.clone())
                    .details(serde_json::json!({"client_id": row.client_id, "name": row.name}))
                    .write(conn, &m)?;
                Ok(row)
            })
        })
        .await
}
