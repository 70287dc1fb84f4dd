//! Black-box tests of the HTTP API: every test runs against a real server on port 0, once on
//! SQLite and once on PostgreSQL.

mod helpers;
mod smtp;

mod admin;
mod at_rest;
mod concurrency;
mod conformance;
mod delivery;
mod erasure;
mod errors;
mod funnel_capture;
mod group_commit;
mod hardening;
mod insights;
mod insights_counts;
mod insights_metrics;
mod invitations;
mod invite_tree;
mod lifecycle;
mod limits;
mod oidc;
mod oidc_grants;
mod oidc_support;
mod openapi;
mod organization_domains;
mod organization_proofs;
mod organization_seeding;
mod organizations;
mod redemption;
mod registration;
mod registration_statement;
mod retention;
mod revocation;
mod schema_parity;
mod sessions;
mod statements;
mod typescript_client;
mod verify_audit;
mod webhooks;
