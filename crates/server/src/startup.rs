//! `Application::build(config)` prepares everything and binds the listener (port 0 picks a free
//! port, which tests use); `run_until_stopped` serves until the process is told to stop.

use crate::audit::RequestMeta;
use crate::client_limits::RateLimiters;
use crate::config::Config;
use crate::error::ApiError;
use crate::hashing::HasherPool;
use crate::invitations::service::{self, Binding, Inviter, NewInvitation};
use crate::metrics::Metrics;
use crate::state::{AppState, common_passwords};
use crate::storage::{self, invitations, users};
use crate::tokens::KeyRing;
use crate::{mail, routes};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{Compress, Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use invitegate_core::ErrorCode;
use invitegate_core::model::Role;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

/// A built application: state ready, migrations applied, listener bound.
pub struct Application {
    port: u16,
    addr: SocketAddr,
    server: Server,
    state: Arc<AppState>,
    owner_link: Option<String>,
}

/// Builds the shared state: pool, migrations, key ring, hasher. Used by `serve` and the CLI.
pub async fn build_state(config: Config, bound: SocketAddr) -> anyhow::Result<Arc<AppState>> {
    let config = Arc::new(config);
    std::fs::create_dir_all(&config.data_dir)?;
    let keys = KeyRing::load_or_generate(&config)?;
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
    Ok(Arc::new(AppState {
        base_url: config.public_base_url(bound),
        trusted_proxies: config.trusted_proxy_ips(),
        limits: RateLimiters::new(&config.rate_limits),
        pool,
        keys,
        hasher,
        common_passwords: Arc::new(common_passwords()),
        metrics: Metrics::new(),
        mail,
        templates,
        http,
        outbox_wakeup: Arc::default(),
        config,
    }))
}

impl Application {
    /// Validates `config` (errors name the key), binds `config.bind`, prepares the state, creates the owner invitation when there is no
    /// administrator, and builds the server (not yet running).
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
        tokio::spawn(crate::delivery::run_worker(state.clone()));
        tokio::spawn(crate::jobs::run(state.clone()));
        tokio::spawn(crate::ratelimit::run_sync(state.clone()));
        Ok(Self {
            port: addr.port(),
            addr,
            server,
            state,
            owner_link,
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

    /// The owner invitation link created at start-up, if one was.
    pub fn owner_link(&self) -> Option<&str> {
        self.owner_link.as_deref()
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// While no administrator exists, makes a fresh single-use admin invitation (not bound to an
/// email; whoever holds the server's console is the operator) and returns its link. An older
/// unused owner invitation is revoked first, so only the newest printed link works.
pub async fn bootstrap_owner_invitation(state: &Arc<AppState>) -> anyhow::Result<Option<String>> {
    let st = state.clone();
    let link = state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                if users::active_admin_exists(conn)? {
                    return Ok(None);
                }
                let now = storage::now();
                let system = Inviter::system();
                invitations::revoke_unused_bootstrap(conn, now)?;
                let new = NewInvitation {
                    binding: Binding::Open,
                    role: Role::Admin,
                    max_uses: 1,
                    expires_in_days: st.config.invite_link_expiry,
                    note: None,
                    send_email: false,
                };
                let (_, token) =
                    service::create_in_tx(conn, &st, &system, &new, true, &RequestMeta::default())
                        .map_err(ApiError::from)?;
                Ok(Some(st.link("/invite", &token)))
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("could not create the owner invitation: {e}"))?;
    Ok(link)
}

/// Creates an email-bound admin invitation from the command line and returns its link.
pub async fn cli_admin_invitation(
    state: &Arc<AppState>,
    email: invitegate_core::Email,
    days: i64,
) -> anyhow::Result<String> {
    let st = state.clone();
    state
        .db(move |conn| {
            storage::write_tx(conn, |conn| {
                let new = NewInvitation {
                    binding: Binding::Email(email),
                    role: Role::Admin,
                    max_uses: 1,
                    expires_in_days: days,
                    note: None,
                    send_email: false,
                };
                let (_, token) = service::create_in_tx(
                    conn,
                    &st,
                    &Inviter::system(),
                    &new,
                    false,
                    &RequestMeta::default(),
                )
                .map_err(ApiError::from)?;
                Ok(st.link("/invite", &token))
            })
        })
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.problem().detail.unwrap_or_default()))
}

fn query_error(err: actix_web::error::QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let detail = match &err {
        actix_web::error::QueryPayloadError::Deserialize(e) => {
            let msg = e.to_string();
            if msg.starts_with("unknown field")
                || msg.starts_with("unknown variant")
                || msg.starts_with("invalid digit")
                || msg.starts_with("number too large")
            {
                format!("Invalid query: {msg}")
            } else {
                "Invalid query parameters.".to_string()
            }
        }
        _ => "Invalid query parameters.".to_string(),
    };
    ApiError::new(ErrorCode::ValidationFailed)
        .detail(detail)
        .into()
}

/// The web app's Content-Security-Policy: its own origin only; `'wasm-unsafe-eval'` lets it
/// compile its WebAssembly (CSP Level 3), nothing inline, no third-party origins.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn headers_and_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let path = req.path().to_string();
    let method = req.method().to_string();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.base_url.starts_with("https://"));
    let mut res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(m) = metrics {
        m.http_requests
            .with_label_values(&[method.as_str(), route.as_str(), res.status().as_str()])
            .inc();
        m.http_duration
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(start.elapsed().as_secs_f64());
    }
    let immutable = path.starts_with("/assets/") && res.status().is_success();
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    // Static files of the app: the widget loads them from other sites' pages.
    if path.starts_with("/embed/") || path.starts_with("/assets/") {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        );
    }
    let (cache, csp) = if path.starts_with("/api/") {
        ("no-store", "default-src 'none'; frame-ancestors 'none'")
    } else if path.starts_with("/docs") {
        (
            "no-cache",
            // Swagger UI sets inline styles, but runs no inline script: none is allowed.
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
    } else if immutable {
        ("public, max-age=31536000, immutable", PAGE_CSP)
    } else if path.starts_with("/embed/") {
        ("public, max-age=300", PAGE_CSP)
    } else {
        ("no-cache", PAGE_CSP)
    };
    if immutable || !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    Ok(res)
}

