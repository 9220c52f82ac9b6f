//! `redis-credentials` on Infisical's wire (reference §4.2–4.4): `permissionScope` and
//! `passwordRequirements`, the `{username, password}` mapping, the options template, and
//! check-credentials (Infisical has none for Redis): log in (AUTH) as the active user.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::providers::login::{Login, LoginMapping};
use crate::providers::redis::client::check_login;
use crate::providers::redis::connection::APP;
use crate::providers::redis::rotation::{RedisCredentials, RedisTarget};
use crate::providers::redis::wire::RedisParameters;
use crate::rotation::api::RotationApi;
use crate::state::AppState;

impl RotationApi for RedisCredentials {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and its first ACL user (a generated name and password with the permission scope, journaled before ACL SETUSER, then verified by logging in) before it becomes visible. If Redis refuses (a bad scope, a missing privilege), nothing is created and no user is left behind.";
    const ROTATE_DOC: &'static str = "Deletes the user of two rotations ago, creates a new ACL user, logs in with it, then publishes it; the previous user keeps working. 400 while another run is in flight; 500 with the reason when Redis fails.";
    const CHECK_DOC: &'static str = "204 when the active user logs in (AUTH) with its password; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true deletes every ACL user the rotation holds (ACL DELUSER) before deleting the rotation: every consumer of them stops logging in.";

    type Input = RedisParameters;
    type Mapping = LoginMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("username", "REDIS_USERNAME"),
        ("password", "REDIS_PASSWORD"),
    ];

    fn normalized(input: &RedisParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    async fn check(state: &AppState, client: &RedisTarget, active: &Login) -> ApiResult<()> {
        check_login(
            &client.connection,
            &active.username,
            Some(&active.password),
            state.allow_internal_urls,
        )
        .await
        .map_err(ApiError::from)
    }
}
