//! `auth0-client-secret` and the `auth0` connection on Infisical's wire (reference §6.1–6.2):
//! the connection's domain, Machine-to-Machine client and Management API audience, the
//! rotation's `clientId`, and the `{clientId, clientSecret}` mapping and credential.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::rotation::provider::{sealed, Credential};
use crate::validation::{invalid, not_blank, secret_name_rule};

fn audience_rule(audience: &str) -> Result<(), ValidationError> {
    let audience = audience.trim();
    if audience.is_empty() {
        return Err(invalid("too_small", "Audience required".into()));
    }
    match url::Url::parse(audience) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(invalid("invalid_string", "Invalid url".into())),
    }
}

/// The `credentials` of an `auth0` app connection (`client-credentials`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Auth0ConnectionInput {
    /// The tenant's domain, with or without `https://` (acme.us.auth0.com).
    #[validate(
        length(min = 1, message = "Domain required"),
        custom(function = "not_blank")
    )]
    pub domain: String,
    /// A Machine-to-Machine app authorised for the Management API with `read:clients` and
    /// `update:client_keys`.
    #[validate(
        length(min = 1, message = "Client ID required"),
        custom(function = "not_blank")
    )]
    pub client_id: String,
    #[validate(
        length(min = 1, message = "Client Secret required"),
        custom(function = "not_blank")
    )]
    #[schema(value_type = String)]
    pub client_secret: String,
    /// The Management API's identifier, with its trailing slash:
    /// `https://acme.us.auth0.com/api/v2/`.
    #[validate(custom(function = "audience_rule"))]
    pub audience: String,
}

/// An `auth0` connection as stored (sealed); the API shows all but `clientSecret`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Auth0Connection {
    /// `https://` and the domain, no trailing slash.
    pub domain: String,
    pub client_id: String,
    #[serde(serialize_with = "sealed::expose")]
    pub client_secret: SecretString,
    pub audience: String,
}

impl Auth0Connection {
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({"domain": self.domain, "clientId": self.client_id, "audience": self.audience})
    }

    /// The Management API's URL of `path` (the audience ends in `/api/v2/`, as Infisical
    /// appends to it).
    pub fn api(&self, path: &str) -> String {
        let base = if self.audience.ends_with('/') {
            self.audience.clone()
        } else {
            format!("{}/", self.audience)
        };
        format!("{base}{path}")
    }
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Auth0Parameters {
    /// The client id of the application whose secret is rotated (the clients helper lists
    /// them).
    #[validate(custom(function = "client_id_rule"))]
    pub client_id: String,
}

fn client_id_rule(id: &str) -> Result<(), ValidationError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(invalid("too_small", "Client ID Required".into()));
    }
    // It goes into the Management API's paths: Auth0's client ids are letters and digits.
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(invalid(
            "custom",
            "Client ID must be an Auth0 client id (letters, digits, '_' and '-')".into(),
        ));
    }
    Ok(())
}

impl Auth0Parameters {
    pub fn normalized(&self) -> Auth0Parameters {
        Auth0Parameters {
            client_id: self.client_id.trim().to_string(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Auth0Mapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub client_id: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub client_secret: String,
}

/// The slot: the application's client id and its secret.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Auth0Secret {
    pub client_id: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub client_secret: SecretString,
}

impl Credential for Auth0Secret {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("clientId", SecretString::from(self.client_id.clone())),
            ("clientSecret", self.client_secret.clone()),
        ]
    }
    fn label(&self) -> String {
        self.client_id.clone()
    }
}
