//! `Application::build(config)` prepares everything and binds the listener (port 0 picks a free
//! port, which tests use); `run_until_stopped` serves until the process is told to stop.

use crate::client_limits::RateLimiters;
use crate::config::Config;
use crate::error::ApiError;
use crate::hashing::HasherPool;
use crate::invitations::{self, service::AdminInvitation};
use crate::metrics::Metrics;
use crate::state::{AppState, common_passwords};
use crate::storage;
use crate::tokens::KeyRing;
use crate::{http, mail, routes};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use invitegate_core::ErrorCode;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;
use utoipa_swagger_ui::SwaggerUi;

/// Where the OpenAPI document is served.
const OPENAPI_PATH: &str = "/api/openapi.json";

/// `GET /api/openapi.json`: the document, built on first request and shared by every worker
/// (a server nobody reads the document of never spends the memory).
async fn openapi_document() -> actix_web::Result<HttpResponse> {
    static DOCUMENT: std::sync::OnceLock<web::Bytes> = std::sync::OnceLock::new();
    // Built off the worker thread: the first request must not stall the others it serves.
    let body = web::block(|| {
        DOCUMENT
            .get_or_init(|| web::Bytes::from(routes::openapi_json()))
            .clone()
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// A built application: state ready, migrations applied, listener bound.
pub struct Application {
    port: u16,
    addr: SocketAddr,
    server: Server,
    state: Arc<AppState>,
    owner_link: Option<String>,
    /// Tells the outbox worker to record what it sent and end, once serving has stopped.
    stop_outbox: tokio::sync::watch::Sender<bool>,
    outbox: tokio::task::JoinHandle<()>,
}

/// Stops a running [`Application`]: see [`Application::stop_handle`].
#[derive(Clone)]
pub struct StopHandle(actix_web::dev::ServerHandle);

impl StopHandle {
    /// Stops accepting connections, lets requests in flight finish, then returns; the
    /// application's `run_until_stopped` goes on with its own shutdown.
    pub async fn stop(&self) {
        self.0.stop(true).await;
    }
}

/// How long a stopping server waits for the outbox worker (and, meanwhile, for the requests'
/// background work): past a mail server's or webhook receiver's timeout (10 s), so the
/// delivery in flight ends and what was sent is recorded.
pub const OUTBOX_STOP_LIMIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Builds the shared state: pool, migrations, key ring, hasher. Used by `serve` and the CLI.
pub async fn build_state(config: Config, bound: SocketAddr) -> anyhow::Result<Arc<AppState>> {
    let config = Arc::new(config);
    std::fs::create_dir_all(&config.data_dir)?;
    let keys = KeyRing::load_or_generate(&config)?;
    // A retired key stays published while a token it signed may still be presented.
    let overlap = chrono::Duration::seconds(config.access_token_ttl_seconds as i64 + 600);
    let oidc_keys = crate::oidc_keys::SigningKeys::load_or_generate(&config.data_dir, overlap)?;
    let pool = storage::pool(
        &config.database_url(),
        config.database_pool_size,
        Duration::from_secs(config.database_timeout_seconds),
    )?;
    let p = pool.clone();
    let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = p
            .get()
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        storage::run_migrations(&mut conn)
    })
    .await??;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    let threads = config.hash_workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let hasher = HasherPool::new(threads, config.hash_queue)?;
    let mail = Arc::new(mail::Transport::from_config(&config)?);
    let http = crate::egress::http_client(config.webhook_allow_private_targets)?;
    let templates = Arc::new(mail::Templates::load(&config)?);
    let outbox_wakeup: Arc<tokio::sync::Notify> = Arc::default();
    let audit = crate::audit_batch::AuditBatcher::start(pool.clone(), outbox_wakeup.clone());
    let backend = storage::Backend::from_url(&config.database_url())
        .ok_or_else(|| anyhow::anyhow!("unsupported database URL scheme"))?;
    let token_lookups = (backend == storage::Backend::Postgres)
        .then(|| {
            crate::lookup_batch::TokenLookups::start(
                &pool,
                Duration::from_secs(config.database_timeout_seconds),
            )
        })
        .transpose()?;
    Ok(Arc::new(AppState {
        base_url: config.public_base_url(bound),
        trusted_proxies: config.trusted_proxy_ips(),
        limits: RateLimiters::new(&config.rate_limits),
        backend,
        token_lookups,
        one_statement_paused_until: Default::default(),
        pool,
        keys,
        oidc_keys,
        hasher,
        common_passwords: Arc::new(common_passwords()),
        metrics: Metrics::new(),
        mail,
        templates,
        http,
        outbox_wakeup,
        background: crate::background::Background::new(tokio::runtime::Handle::current()),
        audit,
        config,
    }))
}

impl Application {
    /// Validates `config` (errors name the key), binds `config.bind`, prepares the state,
    /// creates the owner invitation when there is no administrator, and builds the server (not
    /// yet running).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let listener = TcpListener::bind(&config.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
        let addr = listener.local_addr()?;
        let workers = config.http_workers;
        let bootstrap = config.bootstrap_owner_invitation;
        let state = build_state(config, addr).await?;
        let owner_link = if bootstrap {
            bootstrap_owner_invitation(&state).await?
        } else {
            None
        };
        let server = run(listener, state.clone(), workers)?;
        let (stop_outbox, stop) = tokio::sync::watch::channel(false);
        let outbox = tokio::spawn(crate::outbox::worker::run_worker(state.clone(), stop));
        tokio::spawn(crate::jobs::run(state.clone()));
        tokio::spawn(crate::ratelimit::run_sync(state.clone()));
        Ok(Self {
            port: addr.port(),
            addr,
            server,
            state,
            owner_link,
            stop_outbox,
            outbox,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state.
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// A handle that stops this server gracefully (what SIGTERM does).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.server.handle())
    }

    /// The owner invitation link created at start-up, if one was.
    pub fn owner_link(&self) -> Option<&str> {
        self.owner_link.as_deref()
    }

    /// Serves until stopped; then lets the outbox worker record the emails it sent (waiting
    /// at most [`OUTBOX_STOP_LIMIT`] for the delivery in flight, and for the requests'
    /// background work) and stores the audit events still queued.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let _ = self.stop_outbox.send(true);
        let background = self.state.background.settled();
        let _ = tokio::time::timeout(
            OUTBOX_STOP_LIMIT,
            futures_util::future::join(self.outbox, background),
        )
        .await;
        self.state.audit.flush().await;
        served
    }
}

/// While no administrator exists, makes a fresh single-use owner invitation and returns its
/// link (see [`AdminInvitation::Owner`]).
pub async fn bootstrap_owner_invitation(state: &Arc<AppState>) -> anyhow::Result<Option<String>> {
    invitations::service::admin_invitation(state, AdminInvitation::Owner)
        .await
        .map_err(|e| anyhow::anyhow!("could not create the owner invitation: {e}"))
}

/// Builds the HTTP server on `listener`.
pub fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    workers: Option<usize>,
) -> anyhow::Result<Server> {
    let web_app = web::Data::new(crate::web::WebApp::load(&state.config.web_dir));
    let pool_size = state.config.database_pool_size as usize;
    let data = web::Data::from(state);
    // Registrations' group commits run on this (the main) runtime, which outlives the workers.
    let group_commit = web::Data::new(crate::registration::group_commit::GroupCommit::new(
        tokio::runtime::Handle::current(),
    ));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(group_commit.clone())
            .app_data(web::Data::new(data.trusted_proxies.clone()))
            .app_data(web::Data::new(data.metrics.clone()))
            .app_data(web::Data::new(http::headers::HeaderPolicy {
                https: data.base_url.starts_with("https://"),
            }))
            .app_data(web::QueryConfig::default().error_handler(http::query::query_error))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|_, _| ApiError::new(ErrorCode::NotFound).into()),
            )
            .service(
                web::scope("/api/v1")
                    .wrap(http::cors::cors(&data.config.cors_allowed_origins))
                    .configure(routes::api_v1),
            )
            .wrap(from_fn(http::headers::security_headers))
            .wrap(from_fn(crate::metrics::record))
            .wrap(from_fn(http::request_id::request_id))
            .wrap(Compress::default())
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::from(OPENAPI_PATH)),
            )
            .route(OPENAPI_PATH, web::get().to(openapi_document))
            .configure(crate::oidc::routes)
            .route("/healthz", web::get().to(crate::ops::healthz))
            .route("/readyz", web::get().to(crate::ops::readyz))
            .route("/metrics", web::get().to(crate::ops::metrics))
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/docs/"))
                        .finish()
                }),
            )
            .app_data(web_app.clone())
            .configure(|cfg| web_app.services(cfg))
            .default_service(web::to(http::fallback::not_found))
    })
    .listen(listener)?;
    if let Some(w) = workers {
        server = server.workers(w);
    }
    // Database calls run on the workers' blocking threads; many more of them than connections
    // only queue for the pool, and each idle one keeps a stack and an allocator arena (actix's
    // default is 512 ÷ CPUs per worker). The headroom keeps static files and `/readyz` from
    // queueing behind database calls when the pool is exhausted.
    server = server.worker_max_blocking_threads(pool_size + 16);
    Ok(server.run())
}
