//! The rules of API keys: `igk_` + 256 random bits, stored as SHA-256 and shown once; revoking
//! a key also revokes the invitations it issued that are still pending.

use crate::audit_trail::AuditEntry;
use crate::auth::API_KEY_PREFIX;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::invitations::lifecycle::revoke_all_of_inviter;
use crate::state::AppState;
use crate::storage::models::ApiKeyRow;
use crate::storage::{self, api_keys};
use crate::tokens::{hash_token, opaque_secret};
use invitegate_core::ErrorCode;
use invitegate_core::FieldCode;
use invitegate_core::model::{ActorRef, AuditAction, Scope};

/// A key request that passed the rules: a trimmed name of 1 to 100 characters without control
/// characters, and 1 to 7 distinct scopes in the order given.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    name: String,
    scopes: Vec<Scope>,
}

impl NewApiKey {
    /// Parses a request. Errors: 422 `name` `invalid`, 422 `scopes` `empty`.
    pub fn parse(name: &str, scopes: &[Scope]) -> ApiResult<Self> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(ApiError::field("name", FieldCode::Invalid));
        }
        let mut distinct: Vec<Scope> = Vec::new();
        for s in scopes {
            if !distinct.contains(s) {
                distinct.push(*s);
            }
        }
        if distinct.is_empty() {
            return Err(ApiError::field("scopes", FieldCode::Empty));
        }
        Ok(Self {
            name: name.to_string(),
            scopes: distinct,
        })
    }
}

/// Creates a key with its audit event in one transaction; returns the row and the secret key,
/// which is never stored. `creator` is `None` for the command line.
pub async fn create(
    state: &AppState,
    new: NewApiKey,
    creator: Option<ActorRef>,
    meta: &RequestMeta,
) -> ApiResult<(ApiKeyRow, String)> {
    let key = format!("{API_KEY_PREFIX}{}", opaque_secret());
    let row = ApiKeyRow {
        id: storage::new_id(),
        name: new.name,
        prefix: key.chars().take(12).collect(),
        key_hash: hash_token(&key),
        scopes: new
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        created_at: storage::now(),
        created_by: creator.as_ref().map(|c| c.id.clone()),
        last_used_at: None,
        revoked_at: None,
    };
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                api_keys::insert(conn, &row)?;
                AuditEntry::success(AuditAction::ApiKeyCreated)
                    .actor(creator)
                    .target("api_key", row.id.clone())
                    .details(serde_json::json!({"name": row.name, "scopes": row.scopes()}))
                    .write(conn, &m)?;
                Ok::<_, ApiError>(())
            })?;
            Ok((row, key))
        })
        .await
}

/// Every key, newest first, without secrets.
pub async fn list(state: &AppState) -> ApiResult<Vec<ApiKeyRow>> {
    state.db(|conn| Ok(api_keys::list(conn)?)).await
}

/// Revokes key `id` and the invitations it issued that are still pending, in one transaction;
/// revoking a revoked key changes nothing. Errors: 404 `not_found`.
pub async fn revoke(
    state: &AppState,
    id: String,
    actor: ActorRef,
    meta: &RequestMeta,
) -> ApiResult<()> {
    let m = meta.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                api_keys::find(conn, &id)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound))?;
                if api_keys::revoke(conn, &id, storage::now())? {
                    AuditEntry::success(AuditAction::ApiKeyRevoked)
                        .actor(Some(actor.clone()))
                        .target("api_key", id.clone())
                        .write(conn, &m)?;
                    revoke_all_of_inviter(conn, &id, &actor, "api_key_revoked", &m)?;
                }
                Ok(())
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ApiError) -> Vec<(String, Vec<invitegate_core::FieldCode>)> {
        e.errors.unwrap_or_default().into_iter().collect()
    }

    #[test]
    fn a_key_request_is_trimmed_deduplicated_and_needs_a_name_and_a_scope() {
        let key = NewApiKey::parse(
            "  CRM sync ",
            &[
                Scope::InvitationsWrite,
                Scope::InvitationsRead,
                Scope::InvitationsWrite,
            ],
        )
        .unwrap();
        assert_eq!(key.name, "CRM sync");
        assert_eq!(
            key.scopes,
            [Scope::InvitationsWrite, Scope::InvitationsRead]
        );
        for name in ["", "   ", "a\u{7}b", &"x".repeat(101)] {
            let e = NewApiKey::parse(name, &[Scope::Admin]).unwrap_err();
            assert_eq!(
                field_of(e),
                [("name".into(), vec![invitegate_core::FieldCode::Invalid])]
            );
        }
        assert!(NewApiKey::parse(&"x".repeat(100), &[Scope::Admin]).is_ok());
        let e = NewApiKey::parse("ok", &[]).unwrap_err();
        assert_eq!(
            field_of(e),
            [("scopes".into(), vec![invitegate_core::FieldCode::Empty])]
        );
    }
}
