//! The TypeScript client in `clients/typescript` (openapi-typescript + openapi-fetch, pinned
//! in its lock file): its generated types are the committed document's, it type-checks, and a
//! create → verify → list round trip through it works against a running server. `cargo xtask
//! test` installs its packages (`npm ci`); without them this test fails, it never skips.

use crate::both_backends;
use crate::helpers::*;
use invitegate_core::model::Scope;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

both_backends!(the_typescript_client_round_trips);

fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/typescript")
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .current_dir(package())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (is Node.js installed?)"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn the_typescript_client_round_trips(backend: Backend) {
    let bin = package().join("node_modules/.bin");
    assert!(
        bin.join("tsc").exists(),
        "clients/typescript has no node_modules: run `npm ci` there (cargo xtask test does)"
    );
    let out_dir = tempfile::tempdir().unwrap();

    // The committed types are what the generator makes of the committed document.
    let generated = out_dir.path().join("schema.d.ts");
    run(
        Command::new(bin.join("openapi-typescript"))
            .arg("../../openapi/openapi.json")
            .arg("--output")
            .arg(&generated),
        "openapi-typescript",
    );
    assert_eq!(
        std::fs::read_to_string(&generated).unwrap(),
        std::fs::read_to_string(package().join("src/schema.d.ts")).unwrap(),
        "clients/typescript/src/schema.d.ts is out of date: run `npm run generate` there"
    );

    // Strict type-check and compile into a directory of this test's own.
    let dist = out_dir.path().join("dist");
    run(
        Command::new(bin.join("tsc")).arg("--outDir").arg(&dist),
        "tsc",
    );
    std::fs::write(dist.join("package.json"), r#"{"type":"module"}"#).unwrap();
    std::os::unix::fs::symlink(
        package().join("node_modules"),
        out_dir.path().join("node_modules"),
    )
    .unwrap();

    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let key = admin
        .create_api_key(&invitegate_core::api::CreateApiKeyRequest {
            name: "typescript".into(),
            scopes: vec![Scope::InvitationsRead, Scope::InvitationsWrite],
        })
        .await
        .unwrap();
    let base = app.url("");
    let output = tokio::task::spawn_blocking(move || {
        run(
            Command::new("node")
                .arg(dist.join("test/roundtrip.js"))
                .env("INVITEGATE_URL", base.trim_end_matches('/'))
                .env("INVITEGATE_API_KEY", &key.key),
            "the round trip",
        )
    })
    .await
    .unwrap();
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(seen["state"], "pending");
    assert_eq!(seen["role"], "member");
    assert_eq!(seen["forged_code"], "invalid_invitation");

    // The server holds what the client created, as the client saw it.
    let id = seen["created"].as_str().unwrap();
    let page = admin
        .list_invitations(&invitegate_core::api::InvitationListQuery {
            state: Some("pending".parse().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mine = page.data.iter().find(|i| i.id == id).expect("listed");
    assert_eq!(mine.note.as_deref(), Some("from the TypeScript client"));
}
