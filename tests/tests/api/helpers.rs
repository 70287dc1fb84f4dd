//! `spawn_app`: the real server in-process on port 0, on a fresh database per test: a SQLite
//! file in a temporary directory, or a PostgreSQL database created from a migrated template.

use diesel::prelude::*;
use diesel::{PgConnection, RunQueryDsl, sql_query};
use invitegate_client::{Client, ClientError, Registration};
use invitegate_core::ErrorCode;
use invitegate_core::api::*;
use invitegate_server::config::{Config, RateLimits, SecretKeyConfig};
use invitegate_server::oidc_keys::KeyFile;
use invitegate_server::startup::Application;
use invitegate_server::state::AppState;
use invitegate_server::storage::{self, DbConn};
use std::path::PathBuf;
use std::sync::Arc;

/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn pg_base() -> String {
    std::env::var("INVITEGATE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn pg_admin() -> PgConnection {
    let url = pg_url("postgres");
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!("PostgreSQL is required for the test suite and is not reachable at {url}: {e}. Start it (see README) or set INVITEGATE_TEST_DATABASE_URL.")
    })
}

/// The URL of database `name`. Loopback test connections skip TLS: libpq's OpenSSL clean-up at
/// process exit can otherwise crash a test process whose server threads still hold connections.
fn pg_url(name: &str) -> String {
    format!("{}/{name}?sslmode=disable", pg_base())
}

/// The template's name changes whenever a migration changes.
fn template_name() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations/postgres");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        h.update(std::fs::read(e.join("up.sql")).unwrap_or_default());
    }
    let digest = h.finalize();
    format!(
        "invitegate_template_{:02x}{:02x}{:02x}{:02x}",
        digest[0], digest[1], digest[2], digest[3]
    )
}

fn ensure_template(admin: &mut PgConnection) -> String {
    let name = template_name();
    sql_query("SELECT pg_advisory_lock(724311)")
        .execute(admin)
        .expect("advisory lock");
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let exists = sql_query(format!(
        "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
    ))
    .get_result::<Count>(admin)
    .expect("query pg_database")
    .n > 0;
    if !exists {
        let building = format!("{name}_building");
        sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(admin)
            .expect("drop");
        sql_query(format!("CREATE DATABASE {building}"))
            .execute(admin)
            .expect("create template");
        {
            let mut conn =
                DbConn::Pg(PgConnection::establish(&pg_url(&building)).expect("connect template"));
            storage::run_migrations(&mut conn).expect("migrate template");
        }
        sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(admin)
            .expect("rename template");
    }
    sql_query("SELECT pg_advisory_unlock(724311)")
        .execute(admin)
        .expect("advisory unlock");
    name
}

/// A database that is dropped with the test.
pub enum TestDb {
    Sqlite,
    Postgres { name: String },
}

