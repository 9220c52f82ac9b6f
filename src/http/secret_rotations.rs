//! Infisical's v2 secret-rotations API for `salesforce-oauth-credentials`, plus Rotary's
//! `check-credentials` and run history. Creating and rotating run the journaled engine
//! synchronously; the answer reflects what is published.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, project_key, Action, ProjectAccess, Subject};
use crate::audit::Actor;
use crate::auth::Auth;
use crate::connections;
use crate::error::{ApiError, ApiResult, ErrorBody, OrConflict};
use crate::http::app_connections::{provider_error, SALESFORCE};
use crate::http::extract::{ApiInput, ApiJson, ApiPath};
use crate::providers::salesforce::rotation::SalesforceOAuthCredentials;
use crate::providers::salesforce::SalesforceClient;
use crate::rotation::engine::{self, RunError};
use crate::state::AppState;
use crate::store::rotations::{self as store, NewRotation, RotationRow, RunRow};
use crate::store::{app_connections, projects, secrets};
use crate::validation::{check_slug, normalize_path};

pub const TYPE: &str = "salesforce-oauth-credentials";
const DISPLAY: &str = "Salesforce OAuth Credentials";
const IN_PROGRESS: &str = "A rotation is already in progress. Please try again shortly.";

// ---- wire types ----------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq)]
pub struct RotateAtUtc {
    pub hours: i64,
    pub minutes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionRef {
    pub app: String,
    pub name: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnvironmentRef {
    pub slug: String,
    pub name: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FolderRef {
    pub id: Uuid,
    pub path: String,
}

/// The rotation resource, field for field as Infisical returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationView {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub rotation_type: String,
    #[schema(value_type = Object, example = json!({"appId": "0xIal0000004C92CAE", "appName": "Billing_Sync"}))]
    pub parameters: Value,
    #[schema(value_type = Object, example = json!({"consumerKey": "SALESFORCE_CONSUMER_KEY", "consumerSecret": "SALESFORCE_CONSUMER_SECRET"}))]
    pub secrets_mapping: Value,
    pub is_auto_rotation_enabled: bool,
    pub active_index: i32,
    pub folder_id: Uuid,
    pub connection_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub rotation_interval: i32,
    pub rotate_at_utc: RotateAtUtc,
    /// `success` or `failed`.
    pub rotation_status: String,
    pub last_rotation_attempted_at: DateTime<Utc>,
    pub last_rotated_at: DateTime<Utc>,
    /// The id of the last run.
    pub last_rotation_job_id: Option<String>,
    pub next_rotation_at: Option<DateTime<Utc>>,
    pub is_last_rotation_manual: bool,
    pub last_rotation_message: Option<String>,
    pub connection: ConnectionRef,
    pub environment: EnvironmentRef,
    pub project_id: Uuid,
    pub folder: FolderRef,
}

async fn view(state: &AppState, row: RotationRow) -> ApiResult<RotationView> {
    let connection = crate::cache::connection(state, row.org_id, row.connection_id).await?;
    let env = crate::cache::environment_by_id(state, row.env_id).await?;
    Ok(RotationView {
        id: row.id,
        name: row.name,
        description: row.description,
        rotation_type: row.rotation_type,
        parameters: row.parameters,
        secrets_mapping: row.secrets_mapping,
        is_auto_rotation_enabled: row.is_auto_rotation_enabled,
        active_index: row.active_index,
        folder_id: row.folder_id,
        connection_id: row.connection_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
        rotation_interval: row.rotation_interval,
        rotate_at_utc: RotateAtUtc {
            hours: row.rotate_at_hours.into(),
            minutes: row.rotate_at_minutes.into(),
        },
        rotation_status: row.rotation_status,
        last_rotation_attempted_at: row.last_rotation_attempted_at,
        last_rotated_at: row.last_rotated_at,
        last_rotation_job_id: row.last_rotation_job_id,
        next_rotation_at: row.next_rotation_at,
        is_last_rotation_manual: row.is_last_rotation_manual,
        last_rotation_message: row.last_rotation_message,
        connection: ConnectionRef {
            app: connection
                .as_ref()
                .map(|c| c.app.clone())
                .unwrap_or_else(|| SALESFORCE.into()),
            name: connection.map(|c| c.name).unwrap_or_default(),
            id: row.connection_id,
        },
        environment: EnvironmentRef {
            slug: env.slug,
            name: env.name,
            id: env.id,
        },
        project_id: row.project_id,
        folder: FolderRef {
            id: row.folder_id,
            path: row.folder_path,
        },
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationEnvelope {
    pub secret_rotation: RotationView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationList {
    pub secret_rotations: Vec<RotationView>,
}

async fn envelope(state: &AppState, row: RotationRow) -> ApiResult<Json<RotationEnvelope>> {
    Ok(Json(RotationEnvelope {
        secret_rotation: view(state, row).await?,
    }))
}

// ---- lookups -------------------------------------------------------------------------------

fn not_found(id: Uuid, quoted: bool) -> ApiError {
    if quoted {
        ApiError::not_found(format!(
            "Could not find {DISPLAY} Rotation with ID \"{id}\""
        ))
    } else {
        ApiError::not_found(format!("Could not find {DISPLAY} Rotation with ID {id}"))
    }
}

/// A published rotation the caller may act on, with its project access.
async fn rotation_for(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    action: Action,
    quoted: bool,
) -> ApiResult<(RotationRow, ProjectAccess)> {
    // Reads may use the cached row; a change must start from the database's.
    let row = if action == Action::Read {
        crate::cache::rotation(state, id).await?
    } else {
        store::find(&state.pool, id).await?
    };
    let row = row
        .filter(|r| r.lifecycle == "active" && r.org_id == auth.org_id)
        .ok_or_else(|| not_found(id, quoted))?;
    let access = project_access(state, auth, row.project_id)
        .await
        .map_err(|_| not_found(id, quoted))?;
    access.require(action, Subject::SecretRotation)?;
    if row.rotation_type != TYPE {
        return Err(ApiError::bad_request(format!(
            "Secret Rotation with ID \"{id}\" is not configured for {DISPLAY}"
        )));
    }
    Ok((row, access))
}

/// The project a request names by its `projectId` string (Infisical takes any string; one
/// that is not an id names no project), if the caller may act on its rotations.
async fn project_for(
    state: &AppState,
    auth: &Auth,
    raw: &str,
    action: Action,
) -> ApiResult<(Uuid, ProjectAccess)> {
    let raw = raw.trim();
    let id = raw
        .parse::<Uuid>()
        .map_err(|_| ApiError::not_found(format!("Project with ID '{raw}' not found")))?;
    let access = project_access(state, auth, id).await?;
    access.require(action, Subject::SecretRotation)?;
    Ok((id, access))
}

/// Whether a worker is working on the rotation now (an unfinished run with a live lease).
async fn run_in_flight(state: &AppState, rotation_id: Uuid) -> ApiResult<Option<RunRow>> {
    let run = store::open_run(&state.pool, rotation_id).await?;
    Ok(run.filter(|r| r.lease_expires_at.is_some_and(|t| t > Utc::now())))
}

/// Writes an audit log entry about a rotation (see `audit::rotation`).
async fn audit(
    state: &AppState,
    actor: Actor<'_>,
    row: &RotationRow,
    event_type: &'static str,
    outcome: &'static str,
    extra: Value,
) {
    crate::audit::rotation(&state.pool, actor, row, event_type, outcome, extra).await
}

// ---- options and lists ---------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationOption {
    pub name: String,
    #[serde(rename = "type")]
    pub rotation_type: String,
    pub connection: String,
    #[schema(value_type = Object)]
    pub template: Value,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationOptions {
    pub secret_rotation_options: Vec<RotationOption>,
}

#[utoipa::path(get, path = "/api/v2/secret-rotations/options", tag = "Secret Rotations", security(("bearer" = [])),
    responses((status = 200, body = RotationOptions), (status = "4XX", body = ErrorBody)))]
pub async fn options(_auth: Auth) -> Json<RotationOptions> {
    Json(RotationOptions {
        secret_rotation_options: vec![RotationOption {
            name: DISPLAY.into(),
            rotation_type: TYPE.into(),
            connection: SALESFORCE.into(),
            template: json!({"secretsMapping": {"consumerKey": "SALESFORCE_CONSUMER_KEY", "consumerSecret": "SALESFORCE_CONSUMER_SECRET"}}),
        }],
    })
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectQuery {
    #[serde(default)]
    #[validate(length(min = 1, message = "Project ID required"))]
    pub project_id: String,
}

async fn list(
    state: &AppState,
    auth: &Auth,
    project_id: &str,
    only: Option<&str>,
) -> ApiResult<Json<RotationList>> {
    Ok(Json(RotationList {
        secret_rotations: visible(state, auth, project_id, only).await?,
    }))
}

/// The project's rotations (of one type, or all) as the API shows them, if the caller may
/// read them (the console lists the same).
pub async fn visible(
    state: &AppState,
    auth: &Auth,
    project_id: &str,
    only: Option<&str>,
) -> ApiResult<Vec<RotationView>> {
    let (id, _) = project_for(state, auth, project_id, Action::Read).await?;
    let mut out = Vec::new();
    for row in store::list_visible(&state.pool, id, only).await? {
        out.push(view(state, row).await?);
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v2/secret-rotations", tag = "Secret Rotations", security(("bearer" = [])),
    params(("projectId" = String, Query)),
    responses((status = 200, body = RotationList), (status = "4XX", body = ErrorBody)))]
pub async fn list_all(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ProjectQuery>,
) -> ApiResult<Json<RotationList>> {
    list(&state, &auth, &q.project_id, None).await
}

#[utoipa::path(get, path = "/api/v2/secret-rotations/salesforce-oauth-credentials", tag = "Secret Rotations",
    security(("bearer" = [])), params(("projectId" = String, Query)), operation_id = "listSalesforceOAuthCredentialsRotations",
    responses((status = 200, body = RotationList), (status = "4XX", body = ErrorBody)))]
pub async fn list_salesforce(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ProjectQuery>,
) -> ApiResult<Json<RotationList>> {
    list(&state, &auth, &q.project_id, Some(TYPE)).await
}

#[utoipa::path(get, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}", tag = "Secret Rotations",
    params(("rotationId" = Uuid, Path)), security(("bearer" = [])), operation_id = "getSalesforceOAuthCredentialsRotation",
    responses((status = 200, body = RotationEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RotationEnvelope>> {
    let (row, _) = rotation_for(&state, &auth, id, Action::Read, true).await?;
    envelope(&state, row).await
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ByNameQuery {
    #[serde(default)]
    #[validate(length(min = 1, message = "Project ID required"))]
    pub project_id: String,
    #[serde(default)]
    #[validate(length(min = 1, message = "Secret path required"))]
    pub secret_path: String,
    #[serde(default)]
    #[validate(length(min = 1, message = "Environment required"))]
    pub environment: String,
}

/// The folder a request names, or Infisical's "Could not find folder" 400.
async fn folder_of(
    state: &AppState,
    project_id: Uuid,
    environment: &str,
    raw_path: &str,
) -> ApiResult<(crate::store::projects::EnvironmentRow, String, Uuid)> {
    let missing = || {
        ApiError::bad_request(format!(
            "Could not find folder with path \"{raw_path}\" in environment \"{environment}\" for project with ID \"{project_id}\""
        ))
    };
    let path = normalize_path("secretPath", raw_path)?;
    let env = crate::cache::environment_by_slug(state, project_id, environment)
        .await?
        .ok_or_else(missing)?;
    let folder_id = if path == "/" {
        env.id
    } else {
        projects::find_folder_by_path(&state.pool, env.id, &path)
            .await?
            .ok_or_else(missing)?
            .id
    };
    Ok((env, path, folder_id))
}

#[utoipa::path(get, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/rotation-name/{rotationName}", tag = "Secret Rotations",
    params(("rotationName" = String, Path), ("projectId" = String, Query), ("environment" = String, Query), ("secretPath" = String, Query)),
    security(("bearer" = [])), operation_id = "getSalesforceOAuthCredentialsRotationByName",
    responses((status = 200, body = RotationEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_by_name(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiInput(q): ApiInput<ByNameQuery>,
) -> ApiResult<Json<RotationEnvelope>> {
    let (project_id, _) = project_for(&state, &auth, &q.project_id, Action::Read).await?;
    let (env, path, _) = folder_of(
        &state,
        project_id,
        q.environment.trim(),
        q.secret_path.trim(),
    )
    .await?;
    let row = store::find_by_name(&state.pool, env.id, &path, name.trim())
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Could not find {DISPLAY} Rotation with name \"{}\"",
                name.trim()
            ))
        })?;
    if row.rotation_type != TYPE {
        return Err(ApiError::bad_request(format!(
            "Secret Rotation with ID \"{}\" is not configured for {DISPLAY}",
            row.id
        )));
    }
    envelope(&state, row).await
}

// ---- create --------------------------------------------------------------------------------

/// A whole number, given as a JSON number (or a numeric string, as zod's coerce allows).
fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    let n = match &v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or_else(|| serde::de::Error::custom("Expected number, received ".to_string() + kind(&v)))?;
    if n.fract() != 0.0 || !n.is_finite() {
        return Err(serde::de::Error::custom("Expected integer, received float"));
    }
    Ok(n as i64)
}

/// The upper bound of `rotationInterval` (`schedule::MAX_INTERVAL`), checked before anything
/// else happens: a larger one cannot be scheduled.
fn interval_in_range(days: i64) -> Result<(), validator::ValidationError> {
    if days > crate::rotation::schedule::MAX_INTERVAL {
        let mut e = validator::ValidationError::new("too_big");
        e.message = Some(
            format!(
                "rotationInterval must be at most {} (days; 100 years)",
                crate::rotation::schedule::MAX_INTERVAL
            )
            .into(),
        );
        return Err(e);
    }
    Ok(())
}

fn whole_number_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    whole_number(d).map(Some)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[derive(Deserialize, Validate, ToSchema, Clone, Copy)]
pub struct RotateAtInput {
    #[serde(deserialize_with = "whole_number")]
    #[validate(range(min = 0, max = 23, message = "hours must be between 0 and 23"))]
    pub hours: i64,
    #[serde(deserialize_with = "whole_number")]
    #[validate(range(min = 0, max = 59, message = "minutes must be between 0 and 59"))]
    pub minutes: i64,
}

#[derive(Deserialize, Validate, ToSchema, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Parameters {
    /// The External Client App's identifier (from oauth-apps): a Salesforce id, 15 or 18
    /// letters and digits.
    #[validate(length(min = 1, message = "App Identifier Required"))]
    #[validate(custom(function = "salesforce_id"))]
    #[schema(pattern = "^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")]
    pub app_id: String,
    /// The External Client App's developer name.
    #[validate(length(min = 1, message = "App Name Required"))]
    pub app_name: String,
}

/// A Salesforce record id (15 or 18 letters and digits). It goes into URL paths of calls made
/// with the connection's token, so nothing else may.
fn salesforce_id(id: &str) -> Result<(), validator::ValidationError> {
    let id = id.trim();
    if id.is_empty()
        || ((id.len() == 15 || id.len() == 18) && id.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Ok(());
    }
    let mut e = validator::ValidationError::new("invalid_string");
    e.message = Some("App Identifier must be a Salesforce id: 15 or 18 letters and digits".into());
    Err(e)
}

/// Mapped names follow the secrets API's rules (`validation::secret_name_problem`): a name
/// the index cannot hold would otherwise fail the publish after Salesforce rotated.
fn secret_name(name: &str) -> Result<(), validator::ValidationError> {
    match crate::validation::secret_name_problem(name.trim()) {
        Some((code, message)) => {
            let mut e = validator::ValidationError::new(code);
            e.message = Some(message.into());
            Err(e)
        }
        None => Ok(()),
    }
}

#[derive(Deserialize, Validate, ToSchema, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SecretsMapping {
    #[validate(custom(function = "secret_name"))]
    #[schema(max_length = 256)]
    pub consumer_key: String,
    #[validate(custom(function = "secret_name"))]
    #[schema(max_length = 256)]
    pub consumer_secret: String,
}

impl SecretsMapping {
    fn trimmed(&self) -> SecretsMapping {
        SecretsMapping {
            consumer_key: self.consumer_key.trim().into(),
            consumer_secret: self.consumer_secret.trim().into(),
        }
    }
    fn keys(&self) -> Vec<String> {
        vec![self.consumer_key.clone(), self.consumer_secret.clone()]
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRotation {
    #[schema(example = "my-salesforce-rotation")]
    pub name: String,
    #[validate(length(min = 1, message = "Project ID required"))]
    pub project_id: String,
    #[validate(length(max = 256, message = "description must be at most 256 characters"))]
    pub description: Option<String>,
    pub connection_id: Uuid,
    #[schema(example = "dev")]
    pub environment: String,
    #[validate(length(min = 1, message = "Secret path required"))]
    #[schema(example = "/")]
    pub secret_path: String,
    /// Default true.
    pub is_auto_rotation_enabled: Option<bool>,
    /// Whole days between rotations (minutes in development mode).
    #[serde(deserialize_with = "whole_number")]
    #[validate(range(min = 1, message = "rotationInterval must be at least 1"))]
    #[validate(custom(function = "interval_in_range"))]
    #[schema(example = 30, minimum = 1, maximum = 36500)]
    pub rotation_interval: i64,
    /// Time of day (UTC); default 00:00.
    #[validate(nested)]
    pub rotate_at_utc: Option<RotateAtInput>,
    #[validate(nested)]
    pub parameters: Parameters,
    #[validate(nested)]
    pub secrets_mapping: SecretsMapping,
}

/// Checks the connection can serve a rotation in this project.
async fn usable_connection(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    project_id: Uuid,
) -> ApiResult<app_connections::ConnectionRow> {
    let connection = app_connections::find(&state.pool, auth.org_id, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Could not find App Connection with ID {id}"))
        })?;
    if connection.app != SALESFORCE {
        return Err(ApiError::bad_request(format!(
            "{} Connection with ID {id} cannot be used to connect to Salesforce",
            connection.app
        )));
    }
    match connection.project_id {
        Some(owner) if owner != project_id => {
            // Only a member of the connection's project learns that it exists (D17).
            if project_access(state, auth, owner).await.is_err() {
                return Err(ApiError::not_found(format!(
                    "Could not find App Connection with ID {id}"
                )));
            }
            return Err(ApiError::bad_request(format!(
                "You cannot connect project App Connection with ID \"{id}\" from project with ID \"{owner}\" to project with ID \"{project_id}\""
            )));
        }
        Some(_) => {}
        None => require_org_connection_grant(auth, id)?,
    }
    Ok(connection)
}

/// An organization-wide connection reaches the whole Salesforce org: whoever points a
/// rotation at it can rotate any app of that org and read the new secret. Only an org admin
/// may (Infisical's `connect` permission on app connections, held by its admin role); a
/// project member uses a project connection (D3).
fn require_org_connection_grant(auth: &Auth, id: Uuid) -> ApiResult<()> {
    if auth.is_org_admin() {
        return Ok(());
    }
    Err(ApiError::PermissionDenied {
        message: format!(
            "You are not allowed to connect on app-connections: App Connection with ID {id} belongs to the whole organization, and only organization admins may use it in a rotation. Ask an org admin, or use a connection of this project."
        ),
        details: json!([{"action": "connect", "inverted": false, "subject": "app-connections"}]),
    })
}

/// What a rotation rotates, as `secret_rotations.target` reserves it: the connection's
/// Salesforce instance and the External Client App (the migration computes the same).
fn target_of(connection: &app_connections::ConnectionRow, app_id: &str) -> String {
    let instance = connection.public_config["instanceUrl"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    let host = instance
        .split_once("://")
        .map(|(_, h)| h)
        .unwrap_or(&instance);
    format!("{host}/{}", app_id.trim())
}

fn target_taken(params: &Parameters) -> ApiError {
    ApiError::bad_request(format!(
        "The External Client App \"{}\" ({}) is already rotated by another secret rotation. An app can belong to one rotation only: two would retire each other's credentials. Delete the other rotation first.",
        params.app_name.trim(),
        params.app_id.trim()
    ))
}

fn duplicate_keys(keys: &[String]) -> ApiResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    let dups: Vec<&str> = keys
        .iter()
        .filter(|k| !seen.insert(k.as_str()))
        .map(String::as_str)
        .collect();
    if dups.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Secrets mapping keys must be unique. \"{}\" contains duplicate keys.",
            keys.join(", ")
        )))
    }
}

