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
use crate::store::rotations::{self, BriefRow, SummaryCounts};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryQuery {
    /// How many rotations each list holds (1 to 100, default 5).
    #[serde(default, deserialize_with = "crate::http::extract::lenient_integer")]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Rotations in the project.
    pub total: i64,
    /// Whose last rotation succeeded.
    pub success: i64,
    /// Whose last rotation failed.
    pub failed: i64,
    /// Being rotated now (a run with a live lease).
    pub rotating: i64,
    pub auto_rotation_disabled: i64,
    /// Auto-rotating and past their next rotation time.
    pub due: i64,
    /// Due for more than five minutes: the scheduler is behind or cannot run them.
    pub overdue: i64,
}

/// One rotation, as a dashboard lists it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationBrief {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub rotation_type: String,
    /// The environment's slug.
    pub environment: String,
    pub secret_path: String,
    /// `success` or `failed`.
    pub rotation_status: String,
    pub is_auto_rotation_enabled: bool,
    pub next_rotation_at: Option<DateTime<Utc>>,
    pub last_rotated_at: DateTime<Utc>,
    pub last_rotation_attempted_at: DateTime<Utc>,
    pub last_rotation_message: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub project_id: Uuid,
    pub generated_at: DateTime<Utc>,
    pub counts: Counts,
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
    let SummaryCounts {
        total,
        success,
        failed,
        rotating,
        auto_rotation_disabled,
        due,
        overdue,
    } = rotations::summary_counts(&state.pool, project_id).await?;
    let list = |which| rotations::summary_list(&state.pool, project_id, which, limit);
    Ok(Json(SummaryEnvelope {
        summary: Summary {
            project_id,
            generated_at: Utc::now(),
            counts: Counts {
                total,
                success,
                failed,
                rotating,
                auto_rotation_disabled,
                due,
                overdue,
            },
            next_due: brief(list(rotations::SummaryList::NextDue).await?),
            failed: brief(list(rotations::SummaryList::Failed).await?),
            overdue: brief(list(rotations::SummaryList::Overdue).await?),
        },
    }))
}

fn brief(rows: Vec<BriefRow>) -> Vec<RotationBrief> {
    rows.into_iter()
        .map(|r| RotationBrief {
            id: r.id,
            name: r.name,
            rotation_type: r.rotation_type,
            environment: r.environment,
            secret_path: r.folder_path,
            rotation_status: r.rotation_status,
            is_auto_rotation_enabled: r.is_auto_rotation_enabled,
            next_rotation_at: r.next_rotation_at,
            last_rotated_at: r.last_rotated_at,
            last_rotation_attempted_at: r.last_rotation_attempted_at,
            last_rotation_message: r.last_rotation_message,
        })
        .collect()
}