async fn not_found(req: HttpRequest, web_app: web::Data<crate::web::WebApp>) -> HttpResponse {
    if req.path().starts_with("/api/")
        || req.path().starts_with("/assets/")
        || req.path().starts_with("/embed/")
        || !matches!(
            *req.method(),
            actix_web::http::Method::GET | actix_web::http::Method::HEAD
        )
    {
        return actix_web::ResponseError::error_response(&ApiError::new(ErrorCode::NotFound));
    }
    web_app.shell()
}

fn cors(state: &AppState) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .supports_credentials()
        .max_age(3600);
    for origin in &state.config.cors_allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Builds the HTTP server on `listener`.
pub fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    workers: Option<usize>,
) -> anyhow::Result<Server> {
    let web_app = web::Data::new(crate::web::WebApp::load(&state.config.web_dir));
    let data = web::Data::from(state);
    let doc = routes::openapi();
    let mut server = HttpServer::new(move || {
        let (app, _) = App::new()
            .into_utoipa_app()
            .openapi(routes::base_doc())
            .app_data(data.clone())
            .app_data(web::Data::new(data.trusted_proxies.clone()))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|_, _| ApiError::new(ErrorCode::NotFound).into()),
            )
            .service(
                utoipa_actix_web::scope("/api/v1")
                    .wrap(cors(&data))
                    .configure(routes::api_v1),
            )
            .split_for_parts();
        app.wrap(from_fn(headers_and_metrics))
            .wrap(from_fn(crate::http::request_id::request_id))
            .wrap(Compress::default())
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api/openapi.json", doc.clone()))
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
            .default_service(web::to(not_found))
    })
    .listen(listener)?;
    if let Some(w) = workers {
        server = server.workers(w);
    }
    Ok(server.run())
}