fn keys_exist(path: &str, used: &[String]) -> ApiResult<()> {
    if used.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "The following secrets already exist at the path \"{path}\": {}",
            used.join(", ")
        )))
    }
}

fn name_exists(name: &str, path: &str) -> ApiError {
    ApiError::bad_request(format!(
        "A Secret Rotation with the name \"{name}\" already exists at the secret path \"{path}\""
    ))
}

#[utoipa::path(post, path = "/api/v2/secret-rotations/salesforce-oauth-credentials", tag = "Secret Rotations",
    request_body = CreateRotation, security(("bearer" = [])), operation_id = "createSalesforceOAuthCredentialsRotation",
    description = "Creates the rotation and issues its first credential (stage + rotate at Salesforce) before it becomes visible. If Salesforce refuses, nothing is created and no staged credential is left behind.",
    responses((status = 200, body = RotationEnvelope), (status = "4XX", body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateRotation>,
) -> ApiResult<Json<RotationEnvelope>> {
    let name = body.name.trim().to_string();
    check_slug("name", &name)?;
    check_slug("environment", body.environment.trim())?;
    let (project_id, _) = project_for(&state, &auth, &body.project_id, Action::Create).await?;
    let secret_path = body.secret_path.trim().to_string();
    let (env, path, folder_id) =
        folder_of(&state, project_id, body.environment.trim(), &secret_path).await?;
    let connection = usable_connection(&state, &auth, body.connection_id, project_id).await?;
    let mapping = body.secrets_mapping.trimmed();
    let rotate_at = body.rotate_at_utc.unwrap_or(RotateAtInput {
        hours: 0,
        minutes: 0,
    });
    let new = NewRotation {
        id: Uuid::new_v4(),
        org_id: auth.org_id,
        project_id,
        env_id: env.id,
        folder_path: path.clone(),
        folder_id,
        rotation_type: TYPE.into(),
        name: name.clone(),
        description: body.description.map(|d| d.trim().to_string()),
        connection_id: body.connection_id,
        parameters: json!({"appId": body.parameters.app_id.trim(), "appName": body.parameters.app_name.trim()}),
        secrets_mapping: serde_json::to_value(&mapping).unwrap_or_default(),
        is_auto_rotation_enabled: body.is_auto_rotation_enabled.unwrap_or(true),
        rotation_interval: body.rotation_interval.min(i32::MAX.into()) as i32,
        rotate_at_hours: rotate_at.hours as i32,
        rotate_at_minutes: rotate_at.minutes as i32,
        target: Some(target_of(&connection, &body.parameters.app_id)),
    };
    let run = {
        let mut tx = state.pool.begin().await?;
        store::lock_folder(&mut tx, env.id, &path).await?;
        if store::name_taken(&mut tx, env.id, &path, &name, None).await? {
            return Err(name_exists(&name, &secret_path));
        }
        duplicate_keys(&mapping.keys())?;
        keys_exist(
            &secret_path,
            &store::keys_in_use(&mut tx, env.id, &path, &mapping.keys(), None).await?,
        )?;
        let run = store::insert_creating(&mut tx, &new, engine::worker_id(), state.lease_seconds)
            .await
            .or_conflict(|| target_taken(&body.parameters))?;
        tx.commit().await?;
        run
    };
    match engine::execute(&state, run).await {
        Ok(_) => {
            tracing::info!(rotation_id = %new.id, "rotation created");
            let row = store::find(&state.pool, new.id).await?.ok_or_else(|| not_found(new.id, true))?;
            audit(&state, Actor::Identity(&auth), &row, "CREATE_SECRET_ROTATION", "success", json!({"parameters": row.parameters, "secretsMapping": row.secrets_mapping})).await;
            envelope(&state, row).await
        }
        Err(RunError::Abandoned(message)) => {
            if let Ok(Some(row)) = store::find(&state.pool, new.id).await {
                audit(&state, Actor::Identity(&auth), &row, "CREATE_SECRET_ROTATION", "failure", json!({"message": message})).await;
            }
            engine::cleanup_failed_creation(&state, new.id).await;
            Err(ApiError::bad_request(message))
        }
        // Visible now, failed, with the new credential in its slot: the message says what to do.
        Err(RunError::Settled(message)) => Err(ApiError::RotationFailed(format!(
            "{message} The rotation was created with ID \"{}\".",
            new.id
        ))),
        Err(RunError::Interrupted(message)) => Err(ApiError::RotationFailed(format!(
            "{message}. The new credential is active at Salesforce; Rotary will publish it when the run resumes."
        ))),
    }
}

// ---- update --------------------------------------------------------------------------------

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRotation {
    pub name: Option<String>,
    #[validate(length(max = 256, message = "description must be at most 256 characters"))]
    pub description: Option<String>,
    pub is_auto_rotation_enabled: Option<bool>,
    #[serde(default, deserialize_with = "whole_number_opt")]
    #[validate(range(min = 1, message = "rotationInterval must be at least 1"))]
    #[validate(custom(function = "interval_in_range"))]
    #[schema(minimum = 1, maximum = 36500)]
    pub rotation_interval: Option<i64>,
    #[validate(nested)]
    pub rotate_at_utc: Option<RotateAtInput>,
    #[validate(nested)]
    pub parameters: Option<Parameters>,
    #[validate(nested)]
    pub secrets_mapping: Option<SecretsMapping>,
}

#[utoipa::path(patch, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}", tag = "Secret Rotations",
    params(("rotationId" = Uuid, Path)), request_body = UpdateRotation, security(("bearer" = [])),
    operation_id = "updateSalesforceOAuthCredentialsRotation",
    responses((status = 200, body = RotationEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateRotation>,
) -> ApiResult<Json<RotationEnvelope>> {
    if let Some(name) = &body.name {
        check_slug("name", name.trim())?;
    }
    let (row, access) = rotation_for(&state, &auth, id, Action::Edit, false).await?;
    // New parameters point the rotation at another app: the same rules as creating it.
    let new_target = match &body.parameters {
        Some(params) => {
            let connection = app_connections::find(&state.pool, row.org_id, row.connection_id)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_request("The rotation's app connection no longer exists")
                })?;
            if connection.project_id.is_none() {
                require_org_connection_grant(&auth, connection.id)?;
            }
            Some(target_of(&connection, &params.app_id))
        }
        None => None,
    };
    let mut tx = state.pool.begin().await?;
    store::lock_folder(&mut tx, row.env_id, &row.folder_path).await?;
    if let Some(name) = body.name.as_deref().map(str::trim) {
        if store::name_taken(&mut tx, row.env_id, &row.folder_path, name, Some(id)).await? {
            return Err(name_exists(name, &row.folder_path));
        }
    }
    let new_mapping = body.secrets_mapping.as_ref().map(SecretsMapping::trimmed);
    if let Some(mapping) = &new_mapping {
        duplicate_keys(&mapping.keys())?;
        let old = row.mapped_keys();
        let fresh: Vec<String> = mapping
            .keys()
            .into_iter()
            .filter(|k| !old.contains(k))
            .collect();
        keys_exist(
            &row.folder_path,
            &store::keys_in_use(&mut tx, row.env_id, &row.folder_path, &fresh, Some(id)).await?,
        )?;
        // Rename the owned secrets: consumerKey's secret to the new consumerKey name, ...
        for field in ["consumerKey", "consumerSecret"] {
            let from = row.secrets_mapping[field].as_str().unwrap_or_default();
            let to = if field == "consumerKey" {
                &mapping.consumer_key
            } else {
                &mapping.consumer_secret
            };
            if from != to {
                if let Some(secret) = secrets::find_owned(&mut tx, id, from).await? {
                    secrets::write_owned(
                        &mut tx,
                        &[secrets::OwnedWrite {
                            id: secret.id,
                            new_key: Some(to.clone()),
                            value_ct: None,
                        }],
                    )
                    .await?;
                }
            }
        }
    }
    let mut merged = row.clone();
    if let Some(v) = body.is_auto_rotation_enabled {
        merged.is_auto_rotation_enabled = v;
    }
    if let Some(v) = body.rotation_interval {
        merged.rotation_interval = v.min(i32::MAX.into()) as i32;
    }
    if let Some(at) = body.rotate_at_utc {
        merged.rotate_at_hours = at.hours as i32;
        merged.rotate_at_minutes = at.minutes as i32;
    }
    if !merged.is_auto_rotation_enabled {
        // Switching auto-rotation off cancels scheduled attempts that have not started.
        store::cancel_waiting(&mut tx, id).await?;
    }
    let now = Utc::now();
    let next = engine::schedule_of(&state, &merged).next(
        merged.last_rotated_at,
        merged.rotation_status == "failed",
        merged.is_last_rotation_manual,
        now,
    );
    sqlx::query(
        "UPDATE secret_rotations SET name = coalesce($2, name), description = CASE WHEN $3 THEN $4 ELSE description END, \
         is_auto_rotation_enabled = $5, rotation_interval = $6, rotate_at_hours = $7, rotate_at_minutes = $8, \
         parameters = coalesce($9, parameters), secrets_mapping = coalesce($10, secrets_mapping), next_rotation_at = $11, \
         target = coalesce($12, target), updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(body.name.as_deref().map(str::trim))
    .bind(body.description.is_some())
    .bind(body.description.as_deref().map(str::trim))
    .bind(merged.is_auto_rotation_enabled)
    .bind(merged.rotation_interval)
    .bind(merged.rotate_at_hours)
    .bind(merged.rotate_at_minutes)
    .bind(body.parameters.as_ref().map(|p| json!({"appId": p.app_id.trim(), "appName": p.app_name.trim()})))
    .bind(new_mapping.as_ref().map(|m| serde_json::to_value(m).unwrap_or_default()))
    .bind(next)
    .bind(new_target)
    .execute(&mut *tx)
    .await
    .map_err(|e| match (crate::error::unique_violation(&e), &body.parameters) {
        (Some(c), Some(params)) if c == store::TARGET_CONSTRAINT => target_taken(params),
        (Some(_), _) => name_exists(body.name.as_deref().unwrap_or_default().trim(), &row.folder_path),
        (None, _) => e.into(),
    })?;
    tx.commit().await?;
    drop(access);
    let row = store::find(&state.pool, id)
        .await?
        .ok_or_else(|| not_found(id, false))?;
    audit(
        &state,
        Actor::Identity(&auth),
        &row,
        "UPDATE_SECRET_ROTATION",
        "success",
        json!({}),
    )
    .await;
    envelope(&state, row).await
}

// ---- delete --------------------------------------------------------------------------------

fn strict_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(serde::de::Error::custom(format!(
            "Invalid enum value. Expected 'true' | 'false', received '{other}'"
        ))),
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    /// Also delete the mapped secrets (default false: they stay and become editable).
    #[serde(default, deserialize_with = "strict_bool")]
    pub delete_secrets: bool,
    /// Revoke at Salesforce: delete the previous credential Rotary created, then disable OAuth
    /// on the External Client App. This stops EVERY consumer of that app, not only Rotary's.
    #[serde(default, deserialize_with = "strict_bool")]
    pub revoke_generated_credentials: bool,
}

