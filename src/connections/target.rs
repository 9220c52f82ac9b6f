//! What every provider does alike with a saved connection: a rotation's client (its
//! connection, opened and checked to be of the type's app), a saved connection opened for the
//! console's check, and Infisical's words for credentials the provider refused.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::rotation::provider::{StepError, StepResult};
use crate::state::AppState;
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
    let row = crate::cache::connection(state, rotation.org_id, rotation.connection_id)
        .await?
        .ok_or_else(|| StepError::Setup("the rotation's app connection no longer exists".into()))?;
    if row.app != app {
        return Err(StepError::Setup(format!(
            "the rotation's app connection is a {} connection, not a {provider} one",
            row.app
        )));
    }
    let connection: C = crate::connections::open_as(state, &row).await?;
    Ok(Arc::new(Target {
        connection,
        allow_internal: state.allow_internal_urls,
    }))
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
