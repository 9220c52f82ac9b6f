//! What the SQL connections (postgres, mysql) do alike around their drivers: a rotation's
//! client (its connection, checked to be of the type's app), a saved connection opened for
//! the console's check, and Infisical's words for a refused connection.

use std::sync::Arc;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::providers::sql::wire::SqlConnection;
use crate::rotation::provider::{StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

/// The client of a two-user type: a connection's server and account, and whether internal
/// addresses are allowed.
pub struct SqlTarget {
    pub connection: SqlConnection,
    pub allow_internal: bool,
}

/// The rotation's connection, which must be an `app` one (`provider` names it in the error).
pub async fn target(
    state: &AppState,
    rotation: &RotationRow,
    app: &str,
    provider: &str,
) -> StepResult<Arc<SqlTarget>> {
    let row = crate::cache::connection(state, rotation.org_id, rotation.connection_id)
        .await?
        .ok_or_else(|| StepError::Setup("the rotation's app connection no longer exists".into()))?;
    if row.app != app {
        return Err(StepError::Setup(format!(
            "the rotation's app connection is a {} connection, not a {provider} one",
            row.app
        )));
    }
    let connection: SqlConnection = crate::connections::open_as(state, &row).await?;
    Ok(Arc::new(SqlTarget {
        connection,
        allow_internal: state.allow_internal_urls,
    }))
}

/// A saved `app` connection the caller may read, opened (the console's "Check").
pub async fn saved(
    state: &AppState,
    auth: &Auth,
    id: uuid::Uuid,
    app: &str,
) -> ApiResult<SqlConnection> {
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

/// A connection the server refused, as Infisical answers it; the reason never holds the
/// password.
pub fn unable_to_validate(e: StepError) -> ApiError {
    ApiError::bad_request(format!("Unable to validate connection: {}", e.reason()))
}