#[utoipa::path(delete, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}", tag = "Secret Rotations",
    params(("rotationId" = Uuid, Path), ("deleteSecrets" = Option<bool>, Query), ("revokeGeneratedCredentials" = Option<bool>, Query)),
    security(("bearer" = [])), operation_id = "deleteSalesforceOAuthCredentialsRotation",
    description = "revokeGeneratedCredentials=true disables OAuth on the whole External Client App through the Metadata API: every consumer of that app stops getting tokens.",
    responses((status = 200, body = RotationEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiInput(q): ApiInput<DeleteQuery>,
) -> ApiResult<Json<RotationEnvelope>> {
    let (row, _) = rotation_for(&state, &auth, id, Action::Delete, true).await?;
    let deleted = view(&state, row.clone()).await?;
    if q.revoke_generated_credentials {
        // A revoke is a run: it takes the rotation's one open-run slot first, so no rotation
        // can stage a credential between the check and the revoke that the delete would then
        // orphan. The engine revokes, then deletes.
        let run = {
            let mut tx = state.pool.begin().await?;
            let run = take_the_run_slot(&state, &mut tx, id, store::Trigger::Revoke).await?;
            if q.delete_secrets {
                store::set_note(&mut tx, run.id, engine::DELETE_SECRETS_NOTE).await?;
            }
            tx.commit().await?;
            store::get_run(&state.pool, run.id).await?
        };
        match engine::execute(&state, run).await {
            Ok(_) => {}
            Err(RunError::Abandoned(message)) => return Err(ApiError::bad_request(message)),
            Err(e) => return Err(ApiError::RotationFailed(e.message().to_string())),
        }
    } else {
        let mut tx = state.pool.begin().await?;
        take_the_run_slot(&state, &mut tx, id, store::Trigger::Delete).await?;
        secrets::release_owned(&mut tx, id, q.delete_secrets).await?;
        store::delete(&mut tx, id).await?;
        tx.commit().await?;
    }
    audit(&state, Actor::Identity(&auth), &row, "DELETE_SECRET_ROTATION", "success",
        json!({"deleteSecrets": q.delete_secrets, "revokeGeneratedCredentials": q.revoke_generated_credentials})).await;
    tracing::info!(rotation_id = %id, delete_secrets = q.delete_secrets, revoked = q.revoke_generated_credentials, "rotation deleted");
    Ok(Json(RotationEnvelope {
        secret_rotation: deleted,
    }))
}

/// Opens the rotation's one run (for a delete or a revoke) in `tx`, with the rotation's row
/// locked, so the scheduler skips it and a rotate-secrets waits. A run in flight refuses; a
/// run whose worker died is cancelled first (its lease or its process is gone).
async fn take_the_run_slot(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: Uuid,
    trigger: store::Trigger,
) -> ApiResult<RunRow> {
    store::find_for_update(tx, id)
        .await?
        .ok_or_else(|| not_found(id, true))?;
    if let Some(run) =
        store::insert_run(tx, id, trigger, engine::worker_id(), state.lease_seconds).await?
    {
        return Ok(run);
    }
    if store::cancel_dead_run(tx, id, "cancelled: the rotation was deleted").await? == 0 {
        return Err(ApiError::bad_request(IN_PROGRESS));
    }
    store::insert_run(tx, id, trigger, engine::worker_id(), state.lease_seconds)
        .await?
        .ok_or_else(|| ApiError::bad_request(IN_PROGRESS))
}

// ---- credentials, rotate, check, runs ------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedCredential {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub staged_credential_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedCredentials {
    pub generated_credentials: Vec<GeneratedCredential>,
    pub active_index: i32,
    pub rotation_id: Uuid,
    #[serde(rename = "type")]
    pub rotation_type: String,
}

