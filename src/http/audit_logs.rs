//! `GET /api/v1/workspace/{projectId}/audit-logs`: the project's audit log, newest first.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, Action, Subject};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiInput, ApiPath};
use crate::state::AppState;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    /// Only this event type, e.g. SECRET_ROTATION_ROTATE_SECRETS.
    pub event_type: Option<String>,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::http::extract::lenient_integer")]
    pub offset: Option<i64>,
    /// Default 20, at most 100.
    #[serde(default, deserialize_with = "crate::http::extract::lenient_integer")]
    pub limit: Option<i64>,
}

#[derive(FromRow)]
struct Row {
    id: Uuid,
    project_id: Uuid,
    actor_type: String,
    actor_id: Option<Uuid>,
    actor_name: Option<String>,
    event_type: String,
    outcome: String,
    metadata: Value,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogView {
    pub id: Uuid,
    pub project_id: Uuid,
    /// `{type: "identity" | "platform", metadata: {identityId, name}}`
    #[schema(value_type = Object)]
    pub actor: Value,
    /// `{type, metadata}`
    #[schema(value_type = Object)]
    pub event: Value,
    /// `success` or `failure`.
    pub outcome: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogList {
    pub audit_logs: Vec<AuditLogView>,
}

#[utoipa::path(get, path = "/api/v1/workspace/{projectId}/audit-logs", tag = "Audit Logs",
    params(("projectId" = Uuid, Path), ("eventType" = Option<String>, Query), ("startDate" = Option<String>, Query),
           ("endDate" = Option<String>, Query), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    security(("bearer" = [])),
    responses((status = 200, body = AuditLogList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiInput(q): ApiInput<AuditQuery>,
) -> ApiResult<Json<AuditLogList>> {
    let access = project_access(&state, &auth, project_id).await?;
    // Members and admins; viewers see secrets metadata but not who did what.
    if access.role == "viewer" {
        return Err(ApiError::forbidden("read", "audit-logs"));
    }
    access.require(Action::Read, Subject::Secrets)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "too_big",
            &["limit"],
            "limit must be between 1 and 100",
        ));
    }
    // Postgres keeps timestamps from 4713 BC to 294276 AD; chrono parses far wider. An audit
    // log has nothing outside years 1 to 9999.
    for (field, date) in [("startDate", q.start_date), ("endDate", q.end_date)] {
        if date.is_some_and(|d| !(1..=9999).contains(&chrono::Datelike::year(&d))) {
            return Err(ApiError::invalid(
                "invalid_date",
                &[field],
                format!("{field} must be a date between the years 1 and 9999"),
            ));
        }
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, project_id, actor_type, actor_id, actor_name, event_type, outcome, metadata, created_at FROM audit_logs \
         WHERE project_id = $1 AND ($2::text IS NULL OR event_type = $2) AND ($3::timestamptz IS NULL OR created_at >= $3) \
         AND ($4::timestamptz IS NULL OR created_at <= $4) ORDER BY created_at DESC, id LIMIT $5 OFFSET $6",
    )
    .bind(project_id)
    .bind(q.event_type.as_deref())
    .bind(q.start_date)
    .bind(q.end_date)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(AuditLogList {
        audit_logs: rows
            .into_iter()
            .map(|r| AuditLogView {
                id: r.id,
                project_id: r.project_id,
                actor: json!({"type": r.actor_type, "metadata": {"identityId": r.actor_id, "name": r.actor_name}}),
                event: json!({"type": r.event_type, "metadata": r.metadata}),
                outcome: r.outcome,
                created_at: r.created_at,
            })
            .collect(),
    }))
}
