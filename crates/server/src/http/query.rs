//! Query-string errors as problem documents that name the parameter but never echo a value.

use crate::error::ApiError;
use actix_web::HttpRequest;
use invitegate_core::ErrorCode;

/// The error handler of `web::Query` (register with `web::QueryConfig`).
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let detail = match &err {
        actix_web::error::QueryPayloadError::Deserialize(e) => {
            let msg = e.to_string();
            if msg.starts_with("unknown field")
                || msg.starts_with("unknown variant")
                || msg.starts_with("invalid digit")
                || msg.starts_with("number too large")
            {
                format!("Invalid query: {msg}")
            } else {
                "Invalid query parameters.".to_string()
            }
        }
        _ => "Invalid query parameters.".to_string(),
    };
    ApiError::new(ErrorCode::ValidationFailed)
        .detail(detail)
        .into()
}
