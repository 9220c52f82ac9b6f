//! The app-connection types (crates.io's job registry is the model, as for rotation types):
//! what each app's create body holds, how its credentials are checked against the provider
//! before they are sealed, and what of them the API shows. One set of handlers
//! (`http::app_connections::routes::<C>()`) serves every app from these.

use std::future::Future;

use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::http::app_connections::AppConnectionView;
use crate::http::extract::from_value;
use crate::state::AppState;

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait ConnectionType: Send + Sync + 'static {
    /// The path segment and the `app` field: "salesforce", "postgres".
    const APP: &'static str;
    /// "Salesforce", "PostgreSQL": the options list and messages.
    const NAME: &'static str;
    /// The `method` values it takes; the first is the default of the options list.
    const METHODS: &'static [&'static str];
    /// Operation ids that predate the per-app naming and stay as published: (operation, id).
    const LEGACY_OPERATION_IDS: &'static [(&'static str, &'static str)] = &[];

    /// `credentials` of the create and update bodies.
    type Input: DeserializeOwned + Validate + ToSchema + Send + Sync;
    /// What is sealed into `credentials_ct` (secrets serialized through `sealed::expose`).
    type Credentials: Serialize + DeserializeOwned + Send + Sync;

    /// Checks the credentials against the provider (address guard, connect, authenticate):
    /// the credentials to seal, or a 400 saying why not, never quoting a secret.
    /// `org` is the connection's organization (AWS's assume-role sends it as the ExternalId).
    fn validate(
        state: &AppState,
        org: Uuid,
        method: &str,
        input: &Self::Input,
    ) -> impl Future<Output = ApiResult<Self::Credentials>> + Send;

    /// Checks saved credentials against the provider as `validate` does (the console's
    /// "Check"): a 400 saying why they no longer work.
    fn check(
        state: &AppState,
        org: Uuid,
        credentials: Self::Credentials,
    ) -> impl Future<Output = ApiResult<()>> + Send;

    /// The non-secret part, stored in `public_config` and shown as `credentials`.
    fn public(credentials: &Self::Credentials) -> Value;

    /// Extra routes under `/api/v1/app-connections/{APP}/{connectionId}/…` (Salesforce's
    /// oauth-apps), documented by the handlers' own `#[utoipa::path]`.
    fn helper_routes() -> Router<AppState> {
        Router::new()
    }
}

/// A connection type, type-erased, for the router, the OpenAPI document and the options list.
pub trait RegisteredConnection: Send + Sync {
    fn app(&self) -> &'static str;
    fn name(&self) -> &'static str;
    fn methods(&self) -> &'static [&'static str];
    fn routes(&self) -> Router<AppState>;
    fn document(&self, doc: &mut utoipa::openapi::OpenApi);
    /// `connections::service::create` for a caller that knows the app only at run time (the
    /// console): the body arrives as the API's JSON and goes through its parsing.
    fn create<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        body: Value,
    ) -> BoxFuture<'a, ApiResult<AppConnectionView>>;
    /// Checks a saved connection the caller may read against the provider.
    fn check<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<()>>;
}

pub struct Entry<C>(std::marker::PhantomData<fn() -> C>);

impl<C> Entry<C> {
    pub const fn new() -> Self {
        Entry(std::marker::PhantomData)
    }
}

impl<C> Default for Entry<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: ConnectionType> RegisteredConnection for Entry<C> {
    fn app(&self) -> &'static str {
        C::APP
    }
    fn name(&self) -> &'static str {
        C::NAME
    }
    fn methods(&self) -> &'static [&'static str] {
        C::METHODS
    }
    fn routes(&self) -> Router<AppState> {
        crate::http::app_connections::routes::<C>()
    }
    fn document(&self, doc: &mut utoipa::openapi::OpenApi) {
        crate::http::app_connections::openapi::document::<C>(doc)
    }
    fn create<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        body: Value,
    ) -> BoxFuture<'a, ApiResult<AppConnectionView>> {
        Box::pin(async move {
            crate::connections::service::create::<C>(state, auth, from_value(body)?).await
        })
    }
    fn check<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<()>> {
        Box::pin(async move {
            let credentials = crate::connections::target::saved(state, auth, id, C::APP).await?;
            C::check(state, auth.org_id, credentials).await
        })
    }
}

/// Every app connection type: one line each.
pub static CONNECTION_TYPES: &[&dyn RegisteredConnection] = &[
    &Entry::<crate::providers::auth0::connection::Auth0App>::new(),
    #[cfg(feature = "aws")]
    &Entry::<crate::providers::aws::connection::AwsApp>::new(),
    &Entry::<crate::providers::azure::connection::AzureApp>::new(),
    &Entry::<crate::providers::ldap::connection::LdapApp>::new(),
    #[cfg(feature = "mongodb")]
    &Entry::<crate::providers::mongodb::connection::MongoApp>::new(),
    #[cfg(feature = "mssql")]
    &Entry::<crate::providers::mssql::connection::MssqlApp>::new(),
    &Entry::<crate::providers::mysql::connection::MysqlApp>::new(),
    &Entry::<crate::providers::okta::connection::OktaApp>::new(),
    #[cfg(feature = "oracle")]
    &Entry::<crate::providers::oracle::connection::OracleApp>::new(),
    &Entry::<crate::providers::postgres::connection::PostgresApp>::new(),
    &Entry::<crate::providers::redis::connection::RedisApp>::new(),
    &Entry::<crate::providers::salesforce::connection::SalesforceApp>::new(),
];

pub fn by_app(app: &str) -> Option<&'static dyn RegisteredConnection> {
    CONNECTION_TYPES.iter().copied().find(|c| c.app() == app)
}
