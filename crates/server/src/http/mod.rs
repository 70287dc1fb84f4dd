//! Cross-cutting HTTP: what every capability's handlers share.

pub mod json;

pub use json::{Json, OptionalJson};
