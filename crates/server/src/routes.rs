//! Every route in one place, and the OpenAPI document they produce.

use crate::{
    account, api_keys, audit, insights, invitations, oauth_clients, oidc, ops,
    organization_domains, organizations, outbox, password_resets, registration, sessions, settings,
    users, webhooks,
};
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::service_config::ServiceConfig;

/// The `/api/v1` routes, registered on `$cfg`: an actix `ServiceConfig` when serving, utoipa's
/// when building the document (which runs every handler's documentation code: once per
/// document, never per worker).
macro_rules! api_v1_routes {
    ($cfg:expr) => {
        $cfg.service(ops::signup_policy)
            .service(invitations::verify)
            .service(invitations::redeem)
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
            .service(users::enable)
            .service(users::update)
            .service(users::remove)
            .service(account::change_password)
            .service(account::list_sessions)
            .service(account::end_session)
            .service(account::export)
            .service(account::delete_account)
            .service(users::invite_tree)
            .service(users::revoke_invite_tree)
            .service(insights::funnel)
            .service(insights::timeseries)
            .service(insights::inviters)
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
            .service(registration::resend_verification)
            .service(organizations::create)
            .service(organizations::list)
            .service(organizations::get_one)
            .service(organizations::update)
            .service(organizations::members)
            .service(organizations::update_member)
            .service(organizations::remove_member)
            .service(organizations::my_invitations)
            .service(organizations::accept_invitation)
            .service(organizations::decline_invitation)
            .service(organization_domains::add_domain)
            .service(organization_domains::list_domains)
            .service(organization_domains::remove_domain)
            .service(organization_domains::my_suggestions)
            .service(organization_domains::create_join_request)
            .service(organization_domains::list_join_requests)
            .service(organization_domains::approve_join_request)
            .service(organization_domains::reject_join_request)
            .service(oauth_clients::create)
            .service(oauth_clients::list)
            .service(oauth_clients::remove)
            .service(oidc::authorize_api)
            .service(oidc::end_session_api)
    };
}

