//! `postgres-credentials` on Infisical's wire (reference §2.5): the SQL parameters and
//! mapping, the options template, and check-credentials (Infisical has none for SQL): log in
//! as the active user and run `SELECT 1`.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::providers::login::{Login, LoginMapping};
use crate::providers::postgres::connection::APP;
use crate::providers::postgres::rotation::PostgresCredentials;
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::api::{default_mapping, RotationApi};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

/// Infisical's options template, byte for byte (its whitespace lines included).
const CREATE_USER_STATEMENT: &str = "-- create user role\nCREATE USER infisical_user WITH ENCRYPTED PASSWORD 'temporary_password';\n   \n-- grant database connection permissions\nGRANT CONNECT ON DATABASE my_database TO infisical_user;\n   \n-- grant relevant table permissions\nGRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO infisical_user;";
const ROTATION_STATEMENT: &str = "ALTER USER \"{{username}}\" WITH PASSWORD '{{password}}'";

impl RotationApi for PostgresCredentials {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and sets a new password on username1 (journaled before the ALTER ROLE, then verified by logging in) before it becomes visible. If PostgreSQL refuses, nothing is created.";
    const ROTATE_DOC: &'static str = "Sets a new password on the inactive user, logs in with it, then publishes it; the active user keeps working. 400 while another run is in flight; 500 with the reason when PostgreSQL fails.";
    const CHECK_DOC: &'static str = "204 when the active user logs in with its password and runs SELECT 1; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true gives both users a random password nobody keeps before deleting the rotation: every consumer of them stops logging in.";

    type Input = SqlParameters;
    type Mapping = LoginMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("username", "POSTGRES_DB_USERNAME"),
        ("password", "POSTGRES_DB_PASSWORD"),
    ];

    fn normalized(input: &SqlParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    /// Each user on its server: roles belong to the cluster, so one rotation per user. Two
    /// would change each other's passwords (and two ALTER ROLEs of one role at once fail).
    fn targets(connection: &ConnectionRow, input: &SqlParameters) -> Vec<String> {
        crate::providers::sql::wire::user_targets(connection, input)
    }

    fn target_taken(input: &SqlParameters) -> ApiError {
        crate::providers::sql::wire::user_taken(input, "PostgreSQL")
    }

    fn template() -> Value {
        json!({
            "createUserStatement": CREATE_USER_STATEMENT,
            "rotationStatement": ROTATION_STATEMENT,
            "secretsMapping": default_mapping::<Self>(),
        })
    }

    async fn check(state: &AppState, client: &SqlTarget, active: &Login) -> ApiResult<()> {
        client
            .connection
            .check_login(
                &active.username,
                &active.password,
                state.allow_internal_urls,
            )
            .await
            .map_err(ApiError::from)
    }
}
