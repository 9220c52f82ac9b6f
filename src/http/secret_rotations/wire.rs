//! The wire shapes every rotation type shares: the rotation resource as Infisical returns it,
//! the create and update bodies (generic over a type's `parameters` and `secretsMapping`),
//! and the query strings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

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
    pub rotation_status: crate::store::rotations::RotationStatus,
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

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectQuery {
    #[serde(default)]
    #[validate(length(min = 1, message = "Project ID required"))]
    pub project_id: String,
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

/// The create body: the fields every type shares, and the type's `parameters` (`P`) and
/// `secretsMapping` (`M`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRotation<P: Validate, M: Validate> {
    #[schema(example = "my-rotation")]
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
    pub parameters: P,
    #[validate(nested)]
    pub secrets_mapping: M,
    /// Values used once by the first rotation and never stored (LDAP: the target's current
    /// password for `target-principal`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub temporary_parameters: Option<serde_json::Value>,
}

/// The PATCH body: every field optional; `parameters` and `secretsMapping` replace the
/// stored ones as whole objects.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRotation<P: Validate, M: Validate> {
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
    pub parameters: Option<P>,
    #[validate(nested)]
    pub secrets_mapping: Option<M>,
}

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

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedCredentials<C> {
    /// The slots (one or two), secrets included.
    pub generated_credentials: Vec<C>,
    pub active_index: i32,
    pub rotation_id: Uuid,
    #[serde(rename = "type")]
    pub rotation_type: String,
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
