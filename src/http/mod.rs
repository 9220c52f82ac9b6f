//! The HTTP surface: every route, the middleware around them, and the OpenAPI document
//! generated from the same handlers.

pub mod app_connections;
pub mod audit_logs;
pub mod auth;
pub mod dashboard;
pub mod extract;
pub mod folders;
pub mod health;
pub mod identities;
pub mod openapi_ops;
pub mod projects;
pub mod prometheus;
pub mod scope;
pub mod secret_rotations;
pub mod secrets;
pub mod webhooks;

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rand::distributions::{Alphanumeric, DistString};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, REQUEST_ID};
use crate::state::AppState;

/// CORS for browser UIs on other origins, as `ROTARY_CORS_ORIGINS` allows (none by default).
/// Bearer tokens travel in a header, so no credentials (cookies) are allowed cross-origin.
fn cors(origins: &crate::config::CorsOrigins) -> Option<CorsLayer> {
    use crate::config::CorsOrigins;
    use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
    let allow = match origins {
        CorsOrigins::None => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => {
            AllowOrigin::list(list.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        }
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
            ])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE])
            .expose_headers([axum::http::HeaderName::from_static("x-request-id")])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

pub fn router(state: AppState) -> Router {
    use app_connections as ac;
    use folders as f;
    use identities as id;
    use projects as p;
    use secret_rotations as sr;
    use secrets as s;
    let cors = cors(&state.cors_origins);
    let router = Router::new()
        .route("/api/status", get(health::status))
        .route("/metrics", get(prometheus::render))
        .route("/api/v1/admin/bootstrap", post(auth::bootstrap))
        .route("/api/v1/auth/universal-auth/login", post(auth::login))
        .route("/api/v1/auth/token/renew", post(auth::renew))
        .route("/api/v1/auth/token/revoke", post(auth::revoke))
        .route("/api/v1/identities", post(id::create_identity).get(id::list_identities))
        .route(
            "/api/v1/identities/{identityId}",
            get(id::get_identity).patch(id::update_identity).delete(id::delete_identity),
        )
        .route(
            "/api/v1/auth/universal-auth/identities/{identityId}",
            post(id::attach_universal_auth)
                .get(id::get_universal_auth)
                .patch(id::update_universal_auth)
                .delete(id::delete_universal_auth),
        )
        .route(
            "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets",
            post(id::create_client_secret).get(id::list_client_secrets),
        )
        .route(
            "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}",
            get(id::get_client_secret),
        )
        .route(
            "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}/revoke",
            post(id::revoke_client_secret),
        )
        .route("/api/v2/workspace", post(p::create_project))
        .route("/api/v1/workspace", get(p::list_projects))
        .route("/api/v1/workspace/{projectId}", get(p::get_project))
        .route("/api/v1/workspace/{projectId}/audit-logs", get(audit_logs::list))
        .route(
            "/api/v1/workspace/{projectId}/secret-rotations/summary",
            get(dashboard::summary),
        )
        .route("/api/v1/workspace/{projectId}/environments", post(p::create_environment))
        .route(
            "/api/v1/workspace/{projectId}/environments/{envId}",
            get(p::get_environment).patch(p::update_environment).delete(p::delete_environment),
        )
        .route("/api/v2/workspace/{projectId}/identity-memberships", get(p::list_memberships))
        .route(
            "/api/v2/workspace/{projectId}/identity-memberships/{identityId}",
            post(p::add_membership)
                .get(p::get_membership)
                .patch(p::update_membership)
                .delete(p::delete_membership),
        )
        .route("/api/v1/folders", post(f::create_folder).get(f::list_folders))
        .route("/api/v2/folders", post(f::create_folder).get(f::list_folders))
        .route(
            "/api/v1/folders/{folderId}",
            get(f::get_folder).patch(f::update_folder).delete(f::delete_folder),
        )
        .route(
            "/api/v2/folders/{folderId}",
            get(f::get_folder).patch(f::update_folder).delete(f::delete_folder),
        )
        .route("/api/v1/app-connections", get(ac::list_all))
        .route("/api/v1/app-connections/options", get(ac::options))
        .route("/api/v2/secret-rotations", get(sr::list_all))
        .route("/api/v2/secret-rotations/options", get(sr::options))
        .route("/api/v1/webhooks", post(webhooks::create).get(webhooks::list))
        .route(
            "/api/v1/webhooks/{webhookId}",
            axum::routing::patch(webhooks::update).delete(webhooks::delete),
        )
        .route("/api/v1/webhooks/{webhookId}/test", post(webhooks::test))
        .route("/api/v3/secrets/raw", get(s::list_secrets))
        .route(
            "/api/v3/secrets/raw/{secretName}",
            get(s::get_secret)
                .post(s::create_secret)
                .patch(s::update_secret)
                .delete(s::delete_secret),
        )
        .merge(connection_routes())
        .merge(rotation_routes())
        .merge(crate::console::routes())
        .route_layer(axum::middleware::from_fn(http_metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            forget_cached_lookups,
        ))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(axum::middleware::from_fn(request_context));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Every app's connection routes (`app_connections::routes::<C>()`), from the registry.
fn connection_routes() -> Router<AppState> {
    crate::connections::types::CONNECTION_TYPES
        .iter()
        .fold(Router::new(), |router, c| router.merge(c.routes()))
}

/// Every public rotation type's routes (`secret_rotations::routes::<T>()`), from the registry.
fn rotation_routes() -> Router<AppState> {
    crate::rotation::registry::public().fold(Router::new(), |router, t| router.merge(t.routes()))
}

async fn route_not_found(req: Request) -> ApiError {
    ApiError::not_found(format!(
        "Route {}:{} not found",
        req.method(),
        req.uri().path()
    ))
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "Method {} is not allowed on {}",
        req.method(),
        req.uri().path()
    ))
}

