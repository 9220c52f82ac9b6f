//! The SQL types' `parameters` and `secretsMapping` on Infisical's wire (reference §2.3):
//! two existing logins used alternately, an optional `rotationStatement` and
//! `passwordRequirements`. Everything that later reaches a statement is checked here, before
//! any provider call: usernames that could break out of an identifier, templates with other
//! expressions, password alphabets that could end a literal.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::providers::password::PasswordRequirements;
use crate::providers::sql::statement;
use crate::rotation::provider::sealed;
use crate::validation::{invalid, not_blank, port_number};

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SqlParameters {
    /// The first login to rotate passwords for. It must already exist in the database.
    #[validate(length(min = 1, message = "Username1 Required"))]
    #[validate(custom(function = "statement_safe_name"))]
    pub username1: String,
    /// The second login to rotate passwords for. It must already exist in the database.
    #[validate(length(min = 1, message = "Username2 Required"))]
    #[validate(custom(function = "statement_safe_name"))]
    pub username2: String,
    /// The SQL template run for each rotation: `{{username}}`, `{{password}}` and
    /// `{{database}}` are replaced, and each `;`-separated statement runs in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "check_rotation_statement"))]
    pub rotation_statement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "crate::providers::password::requirements_rule"))]
    pub password_requirements: Option<PasswordRequirements>,
}

impl SqlParameters {
    /// As stored: trimmed (zod trims these fields).
    pub fn normalized(&self) -> SqlParameters {
        SqlParameters {
            username1: self.username1.trim().into(),
            username2: self.username2.trim().into(),
            rotation_statement: self
                .rotation_statement
                .as_deref()
                .map(|s| s.trim().to_string()),
            password_requirements: self.password_requirements.clone(),
        }
    }
}

fn statement_safe_name(name: &str) -> Result<(), ValidationError> {
    let name = name.trim();
    if name.is_empty() || statement::safe_name(name) {
        return Ok(());
    }
    Err(invalid(
        "custom",
        format!("The username \"{name}\" cannot be used in a statement: quotes, backslashes, semicolons, braces, backticks and whitespace are not allowed, and at most 63 bytes"),
    ))
}

fn check_rotation_statement(template: &str) -> Result<(), ValidationError> {
    match statement::problem(template) {
        Some(problem) => Err(invalid("custom", problem.into())),
        None => Ok(()),
    }
}

/// The `credentials` of a SQL app connection (`username-and-password`, reference §2.1).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SqlConnectionInput {
    #[validate(
        length(min = 1, message = "Host required"),
        custom(function = "not_blank")
    )]
    pub host: String,
    /// A number, or a string of one (as zod's coerce allows).
    #[serde(deserialize_with = "port_number")]
    #[schema(value_type = u16, example = 5432)]
    pub port: u16,
    #[validate(
        length(min = 1, message = "Database required"),
        custom(function = "not_blank")
    )]
    pub database: String,
    #[validate(
        length(min = 1, message = "Username required"),
        custom(function = "not_blank")
    )]
    pub username: String,
    #[validate(
        length(min = 1, message = "Password required"),
        custom(function = "not_blank")
    )]
    #[schema(value_type = String)]
    pub password: String,
    pub ssl_enabled: bool,
    pub ssl_reject_unauthorized: bool,
    /// PEM of the CA (or certificate) to trust; empty means the system's roots.
    #[serde(default)]
    pub ssl_certificate: Option<String>,
}

impl SqlConnectionInput {
    /// The certificate, if one was given (blank means none).
    pub fn certificate(&self) -> Option<String> {
        crate::validation::pem_or_none(self.ssl_certificate.as_deref())
    }
}

/// A SQL connection's credentials as stored (sealed): the same for every SQL type. The API
/// returns all but `password` (`public`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlConnection {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    #[serde(serialize_with = "sealed::expose")]
    pub password: SecretString,
    pub ssl_enabled: bool,
    pub ssl_reject_unauthorized: bool,
    #[serde(default)]
    pub ssl_certificate: Option<String>,
}

impl SqlConnection {
    /// What the API shows of it (and `public_config` stores).
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "username": self.username,
            "sslEnabled": self.ssl_enabled,
            "sslRejectUnauthorized": self.ssl_reject_unauthorized,
            "sslCertificate": self.ssl_certificate,
        })
    }
}

impl SqlConnectionInput {
    /// The credentials to check and seal: trimmed, a blank certificate as none.
    pub fn credentials(&self) -> SqlConnection {
        SqlConnection {
            host: self.host.trim().to_string(),
            port: self.port,
            database: self.database.trim().to_string(),
            username: self.username.trim().to_string(),
            password: SecretString::from(self.password.trim().to_string()),
            ssl_enabled: self.ssl_enabled,
            ssl_reject_unauthorized: self.ssl_reject_unauthorized,
            ssl_certificate: self.certificate(),
        }
    }
}

/// A two-user rotation's targets: each user on its server (`host:port/user`). Accounts
/// belong to the server, so one rotation per user: two would change each other's passwords.
pub fn user_targets(
    connection: &crate::store::app_connections::ConnectionRow,
    input: &SqlParameters,
) -> Vec<String> {
    let p = &connection.public_config;
    let server = format!(
        "{}:{}",
        p["host"].as_str().unwrap_or_default().trim().to_lowercase(),
        p["port"]
    );
    let mut users = vec![input.username1.trim(), input.username2.trim()];
    users.dedup();
    users
        .into_iter()
        .map(|user| format!("{server}/{user}"))
        .collect()
}

/// The 400 when one of `user_targets` is taken.
pub fn user_taken(input: &SqlParameters, provider: &str) -> crate::error::ApiError {
    crate::error::ApiError::bad_request(format!(
        "The user \"{}\" or \"{}\" is already rotated by another {provider} rotation on this server. A user can belong to one rotation only: two would change each other's passwords. Delete the other rotation first, or use other users.",
        input.username1.trim(),
        input.username2.trim()
    ))
}
