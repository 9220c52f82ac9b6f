//! What every handler shares: the pool, the root key, the cache of unwrapped project data keys,
//! and the login limiter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::rate_limit::FailureLimiter;
use crate::config::Options;
use crate::crypto::Key;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub pool: PgPool,
    pub root_key: Key,
    /// Unwrapped project data keys, so a read does not unwrap on every request.
    pub data_keys: Mutex<HashMap<Uuid, Key>>,
    pub login_limiter: FailureLimiter,
    pub allow_internal_urls: bool,
    /// Rotation intervals count minutes instead of days (demos and tests).
    pub rotation_dev_mode: bool,
    /// Seconds a worker owns a rotation run between lease renewals.
    pub lease_seconds: i64,
    pub retry: crate::config::RetryPolicy,
    /// Shared by every provider call: connection pooling and bounded timeouts.
    pub provider_http: reqwest::Client,
    /// Provider clients (Salesforce's hold an access token) by app connection: see
    /// `connections::ClientCache`.
    pub clients: crate::client_cache::ClientCache,
    /// Tokens, memberships, environments and connections: see `cache`.
    pub lookups: crate::cache::Lookups,
    pub cors_origins: crate::config::CorsOrigins,
    pub metrics_token: Option<secrecy::SecretString>,
    pub azure: crate::config::AzureEndpoints,
    pub aws: crate::config::AwsSettings,
    /// ROTARY_PROVIDER_TIMEOUT_SECONDS, for the clients that are not `provider_http` (AWS's SDK).
    pub provider_timeout: std::time::Duration,
    /// Whether this server took its worker's liveness lock (`rotation::liveness`).
    pub liveness_held: std::sync::atomic::AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(pool: PgPool, root_key: Key, options: Options) -> Self {
        crate::metrics::handle();
        crate::install_crypto_provider();
        AppState(Arc::new(Inner {
            pool,
            root_key,
            data_keys: Mutex::new(HashMap::new()),
            login_limiter: FailureLimiter::new(options.limits.failed_logins_per_minute, 60),
            allow_internal_urls: options.allow_internal_urls,
            rotation_dev_mode: options.rotation_dev_mode,
            lease_seconds: options.lease_seconds,
            retry: options.retry,
            provider_http: crate::providers::url_guard::http_client(
                options.provider_timeout,
                options.allow_internal_urls,
            ),
            clients: Default::default(),
            lookups: Default::default(),
            cors_origins: options.cors_origins.clone(),
            metrics_token: options.metrics_token.clone(),
            azure: options.azure.clone(),
            aws: options.aws.clone(),
            provider_timeout: options.provider_timeout,
            liveness_held: Default::default(),
        }))
    }
}

impl crate::cache::Source for AppState {
    fn pool(&self) -> &PgPool {
        &self.pool
    }
    fn lookups(&self) -> &crate::cache::Lookups {
        &self.lookups
    }
}
