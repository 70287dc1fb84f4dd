//! Request and response bodies of HTTP API v1 (see `shared/api.md`). Times are RFC 3339 UTC.
//!
//! Requests refuse unknown fields, so a misspelt option (`expire_in_days`) is a 422-class
//! error instead of a silently ignored value.

use crate::model::{ActorRef, InvitationState, Outcome, Role, Scope, SignupMode, TargetRef};
use crate::time::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

mod account;
mod admin;
mod insights;
mod invitations;
mod lifecycle;
mod oauth;
mod organizations;
mod queries;

pub use account::*;
pub use admin::*;
pub use insights::*;
pub use invitations::*;
pub use lifecycle::*;
pub use oauth::*;
pub use organizations::*;
pub use queries::*;

/// Longest token accepted anywhere, in bytes; longer ones are refused before any work.
pub const MAX_TOKEN_LENGTH: usize = 512;
/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_LENGTH: usize = 100;
/// Longest invitation note, in characters.
pub const MAX_NOTE_LENGTH: usize = 1000;
/// Most items in one bulk creation request.
pub const MAX_BULK_ITEMS: usize = 10_000;
/// Default page size of list endpoints.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// Largest page size of list endpoints.
pub const MAX_PAGE_LIMIT: u32 = 500;
/// Longest `max_uses` of an invitation.
pub const MAX_INVITATION_USES: i32 = 100_000;
/// Longest expiry of an invitation, in days.
pub const MAX_EXPIRY_DAYS: i64 = 365;

/// RFC 9457 problem details with Invitegate's stable `code`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"type": "https://invitegate.dev/problems/validation_failed", "title": "Validation failed", "status": 422, "code": "validation_failed", "detail": "Some fields are not valid.", "errors": {"email": ["invalid"]}})))]
pub struct Problem {
    /// A URI naming the problem type: `https://invitegate.dev/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary, constant per code.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Stable machine code, one of `ErrorCode` (kept a string so that a client built against an
    /// older document still reads codes added later).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::error::ErrorCode))]
    pub code: String,
    /// Human-readable explanation for this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// On 422: field name → list of field codes, each one of `FieldCode` (kept strings, like
    /// `code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, Vec<crate::error::FieldCode>>>))]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// On 409 `invitation_pending`: the id of the pending invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<String>,
}

/// A body carrying one token: `{"token": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"token": "k202611251234.Rk9yZ2VkIGV4YW1wbGU.c2lnbmF0dXJlLWV4YW1wbGU"})))]
pub struct TokenRequest {
    /// The token from the link's fragment.
    pub token: String,
}

/// 202 body: the email must be verified before the account exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "accepted"})))]
pub struct StatusResponse {
    /// `verification_pending` or `accepted`.
    pub status: String,
}

/// A page of a list: `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    /// Items, newest first.
    pub data: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}
