//! The SPA's screens.

pub mod admin;
pub mod auth;
pub mod member;
pub mod organizations;
