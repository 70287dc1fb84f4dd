//! The SPA's screens.

pub mod admin;
pub mod auth;
pub mod member;
pub mod oidc;
pub mod org_invite;
pub mod org_manage;
pub mod organizations;
pub mod security;
