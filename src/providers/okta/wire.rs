//! `okta-client-secret` and the `okta` connection on Infisical's wire (reference §7.1–7.2):
//! the connection's instance URL and SSWS API token, the rotation's `clientId`, the
//! `{clientId, clientSecret}` mapping, and the credential a slot holds (the secret's Okta id
//! beside its value, so a later run can deactivate and delete exactly it).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::rotation::provider::{sealed, Credential};
use crate::validation::{invalid, secret_name_rule};

fn instance_url_rule(url: &str) -> Result<(), ValidationError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(invalid("too_small", "Instance URL required".into()));
    }
    if url.len() > 255 {
        return Err(invalid(
            "too_big",
            "String must contain at most 255 character(s)".into(),
        ));
    }
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(invalid("invalid_string", "Invalid Instance URL".into())),
    }
}

/// Okta's API tokens: `00` and 40 URL-safe characters.
pub fn api_token_problem(token: &str) -> Option<&'static str> {
    let token = token.trim();
    if token.is_empty() {
        return Some("API Token required");
    }
    let well_formed = token.len() == 42
        && token.starts_with("00")
        && token[2..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (!well_formed).then_some("Invalid Okta API Token format")
}

fn api_token_rule(token: &str) -> Result<(), ValidationError> {
    match api_token_problem(token) {
        Some(m) if token.trim().is_empty() => Err(invalid("too_small", m.into())),
        Some(m) => Err(invalid("invalid_string", m.into())),
        None => Ok(()),
    }
}

/// The `credentials` of an `okta` app connection (`api-token`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OktaConnectionInput {
    /// The org's URL, e.g. https://acme.okta.com.
    #[validate(custom(function = "instance_url_rule"))]
    #[schema(max_length = 255, example = "https://acme.okta.com")]
    pub instance_url: String,
    /// An API token (Security → API → Tokens) of an admin that may manage the apps.
    #[validate(custom(function = "api_token_rule"))]
    #[schema(value_type = String, pattern = "^00[a-zA-Z0-9_-]{40}$")]
    pub api_token: String,
}

/// An `okta` connection as stored (sealed); the API shows `instanceUrl` only.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaConnection {
    pub instance_url: String,
    #[serde(serialize_with = "sealed::expose")]
    pub api_token: SecretString,
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OktaParameters {
    /// The OIDC app's client id (its app id: the apps helper lists them).
    #[validate(custom(function = "client_id_rule"))]
    pub client_id: String,
}

fn client_id_rule(id: &str) -> Result<(), ValidationError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(invalid("too_small", "Client ID Required".into()));
    }
    // It goes into the API's paths: Okta's ids are letters and digits.
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(invalid(
            "custom",
            "Client ID must be an Okta app id (letters, digits, '_' and '-')".into(),
        ));
    }
    Ok(())
}

impl OktaParameters {
    pub fn normalized(&self) -> OktaParameters {
        OktaParameters {
            client_id: self.client_id.trim().to_string(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OktaMapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub client_id: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub client_secret: String,
}

/// A slot: the app's client id, the secret, and Okta's id of the secret.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OktaSecret {
    pub client_id: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub client_secret: SecretString,
    /// Empty until Okta has created it.
    pub secret_id: String,
}

impl Credential for OktaSecret {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("clientId", SecretString::from(self.client_id.clone())),
            ("clientSecret", self.client_secret.clone()),
        ]
    }
    fn label(&self) -> String {
        format!("{} secret {}", self.client_id, self.secret_id)
    }
}

#[cfg(test)]
mod tests {
    use super::api_token_problem;

    #[test]
    fn api_tokens_are_00_and_40_url_safe_characters() {
        let good = format!("00{}", "aB3_-".repeat(8));
        assert_eq!(api_token_problem(&good), None);
        assert_eq!(api_token_problem(" "), Some("API Token required"));
        for bad in [
            format!("01{}", "a".repeat(40)),
            format!("00{}", "a".repeat(39)),
            format!("00{}", "a".repeat(41)),
            format!("00{}!", "a".repeat(39)),
        ] {
            assert_eq!(
                api_token_problem(&bad),
                Some("Invalid Okta API Token format")
            );
        }
    }
}
