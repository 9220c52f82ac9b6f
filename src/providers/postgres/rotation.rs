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

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::Connection;

use crate::providers::postgres::connection::{describe, PostgresConnection, APP};
use crate::providers::sql::wire::SqlParameters;
use crate::providers::sql::{password, statement};
use crate::rotation::provider::{
    sealed, Credential, Phase, RotationModel, RotationType, Run, StepError, StepResult,
};
use crate::state::AppState;
use crate::store::rotations::Lifecycle;
use crate::store::rotations::RotationRow;

pub struct PostgresCredentials;

/// One slot: a username and its password.
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PgLogin {
    pub username: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub password: SecretString,
}

impl Credential for PgLogin {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("username", SecretString::from(self.username.clone())),
            ("password", self.password.clone()),
        ]
    }
    fn label(&self) -> String {
        self.username.clone()
    }
}

/// Nothing beyond the issued login: Prepared puts the chosen user and password there.
#[derive(Default, Serialize, Deserialize)]
pub struct PgJournal {}

/// A connection's server and role, and whether internal addresses are allowed.
pub struct PgTarget {
    pub connection: PostgresConnection,
    pub allow_internal: bool,
}

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
    type Credential = PgLogin;
    type Journal = PgJournal;
    type Client = PgTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<PgTarget>> {
        let row = crate::cache::connection(state, rotation.org_id, rotation.connection_id)
            .await?
            .ok_or_else(|| {
                StepError::Setup("the rotation's app connection no longer exists".into())
            })?;
        if row.app != APP {
            return Err(StepError::Setup(format!(
                "the rotation's app connection is a {} connection, not a PostgreSQL one",
                row.app
            )));
        }
        let connection: PostgresConnection = crate::connections::open_as(state, &row).await?;
        Ok(Arc::new(PgTarget {
            connection,
            allow_internal: state.allow_internal_urls,
        }))
    }

    async fn run(phase: Phase, run: &mut PgRun<'_>) -> StepResult {
        match phase {
            Phase::Prepared => prepare(run),
            Phase::Issued => {
                let login = issued(run)?.clone();
                apply(run, &login).await
            }
            Phase::Verified => {
                let login = issued(run)?.clone();
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
        let requirements = password::PasswordRequirements::default();
        let users: Vec<String> = run.slots.items.iter().map(|l| l.username.clone()).collect();
        for username in users {
            let login = PgLogin {
                username,
                password: SecretString::from(password::generate(&requirements)),
            };
            apply(run, &login).await?;
        }
        Ok(())
    }
}

fn issued<'r>(run: &'r PgRun<'_>) -> StepResult<&'r PgLogin> {
    run.issued
        .as_ref()
        .ok_or_else(|| StepError::Panicked("no password was prepared".into()))
}

/// Prepared: the inactive user (slot i belongs to username i+1) and a new password. Chosen
/// once per run: a resumed run keeps what its journal holds.
fn prepare(run: &mut PgRun<'_>) -> StepResult {
    if run.issued.is_some() {
        return Ok(());
    }
    let params = &run.params;
    let username = if run.rotation.lifecycle != Lifecycle::Active || run.slots.is_empty() {
        &params.username1
    } else if run.slots.active_index == 0 {
        &params.username2
    } else {
        &params.username1
    };
    let username = username.trim().to_string();
    if !statement::safe_name(&username) {
        return Err(StepError::Fatal(format!(
            "the username \"{username}\" cannot be used in a statement"
        )));
    }
    let requirements = params.password_requirements.clone().unwrap_or_default();
    if let Some(problem) = requirements.problem() {
        return Err(StepError::Fatal(problem));
    }
    run.issued = Some(PgLogin {
        username,
        password: SecretString::from(password::generate(&requirements)),
    });
    Ok(())
}

/// Sets `login`'s password on the server, as the connection's role.
async fn apply(run: &PgRun<'_>, login: &PgLogin) -> StepResult {
    let target = &run.client;
    let connection = &target.connection;
    let mut conn = connection
        .connect_as(
            &connection.username,
            &connection.password,
            target.allow_internal,
        )
        .await?;
    let statements = match run
        .params
        .rotation_statement
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        Some(template) => {
            if let Some(problem) = statement::problem(template) {
                return Err(StepError::Fatal(problem.into()));
            }
            statement::render(
                template,
                &login.username,
                login.password.expose_secret(),
                &connection.database,
            )
        }
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
