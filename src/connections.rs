//! App connections as the rest of Rotary uses them: sealing and opening their credentials
//! with the right key, and building a provider client from one.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::access::project_key;
use crate::crypto::Key;
use crate::error::{ApiError, ApiResult};
use crate::providers::salesforce::SalesforceClient;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;
use crate::store::projects;

/// Salesforce client-credentials connection secrets, as stored (sealed) in the database.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceCredentials {
    pub instance_url: String,
    pub consumer_key: String,
    pub consumer_secret: SecretString,
}

impl Serialize for SecretHolder<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose_secret())
    }
}

/// Serializes a secret on purpose (only into sealed storage).
struct SecretHolder<'a>(&'a SecretString);

fn aad(id: Uuid) -> String {
    format!("app-connection:{id}")
}

/// The key that seals a connection's credentials: its project's data key, or the root key for
/// organization-wide connections.
pub async fn sealing_key(state: &AppState, project_id: Option<Uuid>) -> ApiResult<Key> {
    match project_id {
        Some(project_id) => {
            let project = projects::find_project(&state.pool, project_id)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(format!("Project with ID '{project_id}' not found"))
                })?;
            project_key(state, &project)
        }
        None => Ok(state.root_key.clone()),
    }
}

/// Seals any connection type's credentials (its `Serialize` writes secrets through
/// `rotation::provider::sealed::expose`), under the same key and AAD as Salesforce's.
pub fn seal_as<C: Serialize>(key: &Key, id: Uuid, credentials: &C) -> Vec<u8> {
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(credentials).unwrap_or_default());
    key.seal(&plain, &aad(id))
}

/// Opens any connection type's credentials.
pub async fn open_as<C: serde::de::DeserializeOwned>(
    state: &AppState,
    row: &ConnectionRow,
) -> ApiResult<C> {
    let key = sealing_key(state, row.project_id).await?;
    let plain =
        zeroize::Zeroizing::new(key.open(&row.credentials_ct, &aad(row.id)).map_err(|e| {
            ApiError::Internal(anyhow::anyhow!("opening app connection {}: {e}", row.id))
        })?);
    serde_json::from_slice(&plain).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "app connection {} credentials: {e}",
            row.id
        ))
    })
}

pub fn seal(key: &Key, id: Uuid, credentials: &SalesforceCredentials) -> Vec<u8> {
    let plain = zeroize::Zeroizing::new(
        serde_json::json!({
            "instanceUrl": credentials.instance_url,
            "consumerKey": credentials.consumer_key,
            "consumerSecret": SecretHolder(&credentials.consumer_secret),
        })
        .to_string(),
    );
    key.seal(plain.as_bytes(), &aad(id))
}

pub async fn open(state: &AppState, row: &ConnectionRow) -> ApiResult<SalesforceCredentials> {
    open_as(state, row).await
}

/// The Salesforce client of a connection, shared by all its runs so that they reuse one
/// access token instead of asking for a new one each time (the client refreshes it when
/// Salesforce refuses the session). Rebuilt when the connection changes.
pub async fn shared_client(
    state: &AppState,
    row: &ConnectionRow,
) -> ApiResult<std::sync::Arc<SalesforceClient>> {
    if let Some(client) = state.clients.get::<SalesforceClient>(row) {
        return Ok(client);
    }
    let client = std::sync::Arc::new(salesforce_client(state, row).await?);
    state.clients.put(row, client.clone());
    Ok(client)
}

/// A Salesforce client logged in with the connection's credentials.
pub async fn salesforce_client(
    state: &AppState,
    row: &ConnectionRow,
) -> ApiResult<SalesforceClient> {
    let creds = open(state, row).await?;
    crate::providers::url_guard::check_literal(&creds.instance_url, state.allow_internal_urls)
        .map_err(|e| ApiError::bad_request(format!("The app connection cannot be used: {e}")))?;
    Ok(SalesforceClient::new(
        state.provider_http.clone(),
        &creds.instance_url,
        &creds.consumer_key,
        creds.consumer_secret,
    ))
}
