//! Cross-cutting HTTP: what every capability's handlers share — request metadata, the JSON
//! and query extractors' errors, request ids, security headers, CORS and the fallback.

pub mod cors;
pub mod fallback;
pub mod headers;
pub mod json;
pub mod meta;
pub mod query;
pub mod request_id;

pub use json::{Json, OptionalJson};
pub use meta::RequestMeta;
