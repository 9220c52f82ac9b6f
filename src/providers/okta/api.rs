//! `okta-client-secret` on Infisical's wire (reference §7.2–7.4): `clientId`, the
//! `{clientId, clientSecret}` mapping, the options template, what it reserves (one rotation
//! per app of an org), and check-credentials: Okta still holds the active secret, active, with
//! the value Rotary published.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::providers::okta::client::OktaClient;
use crate::providers::okta::connection::APP;
use crate::providers::okta::rotation::OktaClientSecret;
use crate::providers::okta::wire::{OktaMapping, OktaParameters, OktaSecret};
use crate::rotation::api::RotationApi;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

impl RotationApi for OktaClientSecret {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and adds the app's first rotated client secret (a value Rotary chooses, journaled before Okta gets it, then read back) before it becomes visible. The app must hold a single secret before: Okta keeps two.";
    const ROTATE_DOC: &'static str = "Deletes the secret of two rotations ago, adds a new one and reads it back, then publishes it; the previous secret keeps working. 400 while another run is in flight; 500 with the reason when Okta fails.";
    const CHECK_DOC: &'static str = "204 when Okta holds the active secret, active, with the published value; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true deactivates and deletes every client secret the rotation holds before deleting the rotation (when they are all the app has, Okta first generates one nobody keeps): every consumer of them stops authenticating.";

    type Input = OktaParameters;
    type Mapping = OktaMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("clientId", "OKTA_CLIENT_ID"),
        ("clientSecret", "OKTA_CLIENT_SECRET"),
    ];

    fn normalized(input: &OktaParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    /// The app in its org: two rotations of one app would delete each other's secrets.
    fn targets(connection: &ConnectionRow, input: &OktaParameters) -> Vec<String> {
        let url = connection.public_config["instanceUrl"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        vec![format!("{url}/{}", input.client_id.trim())]
    }

    fn target_taken(input: &OktaParameters) -> ApiError {
        ApiError::bad_request(format!(
            "The Okta app \"{}\" is already rotated by another Okta Client Secret rotation. Delete the other rotation first.",
            input.client_id.trim()
        ))
    }

    async fn check(_state: &AppState, client: &OktaClient, active: &OktaSecret) -> ApiResult<()> {
        let app = &active.client_id;
        let found = client
            .secret(app, &active.secret_id)
            .await
            .map_err(|f| ApiError::from(f.step("Okta client secret check failed")))?;
        match found {
            Some(s) if s.status == "ACTIVE" && (s.client_secret.is_none() || s.is(&active.client_secret)) => Ok(()),
            Some(s) if s.status != "ACTIVE" => Err(ApiError::bad_request(format!(
                "Okta client secret check failed: the secret {} of app {app} is {}",
                s.id, s.status
            ))),
            Some(s) => Err(ApiError::bad_request(format!(
                "Okta client secret check failed: the secret {} of app {app} no longer has the published value",
                s.id
            ))),
            None => Err(ApiError::bad_request(format!(
                "Okta client secret check failed: app {app} no longer has the secret {}",
                active.secret_id
            ))),
        }
    }
}
