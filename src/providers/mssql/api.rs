//! `mssql-credentials` on Infisical's wire (reference §2.7): the SQL parameters and mapping,
//! the options template, and check-credentials (log in as the active user, `SELECT 1`).

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::providers::login::{Login, LoginMapping};
use crate::providers::mssql::connection::{check_login, APP};
use crate::providers::mssql::rotation::MssqlCredentials;
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::api::{default_mapping, RotationApi};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

/// Infisical's options template, byte for byte.
const CREATE_USER_STATEMENT: &str = "-- Create login at the server level\nCREATE LOGIN [infisical_user] WITH PASSWORD = 'my-password';\n\n-- Grant server-level connect permission\nGRANT CONNECT SQL TO [infisical_user];\n\n-- Switch to the database where you want to create the user\nUSE my_database;\n\n-- Create the database user mapped to the login\nCREATE USER [infisical_user] FOR LOGIN [infisical_user];\n\n-- Grant permissions to the user on the schema in this database\nGRANT SELECT, INSERT, UPDATE, DELETE ON SCHEMA::dbo TO [infisical_user];";
const ROTATION_STATEMENT: &str = "ALTER LOGIN [{{username}}] WITH PASSWORD = '{{password}}'";

impl RotationApi for MssqlCredentials {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and sets a new password on the login username1 (journaled before the ALTER LOGIN, then verified by signing in to the connection's database) before it becomes visible. If SQL Server refuses, nothing is created.";
    const ROTATE_DOC: &'static str = "Sets a new password on the inactive login, signs in with it, then publishes it; the active login keeps working. 400 while another run is in flight; 500 with the reason when SQL Server fails.";
    const CHECK_DOC: &'static str = "204 when the active login signs in with its password and runs SELECT 1; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true gives both logins a random password nobody keeps before deleting the rotation: every consumer of them stops signing in.";

    type Input = SqlParameters;
    type Mapping = LoginMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("username", "MSSQL_DB_USERNAME"),
        ("password", "MSSQL_DB_PASSWORD"),
    ];

    fn normalized(input: &SqlParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    /// Each login on its server (logins belong to the server).
    fn targets(connection: &ConnectionRow, input: &SqlParameters) -> Vec<String> {
        crate::providers::sql::wire::user_targets(connection, input)
    }

    fn target_taken(input: &SqlParameters) -> ApiError {
        crate::providers::sql::wire::user_taken(input, "SQL Server")
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
