//! `oracledb-credentials` on Infisical's wire (reference §2.8): the SQL parameters and
//! mapping, the options template, and check-credentials (log on as the active user,
//! `SELECT 1 FROM DUAL`).

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::providers::login::{Login, LoginMapping};
use crate::providers::oracle::connection::{check_login, exact, APP};
use crate::providers::oracle::rotation::OracleCredentials;
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::api::{default_mapping, RotationApi};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

/// Infisical's options template, byte for byte.
const CREATE_USER_STATEMENT: &str = "-- create user\nCREATE USER INFISICAL_USER IDENTIFIED BY \"temporary_password\";\n\n-- grant all privileges\nGRANT ALL PRIVILEGES TO INFISICAL_USER;";
const ROTATION_STATEMENT: &str = "ALTER USER \"{{username}}\" IDENTIFIED BY \"{{password}}\"";

impl RotationApi for OracleCredentials {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and sets a new password (30 characters unless passwordRequirements say otherwise) on the user username1 (journaled before the ALTER USER, then verified by logging on) before it becomes visible. User names are taken exactly: one created without quotes is UPPERCASE. If Oracle refuses, nothing is created.";
    const ROTATE_DOC: &'static str = "Sets a new password on the inactive user, logs on with it, then publishes it; the active user keeps working. 400 while another run is in flight; 500 with the reason when Oracle fails.";
    const CHECK_DOC: &'static str = "204 when the active user logs on with its password and runs SELECT 1 FROM DUAL; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true gives both users a random password nobody keeps before deleting the rotation: every consumer of them stops logging on.";

    type Input = SqlParameters;
    type Mapping = LoginMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("username", "ORACLEDB_USERNAME"),
        ("password", "ORACLEDB_PASSWORD"),
    ];

    fn normalized(input: &SqlParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    /// Each user in its database.
    fn targets(connection: &ConnectionRow, input: &SqlParameters) -> Vec<String> {
        crate::providers::sql::wire::user_targets(connection, input)
    }

    fn target_taken(input: &SqlParameters) -> ApiError {
        crate::providers::sql::wire::user_taken(input, "Oracle")
    }

    fn template() -> Value {
        json!({
            "createUserStatement": CREATE_USER_STATEMENT,
            "rotationStatement": ROTATION_STATEMENT,
            "secretsMapping": default_mapping::<Self>(),
        })
    }

    async fn check(state: &AppState, client: &SqlTarget, active: &Login) -> ApiResult<()> {
        check_login(
            &client.connection,
            &exact(&active.username),
            &active.password,
            state.allow_internal_urls,
        )
        .await
        .map_err(ApiError::from)
    }
}
