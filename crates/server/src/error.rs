//! `ApiError` → RFC 9457 `application/problem+json`. A 500 says nothing about its cause; the
//! cause goes to the log only.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use invitegate_core::api::Problem;
use invitegate_core::{ErrorCode, FieldCode};
use std::collections::BTreeMap;
use std::fmt;

/// Field name → field codes, for 422 responses.
pub type FieldErrors = BTreeMap<String, Vec<FieldCode>>;

/// An error answered to the client as a problem document.
#[derive(Debug)]
pub struct ApiError {
    /// The stable code; decides the status.
    pub code: ErrorCode,
    /// Occurrence-specific detail for people.
    pub detail: Option<String>,
    /// Field errors (422).
    pub errors: Option<FieldErrors>,
    /// The pending invitation (409 `invitation_pending`).
    pub invitation_id: Option<String>,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with only a code.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            detail: None,
            errors: None,
            invitation_id: None,
            retry_after: None,
        }
    }

    /// Adds a detail sentence.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// A 422 with field errors.
    pub fn fields(errors: FieldErrors) -> Self {
        Self {
            errors: Some(errors),
            ..Self::new(ErrorCode::ValidationFailed)
        }
    }

    /// A 422 for one field and code.
    pub fn field(field: &str, code: FieldCode) -> Self {
        Self::fields(BTreeMap::from([(field.to_string(), vec![code])]))
    }

    /// A 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(ErrorCode::RateLimited)
        }
    }

    /// A 500 whose cause is logged, never returned.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal)
    }

    /// An opaque 500 whose cause is logged with its whole source chain (`a: b: c`).
    pub fn internal_error(cause: &(dyn std::error::Error + 'static)) -> Self {
        Self::internal(chain(cause))
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("https://invitegate.dev/problems/{}", self.code.as_str()),
            title: self.code.title().to_string(),
            status: self.code.status(),
            code: self.code.as_str().to_string(),
            detail: Some(
                self.detail
                    .clone()
                    .unwrap_or_else(|| self.code.message().to_string()),
            ),
            errors: self.errors.as_ref().map(|errors| {
                errors
                    .iter()
                    .map(|(f, codes)| (f.clone(), codes.iter().map(|c| c.to_string()).collect()))
                    .collect()
            }),
            invitation_id: self.invitation_id.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(e: crate::storage::StorageError) -> Self {
        match e {
            crate::storage::StorageError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Self::new(ErrorCode::Unavailable)
            }
            crate::storage::StorageError::Query(e) => e.into(),
        }
    }
}

impl From<crate::storage::DbError> for ApiError {
    fn from(e: crate::storage::DbError) -> Self {
        if crate::storage::is_connection_lost(&e) {
            tracing::warn!(error = %e, "database connection lost");
            Self::new(ErrorCode::Unavailable)
        } else {
            Self::internal_error(&e)
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal_error(&e)
    }
}

/// `Result` of handlers and services.
pub type ApiResult<T> = Result<T, ApiError>;

/// Whether a failed request is the client's doing, and so a counted, audited failure: not a
/// server fault, an outage or a refusal by a limit.
pub fn is_client_failure(e: &ApiError) -> bool {
    !matches!(
        e.code,
        ErrorCode::Internal | ErrorCode::Unavailable | ErrorCode::RateLimited
    )
}

/// An error and its sources, outermost first, joined by `: `.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
