//! Errors as Infisical shapes them: `{reqId, statusCode, message, error}`. This is the only
//! place that knows HTTP status codes; handlers return `ApiError` and `?` does the mapping.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

tokio::task_local! {
    /// The id of the request being served, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| "req-unknown".to_string())
}

/// One problem in a request, shaped like a zod issue.
#[derive(Debug, Clone, Serialize, PartialEq, ToSchema)]
pub struct Issue {
    /// zod's issue code: `invalid_type`, `too_small`, `too_big`, `invalid_string`, `custom`...
    pub code: String,
    #[schema(value_type = Vec<PathSegment>)]
    pub path: Vec<Value>,
    pub message: String,
}

// Described for the OpenAPI document only; the wire value is a serde_json::Value.
/// A step of an issue's path: a field name or an array index.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum PathSegment {
    Field(String),
    Index(u64),
}

// Described for the OpenAPI document only; the wire value is a serde_json::Value.
/// An error's `message`: a sentence, or the list of issues.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ErrorMessage {
    /// A sentence for people.
    Sentence(String),
    /// For 422 (and some 400s): the list of issues, as zod reports them.
    Issues(Vec<Issue>),
}

impl Issue {
    pub fn new(code: &str, path: &[&str], message: impl Into<String>) -> Self {
        Issue {
            code: code.to_string(),
            path: path.iter().map(|p| Value::String(p.to_string())).collect(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    PermissionDenied { message: String, details: Value },
    #[error("{0}")]
    NotFound(String),
    #[error("request validation failed")]
    Validation(Vec<Issue>),
    #[error("rate limited for {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A rotation attempt failed; Infisical answers these with 500 and the reason.
    #[error("{0}")]
    RotationFailed(String),
    /// A provider (Salesforce) failed or could not be reached; the message says what happened.
    #[error("{0}")]
    Upstream(String),
    /// A dependency (the database) is down; health checks answer this.
    #[error("{0}")]
    Unavailable(String),
    /// Anything unexpected. Logged in full, answered as "Something went wrong".
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(message.into())
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::Unauthorized(message.into())
    }
    /// A CASL-style refusal: `You are not allowed to <action> on <subject>`.
    pub fn forbidden(action: &str, subject: &str) -> Self {
        ApiError::PermissionDenied {
            message: format!("You are not allowed to {action} on {subject}"),
            details: serde_json::json!([{
                "action": action,
                "inverted": false,
                "subject": subject,
            }]),
        }
    }
    pub fn invalid(code: &str, path: &[&str], message: impl Into<String>) -> Self {
        ApiError::Validation(vec![Issue::new(code, path, message)])
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::Internal(err.into())
    }
}

/// The constraint a unique violation (SQLSTATE 23505) broke, if that is what `err` is.
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

/// Check-then-insert loses races: two requests both pass the check, one insert hits the
/// unique constraint. `or_conflict` answers that one with the same 400 the check gives.
pub trait OrConflict<T> {
    fn or_conflict(self, conflict: impl FnOnce() -> ApiError) -> ApiResult<T>;
}

impl<T> OrConflict<T> for Result<T, sqlx::Error> {
    fn or_conflict(self, conflict: impl FnOnce() -> ApiError) -> ApiResult<T> {
        self.map_err(|e| match unique_violation(&e) {
            Some(_) => conflict(),
            None => e.into(),
        })
    }
}

/// The wire shape of every error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub req_id: String,
    pub status_code: u16,
    /// A sentence for people, or for 422 the list of issues.
    #[schema(value_type = ErrorMessage)]
    pub message: Value,
    pub error: String,
    /// With 403 PermissionDenied: the rules that refused the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<DeniedRule>>)]
    pub details: Option<Value>,
}

// Described for the OpenAPI document only; the wire value is a serde_json::Value.
/// A CASL-style rule, as Infisical sends in a refusal's `details`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DeniedRule {
    action: String,
    inverted: bool,
    subject: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, message, details) = match self {
            ApiError::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "BadRequest",
                Value::String(m),
                None,
            ),
            ApiError::Unauthorized(m) => (
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                Value::String(m),
                None,
            ),
            ApiError::PermissionDenied { message, details } => (
                StatusCode::FORBIDDEN,
                "PermissionDenied",
                Value::String(message),
                Some(details),
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "NotFound", Value::String(m), None),
            ApiError::Validation(issues) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "ValidationFailure",
                serde_json::to_value(issues).unwrap_or(Value::Null),
                None,
            ),
            ApiError::RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "RateLimitExceeded",
                Value::String(format!(
                    "Rate limit exceeded. Please try again in {retry_after_secs} seconds"
                )),
                None,
            ),
            ApiError::PayloadTooLarge(m) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                Value::String(m),
                None,
            ),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                Value::String(m),
                None,
            ),
            ApiError::MethodNotAllowed(m) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                Value::String(m),
                None,
            ),
            ApiError::RotationFailed(m) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                Value::String(m),
                None,
            ),
            ApiError::Upstream(m) => (
                StatusCode::BAD_GATEWAY,
                "BadGateway",
                Value::String(m),
                None,
            ),
            ApiError::Unavailable(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                Value::String(m),
                None,
            ),
            ApiError::Internal(err) => {
                // The cause goes to the log (with the request id), never to the client.
                tracing::error!(error = %format!("{err:#}"), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    Value::String("Something went wrong".to_string()),
                    None,
                )
            }
        };
        let body = ErrorBody {
            req_id: current_request_id(),
            status_code: status.as_u16(),
            message,
            error: error.to_string(),
            details,
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