/// Registers the `/api/v1` routes.
pub fn api_v1(cfg: &mut actix_web::web::ServiceConfig) {
    api_v1_routes!(cfg);
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
    // Referenced by query parameters (the export's `format`, the insights' `metric`); utoipa does not collect parameter schemas.
    components(schemas(
        invitegate_core::api::ExportFormat,
        invitegate_core::api::InsightsMetric,
        invitegate_core::api::InsightsInterval
    )),
    tags(
        (name = "invitations", description = "Create, verify, list, revoke and resend invitations"),
        (name = "registration", description = "Sign-up with an invitation, email verification"),
        (name = "sessions", description = "Login, refresh, logout, current user"),
        (name = "users", description = "User administration"),
        (name = "account", description = "The signed-in person's own account: password, sessions, data export, deletion"),
        (name = "audit", description = "Audit log"),
        (name = "insights", description = "How invitations turn into members: the funnel, time series and inviter ranking of a period"),
        (name = "api_keys", description = "API keys for third-party systems"),
        (name = "settings", description = "Sign-up mode and invitation settings"),
        (name = "outbox", description = "Delivery queue of emails and webhooks: pending, sent, dead; retry"),
        (name = "webhooks", description = "Signed event deliveries to other systems (Standard Webhooks)"),
        (name = "organizations", description = "Organisations (teams, workspaces, customer accounts) and their members"),
        (name = "oauth_clients", description = "Relying parties of the OpenID Provider (discovery at `/.well-known/openid-configuration`)"),
        (name = "oidc", description = "The web app's half of the OpenID Connect authorization and logout endpoints"),
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
        .service(
            utoipa_actix_web::scope("/api/v1").configure(|cfg: &mut ServiceConfig| {
                api_v1_routes!(cfg);
            }),
        )
        .split_for_parts();
    with_common_responses(doc)
}

/// The answers any operation may give besides its own, as shared `components/responses`:
/// every operation with a JSON body can refuse it (400 `invalid_json`, 413, 415, 422), every
/// operation with a security requirement can refuse the credential (401, 403) and limit a
/// client that keeps presenting bad ones (429 with `Retry-After`), and every
/// operation can find the database unavailable (503). Added where an operation does not
/// document the status itself, so the document lists every status the server sends.
fn with_common_responses(doc: OpenApi) -> OpenApi {
    use serde_json::{Value, json};
    let mut v = serde_json::to_value(&doc).expect("the OpenAPI document serialises");
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let common = [
        (
            "400",
            "InvalidBody",
            "`invalid_json`: the body is not JSON, not an object, or not of the expected shape",
        ),
        (
            "401",
            "Unauthenticated",
            "`unauthenticated`: no valid credential",
        ),
        (
            "403",
            "Forbidden",
            "`forbidden`: the credential lacks the scope or role",
        ),
        (
            "413",
            "PayloadTooLarge",
            "`payload_too_large`: the body is over the size limit",
        ),
        (
            "415",
            "UnsupportedMediaType",
            "`unsupported_media_type`: send `Content-Type: application/json`",
        ),
        (
            "429",
            "RateLimited",
            "`rate_limited`: too many failed attempts (forged or unknown credentials) from this client; wait `Retry-After` seconds",
        ),
        (
            "422",
            "ValidationFailed",
            "`validation_failed`: a field or query parameter is not valid; `errors` names it",
        ),
        (
            "503",
            "Unavailable",
            "`unavailable`: the database is unreachable; try again shortly",
        ),
    ];
    let components = v["components"].as_object_mut().expect("components");
    let responses = components
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("an object");
    for (status, name, description) in common {
        let mut response = problem(description);
        if status == "429" {
            response["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "format": "int64", "minimum": 0}
            }});
        }
        responses.insert(name.to_string(), response);
    }
    let rate_limited = v["components"]["responses"]["RateLimited"].clone();
    for item in v["paths"].as_object_mut().expect("paths").values_mut() {
        for op in item.as_object_mut().expect("a path item").values_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let has_body = op.contains_key("requestBody");
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter()
                        .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
                });
            let has_query = op
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let documented = op
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("responses");
            for (status, name, _) in common {
                let applies = match status {
                    "400" | "413" | "415" => has_body,
                    "422" => has_body || has_query,
                    "401" | "403" | "429" => secured,
                    _ => true,
                };
                if applies && !documented.contains_key(status) {
                    // Inline where it has headers: tools read headers of referenced
                    // responses less reliably.
                    let response = match status {
                        "429" => rate_limited.clone(),
                        _ => json!({"$ref": format!("#/components/responses/{name}")}),
                    };
                    documented.insert(status.to_string(), response);
                }
            }
        }
    }
    tidy_texts(&mut v);
    page_examples(&mut v);
    serde_json::from_value(v).expect("still an OpenAPI document")
}

/// Each `Page_X` schema (utoipa's name for `Page<X>`) gets an example built from `X`'s: one
/// item and the cursor of the next page.
fn page_examples(v: &mut serde_json::Value) {
    let schemas = v["components"]["schemas"].as_object_mut().expect("schemas");
    let pages: Vec<(String, serde_json::Value)> = schemas
        .iter()
        .filter_map(|(name, _)| {
            let item = schemas.get(name.strip_prefix("Page_")?)?.get("example")?;
            Some((
                name.clone(),
                serde_json::json!({"data": [item], "next_cursor": "MDE5MzZiMmYtMWEyYi03YzNk"}),
            ))
        })
        .collect();
    for (name, example) in pages {
        schemas[&name]["example"] = example;
    }
}

/// Doc comments wrap at 100 columns and utoipa keeps the breaks: each operation gets its whole
/// text, unwrapped, as `description`, and its first sentence as `summary`.
fn tidy_texts(v: &mut serde_json::Value) {
    let unwrap = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    for item in v["paths"].as_object_mut().expect("paths").values_mut() {
        for op in item.as_object_mut().expect("a path item").values_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let text = [op.get("summary"), op.get("description")]
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str())
                .map(unwrap)
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if text.is_empty() {
                continue;
            }
            let first = match text.find(". ") {
                Some(end) => &text[..end + 1],
                None => &text,
            };
            op.insert("summary".into(), first.into());
            op.insert("description".into(), text.clone().into());
        }
    }
}

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn openapi_json() -> String {
    let mut s = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    s.push('\n');
    s
}
