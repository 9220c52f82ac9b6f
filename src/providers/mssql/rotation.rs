//! `mssql-credentials`: two existing SQL Server logins used alternately (dual-phase), as
//! `postgres-credentials` (`providers::sql::two_users` holds what they share).
//!
//! | phase    | what                                                                   |
//! |----------|------------------------------------------------------------------------|
//! | Prepared | choose the inactive login and a new password; journaled, sealed, first |
//! | Issued   | `ALTER LOGIN [<login>] WITH PASSWORD = N'…'` (or the rotationStatement) |
//! |          | as the connection's login: it re-applies the journaled password        |
//! | Verified | sign in as that login to the connection's database and `SELECT 1`      |
//!
//! A server login is changed, not a database user; the check signs in to the connection's
//! database, so each login needs a user there (Infisical's rule). SQL Server's password policy
//! (CHECK_POLICY) may refuse a password: the run fails in Issued, before anything changed.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::connections::target;
use crate::providers::login::Login;
use crate::providers::mssql::connection::{check_login, connect_as, run as run_batch, APP};
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::two_users;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct MssqlCredentials;

/// Nothing beyond the issued login.
#[derive(Default, Serialize, Deserialize)]
pub struct MssqlJournal {}

type MsRun<'a> = Run<'a, MssqlCredentials>;

impl RotationType for MssqlCredentials {
    const TYPE: &'static str = "mssql-credentials";
    const NAME: &'static str = "Microsoft SQL Server Credentials";
    const PROVIDER: &'static str = "SQL Server";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Prepared, Phase::Issued, Phase::Verified];
    // From the ALTER on, the inactive login's old password is gone: roll forward only.
    const LAST_ABANDONABLE: Phase = Phase::Prepared;

    type Parameters = SqlParameters;
    type Credential = Login;
    type Journal = MssqlJournal;
    type Client = SqlTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<SqlTarget>> {
        target::target(state, rotation, APP, Self::PROVIDER).await
    }

    async fn run(phase: Phase, run: &mut MsRun<'_>) -> StepResult {
        match phase {
            Phase::Prepared => two_users::prepare(run),
            Phase::Issued => {
                let login = two_users::issued(run)?.clone();
                apply(run, &login).await
            }
            Phase::Verified => {
                let login = two_users::issued(run)?.clone();
                let target = &run.client;
                check_login(
                    &target.connection,
                    &login.username,
                    &login.password,
                    target.allow_internal,
                )
                .await
            }
            other => Err(StepError::Panicked(format!(
                "SQL Server has no phase {other:?}"
            ))),
        }
    }

    /// Revoke: every slot's login gets a random password nobody keeps (Infisical's revoke).
    async fn revoke(run: &mut MsRun<'_>) -> StepResult {
        for login in two_users::unknown_passwords(run) {
            apply(run, &login).await?;
        }
        Ok(())
    }
}

/// Sets `login`'s password on the server, as the connection's login.
async fn apply(run: &MsRun<'_>, login: &Login) -> StepResult {
    let target = &run.client;
    let c = &target.connection;
    let mut client = connect_as(c, &c.username, &c.password, target.allow_internal).await?;
    let statements = match two_users::custom_statements(run, login, &c.database)? {
        Some(statements) => statements,
        None => vec![alter_login(&login.username, login.password.expose_secret())],
    };
    for sql in statements {
        run_batch(&mut client, &sql, &login.username).await?;
    }
    let _ = client.close().await;
    Ok(())
}

/// `ALTER LOGIN [<login>] WITH PASSWORD = N'<password>'`: the name bracketed (`]` doubled),
/// the password a Unicode literal (`'` doubled). ALTER LOGIN takes no parameters.
pub fn alter_login(login: &str, password: &str) -> String {
    format!(
        "ALTER LOGIN {} WITH PASSWORD = {}",
        quote_name(login),
        quote_literal(password)
    )
}

pub fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

pub fn quote_literal(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(
            super::alter_login("a]b", "it's"),
            "ALTER LOGIN [a]]b] WITH PASSWORD = N'it''s'"
        );
    }
}
