//! Project webhooks on Infisical's routes (`/api/v1/webhooks`).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, project_key, Action, Subject};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{lenient_bool, ApiInput, ApiJson, ApiPath};
use crate::http::scope;
use crate::providers::url_guard::check_url;
use crate::state::AppState;
use crate::webhooks::{self, key_aad};

#[derive(FromRow)]
struct Row {
    id: Uuid,
    project_id: Uuid,
    env_id: Uuid,
    secret_path: String,
    url: String,
    secret_key_ct: Option<Vec<u8>>,
    is_disabled: bool,
    last_status: Option<String>,
    last_run_error_message: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEnvironment {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub id: Uuid,
    pub project_id: Uuid,
    pub environment: WebhookEnvironment,
    pub env_id: Uuid,
    pub secret_path: String,
    pub url: String,
    pub is_disabled: bool,
    /// Whether deliveries are signed (the key itself is never returned).
    pub has_secret_key: bool,
    pub last_status: Option<String>,
    pub last_run_error_message: Option<String>,
    #[serde(rename = "type")]
    pub webhook_type: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn view(state: &AppState, row: Row) -> ApiResult<WebhookView> {
    let env = crate::store::projects::environment_by_id(&state.pool, row.env_id).await?;
    Ok(WebhookView {
        id: row.id,
        project_id: row.project_id,
        environment: WebhookEnvironment {
            id: env.id,
            name: env.name,
            slug: env.slug,
        },
        env_id: row.env_id,
        secret_path: row.secret_path,
        url: row.url,
        is_disabled: row.is_disabled,
        has_secret_key: row.secret_key_ct.is_some(),
        last_status: row.last_status,
        last_run_error_message: row.last_run_error_message,
        webhook_type: "general".into(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[derive(Serialize, ToSchema)]
pub struct WebhookEnvelope {
    pub message: String,
    pub webhook: WebhookView,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateWebhook {
    pub workspace_id: Uuid,
    pub environment: String,
    #[validate(length(min = 1, message = "webhookUrl is required"))]
    pub webhook_url: String,
    /// Signs deliveries (`x-infisical-signature`) when given.
    pub webhook_secret_key: Option<String>,
    #[serde(default = "root")]
    pub secret_path: String,
}

fn root() -> String {
    "/".into()
}

async fn find(state: &AppState, auth: &Auth, id: Uuid, action: Action) -> ApiResult<Row> {
    let row: Row = sqlx::query_as("SELECT * FROM webhooks WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Webhook with ID '{id}' not found")))?;
    let access = project_access(state, auth, row.project_id)
        .await
        .map_err(|_| ApiError::not_found(format!("Webhook with ID '{id}' not found")))?;
    access.require(action, Subject::Webhooks)?;
    Ok(row)
}

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "Webhooks", request_body = CreateWebhook, security(("bearer" = [])),
    description = "Events: secrets.rotation-failed (Infisical's), secrets.rotation-succeeded, and secrets.rotation-upcoming (ROTARY_WEBHOOK_UPCOMING_SECONDS before nextRotationAt, once per scheduled time, with project.nextRotationAt), for rotations in the environment at or below secretPath.",
    responses((status = 200, body = WebhookEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> ApiResult<Json<WebhookEnvelope>> {
    let target = scope::resolve(
        &state,
        &auth,
        body.workspace_id,
        &body.environment,
        &body.secret_path,
        "secretPath",
    )
    .await?;
    target.access.require(Action::Create, Subject::Webhooks)?;
    let url = check_url(&body.webhook_url, state.allow_internal_urls, false)
        .await
        .map_err(|reason| ApiError::bad_request(format!("Invalid webhook URL: {reason}")))?;
    let id = Uuid::new_v4();
    let key_ct = match body.webhook_secret_key.as_deref().filter(|k| !k.is_empty()) {
        Some(secret) => {
            Some(project_key(&state, &target.access.project)?.seal(secret.as_bytes(), &key_aad(id)))
        }
        None => None,
    };
    let row: Row = sqlx::query_as(
        "INSERT INTO webhooks (id, project_id, env_id, secret_path, url, secret_key_ct) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(id)
    .bind(body.workspace_id)
    .bind(target.env.id)
    .bind(&target.path)
    .bind(&url)
    .bind(key_ct)
    .fetch_one(&state.pool)
    .await?;
    Ok(Json(WebhookEnvelope {
        message: "Successfully created webhook".into(),
        webhook: view(&state, row).await?,
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListWebhooks {
    pub workspace_id: Uuid,
    pub environment: Option<String>,
    pub secret_path: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "Webhooks", security(("bearer" = [])),
    params(("workspaceId" = Uuid, Query), ("environment" = Option<String>, Query), ("secretPath" = Option<String>, Query)),
    responses((status = 200, body = WebhookList), (status = "4XX", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ListWebhooks>,
) -> ApiResult<Json<WebhookList>> {
    let access = project_access(&state, &auth, q.workspace_id).await?;
    access.require(Action::Read, Subject::Webhooks)?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT w.* FROM webhooks w JOIN environments e ON e.id = w.env_id WHERE w.project_id = $1 \
         AND ($2::text IS NULL OR e.slug = $2) AND ($3::text IS NULL OR w.secret_path = $3) ORDER BY w.created_at, w.id",
    )
    .bind(q.workspace_id)
    .bind(q.environment)
    .bind(q.secret_path)
    .fetch_all(&state.pool)
    .await?;
    let mut webhooks = Vec::new();
    for row in rows {
        webhooks.push(view(&state, row).await?);
    }
    Ok(Json(WebhookList { webhooks }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWebhook {
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_disabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{webhookId}", tag = "Webhooks", params(("webhookId" = Uuid, Path)),
    request_body = UpdateWebhook, security(("bearer" = [])),
    responses((status = 200, body = WebhookEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> ApiResult<Json<WebhookEnvelope>> {
    find(&state, &auth, id, Action::Edit).await?;
    let row: Row = sqlx::query_as("UPDATE webhooks SET is_disabled = coalesce($2, is_disabled), updated_at = now() WHERE id = $1 RETURNING *")
        .bind(id)
        .bind(body.is_disabled)
        .fetch_one(&state.pool)
        .await?;
    Ok(Json(WebhookEnvelope {
        message: "Successfully updated webhook".into(),
        webhook: view(&state, row).await?,
    }))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{webhookId}", tag = "Webhooks", params(("webhookId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<WebhookEnvelope>> {
    let row = find(&state, &auth, id, Action::Delete).await?;
    sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(&state.pool)
        .await?;
    Ok(Json(WebhookEnvelope {
        message: "Successfully deleted webhook".into(),
        webhook: view(&state, row).await?,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TestResult {
    pub message: String,
}

#[utoipa::path(post, path = "/api/v1/webhooks/{webhookId}/test", tag = "Webhooks", params(("webhookId" = Uuid, Path)), security(("bearer" = [])),
    description = "Sends a test event now; 400 with the reason when the endpoint does not answer 2xx.",
    responses((status = 200, body = TestResult), (status = "4XX", body = ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<TestResult>> {
    let row = find(&state, &auth, id, Action::Edit).await?;
    let env = crate::store::projects::environment_by_id(&state.pool, row.env_id).await?;
    let payload = json!({"event": "test", "project": {"workspaceId": row.project_id, "environment": env.slug, "secretPath": row.secret_path}, "timestamp": Utc::now().timestamp_millis()});
    let project = crate::store::projects::find_project(&state.pool, row.project_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Project not found"))?;
    let key = match &row.secret_key_ct {
        Some(ct) => Some(
            project_key(&state, &project)?
                .open(ct, &key_aad(row.id))
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("opening webhook key: {e}")))?,
        ),
        None => None,
    };
    let result = webhooks::send(
        &state,
        &row.url,
        key.as_deref().map(|k| k.as_slice()),
        &payload,
    )
    .await;
    webhooks::record_result(&state.pool, id, &result).await?;
    result.map_err(|reason| ApiError::bad_request(format!("Webhook test failed: {reason}")))?;
    Ok(Json(TestResult {
        message: "Successfully tested webhook".into(),
    }))
}
