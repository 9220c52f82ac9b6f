//! App connections as the rest of Rotary uses them: sealing and opening their credentials
//! with the right key; `types` has the connection types.

pub mod service;
pub mod target;
pub mod types;

use serde::Serialize;

use uuid::Uuid;

use crate::access::project_key;
use crate::crypto::Key;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;
use crate::store::projects;

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
