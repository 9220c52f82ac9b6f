//! The `okta` app connection (`api-token`): the org's URL and an SSWS API token of an admin
//! that may manage the apps' client secrets, checked with `GET /api/v1/users/me` (as
//! Infisical), and the apps helper that lists the org's active OIDC apps.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::connections::types::ConnectionType;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiPath;
use crate::providers::okta::client::OktaClient;
use crate::providers::okta::wire::{OktaConnection, OktaConnectionInput};
use crate::state::AppState;

pub const APP: &str = "okta";
pub const API_TOKEN: &str = "api-token";

pub struct OktaApp;

/// Infisical answers any refusal of `users/me` with this 401.
const INVALID: &str = "Unable to validate connection: invalid credentials";

/// The URL as called: trimmed, no trailing slash, through the address guard.
async fn instance_url(state: &AppState, raw: &str) -> ApiResult<String> {
    crate::providers::url_guard::check_url(raw, state.allow_internal_urls, false)
        .await
        .map_err(|e| ApiError::bad_request(format!("Unable to validate connection: {e}")))
}

impl ConnectionType for OktaApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "Okta";
    const METHODS: &'static [&'static str] = &[API_TOKEN];

    type Input = OktaConnectionInput;
    type Credentials = OktaConnection;

    async fn validate(
        state: &AppState,
        org: uuid::Uuid,
        _method: &str,
        input: &OktaConnectionInput,
    ) -> ApiResult<OktaConnection> {
        let c = OktaConnection {
            instance_url: instance_url(state, &input.instance_url).await?,
            api_token: input.api_token.trim().to_string().into(),
        };
        Self::check(state, org, c.clone()).await?;
        Ok(c)
    }

    async fn check(state: &AppState, _org: uuid::Uuid, c: OktaConnection) -> ApiResult<()> {
        crate::providers::url_guard::check_literal(&c.instance_url, state.allow_internal_urls)
            .map_err(|e| ApiError::bad_request(format!("Unable to validate connection: {e}")))?;
        let client = OktaClient::new(state.provider_http.clone(), c);
        match client.me().await {
            Ok(()) => Ok(()),
            Err(f) if f.status.is_none() => Err(ApiError::bad_request(format!(
                "Unable to validate connection: {}",
                f.message
            ))),
            Err(_) => Err(ApiError::unauthorized(INVALID)),
        }
    }

    fn public(c: &OktaConnection) -> Value {
        json!({"instanceUrl": c.instance_url})
    }

    fn helper_routes() -> axum::Router<AppState> {
        axum::Router::new().route(
            "/api/v1/app-connections/okta/{connectionId}/apps",
            axum::routing::get(apps),
        )
    }
}

#[derive(Serialize, ToSchema)]
pub struct OktaAppView {
    pub id: String,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct OktaApps {
    pub apps: Vec<OktaAppView>,
}

#[utoipa::path(get, path = "/api/v1/app-connections/okta/{connectionId}/apps", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), security(("bearer" = [])),
    description = "The org's active OIDC apps (the picker for a rotation's clientId).",
    responses((status = 200, body = OktaApps), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn apps(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<OktaApps>> {
    let c: OktaConnection = crate::connections::target::saved(&state, &auth, id, APP).await?;
    crate::providers::url_guard::check_literal(&c.instance_url, state.allow_internal_urls)
        .map_err(|e| ApiError::bad_request(format!("The app connection cannot be used: {e}")))?;
    let apps = OktaClient::new(state.provider_http.clone(), c)
        .apps()
        .await
        .map_err(|f| f.api("Failed to list Okta apps"))?;
    Ok(Json(OktaApps {
        apps: apps
            .into_iter()
            .map(|a| OktaAppView {
                id: a.id,
                label: a.label,
            })
            .collect(),
    }))
}