#[utoipa::path(get, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}/generated-credentials", tag = "Secret Rotations",
    params(("rotationId" = Uuid, Path)), security(("bearer" = [])), operation_id = "getSalesforceOAuthCredentialsRotationGeneratedCredentials",
    responses((status = 200, body = GeneratedCredentials), (status = "4XX", body = ErrorBody)))]
pub async fn generated_credentials(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<GeneratedCredentials>> {
    let (row, access) =
        rotation_for(&state, &auth, id, Action::ReadGeneratedCredentials, true).await?;
    let slots = crate::rotation::journal::open_slots::<SalesforceOAuthCredentials>(
        &project_key(&state, &access.project)?,
        &row,
    )?
    .items;
    audit(
        &state,
        Actor::Identity(&auth),
        &row,
        "GET_SECRET_ROTATION_GENERATED_CREDENTIALS",
        "success",
        json!({}),
    )
    .await;
    Ok(Json(GeneratedCredentials {
        generated_credentials: slots
            .into_iter()
            .map(|s| GeneratedCredential {
                consumer_key: s.consumer_key,
                consumer_secret: s.consumer_secret.expose_secret().to_string(),
                staged_credential_url: s.staged_credential_url,
            })
            .collect(),
        active_index: row.active_index,
        rotation_id: row.id,
        rotation_type: TYPE.into(),
    }))
}

#[utoipa::path(post, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}/rotate-secrets", tag = "Secret Rotations",
    params(("rotationId" = Uuid, Path)), security(("bearer" = [])), operation_id = "rotateSalesforceOAuthCredentialsRotation",
    description = "Rotates now, synchronously. 400 while another run of the rotation is in flight; 500 with the reason when Salesforce fails.",
    responses((status = 200, body = RotationEnvelope), (status = "4XX", body = ErrorBody), (status = 500, body = ErrorBody)))]
