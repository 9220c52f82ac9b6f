//! The credential of the types that issue a username and a password (the SQL types, Redis,
//! MongoDB next), and their `secretsMapping`: one secret name for each.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::rotation::provider::{sealed, Credential};
use crate::validation::secret_name_rule;

/// `secretsMapping`: the secret names the username and the password are published to.
#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct LoginMapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub username: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub password: String,
}

/// One slot of a type whose credential is a username and its password.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Login {
    pub username: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub password: SecretString,
}

impl Credential for Login {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("username", SecretString::from(self.username.clone())),
            ("password", self.password.clone()),
        ]
    }
    fn label(&self) -> String {
        self.username.clone()
    }
}
