//! What every provider does alike with a saved connection: a rotation's client (its
//! connection, opened and checked to be of the type's app), a saved connection opened for the
//! console's check, and Infisical's words for credentials the provider refused.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::rotation::provider::{StepError, StepResult};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;
use crate::store::rotations::RotationRow;

/// A rotation's connection, opened (its sealed credentials `C`), and whether internal
/// addresses are allowed: the client of the types that connect per call (SQL, Redis).
pub struct Target<C> {
    pub connection: C,
    pub allow_internal: bool,
}

/// The rotation's connection, which must be an `app` one (`provider` names it in the error).
pub async fn target<C: DeserializeOwned>(
    state: &AppState,
    rotation: &RotationRow,
    app: &str,
    provider: &str,
) -> StepResult<Arc<Target<C>>> {
    let row = row(state, rotation, app, provider).await?;
    let connection: C = crate::connections::open_as(state, &row).await?;
    Ok(Arc::new(Target {
        connection,
        allow_internal: state.allow_internal_urls,
    }))
}

/// The rotation's connection row, which must be an `app` one.
pub async fn row(
    state: &AppState,
    rotation: &RotationRow,
    app: &str,
    provider: &str,
) -> StepResult<ConnectionRow> {
    let row = crate::cache::connection(state, rotation.org_id, rotation.connection_id)
        .await?
        .ok_or_else(|| StepError::Setup("the rotation's app connection no longer exists".into()))?;
    if row.app != app {
        return Err(StepError::Setup(format!(
            "the rotation's app connection is a {} connection, not one for {provider}",
            row.app
        )));
    }
    Ok(row)
}

/// The client of a connection whose client keeps something between calls (an access
/// token): the one its runs and requests share, or `build` of its credentials, kept until
/// the connection changes (`ClientCache`).
pub async fn shared<C: DeserializeOwned, K: Send + Sync + 'static>(
    state: &AppState,
    row: &ConnectionRow,
    build: impl FnOnce(C) -> StepResult<K>,
) -> StepResult<Arc<K>> {
    if let Some(client) = state.clients.get::<K>(row) {
        return Ok(client);
    }
    let credentials: C = crate::connections::open_as(state, row).await?;
    let client = Arc::new(build(credentials)?);
    state.clients.put(row, client.clone());
    Ok(client)
}

/// A saved `app` connection the caller may read, opened (the console's "Check").
pub async fn saved<C: DeserializeOwned>(
    state: &AppState,
    auth: &Auth,
    id: uuid::Uuid,
    app: &str,
) -> ApiResult<C> {
    let row = crate::http::app_connections::visible(
        state,
        auth,
        id,
        Some(app),
        crate::access::Action::Read,
    )
    .await?;
    crate::connections::open_as(state, &row).await
}

/// A connection the provider refused, as Infisical answers it; the reason never holds a
/// secret.
pub fn unable_to_validate(e: StepError) -> ApiError {
    ApiError::bad_request(format!("Unable to validate connection: {}", e.reason()))
}
