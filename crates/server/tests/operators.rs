//! The operators' commands as processes against a real database, SQLite and PostgreSQL, while
//! the server runs: users, invitations, API keys, backups, completions and `--help`.

mod common;

use common::*;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use std::path::Path;

const PASSWORD: &str = "correct horse battery staple";

/// A fresh PostgreSQL database, dropped at the end.
struct PgDb {
    name: String,
}

fn pg_admin() -> diesel::PgConnection {
    let url = std::env::var("INVITEGATE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    diesel::PgConnection::establish(&url)
        .unwrap_or_else(|e| panic!("PostgreSQL is required for the test suite ({url}): {e}"))
}

impl PgDb {
    fn new() -> Self {
        let name = format!("invitegate_cli_{}", uuid::Uuid::now_v7().simple());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut pg_admin())
            .unwrap();
        Self { name }
    }

    fn url(&self) -> String {
        let base = std::env::var("INVITEGATE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let (server, _) = base.rsplit_once('/').unwrap();
        format!("{server}/{}", self.name)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut pg_admin());
    }
}

/// Runs `invitegate ARGS` with `env`: exit code, stdout, stderr.
fn cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let (out, stdout, stderr) = run(invitegate(dir).envs(env.iter().copied()).args(args));
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn ok(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let (code, stdout, stderr) = cli(dir, env, args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    stdout
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut rb = http.post(url).json(&body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn operators_manage_the_service_from_the_command_line(env: &[(&str, &str)], sqlite: bool) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_server, base, owner) = serve_with(d, env);
    let http = reqwest::Client::new();
    let token = owner.unwrap().split("#token=").nth(1).unwrap().to_string();
    let (_, session) = post(
        &http,
        format!("{base}/api/v1/register"),
        None,
        json!({"email": "owner@example.com", "password": PASSWORD, "invite_token": token}),
    )
    .await;
    let admin = session["access_token"].as_str().unwrap().to_string();
    let (_, inv) = post(
        &http,
        format!("{base}/api/v1/invitations"),
        Some(&admin),
        json!({"email": "ann@example.com"}),
    )
    .await;
    let (status, _) = post(
        &http,
        format!("{base}/api/v1/register"),
        None,
        json!({"email": "ann@example.com", "password": PASSWORD, "invite_token": inv["token"]}),
    )
    .await;
    assert_eq!(status, 201);
    let login = |email: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            post(
                &http,
                format!("{base}/api/v1/auth/login"),
                None,
                json!({"email": email, "password": PASSWORD}),
            )
            .await
            .0
        }
    };

    // users
    let table = ok(d, env, &["users", "list"]);
    assert!(
        table.starts_with("ID\tEMAIL\tROLE\tSTATE\tCREATED\n"),
        "{table}"
    );
    assert!(
        table.contains("owner@example.com\tadmin\tactive")
            && table.contains("ann@example.com\tmember\tactive"),
        "{table}"
    );
    let found: Vec<Value> =
        serde_json::from_str(&ok(d, env, &["users", "list", "--email", "ann@", "--json"])).unwrap();
    assert_eq!(found.len(), 1);
    let ann = found[0]["id"].as_str().unwrap().to_string();
    let owner_id = session["user"]["id"].as_str().unwrap().to_string();

    let (code, _, err) = cli(d, env, &["users", "set-role", &ann, "boss"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values: member, admin"), "{err}");
    ok(d, env, &["users", "set-role", &ann, "admin"]);
    assert!(ok(d, env, &["users", "list", "--email", "ann@"]).contains("\tadmin\t"));
    ok(d, env, &["users", "disable", &ann]);
    assert_eq!(login("ann@example.com").await, 401);
    assert!(ok(d, env, &["users", "list", "--email", "ann@"]).contains("\tdisabled\t"));
    ok(d, env, &["users", "enable", &ann]);
    assert_eq!(login("ann@example.com").await, 200);
    ok(d, env, &["users", "set-role", &ann, "member"]);
    let (code, _, err) = cli(d, env, &["users", "set-role", &owner_id, "member"]);
    assert_eq!(code, 1);
    assert!(err.contains("needs an active administrator"), "{err}");
    let (code, _, _) = cli(d, env, &["users", "disable", &owner_id]);
    assert_eq!(code, 1);
    let (code, _, err) = cli(d, env, &["users", "enable", "no-such-id"]);
    assert_eq!(code, 1, "{err}");

    // invitations
    let (_, bob) = post(
        &http,
        format!("{base}/api/v1/invitations"),
        Some(&admin),
        json!({"email": "bob@example.com"}),
    )
    .await;
    let bob_id = bob["id"].as_str().unwrap().to_string();
    let pending = ok(d, env, &["invitations", "list", "--state", "pending"]);
    assert!(
        pending.contains(&format!("{bob_id}\tpending\tbob@example.com\tmember")),
        "{pending}"
    );
    assert!(!pending.contains("ann@example.com"), "{pending}");
    ok(d, env, &["invitations", "revoke", &bob_id]);
    let (status, _) = post(
        &http,
        format!("{base}/api/v1/invitations/verify"),
        None,
        json!({"token": bob["token"]}),
    )
    .await;
    assert_eq!(status, 410);
    let revoked: Vec<Value> = serde_json::from_str(&ok(
        d,
        env,
        &["invitations", "list", "--state", "revoked", "--json"],
    ))
    .unwrap();
    assert_eq!(revoked[0]["id"], bob_id.as_str());
    let (code, _, _) = cli(d, env, &["invitations", "list", "--state", "lost"]);
    assert_eq!(code, 2);

    // API keys
    let (code, _, err) = cli(
        d,
        env,
        &["api-key", "create", "--name", "x", "--scope", "everything"],
    );
    assert_eq!(code, 2, "{err}");
    let key = ok(
        d,
        env,
        &[
            "api-key",
            "create",
            "--name",
            "crm",
            "--scope",
            "invitations:read",
        ],
    )
    .trim()
    .to_string();
    let keys = ok(d, env, &["api-key", "list"]);
    let line = keys
        .lines()
        .find(|l| l.contains("\tcrm\t"))
        .unwrap()
        .to_string();
    assert!(line.contains("\tinvitations:read\tactive\tnever"), "{line}");
    let key_id = line.split('\t').next().unwrap().to_string();
    let listed = http
        .get(format!("{base}/api/v1/invitations"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 200);
    ok(d, env, &["api-key", "revoke", &key_id]);
    let listed = http
        .get(format!("{base}/api/v1/invitations"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 401);

    // The audit log names the command line as the actor.
    let log: Value = http
        .get(format!(
            "{base}/api/v1/audit-events?action=user.role_changed"
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        log["data"][0]["actor"],
        json!({"type": "system", "id": "system"})
    );

    // backup
    let copy = d.join("backup.sqlite");
    let copy_arg = copy.to_str().unwrap();
    if sqlite {
        ok(d, env, &["backup", copy_arg]);
        let mut conn = diesel::SqliteConnection::establish(copy_arg).unwrap();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let users = diesel::sql_query("SELECT count(*) AS n FROM users")
            .get_result::<N>(&mut conn)
            .unwrap();
        assert_eq!(users.n, 2);
        let (code, _, err) = cli(d, env, &["backup", copy_arg]);
        assert_eq!(code, 1);
        assert!(err.contains("exists"), "{err}");
    } else {
        let (code, _, err) = cli(d, env, &["backup", copy_arg]);
        assert_eq!(code, 1);
        assert!(err.contains("pg_dump"), "{err}");
        assert!(!copy.exists());
    }
}

#[tokio::test]
async fn operators_manage_a_sqlite_service_from_the_command_line() {
    operators_manage_the_service_from_the_command_line(&[], true).await;
}

#[tokio::test]
async fn operators_manage_a_postgres_service_from_the_command_line() {
    let db = PgDb::new();
    let url = db.url();
    operators_manage_the_service_from_the_command_line(&[("INVITEGATE_DATABASE_URL", &url)], false)
        .await;
}

/// An import into PostgreSQL leaves `invitations` analysed when it exits: registrations right
/// after a large import would otherwise be planned without statistics (docs/performance.md).
/// Counted by `analyze_count`, which autovacuum's analyses leave alone. (The import waits for
/// the server's background work; without that wait the analysis still usually finishes,
/// as a runtime that stops waits for blocking work already started.)
#[test]
fn an_import_into_postgres_has_the_invitations_analysed_before_it_exits() {
    #[derive(diesel::QueryableByName)]
    struct Analyses {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        analyze_count: i64,
    }
    let db = PgDb::new();
    let url = db.url();
    let env = [("INVITEGATE_DATABASE_URL", url.as_str())];
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &env, &["migrate"]);
    // An autovacuum worker analysing the table at that moment would have the import's
    // `ANALYZE (SKIP_LOCKED)` skip it.
    diesel::sql_query("ALTER TABLE invitations SET (autovacuum_enabled = off)")
        .execute(&mut diesel::PgConnection::establish(&url).unwrap())
        .unwrap();
    let csv = dir.path().join("list.csv");
    let list: String = (0..120)
        .map(|i| format!("reader{i}@example.com\n"))
        .collect();
    std::fs::write(&csv, list).unwrap();
    let (code, _, stderr) = cli(
        dir.path(),
        &env,
        &["invitations", "import", csv.to_str().unwrap(), "--no-email"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("120 created"), "{stderr}");
    let analyses = diesel::sql_query(
        "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'invitations'",
    )
    .get_result::<Analyses>(&mut diesel::PgConnection::establish(&url).unwrap())
    .unwrap();
    assert_eq!(analyses.analyze_count, 1);
}

#[test]
fn completions_and_help_show_every_command_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bash = ok(d, &[], &["completions", "bash"]);
    for word in [
        "set-role",
        "revoke",
        "backup",
        "healthcheck",
        "invitations:write",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    assert!(ok(d, &[], &["completions", "zsh"]).contains("#compdef invitegate"));
    for command in [
        &["users", "list"][..],
        &["users", "disable"],
        &["users", "enable"],
        &["users", "set-role"],
        &["invitations", "list"],
        &["invitations", "revoke"],
        &["invitations", "import"],
        &["api-key", "list"],
        &["api-key", "revoke"],
        &["api-key", "create"],
        &["admin", "invite"],
        &["backup"],
        &["completions"],
        &["config", "check"],
        &["healthcheck"],
        &["keys", "rotate"],
        &["oauth-client", "create"],
        &["oauth-client", "list"],
        &["oauth-client", "delete"],
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let help = ok(d, &[], &args);
        assert!(
            help.contains("Example: invitegate") || help.contains("Example: INVITEGATE_"),
            "{command:?}: {help}"
        );
    }
}
