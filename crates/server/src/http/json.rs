//! The JSON body extractor of every API route.
//!
//! A body must be `Content-Type: application/json` (else 415 `unsupported_media_type`), at
//! most [`JSON_LIMIT`] bytes (else 413 `payload_too_large`), well-formed (else 400
//! `invalid_json`) and a JSON **object** at the top level (else 422 `validation_failed`: serde
//! would read `[]` into a struct of optional fields, so an array must never become a
//! request). Schema errors are 422 with a sentence that names fields but never echoes values.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use invitegate_core::ErrorCode;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;

/// Most bytes in an ordinary JSON body.
pub const JSON_LIMIT: usize = 64 * 1024;

/// A JSON object body of type `T` (see the module docs for the errors).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { read_json(&req, payload, JSON_LIMIT).await.map(Json) })
    }
}

/// An optional JSON object body: `None` when the request has no body; a body that is present
/// must be valid, as for [`Json`] (a malformed one is never taken for "no body").
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let body = read_body(payload, JSON_LIMIT).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Self(None));
            }
            require_json_type(&req)?;
            parse(&body).map(|v| Self(Some(v)))
        })
    }
}

fn require_json_type(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| m.essence_str() == "application/json");
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::UnsupportedMediaType))
    }
}

async fn read_body(
    mut payload: impl futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>> + Unpin,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(ErrorCode::BadRequest))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Reads a JSON object body of at most `limit` bytes (for routes with their own limit, such
/// as bulk creation). Errors as in the module docs.
pub async fn read_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: impl futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>> + Unpin,
    limit: usize,
) -> Result<T, ApiError> {
    require_json_type(req)?;
    let body = read_body(payload, limit).await?;
    parse(&body)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let malformed = |e: serde_json::Error| {
        ApiError::new(ErrorCode::InvalidJson).detail(format!(
            "Malformed JSON at line {}, column {}.",
            e.line(),
            e.column()
        ))
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(malformed)?;
        return Err(ApiError::new(ErrorCode::ValidationFailed)
            .detail("The request body must be a JSON object."));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::new(ErrorCode::ValidationFailed).detail(describe_serde(&e))
        } else {
            malformed(e)
        }
    })
}

/// A serde error as a sentence that names fields and expected shapes but never echoes values.
pub fn describe_serde(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let safe = [
        "unknown field",
        "missing field",
        "unknown variant",
        "duplicate field",
    ];
    if safe.iter().any(|s| msg.starts_with(s)) {
        format!(
            "The request body does not match the schema: {}",
            msg.split(" at line").next().unwrap_or(&msg)
        )
    } else if msg.starts_with("invalid type")
        || msg.starts_with("invalid value")
        || msg.starts_with("invalid length")
    {
        let expected = msg
            .split("expected ")
            .nth(1)
            .and_then(|s| s.split(" at line").next())
            .unwrap_or("another type");
        format!(
            "A value has the wrong type (expected {expected}) at line {}, column {}.",
            e.line(),
            e.column()
        )
    } else {
        format!(
            "The request body does not match the schema at line {}, column {}.",
            e.line(),
            e.column()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct AllOptional {
        a: Option<String>,
    }

    #[test]
    fn only_objects_become_requests() {
        assert!(parse::<AllOptional>(b" {} ").is_ok());
        for body in [&b"[]"[..], b"[null]", b"null"] {
            let err = parse::<AllOptional>(body).unwrap_err();
            assert_eq!(err.code.as_str(), "validation_failed", "{body:?}");
        }
        assert_eq!(
            parse::<AllOptional>(b"{").unwrap_err().code.as_str(),
            "invalid_json"
        );
    }
}
