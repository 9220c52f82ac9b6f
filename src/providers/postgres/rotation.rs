//! `postgres-credentials`: two existing login roles used alternately (dual-phase). Each
//! rotation gives the inactive one a new password, so the active one (and every consumer
//! holding it) keeps working for a whole interval.
//!
//! | phase    | what                                                                   |
//! |----------|------------------------------------------------------------------------|
//! | Prepared | choose the inactive user (username1 on create) and a new password; the |
//! |          | engine seals both into the journal before anything touches the server  |
//! | Issued   | `ALTER ROLE … WITH PASSWORD …` (or the rotationStatement) as the        |
//! |          | connection's role: idempotent, it re-applies the journaled password    |
//! | Verified | log in as that user with the new password and run `SELECT 1`           |
//!
//! Where Infisical differs: it inlines the password unchecked, and it sets both users'
//! passwords at create (Rotary sets username1's; username2 gets one at the first rotation).
//! A crash between choosing and applying re-applies the same password: no run ever leaves a
//! user with a password nobody knows.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sqlx::Connection;

use crate::connections::target;
use crate::providers::login::Login;
use crate::providers::postgres::connection::{describe, APP};
use crate::providers::sql::connection::SqlTarget;
use crate::providers::sql::two_users;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct PostgresCredentials;

/// Nothing beyond the issued login: Prepared puts the chosen user and password there.
#[derive(Default, Serialize, Deserialize)]
pub struct PgJournal {}

type PgRun<'a> = Run<'a, PostgresCredentials>;

impl RotationType for PostgresCredentials {
    const TYPE: &'static str = "postgres-credentials";
    const NAME: &'static str = "PostgreSQL Credentials";
    const PROVIDER: &'static str = "PostgreSQL";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Prepared, Phase::Issued, Phase::Verified];
    // From the ALTER on, the inactive user's old password is gone: roll forward only.
    const LAST_ABANDONABLE: Phase = Phase::Prepared;

    type Parameters = SqlParameters;
    type Credential = Login;
    type Journal = PgJournal;
    type Client = SqlTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<SqlTarget>> {
        target::target(state, rotation, APP, Self::PROVIDER).await
    }

    async fn run(phase: Phase, run: &mut PgRun<'_>) -> StepResult {
        match phase {
            Phase::Prepared => two_users::prepare(run),
            Phase::Issued => {
                let login = two_users::issued(run)?.clone();
                apply(run, &login).await
            }
            Phase::Verified => {
                let login = two_users::issued(run)?.clone();
                run.client
                    .connection
                    .check_login(&login.username, &login.password, run.client.allow_internal)
                    .await
            }
            other => Err(StepError::Panicked(format!(
                "PostgreSQL has no phase {other:?}"
            ))),
        }
    }

    /// Revoke: every slot's user gets a random password nobody keeps (Infisical's revoke).
    async fn revoke(run: &mut PgRun<'_>) -> StepResult {
        for login in two_users::unknown_passwords(run) {
            apply(run, &login).await?;
        }
        Ok(())
    }
}

/// Sets `login`'s password on the server, as the connection's role.
async fn apply(run: &PgRun<'_>, login: &Login) -> StepResult {
    let target = &run.client;
    let connection = &target.connection;
    let mut conn = connection
        .connect_as(
            &connection.username,
            &connection.password,
            target.allow_internal,
        )
        .await?;
    let statements = match two_users::custom_statements(run, login, &connection.database)? {
        Some(statements) => statements,
        None => vec![format!(
            "ALTER ROLE {} WITH PASSWORD {}",
            quote_identifier(&login.username),
            quote_literal(login.password.expose_secret())
        )],
    };
    for sql in statements {
        // One statement a call, unprepared (utility statements take no parameters).
        sqlx::query(&sql)
            .persistent(false)
            .execute(&mut conn)
            .await
            .map_err(|e| describe(&e, &login.username))?;
    }
    let _ = conn.close().await;
    Ok(())
}

/// `"name"`, with quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'`, with quotes doubled (standard_conforming_strings is on since PostgreSQL 9.1, so
/// backslashes are plain characters).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
