//! The `salesforce` app connection (`client-credentials`): the org's instance URL and an
//! External Client App's consumer key and secret, checked by getting a token. Stored exactly
//! as since the first release (sealed `{instanceUrl, consumerKey, consumerSecret}`, public
//! `{instanceUrl}`), so no data migration.

use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use validator::Validate;

use crate::connections::types::ConnectionType;
use crate::error::{ApiError, ApiResult};
use crate::providers::salesforce::SalesforceClient;
use crate::providers::url_guard::check_instance_url;
use crate::rotation::provider::sealed;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

pub const APP: &str = "salesforce";
pub const CLIENT_CREDENTIALS: &str = "client-credentials";

pub struct SalesforceApp;

/// The connection's secrets, as stored (sealed).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceCredentials {
    pub instance_url: String,
    pub consumer_key: String,
    #[serde(serialize_with = "sealed::expose")]
    pub consumer_secret: SecretString,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceCredentialsInput {
    /// The org's My Domain URL, e.g. https://acme.my.salesforce.com.
    #[validate(length(min = 1, message = "Instance URL required"))]
    pub instance_url: String,
    #[validate(length(min = 1, message = "Consumer Key required"))]
    pub consumer_key: String,
    #[validate(length(min = 1, message = "Consumer Secret required"))]
    #[schema(value_type = String)]
    pub consumer_secret: String,
}

impl ConnectionType for SalesforceApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "Salesforce";
    const METHODS: &'static [&'static str] = &[CLIENT_CREDENTIALS];
    const LEGACY_OPERATION_IDS: &'static [(&'static str, &'static str)] = &[
        ("list", "list_salesforce"),
        ("get", "get_salesforce"),
        ("create", "create_salesforce"),
        ("update", "update_salesforce"),
        ("delete", "delete_salesforce"),
    ];

    type Input = SalesforceCredentialsInput;
    type Credentials = SalesforceCredentials;

    /// Checks the URL and gets a token with the credentials.
    async fn validate(
        state: &AppState,
        _org: uuid::Uuid,
        _method: &str,
        input: &SalesforceCredentialsInput,
    ) -> ApiResult<SalesforceCredentials> {
        let failed = |reason: String| {
            ApiError::bad_request(format!("Failed to validate credentials: {reason}"))
        };
        let instance_url = check_instance_url(&input.instance_url, state.allow_internal_urls)
            .await
            .map_err(failed)?;
        let secret = SecretString::from(input.consumer_secret.trim().to_string());
        let client = SalesforceClient::new(
            state.provider_http.clone(),
            &instance_url,
            input.consumer_key.trim(),
            secret.clone(),
        );
        client.fetch_token().await.map_err(|e| failed(e.message))?;
        Ok(SalesforceCredentials {
            instance_url,
            consumer_key: input.consumer_key.trim().to_string(),
            consumer_secret: secret,
        })
    }

    /// Gets a token with saved credentials (the console's "Check").
    async fn check(state: &AppState, _org: uuid::Uuid, c: SalesforceCredentials) -> ApiResult<()> {
        crate::providers::url_guard::check_literal(&c.instance_url, state.allow_internal_urls)
            .map_err(|e| {
                ApiError::bad_request(format!("The app connection cannot be used: {e}"))
            })?;
        SalesforceClient::new(
            state.provider_http.clone(),
            &c.instance_url,
            &c.consumer_key,
            c.consumer_secret,
        )
        .fetch_token()
        .await
        .map(drop)
        .map_err(|e| {
            ApiError::bad_request(format!("Failed to validate credentials: {}", e.message))
        })
    }

    fn public(credentials: &SalesforceCredentials) -> Value {
        json!({"instanceUrl": credentials.instance_url})
    }

    fn helper_routes() -> axum::Router<AppState> {
        axum::Router::new().route(
            "/api/v1/app-connections/salesforce/{connectionId}/oauth-apps",
            axum::routing::get(crate::http::app_connections::oauth_apps),
        )
    }
}

/// The Salesforce client of a connection, shared by all its runs so that they reuse one
/// access token instead of asking for a new one each time (the client refreshes it when
/// Salesforce refuses the session). Rebuilt when the connection changes.
pub async fn shared_client(
    state: &AppState,
    row: &ConnectionRow,
) -> ApiResult<Arc<SalesforceClient>> {
    if let Some(client) = state.clients.get::<SalesforceClient>(row) {
        return Ok(client);
    }
    let client = Arc::new(client(state, row).await?);
    state.clients.put(row, client.clone());
    Ok(client)
}

/// A Salesforce client logged in with the connection's credentials.
pub async fn client(state: &AppState, row: &ConnectionRow) -> ApiResult<SalesforceClient> {
    let creds: SalesforceCredentials = crate::connections::open_as(state, row).await?;
    crate::providers::url_guard::check_literal(&creds.instance_url, state.allow_internal_urls)
        .map_err(|e| ApiError::bad_request(format!("The app connection cannot be used: {e}")))?;
    Ok(SalesforceClient::new(
        state.provider_http.clone(),
        &creds.instance_url,
        &creds.consumer_key,
        creds.consumer_secret,
    ))
}

/// The org's External Client Apps with OAuth usage (the picker for a rotation's appId and
/// appName), if the caller may read the connection.
pub async fn oauth_apps(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: uuid::Uuid,
) -> ApiResult<Vec<crate::http::app_connections::OauthAppView>> {
    use crate::http::app_connections::{provider_error, visible, OauthAppView};
    let row = visible(state, auth, id, Some(APP), crate::access::Action::Read).await?;
    let apps = client(state, &row)
        .await?
        .list_apps()
        .await
        .map_err(|e| provider_error("Failed to list Salesforce apps", e))?;
    Ok(apps
        .into_iter()
        .map(|a| OauthAppView {
            identifier: a.identifier,
            developer_name: a.developer_name,
        })
        .collect())
}
