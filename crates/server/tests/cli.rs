//! The `invitegate` binary as an operator uses it: start-up, configuration errors, the
//! mailing-list import, and the commands that print invitation links and API keys.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

#[test]
fn configuration_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _, err) = run(invitegate(dir.path())
        .arg("migrate")
        .env("INVITEGATE_INVITE_LINK_EXPIRY", "0"));
    assert!(!out.status.success());
    assert!(err.contains("invite_link_expiry"), "{err}");
    let (out, _, err) = run(invitegate(dir.path())
        .arg("migrate")
        .env("INVITEGATE_MAX_INVITES_PER_USER", "lots"));
    assert!(!out.status.success());
    assert!(err.contains("max_invites_per_user"), "{err}");
    // A misspelt variable is refused like a misspelt key, naming the setting meant; every
    // problem is reported at once; variables that are not settings stay allowed.
    let (out, _, err) = run(invitegate(dir.path())
        .arg("migrate")
        .env("INVITEGATE_PUBLIC_BASEURL", "https://invite.example.com")
        .env("INVITEGATE_INVITE_LINK_EXPIRY", "0")
        .env("INVITEGATE_RATE_LIMITS__AUTH_PER_MINUTE", "0"));
    assert!(!out.status.success());
    for expected in [
        "3 problems",
        "`INVITEGATE_PUBLIC_BASEURL` is not a setting; did you mean `INVITEGATE_PUBLIC_BASE_URL`",
        "`invite_link_expiry` must be between 1 and 365 days",
        "`rate_limits.auth_per_minute` must be at least 1",
    ] {
        assert!(err.contains(expected), "{expected:?} in {err}");
    }
    // Values of the wrong type are named together too, with a misspelt variable.
    let (out, _, err) = run(invitegate(dir.path())
        .arg("migrate")
        .env("INVITEGATE_MAX_INVITES_PER_USER", "lots")
        .env("INVITEGATE_HTTP_WORKERS", "many")
        .env("INVITEGATE_REMINDER_BEFORE_EXPIRY_HOUR", "24"));
    assert!(!out.status.success());
    for expected in [
        "3 problems",
        "`max_invites_per_user`",
        "`http_workers`",
        "`INVITEGATE_REMINDER_BEFORE_EXPIRY_HOUR` is not a setting; did you mean `INVITEGATE_REMINDER_BEFORE_EXPIRY_HOURS`",
    ] {
        assert!(err.contains(expected), "{expected:?} in {err}");
    }
    let (out, _, err) = run(invitegate(dir.path())
        .arg("migrate")
        .env("INVITEGATE_LOG", "warn")
        .env("INVITEGATE_TEST_ANYTHING", "1"));
    assert!(out.status.success(), "{err}");
    let config = dir.path().join("invitegate.toml");
    std::fs::write(
        &config,
        "[[secret_keys]]\nid = \"k1\"\nsecret = \"too short\"\n",
    )
    .unwrap();
    let (out, _, err) =
        run(invitegate(dir.path()).args(["--config", config.to_str().unwrap(), "migrate"]));
    assert!(!out.status.success());
    assert!(err.contains("shorter than 32 bytes"), "{err}");
    std::fs::write(&config, "enable_invite_only = true\nunknown_key = 1\n").unwrap();
    let (out, _, err) =
        run(invitegate(dir.path()).args(["--config", config.to_str().unwrap(), "migrate"]));
    assert!(!out.status.success());
    assert!(err.contains("unknown_key"), "{err}");
}

