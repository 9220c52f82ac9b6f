//! The `auth0` app connection (`client-credentials`): the tenant's domain, a
//! Machine-to-Machine app's client id and secret, and the Management API's identifier as
//! audience, checked by getting a Management API token (as Infisical); and the clients helper.
//! Each connection's client is shared by its runs (`ClientCache`), so they reuse its token.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::connections::types::ConnectionType;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiPath;
use crate::providers::auth0::client::Auth0Client;
use crate::providers::auth0::wire::{Auth0Connection, Auth0ConnectionInput};
use crate::rotation::provider::{StepError, StepResult};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

pub const APP: &str = "auth0";
pub const CLIENT_CREDENTIALS: &str = "client-credentials";

pub struct Auth0App;

fn unable(reason: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Unable to validate connection: {reason}"))
}

/// The domain and audience as called: `https://` when no scheme, no trailing slash on the
/// domain, both through the address guard.
async fn checked(state: &AppState, input: &Auth0ConnectionInput) -> ApiResult<Auth0Connection> {
    let allow = state.allow_internal_urls;
    let domain = crate::providers::url_guard::check_url(&input.domain, allow, false)
        .await
        .map_err(unable)?;
    crate::providers::url_guard::check_url(&input.audience, allow, false)
        .await
        .map_err(unable)?;
    Ok(Auth0Connection {
        domain,
        client_id: input.client_id.trim().to_string(),
        client_secret: input.client_secret.trim().to_string().into(),
        audience: input.audience.trim().to_string(),
    })
}

fn guard(state: &AppState, c: &Auth0Connection) -> Result<(), String> {
    crate::providers::url_guard::check_literal(&c.domain, state.allow_internal_urls)?;
    crate::providers::url_guard::check_literal(&c.audience, state.allow_internal_urls)
}

impl ConnectionType for Auth0App {
    const APP: &'static str = APP;
    const NAME: &'static str = "Auth0";
    const METHODS: &'static [&'static str] = &[CLIENT_CREDENTIALS];

    type Input = Auth0ConnectionInput;
    type Credentials = Auth0Connection;

    async fn validate(
        state: &AppState,
        org: uuid::Uuid,
        _method: &str,
        input: &Auth0ConnectionInput,
    ) -> ApiResult<Auth0Connection> {
        let c = checked(state, input).await?;
        Self::check(state, org, c.clone()).await?;
        Ok(c)
    }

    async fn check(state: &AppState, _org: uuid::Uuid, c: Auth0Connection) -> ApiResult<()> {
        guard(state, &c).map_err(unable)?;
        Auth0Client::new(state.provider_http.clone(), c)
            .fetch_token()
            .await
            .map(drop)
            .map_err(|f| unable(f.message))
    }

    fn public(c: &Auth0Connection) -> Value {
        c.public()
    }

    fn helper_routes() -> axum::Router<AppState> {
        axum::Router::new().route(
            "/api/v1/app-connections/auth0/{connectionId}/clients",
            axum::routing::get(clients),
        )
    }
}

/// The connection's client, shared by its runs and rebuilt when the connection changes.
pub async fn shared_client(state: &AppState, row: &ConnectionRow) -> StepResult<Arc<Auth0Client>> {
    crate::connections::target::shared(state, row, |c: Auth0Connection| {
        guard(state, &c)
            .map_err(|e| StepError::Setup(format!("The app connection cannot be used: {e}")))?;
        Ok(Auth0Client::new(state.provider_http.clone(), c))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct Auth0ClientView {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Auth0Clients {
    pub clients: Vec<Auth0ClientView>,
}

#[utoipa::path(get, path = "/api/v1/app-connections/auth0/{connectionId}/clients", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), security(("bearer" = [])),
    description = "The tenant's applications but the connection's own and \"All Applications\" (the picker for a rotation's clientId).",
    responses((status = 200, body = Auth0Clients), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn clients(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Auth0Clients>> {
    let row = crate::http::app_connections::visible(
        &state,
        &auth,
        id,
        Some(APP),
        crate::access::Action::Read,
    )
    .await?;
    let client = shared_client(&state, &row).await?;
    let clients = client
        .clients()
        .await
        .map_err(|f| f.api("Failed to list Auth0 clients"))?;
    Ok(Json(Auth0Clients {
        clients: clients
            .into_iter()
            .map(|(id, name)| Auth0ClientView { id, name })
            .collect(),
    }))
}
