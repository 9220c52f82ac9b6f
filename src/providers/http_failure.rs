//! A failed call to a provider's HTTP API (Okta, Auth0, Microsoft), in words a person can act
//! on: the status when the provider answered, its error code when it has one, and a message
//! built from its error body (each client reads its own provider's shape). Never a secret.

use crate::error::ApiError;
use crate::rotation::provider::StepError;

#[derive(Debug)]
pub struct HttpFailure {
    /// HTTP status, when the provider answered.
    pub status: Option<u16>,
    /// The provider's own error code (Okta's `errorCode`), when it has one.
    pub code: Option<String>,
    pub message: String,
}

impl HttpFailure {
    /// A failure without an answer to read (a body Rotary does not understand, a missing field).
    pub fn unanswered(message: impl Into<String>) -> HttpFailure {
        HttpFailure {
            status: None,
            code: None,
            message: message.into(),
        }
    }

    /// The request never got an answer: `provider` timed out, refused the connection, or
    /// the connection failed.
    pub fn transport(provider: &str, e: &reqwest::Error) -> HttpFailure {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "the connection failed"
        };
        HttpFailure::unanswered(format!("{provider} {what}"))
    }

    /// Whether the provider's trouble may pass: no answer, 429, or 5xx.
    pub fn is_transient(&self) -> bool {
        matches!(self.status, None | Some(429) | Some(500..))
    }

    /// As a phase error: transient (see `is_transient`); a refused token or permission is
    /// the connection's (401, 403); the rest is the request's.
    pub fn step(self, context: &str) -> StepError {
        let message = format!("{context}: {}", self.message);
        match self.status {
            _ if self.is_transient() => StepError::Transient(message),
            Some(401) | Some(403) => StepError::Setup(message),
            _ => StepError::Fatal(message),
        }
    }

    /// As an API answer (the helper routes that list apps or clients): 502 when the
    /// provider's trouble may pass, else 400.
    pub fn api(self, context: &str) -> ApiError {
        let message = format!("{context}: {}", self.message);
        if self.is_transient() {
            ApiError::Upstream(message)
        } else {
            ApiError::bad_request(message)
        }
    }
}
