//! Cross-cutting HTTP: what every capability's handlers share.

pub mod json;
pub mod meta;
pub mod request_id;

pub use json::{Json, OptionalJson};
pub use meta::RequestMeta;