impl TestDb {
    fn create(backend: Backend, dir: &std::path::Path) -> (Self, String) {
        match backend {
            Backend::Sqlite => (
                Self::Sqlite,
                format!("sqlite://{}", dir.join("test.db").display()),
            ),
            Backend::Postgres => {
                let mut admin = pg_admin();
                let template = ensure_template(&mut admin);
                let name = format!("invitegate_test_{}", uuid::Uuid::now_v7().simple());
                sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .execute(&mut admin)
                    .expect("create test database");
                (Self::Postgres { name: name.clone() }, pg_url(&name))
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Self::Postgres { name } = self {
            let mut admin = pg_admin();
            let _ = sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

pub struct TestApp {
    pub config: Config,
    pub address: String,
    pub api: Client,
    pub http: reqwest::Client,
    pub state: Arc<AppState>,
    pub owner_token: String,
    pub dir: tempfile::TempDir,
    /// Stops the server as SIGTERM would.
    pub stop: invitegate_server::startup::StopHandle,
    /// The server's `run_until_stopped`: ends once it has stopped and shut down.
    pub serving: tokio::task::JoinHandle<std::io::Result<()>>,
    _db: TestDb,
}

/// Options for [`spawn_app_with`].
pub fn test_config(dir: &std::path::Path, database_url: String) -> Config {
    Config {
        bind: "127.0.0.1:0".into(),
        database_url: Some(database_url),
        data_dir: dir.to_path_buf(),
        web_dir: dir.join("web-app-not-built"),
        secret_keys: vec![SecretKeyConfig {
            id: "test1".into(),
            secret: "test-secret-material-0123456789abcdef".into(),
        }],
        rate_limits: RateLimits {
            auth_per_minute: 10_000,
            verify_per_minute: 10_000,
            email_requests_per_minute: 10_000,
            invitations_per_minute: 10_000,
            login_per_account_per_hour: 10_000,
            emails_per_recipient_per_hour: 10_000,
            alert_failures_threshold: 10_000,
            sync_interval_milliseconds: 50,
        },
        database_pool_size: 8,
        http_workers: Some(2),
        hash_workers: Some(2),
        ..Config::default()
    }
}

/// Writes the run's OpenID Connect signing keys into `data_dir`: one RSA key pair for the
/// whole run, since generating one per test costs more than most tests (and every node of a
/// deployment shares its keys anyway).
pub fn seed_oidc_keys(data_dir: &std::path::Path) {
    static OIDC_KEYS: std::sync::OnceLock<KeyFile> = std::sync::OnceLock::new();
    OIDC_KEYS
        .get_or_init(|| KeyFile::generate().expect("keys"))
        .write(&data_dir.join(invitegate_server::oidc_keys::FILE_NAME))
        .expect("key file");
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, url) = TestDb::create(backend, dir.path());
    let mut config = test_config(dir.path(), url);
    tweak(&mut config);
    seed_oidc_keys(&config.data_dir);
    let app = Application::build(config.clone())
        .await
        .expect("the application builds");
    let address = format!("http://{}", app.addr());
    let state = app.state();
    let owner_link = app
        .owner_link()
        .expect("a fresh database prints an owner invitation")
        .to_string();
    let owner_token = owner_link
        .split("#token=")
        .nth(1)
        .expect("token in fragment")
        .to_string();
    let stop = app.stop_handle();
    let serving = tokio::spawn(app.run_until_stopped());
    TestApp {
        config,
        api: Client::new(&address).expect("client"),
        // Below the server's keep-alive (see the typed client): no request on a closing connection.
        http: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(4))
            .build()
            .expect("client"),
        address,
        state,
        owner_token,
        dir,
        stop,
        serving,
        _db: db,
    }
}

/// Creates `n` emailed invitations to `<prefix><i>@example.com` in one bulk call; their
/// tokens, in order.
pub async fn invite_in_bulk(admin: &Client, prefix: &str, n: usize) -> Vec<String> {
    let rows = (0..n)
        .map(|i| email_req(&format!("{prefix}{i}@example.com")))
        .collect();
    let created = admin
        .bulk_create_invitations(&BulkCreateRequest {
            invitations: rows,
            dry_run: false,
        })
        .await
        .unwrap();
    assert_eq!(created.summary.created, n);
    created
        .results
        .into_iter()
        .filter_map(|r| r.token)
        .collect()
}

/// An HTTP client whose requests come from `ip` (any 127.x.y.z reaches the server), so tests
/// of per-client limits never share a client with other tests.
pub fn http_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(4))
        .local_address(Some(ip.parse().expect("an address")))
        .build()
        .expect("client")
}

/// Waits until at least 20 s remain of the current window of each of these lengths in seconds
/// (the limits' windows are aligned to the epoch: 60 for the per-client limits, 600 for the
/// alarm, 3,600 for logins per account). A test counting failures against a limit must not see
/// its window turn over between them, since a new window rightly starts from zero.
pub async fn early_in_limit_windows(lengths: &[i64]) {
    let late = |now: i64| lengths.iter().any(|&n| now.rem_euclid(n) > n - 20);
    while late(invitegate_server::ratelimit::unix_now()) {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Polls `f` every 50 ms for up to 10 s until it returns `Some`.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Asserts an API error's status and code.
#[track_caller]
pub fn assert_problem<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    status: u16,
    code: ErrorCode,
) {
    match result {
        Err(ClientError::Api { status: s, problem }) => {
            assert_eq!(
                (s, problem.code.as_str()),
                (status, code.as_str()),
                "problem: {problem:?}"
            );
        }
        other => panic!("expected {status} {code:?}, got {other:?}"),
    }
}

/// A create body bound to one address, everything else defaulted.
/// A new organisation named `name`, created by `admin`.
pub async fn org(admin: &Client, name: &str) -> Organization {
    admin
        .create_organization(&CreateOrganizationRequest {
            name: name.into(),
            ..Default::default()
        })
        .await
        .unwrap()
}

pub fn email_req(email: &str) -> CreateInvitationRequest {
    CreateInvitationRequest {
        email: Some(email.into()),
        ..Default::default()
    }
}

/// A create body for any address at `domain`, usable `uses` times.
pub fn domain_req(domain: &str, uses: i32) -> CreateInvitationRequest {
    CreateInvitationRequest {
        email_domain: Some(domain.into()),
        max_uses: Some(uses),
        ..Default::default()
    }
}

pub fn register_req(email: &str, token: Option<&str>) -> RegisterRequest {
    RegisterRequest {
        email: email.into(),
        password: Some(PASSWORD.into()),
        invite_token: token.map(String::from),
        display_name: None,
    }
}

impl TestApp {
    /// The PostgreSQL database name of this test, if it runs on PostgreSQL.
    pub fn pg_database(&self) -> Option<String> {
        match &self._db {
            TestDb::Postgres { name } => Some(name.clone()),
            TestDb::Sqlite => None,
        }
    }

    /// Runs SQL on the PostgreSQL server's maintenance database.
    pub fn pg_admin_sql(&self, sql: &str) {
        sql_query(sql).execute(&mut pg_admin()).expect("admin SQL");
    }

    /// Starts another server process-equivalent on the same database (a second node).
    pub async fn spawn_peer(&self) -> Client {
        self.spawn_peer_node().await.0
    }

    /// [`TestApp::spawn_peer`], with the peer's state to observe it.
    pub async fn spawn_peer_node(&self) -> (Client, Arc<AppState>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            bootstrap_owner_invitation: false,
            ..self.config.clone()
        };
        seed_oidc_keys(&config.data_dir);
        let app = Application::build(config).await.expect("the peer builds");
        let client = Client::new(&format!("http://{}", app.addr())).expect("client");
        let state = app.state();
        tokio::spawn(async move {
            let _dir = dir;
            let _ = app.run_until_stopped().await;
        });
        (client, state)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Registers the owner with the bootstrap invitation; returns an admin client.
    pub async fn admin(&self) -> Client {
        match self
            .api
            .register(&register_req("owner@example.com", Some(&self.owner_token)))
            .await
            .expect("owner registers")
        {
            Registration::SignedIn(s) => self.api.with_bearer(&s.access_token),
            Registration::VerificationPending => panic!("the owner invitation signs in at once"),
        }
    }

    /// Creates an email-bound invitation with `by` and registers it; returns the user's client.
    pub async fn member(&self, by: &Client, email: &str) -> (Client, SessionResponse) {
        let inv = by
            .create_invitation(&CreateInvitationRequest {
                email: Some(email.into()),
                ..Default::default()
            })
            .await
            .expect("invitation");
        match self
            .api
            .register(&register_req(email, Some(&inv.token)))
            .await
            .expect("registers")
        {
            Registration::SignedIn(s) => (self.api.with_bearer(&s.access_token), *s),
            Registration::VerificationPending => panic!("email-bound invitations sign in at once"),
        }
    }

    /// Like [`TestApp::member`], for any inviter: a member's email-bound invitation asks the
    /// invitee to prove the address, which this does through the emailed link.
    pub async fn invited(&self, by: &Client, email: &str) -> (Client, SessionResponse) {
        let inv = by
            .create_invitation(&email_req(email))
            .await
            .expect("invitation");
        let session = match self
            .api
            .register(&register_req(email, Some(&inv.token)))
            .await
            .expect("registers")
        {
            Registration::SignedIn(s) => *s,
            Registration::VerificationPending => {
                let proof = self.link_token_for(email, "/verify-email").await;
                self.api
                    .confirm_email(&proof, PASSWORD)
                    .await
                    .expect("confirms")
            }
        };
        (self.api.with_bearer(&session.access_token), session)
    }

    /// Creates an API key with `scopes` through `admin`.
    pub async fn api_key(
        &self,
        admin: &Client,
        scopes: &[invitegate_core::model::Scope],
    ) -> Client {
        let key = admin
            .create_api_key(&CreateApiKeyRequest {
                name: "test".into(),
                scopes: scopes.to_vec(),
            })
            .await
            .expect("api key");
        self.api.with_bearer(&key.key)
    }

    /// Emails written so far by the file transport, after the outbox worker ran.
    pub async fn emails(&self) -> Vec<String> {
        let dir = self.dir.path().join("outbox");
        for _ in 0..100 {
            let pending = self
                .db(|c| invitegate_server::storage::outbox::pending_count(c).map_err(Into::into))
                .await;
            if pending == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // In the order they were written: a file is named by a UUIDv7, which the process mints
        // in increasing order (two files written within a clock tick share an mtime).
        let mut out: Vec<(std::ffi::OsString, String)> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| Some((e.file_name(), std::fs::read_to_string(e.path()).ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out.into_iter().map(|(_, s)| decode_qp(&s)).collect()
    }

    /// The last email sent to `to` and the token of the link in it.
    pub async fn link_token_for(&self, to: &str, route: &str) -> String {
        let emails = self.emails().await;
        let mail = emails
            .iter()
            .rev()
            .find(|m| m.contains(&format!("To: {to}")))
            .unwrap_or_else(|| panic!("no email to {to}"));
        let marker = format!("{route}#token=");
        let start = mail
            .find(&marker)
            .unwrap_or_else(|| panic!("no {route} link in {mail}"))
            + marker.len();
        mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-' || *c == '_')
            .collect()
    }

    /// Runs `f` on a database connection of the app (for time travel and counting rows).
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, invitegate_server::error::ApiError> + Send + 'static,
    ) -> T {
        self.state.db(f).await.expect("database access")
    }

    pub async fn count_users(&self) -> i64 {
        self.db(|c| {
            use invitegate_server::storage::schema::users::dsl::*;
            Ok(users.count().get_result(c)?)
        })
        .await
    }

    pub async fn count_invitations(&self) -> i64 {
        self.db(|c| {
            use invitegate_server::storage::schema::invitations::dsl::*;
            Ok(invitations.count().get_result(c)?)
        })
        .await
    }

    /// Signs the owner in over plain HTTP and returns the refresh cookie (`name=value`).
    pub async fn owner_refresh_cookie(&self) -> String {
        let login = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": "owner@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }

    /// Moves every session's last rotation `seconds` into the past.
    pub async fn age_sessions(&self, seconds: i64) {
        self.db(move |c| {
            use invitegate_server::storage::schema::sessions::dsl::*;
            let past = storage::now() - chrono::Duration::seconds(seconds);
            diesel::update(sessions)
                .set(last_used_at.eq(past))
                .execute(c)?;
            Ok(())
        })
        .await
    }

    /// Moves an invitation's expiry into the past.
    pub async fn expire_invitation(&self, invitation_id: &str) {
        let target = invitation_id.to_string();
        self.db(move |c| {
            use invitegate_server::storage::schema::invitations::dsl::*;
            let past = storage::now() - chrono::Duration::minutes(1);
            diesel::update(invitations.filter(id.eq(target)))
                .set(expires_at.eq(past))
                .execute(c)?;
            Ok(())
        })
        .await
    }
}

/// Undoes quoted-printable soft line breaks and `=3D`, enough to read links in emails.
fn decode_qp(s: &str) -> String {
    s.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// Runs each named `async fn name(backend: Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
    };
}

/// The rows a registration of `email` with invitation `invitation_id` writes in one statement
/// (`storage::registrations`): the user, its two events about it, its session.
pub fn invited_account_rows(
    email: &str,
    invitation_id: &str,
) -> (
    storage::users::UserRow,
    [storage::audit::AuditRow; 2],
    storage::sessions::SessionRow,
) {
    let now = storage::now();
    let user = storage::users::UserRow {
        id: storage::new_id(),
        email: email.into(),
        display_name: None,
        password_hash: "$argon2id$".into(),
        role: invitegate_core::model::Role::Member,
        created_at: now,
        disabled_at: None,
        invited_by_type: None,
        invited_by_id: None,
        invitation_id: Some(invitation_id.into()),
        invitation_serial: 0,
    };
    let event = |action: &str| storage::audit::AuditRow {
        id: storage::new_id(),
        occurred_at: now,
        action: action.into(),
        outcome: "success".into(),
        actor_type: None,
        actor_id: None,
        target_type: Some("user".into()),
        target_id: Some(user.id.clone()),
        ip: None,
        user_agent: None,
        details: "{}".into(),
    };
    let events = [
        event("invitation.redeemed"),
        event("registration.succeeded"),
    ];
    let session = storage::sessions::SessionRow {
        id: storage::new_id(),
        user_id: user.id.clone(),
        refresh_token_hash: storage::new_id(),
        previous_refresh_token_hash: None,
        created_at: now,
        expires_at: now,
        last_used_at: now,
        revoked_at: None,
        ip: None,
        user_agent: None,
    };
    (user, events, session)
}
