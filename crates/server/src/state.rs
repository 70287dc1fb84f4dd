//! `AppState`: everything a handler needs, shared as one `web::Data`.

use crate::client_limits::RateLimiters;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::hashing::HasherPool;
use crate::metrics::Metrics;
use crate::storage::{self, Backend, DbConn, DbPool, StorageError};
use crate::tokens::KeyRing;
use invitegate_core::ErrorCode;
use std::collections::HashSet;
use std::sync::Arc;

/// Shared state of one server process.
pub struct AppState {
    /// Database pool.
    pub pool: DbPool,
    /// The database behind [`AppState::pool`].
    pub backend: Backend,
    /// Signing keys.
    pub keys: KeyRing,
    /// The OpenID Provider's asymmetric signing keys.
    pub oidc_keys: crate::oidc_keys::SigningKeys,
    /// Password hashing pool.
    pub hasher: HasherPool,
    /// Start-up configuration.
    pub config: Arc<Config>,
    /// Proxies whose `X-Forwarded-For` is believed (parsed once from the configuration).
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// Base of every link, without a trailing slash.
    pub base_url: String,
    /// The common-password blocklist, lower-case.
    pub common_passwords: Arc<HashSet<String>>,
    /// Rate limiters.
    pub limits: RateLimiters,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// HTTP client for webhook deliveries.
    pub http: reqwest::Client,
    /// Email templates.
    pub templates: Arc<crate::mail::Templates>,
    /// Email transport used by the outbox worker.
    pub mail: Arc<crate::mail::Transport>,
    /// Wakes the outbox worker after a commit that enqueued something.
    pub outbox_wakeup: Arc<tokio::sync::Notify>,
    /// Work requests start and do not wait for.
    pub background: crate::background::Background,
    /// Audit events stored in batches, off the request path.
    pub audit: crate::audit_batch::AuditBatcher,
    /// Token lookups read in batches (PostgreSQL); `None` on SQLite.
    pub token_lookups: Option<crate::lookup_batch::TokenLookups>,
    /// Until when (Unix seconds) registrations skip the one-statement write
    /// (`storage::registrations`, PostgreSQL): it last found a webhook endpoint, which only
    /// the transaction serves.
    pub one_statement_paused_until: std::sync::atomic::AtomicI64,
}

impl AppState {
    /// Runs `f` with a pooled connection on the blocking pool. A pool timeout is a 503.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.db_within(self.pool.connection_timeout(), f).await
    }

    /// Like [`AppState::db`] for one short indexed read; `f` must not write. On SQLite, when
    /// a pooled connection is free at once, `f` runs on the calling worker: a reader in WAL
    /// mode does not wait for the writer, and handing the call to the blocking pool and back
    /// took 14 % of the server's CPU in a profile of token verifications. On PostgreSQL (and
    /// when no connection is free) it is [`AppState::db`]: a worker waiting out a round trip
    /// serves no other request (measured inline: 5.9k against 7.3k verifications/s,
    /// docs/performance.md).
    pub async fn db_read<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let Some(mut conn) = self.free_sqlite_connection() else {
            return self.db(f).await;
        };
        let result = on_this_worker(&mut conn, |c| f(c)).and_then(|r| r);
        report(&mut conn, &result);
        result
    }

    /// Runs `f` in a write transaction ([`storage::write_tx`]): the outer result is the pool's
    /// (no connection within the pool's timeout: 503), the inner one the transaction's. On
    /// SQLite, when a pooled connection is free and no other connection holds the write lock,
    /// it runs on the calling worker ([`storage::try_write_tx`]): with `synchronous = NORMAL`
    /// a commit writes the WAL without waiting for the disk, and without the hand-off to the
    /// blocking pool and back the server spent about a third less CPU per registration. The
    /// commit that crosses SQLite's autocheckpoint mark (4,000 pages, about 180 registrations)
    /// checkpoints on the worker too; verifications' p99 beside 32 registering connections did
    /// not move (docs/performance.md). Otherwise, and on PostgreSQL, it waits its turn on the
    /// blocking pool.
    pub async fn db_write<T, E, F>(&self, f: F) -> ApiResult<Result<T, E>>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<storage::DbError> + Send + 'static,
    {
        let f = match self.free_sqlite_connection() {
            None => f,
            Some(mut conn) => match on_this_worker(&mut conn, |c| storage::try_write_tx(c, f))? {
                Ok(result) => {
                    conn.report(true);
                    return Ok(result);
                }
                Err(refused) => refused,
            },
        };
        self.db(move |conn| Ok(storage::write_tx(conn, f))).await
    }

    /// Like [`AppState::db`], but gives up (503) when no connection is free within `wait`:
    /// for background work that should rather retry at its next round than queue.
    pub async fn db_within<T, F>(&self, wait: std::time::Duration, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConn) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        // The blocking thread logs inside the request's span (its id in every line).
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _in_request = span.enter();
            let mut conn = pool
                .get_timeout(wait)
                .map_err(|e| ApiError::from(StorageError::Unavailable(e.to_string())))?;
            let result = f(&mut conn);
            report(&mut conn, &result);
            result
        })
        .await?
    }

    /// The sign-in page with the address filled in (`/login?login_hint=…`, as in OpenID
    /// Connect Core §3.1.2.1), for existing-account notices.
    pub fn login_link(&self, email: &str) -> String {
        format!(
            "{}/login?login_hint={}",
            self.base_url,
            email.replace('+', "%2B").replace('@', "%40")
        )
    }

    /// The link to an SPA route with a token in the fragment, e.g. `/invite#token=…`.
    pub fn link(&self, route: &str, token: &str) -> String {
        format!("{}{route}#token={token}", self.base_url)
    }
}

/// Loads the shipped common-password list (Django's 20,000 most common passwords, from
/// Royce Williams' list; BSD-3-Clause), lower-cased.
pub fn common_passwords() -> HashSet<String> {
    use std::io::Read;
    let gz: &[u8] = include_bytes!("../assets/common-passwords.txt.gz");
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_string(&mut text)
        .expect("the shipped password list is valid gzip");
    text.lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect()
}

impl AppState {
    /// On SQLite, a pooled connection if one is free at once; `None` on PostgreSQL.
    fn free_sqlite_connection(&self) -> Option<storage::PooledConn> {
        (self.backend == Backend::Sqlite)
            .then(|| self.pool.try_get())
            .flatten()
    }
}

/// Runs `f` with `conn` on the calling worker. A panic is a 500 as on the blocking pool, not
/// the end of the worker's connections; the connection goes back marked suspect, so it is
/// checked before its next use.
fn on_this_worker<R>(
    conn: &mut storage::PoolConn,
    f: impl FnOnce(&mut storage::PoolConn) -> R,
) -> ApiResult<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn))).map_err(|_| {
        conn.report(false);
        ApiError::internal("a database call panicked")
    })
}

/// Tells the pool how a use of `conn` went: a 500 or 503 (what a dead connection causes) makes
/// its next checkout ask the database first.
fn report<T>(conn: &mut crate::storage::PoolConn, result: &ApiResult<T>) {
    conn.report(!matches!(
        result,
        Err(e) if matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable)
    ));
}
