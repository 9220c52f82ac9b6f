//! The SQL types' `parameters` and `secretsMapping` on Infisical's wire (reference §2.3):
//! two existing logins used alternately, an optional `rotationStatement` and
//! `passwordRequirements`. Everything that later reaches a statement is checked here, before
//! any provider call: usernames that could break out of an identifier, templates with other
//! expressions, password alphabets that could end a literal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::providers::sql::{password::PasswordRequirements, statement};
use crate::validation::secret_name_rule;

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
    #[validate(custom(function = "check_password_requirements"))]
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

fn invalid(code: &'static str, message: String) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(message.into());
    e
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

fn check_password_requirements(requirements: &PasswordRequirements) -> Result<(), ValidationError> {
    match requirements.problem() {
        Some(problem) => Err(invalid("custom", problem)),
        None => Ok(()),
    }
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct SqlMapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub username: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub password: String,
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
        self.ssl_certificate
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    }
}

/// zod trims these fields before `min(1)`: whitespace alone is empty.
fn not_blank(value: &str) -> Result<(), ValidationError> {
    if !value.is_empty() && value.trim().is_empty() {
        return Err(invalid(
            "too_small",
            "String must contain at least 1 character(s)".into(),
        ));
    }
    Ok(())
}

fn port_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let n = match &v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(&n) => Ok(n as u16),
        Some(_) => Err(serde::de::Error::custom(
            "Port must be a whole number from 1 to 65535",
        )),
        None => Err(serde::de::Error::custom(
            "Expected number, received ".to_string()
                + match v {
                    serde_json::Value::Null => "null",
                    serde_json::Value::Bool(_) => "boolean",
                    serde_json::Value::String(_) => "string",
                    serde_json::Value::Array(_) => "array",
                    _ => "object",
                },
        )),
    }
}
