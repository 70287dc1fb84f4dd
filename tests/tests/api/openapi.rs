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
