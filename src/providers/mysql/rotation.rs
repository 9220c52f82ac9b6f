//! `mysql-credentials`: two existing accounts used alternately (dual-phase), as
//! `postgres-credentials` (`providers::sql::two_users` holds what they share).
//!
//! | phase    | what                                                                   |
//! |----------|------------------------------------------------------------------------|
//! | Prepared | choose the inactive user and a new password; journaled, sealed, first  |
//! | Issued   | `ALTER USER '<u>'@'<host>' IDENTIFIED BY …` (or the rotationStatement)  |
//! |          | as the connection's account: it re-applies the journaled password      |
//! | Verified | log in as that user with the new password and run `SELECT 1`           |
//!
//! Where Infisical differs: it alters only `'<u>'@'%'`, so a user defined for another host
//! fails there. Rotary reads the user's host entries from `mysql.user` and alters the one
//! account there is (or `'%'` among several); with several and no `'%'` it refuses and names
//! them. Without the privilege to read `mysql.user` it alters `'%'`, as Infisical does.
//! Works the same on MySQL 8 (`caching_sha2_password` keeps its plugin on `ALTER USER …
//! IDENTIFIED BY`) and MariaDB.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sqlx::mysql::MySqlConnection;
use sqlx::{Connection, Executor};

use crate::connections::target;
use crate::providers::login::Login;
use crate::providers::mysql::connection::{check_login, connect_as, describe, APP};
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::two_users;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct MysqlCredentials;

/// Nothing beyond the issued login.
#[derive(Default, Serialize, Deserialize)]
pub struct MysqlJournal {}

type MyRun<'a> = Run<'a, MysqlCredentials>;

impl RotationType for MysqlCredentials {
    const TYPE: &'static str = "mysql-credentials";
    const NAME: &'static str = "MySQL Credentials";
    const PROVIDER: &'static str = "MySQL";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Prepared, Phase::Issued, Phase::Verified];
    // From the ALTER on, the inactive user's old password is gone: roll forward only.
    const LAST_ABANDONABLE: Phase = Phase::Prepared;

    type Parameters = SqlParameters;
    type Credential = Login;
    type Journal = MysqlJournal;
    type Client = SqlTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<SqlTarget>> {
        target::target(state, rotation, APP, Self::PROVIDER).await
    }

    async fn run(phase: Phase, run: &mut MyRun<'_>) -> StepResult {
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
            other => Err(StepError::Panicked(format!("MySQL has no phase {other:?}"))),
        }
    }

    /// Revoke: every slot's user gets a random password nobody keeps (Infisical's revoke).
    async fn revoke(run: &mut MyRun<'_>) -> StepResult {
        for login in two_users::unknown_passwords(run) {
            apply(run, &login).await?;
        }
        Ok(())
    }
}

/// Sets `login`'s password on the server, as the connection's account.
async fn apply(run: &MyRun<'_>, login: &Login) -> StepResult {
    let target = &run.client;
    let c = &target.connection;
    let mut conn = connect_as(c, &c.username, &c.password, target.allow_internal).await?;
    let statements = match two_users::custom_statements(run, login, &c.database)? {
        Some(statements) => statements,
        None => {
            let host = account_host(&mut conn, &login.username).await?;
            vec![format!(
                "ALTER USER {}@{} IDENTIFIED BY {}",
                quote_literal(&login.username),
                quote_literal(&host),
                quote_literal(login.password.expose_secret())
            )]
        }
    };
    for sql in statements {
        // The text protocol: account statements are not all preparable.
        conn.execute(sql.as_str())
            .await
            .map_err(|e| describe(&e, &login.username))?;
    }
    let _ = conn.close().await;
    Ok(())
}

/// The host part of the user's account: the only one there is, or `%` among several. `%`
/// when the connection's account may not read `mysql.user` (Infisical's behaviour).
async fn account_host(conn: &mut MySqlConnection, username: &str) -> StepResult<String> {
    let hosts: Vec<String> =
        match sqlx::query_scalar("SELECT CAST(Host AS CHAR) FROM mysql.user WHERE User = ?")
            .bind(username)
            .fetch_all(&mut *conn)
            .await
        {
            Ok(hosts) => hosts,
            Err(e) => {
                return match describe(&e, username) {
                    StepError::Fatal(_) => Ok("%".into()),
                    other => Err(other),
                }
            }
        };
    match hosts.as_slice() {
        [] => Err(StepError::Fatal(format!(
            "the user \"{username}\" does not exist (mysql.user has no account of that name)"
        ))),
        [one] => Ok(one.clone()),
        many if many.iter().any(|h| h == "%") => Ok("%".into()),
        many => Err(StepError::Fatal(format!(
            "the user \"{username}\" has accounts for the hosts {}; Rotary changes one account's password: drop the others, or name the account in a rotationStatement",
            many.iter()
                .map(|h| format!("'{h}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `'text'` with quotes doubled and backslashes escaped (MySQL's default sql_mode reads
/// backslashes as escapes).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote_literal("o'b\\x"), "'o''b\\\\x'");
    }
}