/// Gives every request an id (in the response's `x-request-id`, in error bodies as `reqId`,
/// and on every log line of the request) and logs one line when it finishes. Query strings
/// and bodies are never logged.
async fn request_context(req: Request, next: Next) -> Response {
    let id = format!(
        "req-{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 14)
    );
    let span = tracing::info_span!("request", req_id = %id, method = %req.method(), path = %req.uri().path());
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request finished"
        )
    });
    response
}

/// A request that may have changed what `cache` holds clears this process's cache when it
/// ends, so the caller's next request sees the change (other replicas hear of it from the
/// database). Reads and logins leave it alone.
async fn forget_cached_lookups(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let keeps = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.uri().path() == "/api/v1/auth/universal-auth/login";
    let response = next.run(req).await;
    if !keeps {
        state.lookups.clear();
    }
    response
}

/// Requests by route template (not the raw path, which would explode the label space).
async fn http_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("rotary_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("rotary_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Access token from POST /api/v1/auth/universal-auth/login",
                    ))
                    .build(),
            ),
        );
    }
}

/// Each connection type's and public rotation type's schemas and operations
/// (`app_connections::openapi`, `secret_rotations::openapi`).
struct RotationTypes;

impl Modify for RotationTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for c in crate::connections::types::CONNECTION_TYPES {
            c.document(openapi);
        }
        for t in crate::rotation::registry::public() {
            t.document(openapi);
        }
        #[cfg(feature = "aws")]
        openapi.merge(AwsDoc::openapi());
    }
}

/// The helper routes of the types behind a cargo feature.
#[cfg(feature = "aws")]
#[derive(OpenApi)]
#[openapi(paths(crate::providers::aws::connection::users))]
struct AwsDoc;

#[derive(OpenApi)]
#[openapi(
    info(title = "Rotary", description = "Secret rotation server, wire-compatible with Infisical's API"),
    modifiers(&BearerAuth, &RotationTypes),
    paths(
        health::status, prometheus::render, dashboard::summary,
        auth::bootstrap, auth::login, auth::renew, auth::revoke,
        identities::create_identity, identities::list_identities, identities::get_identity,
        identities::update_identity, identities::delete_identity,
        identities::attach_universal_auth, identities::get_universal_auth,
        identities::update_universal_auth, identities::delete_universal_auth,
        identities::create_client_secret, identities::list_client_secrets,
        identities::get_client_secret, identities::revoke_client_secret,
        projects::create_project, projects::list_projects, projects::get_project,
        projects::create_environment, projects::get_environment,
        projects::update_environment, projects::delete_environment,
        projects::add_membership, projects::list_memberships, projects::get_membership,
        projects::update_membership, projects::delete_membership,
        folders::create_folder, folders::list_folders, folders::get_folder,
        folders::update_folder, folders::delete_folder,
        secrets::list_secrets, secrets::get_secret, secrets::create_secret,
        secrets::update_secret, secrets::delete_secret,
        app_connections::options, app_connections::list_all, app_connections::oauth_apps,
        crate::providers::okta::connection::apps, crate::providers::auth0::connection::clients,
        crate::providers::azure::connection::clients,
        secret_rotations::options, secret_rotations::list_all,
        audit_logs::list,
        webhooks::create, webhooks::list, webhooks::update, webhooks::delete, webhooks::test,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::Issue, crate::error::ErrorMessage, crate::error::PathSegment, crate::error::DeniedRule))
)]
pub struct ApiDoc;

/// The OpenAPI document as YAML, exactly as `rotary openapi` prints it.
pub fn openapi_yaml() -> String {
    ApiDoc::openapi()
        .to_yaml()
        .expect("the OpenAPI document serializes")
}
