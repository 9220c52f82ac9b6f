//! `aws-iam-user-secret` on Infisical's wire (reference §9.2–9.4): `userName` and `region`,
//! the `{accessKeyId, secretAccessKey}` mapping, the options template, what it reserves (one
//! rotation per IAM user of a connection), and check-credentials (`GetCallerIdentity` signed
//! with the active key).

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::providers::aws::client::KeyCheck;
use crate::providers::aws::connection::APP;
use crate::providers::aws::rotation::{AwsIamUserSecret, AwsTarget};
use crate::providers::aws::wire::{AwsKey, AwsMapping, AwsParameters};
use crate::rotation::api::RotationApi;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

impl RotationApi for AwsIamUserSecret {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and the IAM user's first rotated access key (CreateAccessKey, then GetCallerIdentity signed with it) before it becomes visible. The user may hold at most one key Rotary did not issue (IAM allows two); Rotary never deletes such a key.";
    const ROTATE_DOC: &'static str = "Deletes the key of two rotations ago, creates a new one and waits until AWS accepts it, then publishes it; the previous key keeps working. 400 while another run is in flight; 500 with the reason when AWS fails (naming any key Rotary did not issue that leaves no room).";
    const CHECK_DOC: &'static str = "204 when AWS accepts the active access key (GetCallerIdentity signed with it); 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true deletes every access key the rotation holds (DeleteAccessKey) before deleting the rotation: every consumer of them stops authenticating.";

    type Input = AwsParameters;
    type Mapping = AwsMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("accessKeyId", "AWS_ACCESS_KEY_ID"),
        ("secretAccessKey", "AWS_SECRET_ACCESS_KEY"),
    ];

    fn normalized(input: &AwsParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    /// The user in its connection's account: two rotations of one user would delete each
    /// other's keys (IAM user names ignore case).
    fn targets(connection: &ConnectionRow, input: &AwsParameters) -> Vec<String> {
        vec![format!(
            "{}/{}",
            connection.id,
            input.user_name.trim().to_lowercase()
        )]
    }

    fn target_taken(input: &AwsParameters) -> ApiError {
        ApiError::bad_request(format!(
            "The IAM user \"{}\" is already rotated by another AWS IAM User Secret rotation of this connection. Delete the other rotation first.",
            input.user_name.trim()
        ))
    }

    async fn check(_state: &AppState, client: &AwsTarget, active: &AwsKey) -> ApiResult<()> {
        match client.aws.check_key(&client.region, active).await {
            Ok(KeyCheck::Works(_)) => Ok(()),
            Ok(KeyCheck::Refused(why)) => Err(ApiError::bad_request(format!(
                "AWS IAM credentials check failed: {why}"
            ))),
            Err(f) => Err(ApiError::Upstream(format!(
                "AWS IAM credentials check failed: {}",
                f.message
            ))),
        }
    }
}