#[test]
fn import_reports_each_row_and_dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, "Email,Note\nann@example.com,hello\nnot-an-email,\nANN@example.com,dup\nbob@example.com,\n\n").unwrap();
    let (out, stdout, stderr) = run(invitegate(dir.path()).args([
        "invitations",
        "import",
        csv.to_str().unwrap(),
        "--dry-run",
    ]));
    assert_eq!(
        out.status.code(),
        Some(2),
        "an invalid row gives exit code 2: {stderr}"
    );
    assert!(
        stderr.contains("dry run: 2 created, 1 already invited, 0 already registered, 1 invalid"),
        "{stderr}"
    );
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows[0], "row,email,status,url,error");
    assert!(rows[1].starts_with("1,ann@example.com,created,,"));
    assert!(rows[2].starts_with("2,not-an-email,invalid"));
    assert!(rows[3].starts_with("3,ann@example.com,already_invited"));

    let (_, stdout, stderr) =
        run(invitegate(dir.path()).args(["invitations", "import", csv.to_str().unwrap()]));
    assert!(
        stderr.contains("2 created, 1 already invited, 0 already registered, 1 invalid"),
        "{stderr}"
    );
    assert!(stdout.lines().nth(1).unwrap().contains("/invite#token="));
    let (_, _, stderr) =
        run(invitegate(dir.path()).args(["invitations", "import", csv.to_str().unwrap()]));
    assert!(stderr.contains("0 created, 3 already invited"), "{stderr}");
    // A list without a header is read as one address per line.
    let plain = dir.path().join("plain.csv");
    std::fs::write(&plain, "carl@example.com\ndora@example.com\n").unwrap();
    let (out, _, stderr) = run(invitegate(dir.path()).args([
        "invitations",
        "import",
        plain.to_str().unwrap(),
        "--no-email",
    ]));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 created"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_the_owner_link_and_cli_keys_work_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let (key_out, key, _) = run(invitegate(dir.path()).args([
        "api-key",
        "create",
        "--name",
        "seed",
        "--scope",
        "invitations:write,invitations:read",
    ]));
    assert!(key_out.status.success());
    let key = key.trim().to_string();
    assert!(key.starts_with("igk_"));
    let (out, link, _) =
        run(invitegate(dir.path()).args(["admin", "invite", "--email", "Boss@Example.com"]));
    assert!(out.status.success());
    assert!(
        link.starts_with(
            "Administrator invitation for boss@example.com: http://127.0.0.1:8080/invite#token="
        ),
        "{link}"
    );

    let (server, base, owner) = serve(dir.path());
    let owner = owner.expect("the first start prints the owner invitation");
    assert!(
        owner.starts_with(&format!("{base}/invite#token=")),
        "{owner}"
    );
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/api/v1/invitations"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"email": "ann@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    register_owner(&http, &base, &owner).await;
    drop(server);
    // With an administrator, a restart prints no owner link.
    let (_server, _, owner) = serve(dir.path());
    assert!(owner.is_none());
}

#[test]
fn keys_rotate_keeps_older_tokens_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (out, before, _) =
        run(invitegate(dir.path()).args(["admin", "invite", "--email", "a@example.com"]));
    assert!(out.status.success());
    let (out, _, err) = run(invitegate(dir.path()).args(["keys", "rotate"]));
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 older key(s) keep verifying"), "{err}");
    let secrets = std::fs::read_to_string(dir.path().join("data/secrets.toml")).unwrap();
    assert_eq!(secrets.matches("[[keys]]").count(), 2);
    let (_, after, _) =
        run(invitegate(dir.path()).args(["admin", "invite", "--email", "b@example.com"]));
    let kid = |s: &str| {
        s.split("#token=")
            .nth(1)
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(kid(&before), kid(&after), "new tokens use the new key");
}

#[test]
fn openapi_command_prints_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let (out, doc, _) = run(invitegate(dir.path()).arg("openapi"));
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["info"]["title"], "Invitegate API");
}

