//! Liveness and readiness for load balancers and the demo script.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub date: DateTime<Utc>,
    pub message: String,
    pub version: String,
}

#[utoipa::path(get, path = "/api/status", tag = "Health",
    description = "200 when the server and its database answer; 503 when the database does not.",
    responses((status = 200, body = Status), (status = 503, body = ErrorBody)))]
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<Status>> {
    sqlx::query("SELECT 1")
        .execute(&state.pool)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "health check: database unreachable");
            ApiError::Unavailable("The database is unreachable".into())
        })?;
    Ok(Json(Status {
        date: Utc::now(),
        message: "Ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
