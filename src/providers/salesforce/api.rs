//! `salesforce-oauth-credentials` on Infisical's wire: `parameters` and `secretsMapping` as
//! the API takes them, what a rotation reserves, and check-credentials.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use validator::Validate;

use crate::error::{ApiError, ApiResult};
use crate::http::app_connections::provider_error;
use crate::providers::salesforce::rotation::{SalesforceCredential, SalesforceOAuthCredentials};
use crate::providers::salesforce::SalesforceClient;
use crate::rotation::api::RotationApi;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;
use crate::validation::secret_name_rule;

#[derive(Deserialize, Validate, ToSchema, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceAppInput {
    /// The External Client App's identifier (from oauth-apps): a Salesforce id, 15 or 18
    /// letters and digits.
    #[validate(length(min = 1, message = "App Identifier Required"))]
    #[validate(custom(function = "salesforce_id"))]
    #[schema(pattern = "^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")]
    pub app_id: String,
    /// The External Client App's developer name.
    #[validate(length(min = 1, message = "App Name Required"))]
    pub app_name: String,
}

/// A Salesforce record id (15 or 18 letters and digits). It goes into URL paths of calls made
/// with the connection's token, so nothing else may.
fn salesforce_id(id: &str) -> Result<(), validator::ValidationError> {
    let id = id.trim();
    if id.is_empty()
        || ((id.len() == 15 || id.len() == 18) && id.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Ok(());
    }
    let mut e = validator::ValidationError::new("invalid_string");
    e.message = Some("App Identifier must be a Salesforce id: 15 or 18 letters and digits".into());
    Err(e)
}

#[derive(Deserialize, Validate, ToSchema, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceMapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub consumer_key: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub consumer_secret: String,
}

impl RotationApi for SalesforceOAuthCredentials {
    const APP: &'static str = "salesforce";
    const CREATE_DOC: &'static str = "Creates the rotation and issues its first credential (stage + rotate at Salesforce) before it becomes visible. If Salesforce refuses, nothing is created and no staged credential is left behind.";
    const ROTATE_DOC: &'static str = "Rotates now, synchronously. 400 while another run of the rotation is in flight; 500 with the reason when Salesforce fails.";
    const CHECK_DOC: &'static str = "204 when the active consumer key and secret get a token from Salesforce; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true disables OAuth on the whole External Client App through the Metadata API: every consumer of that app stops getting tokens.";
    const LEGACY_OPERATION_IDS: &'static [(&'static str, &'static str)] =
        &[("check", "check_credentials"), ("runs", "runs")];

    type Input = SalesforceAppInput;
    type Mapping = SalesforceMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("consumerKey", "SALESFORCE_CONSUMER_KEY"),
        ("consumerSecret", "SALESFORCE_CONSUMER_SECRET"),
    ];

    fn normalized(input: &SalesforceAppInput) -> Value {
        json!({"appId": input.app_id.trim(), "appName": input.app_name.trim()})
    }

    /// The connection's Salesforce instance and the External Client App (migration 0010
    /// computes the same for older rows).
    fn targets(connection: &ConnectionRow, input: &SalesforceAppInput) -> Vec<String> {
        let instance = connection.public_config["instanceUrl"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        let host = instance
            .split_once("://")
            .map(|(_, h)| h)
            .unwrap_or(&instance);
        vec![format!("{host}/{}", input.app_id.trim())]
    }

    fn target_taken(input: &SalesforceAppInput) -> ApiError {
        ApiError::bad_request(format!(
            "The External Client App \"{}\" ({}) is already rotated by another secret rotation. An app can belong to one rotation only: two would retire each other's credentials. Delete the other rotation first.",
            input.app_name.trim(),
            input.app_id.trim()
        ))
    }

    /// Gets a token with the active consumer key and secret.
    async fn check(
        state: &AppState,
        client: &SalesforceClient,
        active: &SalesforceCredential,
    ) -> ApiResult<()> {
        let instance_url = client.instance_url();
        crate::providers::url_guard::check_literal(instance_url, state.allow_internal_urls)
            .map_err(|e| {
                ApiError::bad_request(format!("The app connection cannot be used: {e}"))
            })?;
        let client = SalesforceClient::new(
            state.provider_http.clone(),
            instance_url,
            &active.consumer_key,
            active.consumer_secret.clone(),
        );
        client
            .fetch_token()
            .await
            .map(|_| ())
            .map_err(|e| provider_error("Salesforce refused the active credential", e))
    }
}
