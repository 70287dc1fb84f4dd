//! A request id per request: every log line written while serving it carries the id (a
//! tracing span), and the response returns it in `X-Request-Id` so an operator can find the
//! lines of the request a user reports. A well-formed `X-Request-Id` from the client (a
//! proxy's, say: at most 64 letters, digits, `-` or `_`) is kept; anything else is replaced.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

/// The header carrying the id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Middleware: see the module docs.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| well_formed(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %req.path()
    );
    let mut res = next.call(req).instrument(span).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::well_formed;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(well_formed("0192f3a4-abcd_EF"));
        for bad in ["", "a b", "x\ny", "é", &"a".repeat(65)] {
            assert!(!well_formed(bad), "{bad:?}");
        }
    }
}
