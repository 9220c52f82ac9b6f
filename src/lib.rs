//! Rotary: a secret-rotation server that speaks Infisical's API. This crate root wires the
//! pieces together; `main.rs` is only the command line.

pub mod access;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod client_cache;
pub mod config;
pub mod connections;
pub mod console;
pub mod crypto;
pub mod dev;
pub mod error;
pub mod http;
pub mod metrics;
pub mod mock;
pub mod providers;
pub mod rotation;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod validation;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;

pub use state::AppState;

/// Makes ring rustls's crypto for the whole process. Two providers are compiled in (ring,
/// which everything here names, and aws-lc-rs, which tiberius's TLS asks for), and then
/// libraries that take the process default (redis, ldap3) would find none and panic.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The schema, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(5);

pub async fn connect(
    database_url: &secrecy::SecretString,
    max_connections: u32,
) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings every connection it hands out by default: a round trip per statement
        // outside a transaction, about a third of a rotation's round trips (profiled in issue
        // 7). A connection busy a moment ago is alive; one idle for a while (a database
        // restart, a dropped NAT entry) is still checked before use.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect(database_url.expose_secret())
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database in DATABASE_URL: {e}"))
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))
}

/// Serves the API on `listener` until `shutdown` resolves; requests in flight then finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Before the first request or scheduled run: other replicas can tell this worker is alive.
    rotation::liveness::hold(&state).await;
    let invalidations = tokio::spawn(cache::follow_invalidations(state.clone()));
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    invalidations.abort();
    served
}

/// A whole server on an open pool: the scheduler (which also resumes runs a previous process
/// left unfinished: crash, kill -9) and the API on `listener` until `shutdown` resolves.
pub async fn run_server(
    pool: PgPool,
    listener: TcpListener,
    root_key: crypto::Key,
    options: config::Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let scheduler = options.scheduler.clone();
    let state = AppState::new(pool, root_key, options);
    rotation::scheduler::spawn(state.clone(), scheduler);
    serve(listener, state, shutdown).await
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
