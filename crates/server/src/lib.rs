//! Invitegate server: an invite-only registration service.
//!
//! A request travels one way: an extractor parses it into domain types, a service function
//! checks the rules and runs one transaction, and the handler maps the result to a response.

pub mod account;
pub mod api_keys;
pub mod audit;
pub mod audit_batch;
pub mod audit_trail;
pub mod auth;
pub mod background;
pub mod cli;
pub mod client_ip;
pub mod client_limits;
pub mod config;
pub mod egress;
pub mod error;
pub mod hashing;
pub mod http;
pub mod insights;
pub mod invitations;
pub mod jobs;
pub mod lookup_batch;
pub mod mail;
pub mod metrics;
pub mod oauth_clients;
pub mod oidc;
pub mod oidc_keys;
pub mod ops;
pub mod organization_domains;
pub mod organizations;
pub mod outbox;
pub mod paging;
pub mod password_resets;
pub mod ratelimit;
pub mod registration;
pub mod routes;
pub mod sessions;
pub mod settings;
pub mod startup;
pub mod state;
pub mod storage;
pub mod tokens;
pub mod users;
pub mod web;
pub mod webhooks;
