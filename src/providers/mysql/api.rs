//! `mysql-credentials` on Infisical's wire (reference §2.6): the SQL parameters and mapping,
//! the options template, and check-credentials (log in as the active user, `SELECT 1`).

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::providers::login::{Login, LoginMapping};
use crate::providers::mysql::connection::{check_login, APP};
use crate::providers::mysql::rotation::MysqlCredentials;
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::api::{default_mapping, RotationApi};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

/// Infisical's options template, byte for byte.
const CREATE_USER_STATEMENT: &str = "-- create user\nCREATE USER 'infisical_user'@'%' IDENTIFIED BY 'temporary_password';\n\n-- grant all privileges\nGRANT ALL PRIVILEGES ON my_database.* TO 'infisical_user'@'%';\n\n-- apply the privilege changes\nFLUSH PRIVILEGES;";
const ROTATION_STATEMENT: &str = "ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}'";

impl RotationApi for MysqlCredentials {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and sets a new password on username1 (journaled before the ALTER USER, then verified by logging in) before it becomes visible. If MySQL refuses, nothing is created.";
    const ROTATE_DOC: &'static str = "Sets a new password on the inactive user, logs in with it, then publishes it; the active user keeps working. 400 while another run is in flight; 500 with the reason when MySQL fails.";
    const CHECK_DOC: &'static str = "204 when the active user logs in with its password and runs SELECT 1; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true gives both users a random password nobody keeps before deleting the rotation: every consumer of them stops logging in.";

    type Input = SqlParameters;
    type Mapping = LoginMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("username", "MYSQL_USERNAME"),
        ("password", "MYSQL_PASSWORD"),
    ];

    fn normalized(input: &SqlParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    /// Each user on its server (accounts belong to the server).
    fn targets(connection: &ConnectionRow, input: &SqlParameters) -> Vec<String> {
        crate::providers::sql::wire::user_targets(connection, input)
    }

    fn target_taken(input: &SqlParameters) -> ApiError {
        crate::providers::sql::wire::user_taken(input, "MySQL")
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
            &active.username,
            &active.password,
            state.allow_internal_urls,
        )
        .await
        .map_err(ApiError::from)
    }
}