pub async fn rotate_secrets(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RotationEnvelope>> {
    let (before, _) = rotation_for(&state, &auth, id, Action::RotateSecrets, true).await?;
    let run = {
        let mut conn = state.pool.acquire().await?;
        store::insert_run(
            &mut conn,
            id,
            store::Trigger::Manual,
            engine::worker_id(),
            state.lease_seconds,
        )
        .await
        .map_err(|e| match &e {
            // A delete that held the rotation's row committed first.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => {
                ApiError::not_found(format!(
                    "Secret Rotation with ID \"{id}\" was deleted before it could be rotated"
                ))
            }
            _ => e.into(),
        })?
    };
    let run = match run {
        Some(run) => run,
        // A run is open: if its worker died, take it over and finish it; else it is busy.
        None => store::take_over_expired(&state.pool, id, engine::worker_id(), state.lease_seconds)
            .await?
            .ok_or_else(|| ApiError::bad_request(IN_PROGRESS))?,
    };
    let run_id = run.id;
    match engine::execute(&state, run).await {
        Ok(_) => {
            let row = store::find(&state.pool, id)
                .await?
                .ok_or_else(|| not_found(id, true))?;
            audit(
                &state,
                Actor::Identity(&auth),
                &row,
                "SECRET_ROTATION_ROTATE_SECRETS",
                "success",
                json!({"jobId": run_id, "message": null}),
            )
            .await;
            envelope(&state, row).await
        }
        Err(e) => {
            // A delete that won the race against this rotate removed the rotation (and its
            // run) before the run could start: nothing happened at Salesforce.
            if store::find(&state.pool, id).await?.is_none() {
                return Err(ApiError::not_found(format!(
                    "Secret Rotation with ID \"{id}\" was deleted before it could be rotated"
                )));
            }
            audit(
                &state,
                Actor::Identity(&auth),
                &before,
                "SECRET_ROTATION_ROTATE_SECRETS",
                "failure",
                json!({"jobId": run_id, "message": e.message()}),
            )
            .await;
            Err(ApiError::RotationFailed(e.message().to_string()))
        }
    }
}

