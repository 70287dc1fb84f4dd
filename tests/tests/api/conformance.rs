//! What the server answers is what the document says: schemathesis (pinned; `cargo xtask test`
//! installs it and names it in `INVITEGATE_SCHEMATHESIS`) generates requests for every
//! operation of the served document, valid and invalid, and checks every response's status
//! code, content type, headers and body against the document, and that none is a 5xx. It runs
//! once with an administrator's session and once with an `admin` API key, against a server of
//! its own whose per-client limits are out of reach. Without the tool this test fails.

use crate::both_backends;
use crate::helpers::*;
use invitegate_client::Registration;
use invitegate_core::model::Scope;
use invitegate_server::api_keys::service::NewApiKey;
use std::process::Command;

both_backends!(every_response_conforms_to_the_document);

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

fn schemathesis(app_url: &str, credential: &str, exclude_logout: bool) {
    let tool = std::env::var("INVITEGATE_SCHEMATHESIS").expect(
        "INVITEGATE_SCHEMATHESIS names the schemathesis executable (`cargo xtask test` installs it)",
    );
    let mut cmd = Command::new(tool);
    cmd.arg("run")
        .arg(format!("{app_url}/api/openapi.json"))
        .args(["--url", app_url])
        .args(["-H", &format!("Authorization: Bearer {credential}")])
        .args(["--checks", CHECKS])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", "15", "--seed", "20261125"])
        .args(["--no-color", "--suppress-health-check", "all"])
        .env("NO_COLOR", "1");
    if exclude_logout {
        // Signing out (either way), ending one's sessions, changing the password (its example
        // is the test password) or deleting the account would end the session the run
        // authenticates with; the key's run below still tests their answers.
        for operation in [
            "logout",
            "endSession",
            "endMySession",
            "changePassword",
            "deleteMyAccount",
        ] {
            cmd.args(["--exclude-operation-id", operation]);
        }
    }
    // Its reports and caches go to a directory of this run's own.
    let scratch = tempfile::tempdir().unwrap();
    let out = cmd
        .current_dir(scratch.path())
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "responses outside the document:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |label: &str| -> usize {
        let at = stdout
            .find(label)
            .unwrap_or_else(|| panic!("{label} in:\n{stdout}"))
            + label.len();
        stdout[at..]
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a count after {label}"))
    };
    let (selected, tested) = (count("Selected:"), count("Tested:"));
    assert!(
        selected >= 32 && tested == selected,
        "{tested} of {selected} operations tested:\n{stdout}"
    );
}

async fn every_response_conforms_to_the_document(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = match app
        .api
        .register(&register_req("owner@example.com", Some(&app.owner_token)))
        .await
        .unwrap()
    {
        Registration::SignedIn(s) => s,
        Registration::VerificationPending => panic!("the owner invitation signs in at once"),
    };
    let admin = app.api.with_bearer(&session.access_token);
    let url = app.url("");
    let token = session.access_token.clone();
    let run_url = url.clone();
    tokio::task::spawn_blocking(move || schemathesis(&run_url, &token, true))
        .await
        .unwrap();
    // The run kept its credential to the end: what it tested was tested signed in.
    admin
        .me()
        .await
        .expect("the session still works after the run");

    // The operator's key (`invitegate api-key create`) belongs to no user: the run may disable
    // every account it finds (disabling a user revokes the keys they made) and keep testing.
    let new = NewApiKey::parse("conformance", &[Scope::Admin]).unwrap();
    let (_, key) = invitegate_server::api_keys::service::create(
        &app.state,
        new,
        None,
        &invitegate_server::http::RequestMeta::default(),
    )
    .await
    .unwrap();
    let secret = key.clone();
    tokio::task::spawn_blocking(move || schemathesis(&url, &secret, false))
        .await
        .unwrap();
    app.api
        .with_bearer(&key)
        .list_invitations(&Default::default())
        .await
        .expect("the key still works after the run");
}
