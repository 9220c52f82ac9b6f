//! `azure-client-secret` on Infisical's wire (reference §8.2–8.4): `objectId`, `clientId` and
//! `appName`, the `{clientId, clientSecret}` mapping, the options template, what it reserves
//! (one rotation per app registration of a tenant), and check-credentials (a client-credentials
//! token with the active secret).

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::providers::azure::client::{AzureClient, SecretCheck};
use crate::providers::azure::connection::APP;
use crate::providers::azure::rotation::AzureClientSecret;
use crate::providers::azure::wire::{AzureMapping, AzureParameters, AzureSecret};
use crate::rotation::api::RotationApi;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

impl RotationApi for AzureClientSecret {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and adds the app registration's first rotated secret (named for its run, expiring after two intervals and three days, then verified by getting a token) before it becomes visible. An interval over 909 days is refused before anything is created (Azure's five-year limit).";
    const ROTATE_DOC: &'static str = "Removes the secret of two rotations ago, adds a new one and gets a token with it, then publishes it; the previous secret keeps working. 400 while another run is in flight; 500 with the reason when Azure fails.";
    const CHECK_DOC: &'static str = "204 when the client gets a token with its active secret; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true removes every secret the rotation holds (removePassword) before deleting the rotation: every consumer of them stops authenticating.";

    type Input = AzureParameters;
    type Mapping = AzureMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("clientId", "AZURE_CLIENT_ID"),
        ("clientSecret", "AZURE_CLIENT_SECRET"),
    ];

    fn normalized(input: &AzureParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    fn targets(connection: &ConnectionRow, input: &AzureParameters) -> Vec<String> {
        let tenant = connection.public_config["tenantId"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        vec![format!(
            "{tenant}/{}",
            input.object_id.trim().to_lowercase()
        )]
    }

    fn target_taken(input: &AzureParameters) -> ApiError {
        ApiError::bad_request(format!(
            "The Azure app registration \"{}\" is already rotated by another Azure Client Secret rotation. Delete the other rotation first.",
            input.object_id.trim()
        ))
    }

    async fn check(_state: &AppState, client: &AzureClient, active: &AzureSecret) -> ApiResult<()> {
        match client
            .check_secret(&active.client_id, &active.client_secret)
            .await
        {
            Ok(SecretCheck::Works) => Ok(()),
            Ok(SecretCheck::Refused(why)) => Err(ApiError::bad_request(format!(
                "Azure client credentials check failed: {why}"
            ))),
            Err(f) => Err(ApiError::Upstream(format!(
                "Azure client credentials check failed: {}",
                f.message
            ))),
        }
    }
}
