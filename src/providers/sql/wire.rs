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
