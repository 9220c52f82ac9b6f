//! `azure-client-secret` and the `azure-client-secrets` connection on Infisical's wire
//! (reference §8.1–8.2): the connection's tenant and client (per method), the rotation's
//! `objectId`, `clientId` and optional `appName`, the `{clientId, clientSecret}` mapping and
//! the credential (the secret's `keyId` beside its value).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::rotation::provider::{sealed, Credential};
use crate::validation::{invalid, secret_name_rule};

fn uuid_rule(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(invalid("too_small", "Required".into()));
    }
    uuid::Uuid::parse_str(value.trim())
        .map(drop)
        .map_err(|_| invalid("invalid_string", "Invalid uuid".into()))
}

/// The `credentials` of an `azure-client-secrets` connection. `client-secret`: `tenantId`,
/// `clientId`, `clientSecret`; `certificate`: `tenantId`, `clientId`, `certificateBody` (PEM)
/// and `privateKey` (PKCS#8, PEM or bare base64 DER); `oauth` (`code`, `tenantId`) needs an
/// OAuth app registration of the server's own, which Rotary does not have.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureConnectionInput {
    #[validate(custom(function = "uuid_rule"))]
    pub tenant_id: String,
    #[serde(default)]
    #[validate(custom(function = "uuid_rule"))]
    pub client_id: Option<String>,
    #[serde(default)]
    #[validate(length(
        min = 1,
        max = 50,
        message = "Client Secret must be at most 50 characters long"
    ))]
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<String>,
    /// `certificate` only: the certificate uploaded to the app registration, PEM.
    #[serde(default)]
    pub certificate_body: Option<String>,
    /// `certificate` only: its RSA private key, PKCS#8 (PEM, or bare base64 DER).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub private_key: Option<String>,
    /// `oauth` only.
    #[serde(default)]
    pub code: Option<String>,
}

/// A `client-secret` or `certificate` connection as stored (sealed); the API shows `tenantId`
/// and `clientId`. One of `clientSecret` and `certificate` is set (connections saved before
/// the certificate method have only `clientSecret`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureConnection {
    pub tenant_id: String,
    pub client_id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "sealed::expose_option"
    )]
    pub client_secret: Option<SecretString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<AzureCertificate>,
}

/// The `certificate` method's certificate (PEM) and private key (PKCS#8 DER, base64).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureCertificate {
    pub body: String,
    #[serde(serialize_with = "sealed::expose")]
    pub private_key: SecretString,
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureParameters {
    /// The app registration's object id.
    #[validate(custom(function = "object_id_rule"))]
    pub object_id: String,
    /// Its application (client) id.
    #[validate(custom(function = "client_id_rule"))]
    pub client_id: String,
    /// Shown only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
}

fn required_uuid(value: &str, empty: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(invalid("too_small", empty.into()));
    }
    // It goes into Graph's paths and the token request.
    uuid::Uuid::parse_str(value.trim())
        .map(drop)
        .map_err(|_| invalid("invalid_string", "Invalid uuid".into()))
}

fn object_id_rule(value: &str) -> Result<(), ValidationError> {
    required_uuid(value, "Object ID Required")
}

fn client_id_rule(value: &str) -> Result<(), ValidationError> {
    required_uuid(value, "Client ID Required")
}

impl AzureParameters {
    pub fn normalized(&self) -> AzureParameters {
        AzureParameters {
            object_id: self.object_id.trim().to_lowercase(),
            client_id: self.client_id.trim().to_lowercase(),
            app_name: self
                .app_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
        }
    }
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureMapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub client_id: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub client_secret: String,
}

/// A slot: the client id, the secret and Graph's `keyId` of it.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureSecret {
    pub client_id: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub client_secret: SecretString,
    pub key_id: String,
}

impl Credential for AzureSecret {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("clientId", SecretString::from(self.client_id.clone())),
            ("clientSecret", self.client_secret.clone()),
        ]
    }
    fn label(&self) -> String {
        format!("{} secret {}", self.client_id, self.key_id)
    }
}
