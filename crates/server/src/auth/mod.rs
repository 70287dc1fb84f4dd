//! Authentication and authorisation: the [`Principal`] extractor (API key or session access
//! token), scope checks, sessions, and password hashing.

/// Password hashing (see [`crate::hashing`]).
pub use crate::hashing as password;
pub mod policy;
pub mod session;

use crate::audit_trail::AuditEntry;
use crate::error::{ApiError, ApiResult};
use crate::http::RequestMeta;
use crate::ratelimit::ClientLimit;
use crate::state::AppState;
use crate::storage::models::{ApiKeyRow, UserRow};
use crate::storage::{self, api_keys, sessions};
use crate::tokens::hash_token;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use invitegate_core::ErrorCode;
use invitegate_core::model::{ActorRef, ActorType, AuditAction, Role, Scope};
use std::future::Future;
use std::pin::Pin;

/// Prefix of every API key.
pub const API_KEY_PREFIX: &str = "igk_";

/// Who is calling: a signed-in user (through a session's access token) or an API key.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A user with a live session.
    User {
        /// The user (active).
        user: Box<UserRow>,
        /// The session the access token belongs to.
        session_id: String,
    },
    /// An unrevoked API key.
    ApiKey(Box<ApiKeyRow>),
}

impl Principal {
    /// The actor reference for audit events and inviter tracking.
    pub fn actor(&self) -> ActorRef {
        match self {
            Self::User { user, .. } => ActorRef {
                kind: ActorType::User,
                id: user.id.clone(),
            },
            Self::ApiKey(k) => ActorRef {
                kind: ActorType::ApiKey,
                id: k.id.clone(),
            },
        }
    }

    /// Whether this is an administrator's session.
    pub fn is_admin_user(&self) -> bool {
        matches!(self, Self::User { user, .. } if user.role() == Role::Admin)
    }

    /// Whether the principal holds `scope`: admins hold every scope, members none, API keys
    /// what they were given (`admin` implying all).
    pub fn has_scope(&self, scope: Scope) -> bool {
        match self {
            Self::User { user, .. } => user.role() == Role::Admin,
            Self::ApiKey(k) => {
                let scopes = k.scopes();
                scopes.contains(&Scope::Admin) || scopes.contains(&scope)
            }
        }
    }

    /// Whether this principal may issue (create, bulk-create, import or resend) an invitation
    /// granting `role`: `admin` only from an admin session or an `admin`-scope key, so a
    /// narrower key never mints a path to a wider one (security.md, "No privilege escalation
    /// through scopes").
    pub fn may_grant(&self, role: Role) -> bool {
        role != Role::Admin || self.has_scope(Scope::Admin)
    }

    /// 403 `forbidden` unless [`Principal::has_scope`].
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden))
        }
    }

    /// 403 unless this is an administrator's session (API keys cannot manage API keys).
    pub fn require_admin_session(&self) -> ApiResult<()> {
        if self.is_admin_user() {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::Forbidden))
        }
    }

    /// The signed-in user; 403 `forbidden` for an API key, which has no account.
    pub fn require_user(&self) -> ApiResult<&UserRow> {
        self.user()
            .ok_or_else(|| ApiError::new(ErrorCode::Forbidden))
    }

    /// The user and their session's id; 403 `forbidden` for an API key.
    pub fn require_session(&self) -> ApiResult<(&UserRow, &str)> {
        match self {
            Self::User { user, session_id } => Ok((user, session_id)),
            Self::ApiKey(_) => Err(ApiError::new(ErrorCode::Forbidden)),
        }
    }

    /// The user, when this is a session.
    pub fn user(&self) -> Option<&UserRow> {
        match self {
            Self::User { user, .. } => Some(user),
            Self::ApiKey(_) => None,
        }
    }
}

/// The credential of an `Authorization: Bearer …` header (scheme case-insensitive).
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim().to_string())
}

/// Resolves a bearer credential to a principal; 401 `unauthenticated` when it is missing,
/// malformed, expired, revoked, or belongs to a disabled user or ended session.
pub async fn authenticate(state: &AppState, credential: Option<String>) -> ApiResult<Principal> {
    let unauthenticated = || ApiError::new(ErrorCode::Unauthenticated);
    let credential = credential
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(unauthenticated)?;
    if credential.starts_with(API_KEY_PREFIX) {
        let hash = hash_token(&credential);
        let key = state
            .db(move |conn| {
                let key = api_keys::find_active_by_hash(conn, &hash)?;
                if let Some(k) = &key {
                    api_keys::touch(conn, &k.id, storage::now())?;
                }
                Ok(key)
            })
            .await?
            .ok_or_else(unauthenticated)?;
        return Ok(Principal::ApiKey(Box::new(key)));
    }
    let claims =
        session::decode_access_token(&state.keys, &credential).ok_or_else(unauthenticated)?;
    let sid = claims.sid.clone();
    let (session, user) = state
        .db(move |conn| Ok(sessions::find_active(conn, &sid, storage::now())?))
        .await?
        .ok_or_else(unauthenticated)?;
    if user.id != claims.sub {
        return Err(unauthenticated());
    }
    Ok(Principal::User {
        user: Box::new(user),
        session_id: session.id,
    })
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    /// Authenticates. API keys and anything that is not an access token this server signed
    /// are attempts against the client's failure limit (429 past it; an unknown key counts as
    /// a failure, audited in aggregate). This server's access tokens, even expired or of an
    /// ended session, are not: clients meet those routinely.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let credential = bearer(req);
        let meta = RequestMeta::of(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let genuine = credential.as_deref().is_some_and(|c| {
                !c.starts_with(API_KEY_PREFIX) && session::is_genuine_access_token(&state.keys, c)
            });
            if credential.is_none() || genuine {
                return authenticate(&state, credential).await;
            }
            (state.limits)
                .guarded(
                    &state,
                    ClientLimit::AuthFailures,
                    &meta,
                    authenticate(&state, credential),
                    |_| {
                        let entry = AuditEntry::failure(AuditAction::AuthenticationFailed)
                            .details(serde_json::json!({"reason": "invalid_credential"}));
                        (entry, true)
                    },
                )
                .await
        })
    }
}
