//! End-to-end tests in headless Chromium against the real server and a real database. Every
//! screen visited is screenshotted (`target/screenshots/`) and audited with axe-core.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod account_screens;
mod console_module;
mod flows;
mod hardening;
mod harness;
mod oidc;
#[path = "../api/oidc_support.rs"]
#[allow(dead_code)]
mod oidc_support;
mod organization_screens;
mod organizations;
mod overview;
mod serving;
mod widget_events;