#[utoipa::path(post, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}/check-credentials", tag = "Secret Rotations",
    params(("rotationId" = Uuid, Path)), security(("bearer" = [])),
    description = "204 when the active consumer key and secret get a token from Salesforce; 400 with the reason when not. Reports only; never repairs.",
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn check_credentials(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let (row, access) =
        rotation_for(&state, &auth, id, Action::ReadGeneratedCredentials, true).await?;
    if run_in_flight(&state, id).await?.is_some() {
        return Err(ApiError::bad_request(
            "A rotation is in progress. Please try again shortly.",
        ));
    }
    let slots = crate::rotation::journal::open_slots::<SalesforceOAuthCredentials>(
        &project_key(&state, &access.project)?,
        &row,
    )?
    .items;
    let Some(active) = slots.get(row.active_index as usize) else {
        return Err(ApiError::bad_request(
            "No active credentials are available to check for this rotation.",
        ));
    };
    let connection = app_connections::find(&state.pool, row.org_id, row.connection_id)
        .await?
        .ok_or_else(|| ApiError::bad_request("The rotation's app connection no longer exists"))?;
    let instance_url = connections::open(&state, &connection).await?.instance_url;
    crate::providers::url_guard::check_literal(&instance_url, state.allow_internal_urls)
        .map_err(|e| ApiError::bad_request(format!("The app connection cannot be used: {e}")))?;
    let client = SalesforceClient::new(
        state.provider_http.clone(),
        &instance_url,
        &active.consumer_key,
        SecretString::from(active.consumer_secret.expose_secret().to_string()),
    );
    let checked = client.fetch_token().await;
    let (outcome, message) = match &checked {
        Ok(_) => ("success", Value::Null),
        Err(e) => ("failure", json!(e.message)),
    };
    audit(
        &state,
        Actor::Identity(&auth),
        &row,
        "SECRET_ROTATION_CHECK_CREDENTIALS",
        outcome,
        json!({"errorMessage": message}),
    )
    .await;
    checked.map_err(|e| provider_error("Salesforce refused the active credential", e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    pub id: Uuid,
    /// create, manual, scheduled, or revoke (a DELETE with revokeGeneratedCredentials that failed).
    pub trigger: String,
    /// The last durable step: started, retired, staged, activated, published.
    pub step: String,
    /// running, succeeded or failed.
    pub outcome: String,
    pub error: Option<String>,
    pub note: Option<String>,
    pub attempts: i32,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct RunList {
    pub runs: Vec<RunView>,
}

#[utoipa::path(get, path = "/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}/runs", tag = "Secret Rotations",
    params(("rotationId" = Uuid, Path)), security(("bearer" = [])),
    description = "The rotation's run history, newest first (Rotary only).",
    responses((status = 200, body = RunList), (status = "4XX", body = ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RunList>> {
    rotation_for(&state, &auth, id, Action::Read, true).await?;
    let runs = store::list_runs(&state.pool, id).await?;
    Ok(Json(RunList {
        runs: runs
            .into_iter()
            .map(|r| RunView {
                id: r.id,
                trigger: r.trigger.to_string(),
                step: r.step,
                outcome: r.outcome.to_string(),
                error: r.error,
                note: r.note,
                attempts: r.attempts,
                started_at: r.created_at,
                updated_at: r.updated_at,
                finished_at: r.finished_at,
            })
            .collect(),
    }))
}
