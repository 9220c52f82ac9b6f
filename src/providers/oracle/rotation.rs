//! `oracledb-credentials`: two existing Oracle users used alternately (dual-phase), as
//! `postgres-credentials` (`providers::sql::two_users` holds what they share).
//!
//! | phase    | what                                                                    |
//! |----------|-------------------------------------------------------------------------|
//! | Prepared | choose the inactive user and a new password (30 characters unless the   |
//! |          | rotation says otherwise: Oracle takes at most 30 bytes); journaled first |
//! | Issued   | `ALTER USER "<USER>" IDENTIFIED BY "…"` (or the rotationStatement) as   |
//! |          | the connection's user: it re-applies the journaled password             |
//! | Verified | log on as that user (its name quoted, so exact) and `SELECT 1 FROM DUAL` |
//!
//! The name is quoted in the statement, so it is case-sensitive: a user created without
//! quotes is stored in UPPERCASE and must be given so (Infisical's rule, and its message).

use std::sync::Arc;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::connections::target;
use crate::providers::login::Login;
use crate::providers::oracle::connection::{check_login, exact, session, APP};
use crate::providers::password::PasswordRequirements;
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::two_users;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct OracleCredentials;

/// Nothing beyond the issued user.
#[derive(Default, Serialize, Deserialize)]
pub struct OracleJournal {}

type OraRun<'a> = Run<'a, OracleCredentials>;

/// Oracle Database 12c–21c take passwords of at most 30 bytes.
pub const MAX_PASSWORD_BYTES: u32 = 30;

/// Infisical's default for Oracle: its usual requirements at 30 characters.
pub fn default_requirements() -> PasswordRequirements {
    PasswordRequirements {
        length: MAX_PASSWORD_BYTES,
        ..PasswordRequirements::default()
    }
}

impl RotationType for OracleCredentials {
    const TYPE: &'static str = "oracledb-credentials";
    const NAME: &'static str = "OracleDB Credentials";
    const PROVIDER: &'static str = "Oracle";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Prepared, Phase::Issued, Phase::Verified];
    // From the ALTER on, the inactive user's old password is gone: roll forward only.
    const LAST_ABANDONABLE: Phase = Phase::Prepared;

    type Parameters = SqlParameters;
    type Credential = Login;
    type Journal = OracleJournal;
    type Client = SqlTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<SqlTarget>> {
        target::target(state, rotation, APP, Self::PROVIDER).await
    }

    async fn run(phase: Phase, run: &mut OraRun<'_>) -> StepResult {
        match phase {
            Phase::Prepared => {
                if let Some(r) = &run.params.password_requirements {
                    if r.length > MAX_PASSWORD_BYTES {
                        return Err(StepError::Fatal(format!(
                            "Oracle takes passwords of at most {MAX_PASSWORD_BYTES} bytes: give passwordRequirements.length of {MAX_PASSWORD_BYTES} or less"
                        )));
                    }
                }
                two_users::prepare_with(run, &default_requirements())
            }
            Phase::Issued => {
                let login = two_users::issued(run)?.clone();
                apply(run, &login).await
            }
            Phase::Verified => {
                let login = two_users::issued(run)?.clone();
                let target = &run.client;
                check_login(
                    &target.connection,
                    &exact(&login.username),
                    &login.password,
                    target.allow_internal,
                )
                .await
            }
            other => Err(StepError::Panicked(format!(
                "Oracle has no phase {other:?}"
            ))),
        }
    }

    /// Revoke: every slot's user gets a random password nobody keeps (Infisical's revoke).
    async fn revoke(run: &mut OraRun<'_>) -> StepResult {
        for login in two_users::unknown_passwords_with(run, &default_requirements()) {
            apply(run, &login).await?;
        }
        Ok(())
    }
}

/// Sets `login`'s password on the database, as the connection's user, in one session.
async fn apply(run: &OraRun<'_>, login: &Login) -> StepResult {
    let target = &run.client;
    let c = &target.connection;
    let statements = match two_users::custom_statements(run, login, &c.database)? {
        Some(statements) => statements,
        None => vec![alter_user(&login.username, login.password.expose_secret())],
    };
    session(
        c,
        &c.username,
        &c.password,
        target.allow_internal,
        (statements, &login.username),
        false,
    )
    .await
}

/// `ALTER USER "<user>" IDENTIFIED BY "<password>"`: both quoted. Oracle has no escape for a
/// double quote inside quotes; names and passwords that reach here have none (`safe_name`,
/// the password alphabet), which the assertion holds to.
pub fn alter_user(user: &str, password: &str) -> String {
    debug_assert!(!user.contains('"') && !password.contains('"'));
    format!("ALTER USER \"{user}\" IDENTIFIED BY \"{password}\"")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_statement_quotes_both() {
        assert_eq!(
            super::alter_user("INFISICAL_USER_1", "Pw1"),
            "ALTER USER \"INFISICAL_USER_1\" IDENTIFIED BY \"Pw1\""
        );
    }
}
