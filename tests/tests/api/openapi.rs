//! The committed `openapi/openapi.json` must be exactly what the server generates. Regenerate
//! with `cargo xtask openapi`.

#[test]
fn committed_openapi_document_matches_the_server() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let generated = invitegate_server::routes::openapi_json();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: run `cargo xtask openapi` and commit the result"
    );
}

#[test]
fn every_error_code_of_the_api_is_documented() {
    let doc: serde_json::Value =
        serde_json::from_str(&invitegate_server::routes::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/register", "post"),
        ("/api/v1/invitations/verify", "post"),
        ("/api/v1/invitations", "post"),
        ("/api/v1/invitations/{id}/revoke", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/audit-events/export", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('4')),
            "{path} documents its errors"
        );
    }
    assert!(paths.len() >= 19);
}

/// The document is valid OpenAPI 3.1 for a strict validator (`openapi-spec-validator`, which
/// `cargo xtask test` installs and names in `INVITEGATE_OPENAPI_VALIDATOR`), and client
/// generators can use it: unique operation ids, every schema reference defined.
#[test]
fn the_document_is_valid_openapi_for_integrators() {
    let json = invitegate_server::routes::openapi_json();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                !id.is_empty()
                    && id.chars().next().unwrap().is_ascii_lowercase()
                    && !id.contains('_'),
                "{method} {path}: operationId {id:?} is camelCase"
            );
            assert!(
                ids.insert(id.to_string()),
                "{method} {path}: operationId {id} repeats"
            );
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for reference in json.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            schemas.contains_key(name),
            "{name} is referenced but not defined"
        );
    }
    let validator = std::env::var("INVITEGATE_OPENAPI_VALIDATOR").expect(
        "INVITEGATE_OPENAPI_VALIDATOR names openapi-spec-validator; `cargo xtask test` installs it",
    );
    let file = tempfile::NamedTempFile::with_suffix(".json").unwrap();
    std::fs::write(file.path(), &json).unwrap();
    let out = std::process::Command::new(&validator)
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {validator}: {e}"));
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What integrators need to handle errors and permissions from the document alone: every 429
/// names `Retry-After`, `Problem.code` is the `ErrorCode` enum, the export declares both of
/// its formats, and the operations an API key may call name the scope it needs.
#[test]
fn limits_codes_formats_and_scopes_are_documented() {
    let doc: serde_json::Value =
        serde_json::from_str(&invitegate_server::routes::openapi_json()).unwrap();
    let mut limited = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(r) = op["responses"].get("429") {
                limited += 1;
                assert!(
                    r["headers"]["Retry-After"].is_object(),
                    "{method} {path}: 429 documents Retry-After"
                );
            }
        }
    }
    assert!(limited >= 8, "{limited} rate-limited operations");
    assert_eq!(
        doc["components"]["schemas"]["Problem"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let export = &doc["paths"]["/api/v1/audit-events/export"]["get"]["responses"]["200"]["content"];
    assert!(export["application/x-ndjson"].is_object() && export["text/csv"].is_object());
    for (path, method, scope) in [
        ("/api/v1/invitations", "post", "invitations:write"),
        ("/api/v1/invitations", "get", "invitations:read"),
        ("/api/v1/users", "get", "users:read"),
        ("/api/v1/audit-events", "get", "audit:read"),
        ("/api/v1/settings", "patch", "settings:write"),
    ] {
        assert_eq!(
            doc["paths"][path][method]["security"][0]["bearer"][0], scope,
            "{method} {path}"
        );
    }
}

/// Every closed set the document declares lists exactly the strings the server sends and
/// accepts (a generated client rejects `"pending"` if the document says `"Pending"`).
#[test]
fn documented_enums_are_the_wire_strings() {
    use invitegate_core::ErrorCode;
    use invitegate_core::model::{ActorType, InvitationState, Outcome, Role, Scope, SignupMode};
    let doc: serde_json::Value =
        serde_json::from_str(&invitegate_server::routes::openapi_json()).unwrap();
    let documented = |name: &str| -> Vec<String> {
        doc["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    macro_rules! wire {
        ($t:ty) => {
            <$t>::ALL
                .iter()
                .map(|v| {
                    serde_json::to_value(v)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        };
    }
    assert_eq!(documented("ErrorCode"), wire!(ErrorCode));
    assert_eq!(documented("FieldCode"), wire!(invitegate_core::FieldCode));
    assert_eq!(
        documented("OutboxStatus"),
        wire!(invitegate_core::model::OutboxStatus)
    );
    assert_eq!(
        documented("OutboxKind"),
        wire!(invitegate_core::model::OutboxKind)
    );
    assert_eq!(
        documented("ExportFormat"),
        wire!(invitegate_core::api::ExportFormat)
    );
    assert_eq!(documented("Role"), wire!(Role));
    assert_eq!(documented("Scope"), wire!(Scope));
    assert_eq!(documented("SignupMode"), wire!(SignupMode));
    assert_eq!(documented("InvitationState"), wire!(InvitationState));
    assert_eq!(documented("Outcome"), wire!(Outcome));
    assert_eq!(documented("ActorType"), wire!(ActorType));
    assert!(documented("InvitationState").contains(&"pending".to_string()));
}

/// Every operation is described for integrators (a one-sentence summary, a description without
/// line breaks or internal notes) and shows an example of each JSON body it takes or returns.
#[test]
fn every_operation_has_a_description_and_examples() {
    let doc: serde_json::Value =
        serde_json::from_str(&invitegate_server::routes::openapi_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let example_of = |schema: &serde_json::Value| -> bool {
        // An optional body is `oneOf: [null, {$ref}]`.
        let schema = schema["oneOf"]
            .as_array()
            .and_then(|alts| alts.iter().find(|a| a.get("$ref").is_some()))
            .unwrap_or(schema);
        let schema = if schema["type"] == "array" {
            &schema["items"]
        } else {
            schema
        };
        match schema["$ref"].as_str() {
            Some(r) => schemas[r.trim_start_matches("#/components/schemas/")]
                .get("example")
                .is_some(),
            None => schema.get("example").is_some(),
        }
    };
    let mut bodies = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let summary = op["summary"].as_str().unwrap_or_default();
            let description = op["description"].as_str().unwrap_or_default();
            assert!(
                !summary.is_empty() && !description.is_empty(),
                "{method} {path}"
            );
            for text in [summary, description] {
                assert!(!text.contains('\n'), "{method} {path}: {text:?}");
                for internal in ["security.md", "GitLab", "Mattermost", "supabase", "issue 8"] {
                    assert!(!text.contains(internal), "{method} {path}: {text:?}");
                }
            }
            if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                bodies += 1;
                assert!(example_of(schema), "{method} {path}: request example");
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                if let Some(schema) = response.pointer("/content/application~1json/schema")
                    && status.starts_with('2')
                {
                    bodies += 1;
                    assert!(
                        example_of(schema),
                        "{method} {path} {status}: response example"
                    );
                }
            }
        }
    }
    assert!(bodies >= 40, "{bodies} bodies checked");
    // Nor anywhere else in the document (schema and field descriptions included).
    let text = serde_json::to_string(&doc).unwrap();
    for internal in [
        "security.md",
        "module docs",
        "GitLab",
        "Mattermost",
        "supabase",
    ] {
        assert!(
            !text.contains(internal),
            "the document mentions {internal:?}"
        );
    }
    assert!(schemas["Problem"].get("example").is_some());
}
