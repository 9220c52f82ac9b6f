//! `auth0-client-secret` on Infisical's wire (reference §6.2–6.4): `clientId`, the
//! `{clientId, clientSecret}` mapping, the options template, what it reserves (one rotation per
//! application of a tenant), and check-credentials (the client-credentials grant with the
//! active secret).

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::providers::auth0::client::{Auth0Client, SecretCheck};
use crate::providers::auth0::connection::APP;
use crate::providers::auth0::rotation::Auth0ClientSecret;
use crate::providers::auth0::wire::{Auth0Mapping, Auth0Parameters, Auth0Secret};
use crate::rotation::api::RotationApi;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

impl RotationApi for Auth0ClientSecret {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and sets the application's first rotated secret (chosen and journaled, sealed, before the PATCH; then verified at the token endpoint) before it becomes visible. Single-phase: the application's previous secret stops working at once.";
    const ROTATE_DOC: &'static str = "Sets a new client secret and checks it at the token endpoint, then publishes it. Single-phase: the previous secret stops working when the new one is set. 400 while another run is in flight; 500 with the reason when Auth0 fails.";
    const CHECK_DOC: &'static str = "204 when the application authenticates with its active secret (a token, or Auth0's 403 for an audience it may not use); 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true has Auth0 generate a new secret for the application (rotate-secret), which nobody keeps, before deleting the rotation.";

    type Input = Auth0Parameters;
    type Mapping = Auth0Mapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("clientId", "AUTH0_CLIENT_ID"),
        ("clientSecret", "AUTH0_CLIENT_SECRET"),
    ];

    fn normalized(input: &Auth0Parameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    fn targets(connection: &ConnectionRow, input: &Auth0Parameters) -> Vec<String> {
        let domain = connection.public_config["domain"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        vec![format!("{domain}/{}", input.client_id.trim())]
    }

    fn target_taken(input: &Auth0Parameters) -> ApiError {
        ApiError::bad_request(format!(
            "The Auth0 application \"{}\" is already rotated by another Auth0 Client Secret rotation. Delete the other rotation first.",
            input.client_id.trim()
        ))
    }

    async fn check(_state: &AppState, client: &Auth0Client, active: &Auth0Secret) -> ApiResult<()> {
        match client
            .check_secret(&active.client_id, &active.client_secret)
            .await
        {
            Ok(SecretCheck::Works) => Ok(()),
            Ok(SecretCheck::Refused(words))
            | Err(crate::providers::http_failure::HttpFailure { message: words, .. }) => Err(
                ApiError::bad_request(format!("Auth0 client credentials check failed: {words}")),
            ),
        }
    }
}
