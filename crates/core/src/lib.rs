//! Invitegate core: the domain vocabulary shared by the server, the typed client and the
//! frontend. Everything here compiles for `wasm32-unknown-unknown`, so the registration form
//! validates exactly as the server does.
//!
//! - [`email::Email`]: a parsed, normalised email address.
//! - [`password`]: the NIST SP 800-63B rev. 4 password policy.
//! - [`model`]: roles, states, sign-up modes, scopes.
//! - [`api`]: request and response bodies of HTTP API v1.
//! - [`error::ErrorCode`]: the stable machine codes of problem responses.

#![warn(missing_docs)]

pub mod api;
pub mod email;
pub mod error;
pub mod import;
pub mod model;
pub mod password;
pub mod spreadsheet;
pub mod text;
pub mod time;

pub use email::Email;
pub use error::{ErrorCode, FieldCode};
