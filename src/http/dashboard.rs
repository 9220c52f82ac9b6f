//! For dashboards (Rotary's own, not Infisical's): a project's rotations at a glance: counts by
//! status, the next ones due, and the ones that failed or are overdue.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, Action, Subject};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiInput, ApiPath};
use crate::state::AppState;
use crate::store::rotations::{self, RotationBrief, SummaryCounts};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryQuery {
    /// How many rotations each list holds (1 to 100, default 5).
    #[serde(default, deserialize_with = "crate::http::extract::lenient_integer")]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub project_id: Uuid,
    pub generated_at: DateTime<Utc>,
    pub counts: SummaryCounts,
    /// Auto-rotating rotations by next rotation time, soonest first.
    pub next_due: Vec<RotationBrief>,
    /// Rotations whose last rotation failed, latest attempt first.
    pub failed: Vec<RotationBrief>,
    /// Rotations due for more than five minutes, longest overdue first.
    pub overdue: Vec<RotationBrief>,
}

#[derive(Serialize, ToSchema)]
pub struct SummaryEnvelope {
    pub summary: Summary,
}

#[utoipa::path(get, path = "/api/v1/workspace/{projectId}/secret-rotations/summary", tag = "Dashboard",
    description = "Rotary extension for dashboards: counts of the project's rotations by status, the next ones due, and those that failed or are overdue.",
    params(("projectId" = Uuid, Path), ("limit" = Option<i64>, Query, description = "How many rotations each list holds (1 to 100, default 5)")),
    security(("bearer" = [])),
    responses((status = 200, body = SummaryEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiInput(q): ApiInput<SummaryQuery>,
) -> ApiResult<Json<SummaryEnvelope>> {
    let limit = q.limit.unwrap_or(5);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "too_big",
            &["limit"],
            "limit must be between 1 and 100",
        ));
    }
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Read, Subject::SecretRotation)?;
    let counts = rotations::summary_counts(&state.pool, project_id).await?;
    let list = |which| rotations::summary_list(&state.pool, project_id, which, limit);
    Ok(Json(SummaryEnvelope {
        summary: Summary {
            project_id,
            generated_at: Utc::now(),
            counts,
            next_due: list(rotations::SummaryList::NextDue).await?,
            failed: list(rotations::SummaryList::Failed).await?,
            overdue: list(rotations::SummaryList::Overdue).await?,
        },
    }))
}
