//! The `azure-client-secrets` app connection. `client-secret`: a tenant, and an app
//! registration's client id and secret with Graph's `Application.ReadWrite.All`, checked by
//! getting a Graph token (as Infisical). `certificate`: the same app registration's
//! certificate and private key instead of a secret, the token requested with a signed client
//! assertion (`assertion.rs`). `oauth` needs an OAuth app registration of the server's own and
//! a redirect back to it, which this server does not have: a clear 400. Each connection's
//! client is shared by its runs, so they reuse its token; and the clients helper.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Auth;
use crate::connections::types::ConnectionType;
use crate::error::{ApiError, ApiResult, ErrorBody, Issue};
use crate::http::extract::ApiPath;
use crate::providers::azure::assertion::ClientCertificate;
use crate::providers::azure::client::AzureClient;
use crate::providers::azure::wire::{AzureCertificate, AzureConnection, AzureConnectionInput};
use crate::rotation::provider::{StepError, StepResult};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

pub const APP: &str = "azure-client-secrets";
pub const CLIENT_SECRET: &str = "client-secret";
pub const OAUTH: &str = "oauth";
pub const CERTIFICATE: &str = "certificate";

pub struct AzureApp;

fn guard(state: &AppState) -> Result<(), String> {
    let allow = state.allow_internal_urls;
    crate::providers::url_guard::check_literal(&state.azure.login, allow)?;
    crate::providers::url_guard::check_literal(&state.azure.graph, allow)
}

fn required(field: &str) -> ApiError {
    ApiError::Validation(vec![Issue::new(
        "invalid_type",
        &["credentials", field],
        "Required".to_string(),
    )])
}

impl ConnectionType for AzureApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "Azure Client Secrets";
    const METHODS: &'static [&'static str] = &[CLIENT_SECRET, CERTIFICATE, OAUTH];

    type Input = AzureConnectionInput;
    type Credentials = AzureConnection;

    async fn validate(
        state: &AppState,
        org: uuid::Uuid,
        method: &str,
        input: &AzureConnectionInput,
    ) -> ApiResult<AzureConnection> {
        if method == OAUTH {
            return Err(ApiError::bad_request(
                "The oauth method needs an Azure OAuth app registration of this server's own (its client id and secret, and a redirect URI back to it), which this server does not have: use the client-secret or certificate method with an app registration that has Microsoft Graph's Application.ReadWrite.All",
            ));
        }
        let client_id = input
            .client_id
            .as_deref()
            .ok_or_else(|| required("clientId"))?;
        let (client_secret, certificate) = if method == CERTIFICATE {
            let body = input
                .certificate_body
                .as_deref()
                .ok_or_else(|| required("certificateBody"))?;
            let key = input
                .private_key
                .as_deref()
                .ok_or_else(|| required("privateKey"))?;
            // Checked here, before any call: a PEM certificate and the PKCS#8 key that is its.
            ClientCertificate::parse(body, key).map_err(ApiError::bad_request)?;
            (
                None,
                Some(AzureCertificate {
                    body: body.trim().to_string(),
                    private_key: key.trim().to_string().into(),
                }),
            )
        } else {
            let secret = input
                .client_secret
                .as_deref()
                .ok_or_else(|| required("clientSecret"))?;
            (Some(secret.to_string().into()), None)
        };
        let c = AzureConnection {
            tenant_id: input.tenant_id.trim().to_lowercase(),
            client_id: client_id.trim().to_lowercase(),
            client_secret,
            certificate,
        };
        Self::check(state, org, c.clone()).await?;
        Ok(c)
    }

    async fn check(state: &AppState, _org: uuid::Uuid, c: AzureConnection) -> ApiResult<()> {
        guard(state)
            .map_err(|e| ApiError::bad_request(format!("Unable to validate connection: {e}")))?;
        AzureClient::new(state.provider_http.clone(), c, state.azure.clone())
            .fetch_token()
            .await
            .map(drop)
            .map_err(|f| ApiError::bad_request(f.message))
    }

    fn public(c: &AzureConnection) -> Value {
        json!({"tenantId": c.tenant_id, "clientId": c.client_id})
    }

    fn helper_routes() -> axum::Router<AppState> {
        axum::Router::new().route(
            "/api/v1/app-connections/azure-client-secrets/{connectionId}/clients",
            axum::routing::get(clients),
        )
    }
}

/// The connection's client, shared by its runs and rebuilt when the connection changes.
pub async fn shared_client(state: &AppState, row: &ConnectionRow) -> StepResult<Arc<AzureClient>> {
    crate::connections::target::shared(state, row, |c: AzureConnection| {
        guard(state)
            .map_err(|e| StepError::Setup(format!("The app connection cannot be used: {e}")))?;
        Ok(AzureClient::new(
            state.provider_http.clone(),
            c,
            state.azure.clone(),
        ))
    })
    .await
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureClientView {
    pub name: String,
    /// The object id.
    pub id: String,
    /// The client id.
    pub app_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct AzureClients {
    pub clients: Vec<AzureClientView>,
}

#[utoipa::path(get, path = "/api/v1/app-connections/azure-client-secrets/{connectionId}/clients", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), security(("bearer" = [])),
    description = "The tenant's app registrations (the picker for a rotation's objectId and clientId).",
    responses((status = 200, body = AzureClients), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn clients(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AzureClients>> {
    let row = crate::http::app_connections::visible(
        &state,
        &auth,
        id,
        Some(APP),
        crate::access::Action::Read,
    )
    .await?;
    let client = shared_client(&state, &row).await?;
    let apps = client
        .applications()
        .await
        .map_err(|f| f.api("Failed to list Azure applications"))?;
    Ok(Json(AzureClients {
        clients: apps
            .into_iter()
            .map(|(id, name, app_id)| AzureClientView { name, id, app_id })
            .collect(),
    }))
}
