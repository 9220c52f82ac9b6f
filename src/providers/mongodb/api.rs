//! `mongodb-credentials` on Infisical's wire (reference §3.2–3.4): the SQL parameters without
//! `rotationStatement`, the `{username, password}` mapping, the options template (Infisical's,
//! byte for byte), and check-credentials (log in as the active user and `ping`).

use serde_json::{json, Value};

use crate::connections::target::Target;
use crate::error::{ApiError, ApiResult};
use crate::providers::login::{Login, LoginMapping};
use crate::providers::mongodb::client::ping_as;
use crate::providers::mongodb::connection::APP;
use crate::providers::mongodb::rotation::MongoCredentials;
use crate::providers::mongodb::wire::MongoConnection;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::api::{default_mapping, RotationApi};
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

const CREATE_USER_STATEMENT: &str = "use [DATABASE_NAME]\ndb.createUser({\n  user: \"infisical_user_1\",\n  pwd: \"temporary_password\",\n  roles: [{ role: \"readWrite\", db: \"[DATABASE_NAME]\" }]\n})\n\ndb.createUser({\n  user: \"infisical_user_2\",\n  pwd: \"temporary_password\",\n  roles: [{ role: \"readWrite\", db: \"[DATABASE_NAME]\" }]\n})";

impl RotationApi for MongoCredentials {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and sets a new password on username1 (journaled before updateUser, then verified by logging in and running ping) before it becomes visible. If MongoDB refuses, nothing is created.";
    const ROTATE_DOC: &'static str = "Sets a new password on the inactive user, logs in with it, then publishes it; the active user keeps working. 400 while another run is in flight; 500 with the reason when MongoDB fails.";
    const CHECK_DOC: &'static str = "204 when the active user logs in with its password and runs ping; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true gives both users a random password nobody keeps before deleting the rotation: every consumer of them stops logging in.";

    type Input = SqlParameters;
    type Mapping = LoginMapping;
    const SECRETS: &'static [(&'static str, &'static str)] = &[
        ("username", "MONGODB_DB_USERNAME"),
        ("password", "MONGODB_DB_PASSWORD"),
    ];

    /// As stored and shown: MongoDB's parameters have no `rotationStatement` (Infisical's
    /// schema drops it).
    fn normalized(input: &SqlParameters) -> Value {
        let mut p = input.normalized();
        p.rotation_statement = None;
        serde_json::to_value(p).unwrap_or_default()
    }

    /// Each user on its server.
    fn targets(connection: &ConnectionRow, input: &SqlParameters) -> Vec<String> {
        crate::providers::sql::wire::user_targets(connection, input)
    }

    fn target_taken(input: &SqlParameters) -> ApiError {
        crate::providers::sql::wire::user_taken(input, "MongoDB")
    }

    fn template() -> Value {
        json!({
            "createUserStatement": CREATE_USER_STATEMENT,
            "secretsMapping": default_mapping::<Self>(),
        })
    }

    async fn check(
        state: &AppState,
        client: &Target<MongoConnection>,
        active: &Login,
    ) -> ApiResult<()> {
        ping_as(
            &client.connection,
            &active.username,
            &active.password,
            state.allow_internal_urls,
        )
        .await
        .map_err(ApiError::from)
    }
}