fn pending_after_a_failed_attempt(dir: &Path) -> i64 {
    use diesel::prelude::*;
    use invitegate_server::storage::schema::outbox::dsl::*;
    let url = format!("sqlite://{}", dir.join("data/invitegate.db").display());
    let pool =
        invitegate_server::storage::pool(&url, 1, std::time::Duration::from_secs(5)).unwrap();
    let mut conn = pool.get().unwrap();
    outbox
        .filter(status.eq("pending"))
        .filter(attempts.ge(1))
        .filter(locked_until.is_null())
        .count()
        .get_result(&mut **conn)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_delivers_pending_email_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key, _) = run(invitegate(dir.path()).args([
        "api-key",
        "create",
        "--name",
        "k",
        "--scope",
        "invitations:write",
    ]));
    let key = key.trim().to_string();
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let smtp = format!("smtp://127.0.0.1:{dead_port}");
    let (mut server, base, _) = serve_with(dir.path(), &[("INVITEGATE_SMTP_URL", &smtp)]);
    let created = reqwest::Client::new()
        .post(format!("{base}/api/v1/invitations"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"email": "ann@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let mut waited = 0;
    while pending_after_a_failed_attempt(dir.path()) == 0 {
        assert!(waited < 200, "the first delivery attempt never failed");
        std::thread::sleep(std::time::Duration::from_millis(25));
        waited += 1;
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    // Restarted with the file transport: the committed email is still there and goes out.
    let (_server, _, _) = serve(dir.path());
    let outbox = dir.path().join("data/outbox");
    for _ in 0..200 {
        let found = std::fs::read_dir(&outbox)
            .map(|d| {
                d.flatten().any(|e| {
                    std::fs::read_to_string(e.path())
                        .unwrap_or_default()
                        .contains("To: ann@example.com")
                })
            })
            .unwrap_or(false);
        if found {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the pending email was lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_seeds_several_organisations_by_slug_and_reports_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (_, key, _) = run(invitegate(dir.path()).args([
        "api-key",
        "create",
        "--name",
        "seed",
        "--scope",
        "organizations:write,organizations:read,invitations:read",
    ]));
    let key = key.trim().to_string();
    let (_server, base, _) = serve(dir.path());
    let http = reqwest::Client::new();
    for (name, slug) in [("Acme", "acme"), ("Globex", "globex")] {
        let res = http
            .post(format!("{base}/api/v1/organizations"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"name": name, "slug": slug}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    let csv = dir.path().join("members.csv");
    std::fs::write(
        &csv,
        "email,organization,organization_role\nann@example.com,acme,admin\nbo@example.com,Globex,\ncy@example.com,initech,member\ndee@example.com,,\n",
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let mut c = invitegate(dir.path());
        c.args(["invitations", "import", csv.to_str().unwrap(), "--no-email"])
            .args(extra);
        run(&mut c)
    };
    let listed = |http: reqwest::Client| {
        let (base, key) = (base.clone(), key.clone());
        async move {
            let page: serde_json::Value = http
                .get(format!("{base}/api/v1/invitations"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            page["data"].as_array().unwrap().clone()
        }
    };
    // The first start made the owner's invitation.
    let before = listed(http.clone()).await.len();
    let (out, stdout, stderr) = import(&["--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("dry run: 3 created, 0 already invited, 0 already registered, 1 invalid"),
        "{stderr}"
    );
    let rows: Vec<&str> = stdout.lines().collect();
    assert!(rows[3].starts_with("3,cy@example.com,invalid"), "{stdout}");
    assert!(rows[3].contains("organization") && rows[3].contains("not_found"));
    assert_eq!(
        listed(http.clone()).await.len(),
        before,
        "a dry run creates nothing"
    );

    let (_, _, stderr) = import(&[]);
    assert!(stderr.contains("3 created"), "{stderr}");
    let invitations = listed(http.clone()).await;
    let seeded = |email: &str| {
        invitations
            .iter()
            .find(|i| i["email"] == email)
            .cloned()
            .unwrap_or_else(|| panic!("{email} invited"))
    };
    assert_eq!(seeded("ann@example.com")["organization"]["slug"], "acme");
    assert_eq!(seeded("ann@example.com")["organization_role"], "admin");
    assert_eq!(seeded("bo@example.com")["organization"]["slug"], "globex");
    assert_eq!(seeded("bo@example.com")["organization_role"], "member");
    assert!(seeded("dee@example.com")["organization"].is_null());
    assert!(invitations.iter().all(|i| i["email"] != "cy@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_clients_and_signing_keys_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base, _) = serve_with(dir.path(), &[("INVITEGATE_JOBS_INTERVAL_SECONDS", "1")]);
    let (out, stdout, stderr) = run(invitegate(dir.path()).args([
        "oauth-client",
        "create",
        "--name",
        "Team wiki",
        "--redirect-uri",
        "https://wiki.example.com/oidc/callback",
        "--redirect-uri",
        "http://127.0.0.1/native",
    ]));
    assert!(out.status.success(), "{stderr}");
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} line in {stdout}"))
            .trim()
            .to_string()
    };
    let client_id = value("client_id:");
    assert!(client_id.starts_with("igc_"));
    assert!(value("client_secret:").starts_with("igs_"));
    let (_, listed, _) = run(invitegate(dir.path()).args(["oauth-client", "list"]));
    assert!(
        listed.contains(&client_id) && listed.contains("confidential"),
        "{listed}"
    );
    let (out, stdout, stderr) = run(invitegate(dir.path()).args([
        "oauth-client",
        "create",
        "--name",
        "Insecure",
        "--redirect-uri",
        "http://wiki.example.com/cb",
        "--public",
    ]));
    assert!(!out.status.success() && !stdout.contains("client_id"));
    assert!(
        stderr.contains("redirect_uris: insecure_scheme"),
        "{stderr}"
    );

    // The keys are private to their owner, published by kid, and rotate with overlap.
    let key_file = dir.path().join("data/oidc-keys.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let kids = |jwks: serde_json::Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let http = reqwest::Client::new();
    let jwks = |http: reqwest::Client, base: String| async move {
        http.get(format!("{base}/oauth2/jwks"))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let before = kids(jwks(http.clone(), base.clone()).await);
    assert_eq!(before.len(), 2, "an RS256 and an EdDSA key: {before:?}");
    let (out, _, stderr) = run(invitegate(dir.path()).args(["keys", "rotate"]));
    assert!(out.status.success(), "{stderr}");
    let mut after = vec![];
    for _ in 0..100 {
        after = kids(jwks(http.clone(), base.clone()).await);
        if after.len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        after.len(),
        4,
        "the running server publishes old and new keys: {after:?}"
    );
    assert!(before.iter().all(|k| after.contains(k)));

    let (out, _, stderr) = run(invitegate(dir.path()).args(["oauth-client", "delete", &client_id]));
    assert!(out.status.success(), "{stderr}");
    let (_, listed, _) = run(invitegate(dir.path()).args(["oauth-client", "list"]));
    assert!(!listed.contains(&client_id));
}

/// The Docker `HEALTHCHECK` runs the command under `/bin/sh` (dash on Debian): it succeeds
/// while the server is ready, with the address taken from `bind` as in the image, and fails
/// once the server is gone.
#[test]
fn healthcheck_follows_the_server_under_sh() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, _) = serve(dir.path());
    let port = base.rsplit(':').next().unwrap().to_string();
    let sh = |bind: &str| {
        let mut c = invitegate(dir.path());
        // As in the image: a wildcard bind, and the public address it then requires.
        c.env("INVITEGATE_BIND", bind)
            .env("INVITEGATE_PUBLIC_BASE_URL", "https://invite.example.com");
        let program = format!("'{}' healthcheck", env!("CARGO_BIN_EXE_invitegate"));
        let mut shell = Command::new("sh");
        shell.arg("-c").arg(program);
        for (k, v) in c.get_envs() {
            match v {
                Some(v) => shell.env(k, v),
                None => shell.env_remove(k),
            };
        }
        run(shell.current_dir(dir.path()))
    };
    let (out, stdout, stderr) = sh(&format!("0.0.0.0:{port}"));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("http://127.0.0.1:{port}/readyz")),
        "{stdout}"
    );
    let (out, _, _) = run(Command::new("sh").arg("-c").arg(format!(
        "'{}' healthcheck --url {base}/readyz",
        env!("CARGO_BIN_EXE_invitegate")
    )));
    assert!(out.status.success());
    drop(server);
    let (out, _, stderr) = sh(&format!("0.0.0.0:{port}"));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not ready"), "{stderr}");
}

/// `config check` says what is wrong, all of it, without touching a database; or that the
/// configuration is valid, with what a public server without SMTP would do to emails.
#[test]
fn config_check_reports_every_problem_and_warns_about_mail() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("invitegate.toml");
    std::fs::write(
        &config,
        "bind = \"0.0.0.0:8080\"\npublic_base_url = \"invite.example.com\"\nbrand_color = \"blue\"\nhash_queue = 0\n",
    )
    .unwrap();
    let (out, stdout, err) = run(invitegate(dir.path())
        .args(["--config", config.to_str().unwrap(), "config", "check"])
        .env("INVITEGATE_SMTP_URL", "mail.example.com")
        .env("INVITEGATE_DATABASE_URL", "mysql://db"));
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    for key in [
        "5 problems",
        "`public_base_url`",
        "`brand_color`",
        "`hash_queue`",
        "`smtp_url`",
        "`database_url`",
    ] {
        assert!(err.contains(key), "{key} in {err}");
    }
    std::fs::write(
        &config,
        "bind = \"0.0.0.0:8080\"\npublic_base_url = \"https://invite.example.com\"\n",
    )
    .unwrap();
    let (out, stdout, err) =
        run(invitegate(dir.path()).args(["--config", config.to_str().unwrap(), "config", "check"]));
    assert!(out.status.success(), "{err}");
    assert!(stdout.contains("configuration is valid"), "{stdout}");
    assert!(
        stdout.contains("warning: `smtp_url` is not set: emails are written as .eml files"),
        "{stdout}"
    );
    assert!(!dir.path().join("data").exists(), "no database was created");
}

/// `log_format = "json"`: one JSON object per line, and a line written while serving a request
/// (here on the blocking thread that spends a mailbox's budget) carries the request's id, the
/// one its response returned in `X-Request-Id`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let (_server, base, owner) = serve_logging_to(
        dir.path(),
        &[
            ("INVITEGATE_LOG", "info"),
            ("INVITEGATE_LOG_FORMAT", "json"),
            ("INVITEGATE_RATE_LIMITS__EMAILS_PER_RECIPIENT_PER_HOUR", "1"),
        ],
        std::fs::File::create(&log).unwrap().into(),
    );
    let owner = owner.expect("the first start prints the owner invitation");
    let http = reqwest::Client::new();
    register_owner(&http, &base, &owner).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let res = http
            .post(format!("{base}/api/v1/password-resets"))
            .json(&serde_json::json!({"email": "owner@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 202);
        ids.push(res.headers()["x-request-id"].to_str().unwrap().to_string());
    }
    // The budget of 1 is spent by the first reset at the latest: the second logs that it sent
    // nothing, inside its request's span.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let spent = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        if let Some(line) = lines.iter().find(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("email budget"))
                && l["span"]["id"] == ids[1].as_str()
        }) {
            break line.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no such line in:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(spent["span"]["path"], "/api/v1/password-resets", "{spent}");
}
