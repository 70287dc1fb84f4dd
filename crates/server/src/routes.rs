//! Every route in one place, and the OpenAPI document they produce.

use crate::{
    api_keys, audit, invitations, ops, outbox, password_resets, registration, sessions, settings,
    users, webhooks,
};
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the `/api/v1` routes.
pub fn api_v1(cfg: &mut ServiceConfig) {
    cfg.service(ops::signup_policy)
        .service(invitations::verify)
        .service(invitations::bulk_create)
        .service(invitations::create)
        .service(invitations::list)
        .service(invitations::get_one)
        .service(invitations::revoke)
        .service(invitations::resend)
        .service(registration::register)
        .service(registration::confirm_email)
        .service(sessions::login)
        .service(sessions::refresh)
        .service(sessions::logout)
        .service(sessions::me)
        .service(password_resets::request_reset)
        .service(password_resets::confirm_reset)
        .service(users::list)
        .service(users::disable)
        .service(audit::export)
        .service(audit::list)
        .service(api_keys::create)
        .service(api_keys::list)
        .service(api_keys::revoke)
        .service(settings::get_settings)
        .service(settings::patch_settings)
        .service(webhooks::create)
        .service(webhooks::list)
        .service(webhooks::remove)
        .service(webhooks::deliveries)
        .service(webhooks::replay)
        .service(outbox::list)
        .service(outbox::retry)
        .service(registration::resend_verification);
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Invitegate API",
        description = "Invite-only registration: signed, expiring, single-use or counted invitation links, \
                       registration, sessions, audit log and administration. Errors are RFC 9457 problem \
                       documents with a stable `code`.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerAuth),
    // Referenced by the export's `format` parameter; utoipa does not collect parameter schemas.
    components(schemas(crate::audit::ExportFormat)),
    tags(
        (name = "invitations", description = "Create, verify, list, revoke and resend invitations"),
        (name = "registration", description = "Sign-up with an invitation, email verification"),
        (name = "sessions", description = "Login, refresh, logout, current user"),
        (name = "users", description = "User administration"),
        (name = "audit", description = "Audit log"),
        (name = "api_keys", description = "API keys for third-party systems"),
        (name = "settings", description = "Sign-up mode and invitation settings"),
        (name = "outbox", description = "Delivery queue of emails and webhooks: pending, sent, dead; retry"),
        (name = "webhooks", description = "Signed event deliveries to other systems (Standard Webhooks)"),
    )
)]
struct BaseDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`igk_...`) or a session access token (JWT)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The base document (info, tags, security schemes) that the routes are added to.
pub fn base_doc() -> OpenApi {
    <BaseDoc as utoipa::OpenApi>::openapi()
}

/// The complete OpenAPI document, as served at `/api/openapi.json` and committed under `openapi/`.
pub fn openapi() -> OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(base_doc())
        .service(utoipa_actix_web::scope("/api/v1").configure(api_v1))
        .split_for_parts();
    doc
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn openapi_json() -> String {
    let mut s = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}
