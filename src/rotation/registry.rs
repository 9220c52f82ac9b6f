//! The rotation types this binary knows, type-erased (crates.io's `JobRegistry` is the model):
//! the scheduler, rotate-secrets and crash recovery find a run's type by its slug. A replica
//! claims only rotations of types it knows, so a rolling upgrade that adds a type never has
//! an older replica fail its runs.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use axum::Router;

use serde_json::Value;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::http::extract::from_value;
use crate::http::secret_rotations::{
    self as http, DeleteQuery, RotationOption, RotationView, RunView,
};
use crate::rotation::api::RotationApi;
use crate::rotation::engine::{self, RunError};
use crate::rotation::provider::Phase;
use crate::rotation::service;
use crate::state::AppState;
use crate::store::rotations::{RotationRow, RunRow};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait RegisteredType: Send + Sync {
    fn slug(&self) -> &'static str;
    fn name(&self) -> &'static str;
    /// The app of the connections it rotates through.
    fn app(&self) -> &'static str;
    /// Whether it is served and documented (the engine tests' fake type is not).
    fn public(&self) -> bool;
    /// Its entry in `GET /api/v2/secret-rotations/options`.
    fn option(&self) -> RotationOption;
    /// Its routes under `/api/v2/secret-rotations/{slug}`.
    fn routes(&self) -> Router<AppState>;
    /// Adds its schemas and operations to the OpenAPI document.
    fn document(&self, doc: &mut utoipa::openapi::OpenApi);
    /// `rotation::service` for a caller that knows the type only at run time (the console):
    /// bodies arrive as the API's JSON and go through its parsing and validation.
    fn service(&self) -> &dyn ErasedService;
    /// The labels of the phases a run journals, in order (tests enumerate crash points).
    fn phase_labels(&self) -> Vec<&'static str>;
    /// (mapping field, default secret name), in the type's order.
    fn secrets(&self) -> &'static [(&'static str, &'static str)];
    fn execute<'a>(
        &'a self,
        state: &'a AppState,
        run: RunRow,
        rotation: RotationRow,
    ) -> BoxFuture<'a, Result<RotationRow, RunError>>;
}

/// `rotation::service`'s operations, type-erased.
pub trait ErasedService: Send + Sync {
    fn create<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        body: Value,
    ) -> BoxFuture<'a, ApiResult<RotationView>>;
    fn get<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<RotationView>>;
    fn runs<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<Vec<RunView>>>;
    fn update<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
        body: Value,
    ) -> BoxFuture<'a, ApiResult<RotationView>>;
    fn delete<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
        query: &'a DeleteQuery,
    ) -> BoxFuture<'a, ApiResult<RotationView>>;
    fn rotate<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<RotationView>>;
    fn check<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<()>>;
}

impl<T: RotationApi> ErasedService for Entry<T> {
    fn create<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        body: Value,
    ) -> BoxFuture<'a, ApiResult<RotationView>> {
        Box::pin(async move { service::create::<T>(state, auth, from_value(body)?).await })
    }
    fn get<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<RotationView>> {
        Box::pin(service::get::<T>(state, auth, id))
    }
    fn runs<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<Vec<RunView>>> {
        Box::pin(service::runs::<T>(state, auth, id))
    }
    fn update<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
        body: Value,
    ) -> BoxFuture<'a, ApiResult<RotationView>> {
        Box::pin(async move { service::update::<T>(state, auth, id, from_value(body)?).await })
    }
    fn delete<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
        query: &'a DeleteQuery,
    ) -> BoxFuture<'a, ApiResult<RotationView>> {
        Box::pin(service::delete::<T>(state, auth, id, query))
    }
    fn rotate<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<RotationView>> {
        Box::pin(service::rotate_secrets::<T>(state, auth, id))
    }
    fn check<'a>(
        &'a self,
        state: &'a AppState,
        auth: &'a Auth,
        id: Uuid,
    ) -> BoxFuture<'a, ApiResult<()>> {
        Box::pin(service::check_credentials::<T>(state, auth, id))
    }
}

/// A rotation type in the registry.
pub struct Entry<T>(PhantomData<fn() -> T>);

impl<T> Entry<T> {
    pub const fn new() -> Self {
        Entry(PhantomData)
    }
}

impl<T> Default for Entry<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: RotationApi> RegisteredType for Entry<T> {
    fn slug(&self) -> &'static str {
        T::TYPE
    }
    fn name(&self) -> &'static str {
        T::NAME
    }
    fn app(&self) -> &'static str {
        T::APP
    }
    fn public(&self) -> bool {
        T::PUBLIC
    }
    fn option(&self) -> RotationOption {
        RotationOption {
            name: T::NAME.into(),
            rotation_type: T::TYPE.into(),
            connection: T::APP.into(),
            template: T::template(),
        }
    }
    fn routes(&self) -> Router<AppState> {
        http::routes::<T>()
    }
    fn document(&self, doc: &mut utoipa::openapi::OpenApi) {
        http::openapi::document::<T>(doc)
    }
    fn service(&self) -> &dyn ErasedService {
        self
    }
    fn secrets(&self) -> &'static [(&'static str, &'static str)] {
        T::SECRETS
    }
    fn phase_labels(&self) -> Vec<&'static str> {
        T::PHASES
            .iter()
            .map(|p| T::label(*p))
            .chain([T::label(Phase::Published)])
            .collect()
    }
    fn execute<'a>(
        &'a self,
        state: &'a AppState,
        run: RunRow,
        rotation: RotationRow,
    ) -> BoxFuture<'a, Result<RotationRow, RunError>> {
        Box::pin(engine::execute_typed::<T>(state, run, rotation))
    }
}

/// Every rotation type: one line each.
pub static TYPES: &[&dyn RegisteredType] = &[
    &Entry::<crate::providers::salesforce::rotation::SalesforceOAuthCredentials>::new(),
    &Entry::<crate::providers::postgres::rotation::PostgresCredentials>::new(),
    &Entry::<crate::providers::mysql::rotation::MysqlCredentials>::new(),
    &Entry::<crate::providers::redis::rotation::RedisCredentials>::new(),
    &Entry::<crate::providers::ldap::rotation::LdapPassword>::new(),
    &Entry::<crate::providers::okta::rotation::OktaClientSecret>::new(),
    &Entry::<crate::providers::auth0::rotation::Auth0ClientSecret>::new(),
    &Entry::<crate::providers::azure::rotation::AzureClientSecret>::new(),
    #[cfg(feature = "aws")]
    &Entry::<crate::providers::aws::rotation::AwsIamUserSecret>::new(),
    #[cfg(feature = "mongodb")]
    &Entry::<crate::providers::mongodb::rotation::MongoCredentials>::new(),
    #[cfg(feature = "mssql")]
    &Entry::<crate::providers::mssql::rotation::MssqlCredentials>::new(),
    #[cfg(feature = "oracle")]
    &Entry::<crate::providers::oracle::rotation::OracleCredentials>::new(),
    #[cfg(all(feature = "crash-points", debug_assertions))]
    &Entry::<crate::rotation::fake::FakeRotation>::new(),
];

/// The types the API serves and documents.
pub fn public() -> impl Iterator<Item = &'static dyn RegisteredType> {
    TYPES.iter().copied().filter(|t| t.public())
}

pub fn by_slug(slug: &str) -> Option<&'static dyn RegisteredType> {
    TYPES.iter().copied().find(|t| t.slug() == slug)
}

/// The slugs of every known type (the scheduler claims only these).
pub fn slugs() -> Vec<String> {
    TYPES.iter().map(|t| t.slug().to_string()).collect()
}
