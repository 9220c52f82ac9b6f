//! `redis-credentials`: every rotation creates a new ACL user (a generated name and password
//! with the rotation's `permissionScope`); the user of two rotations ago is deleted. The
//! previous user keeps working for one interval (dual-phase).
//!
//! | phase    | what                                                                       |
//! |----------|----------------------------------------------------------------------------|
//! | Retired  | `ACL DELUSER` the inactive slot's user (consumers left it an interval ago)  |
//! |          | and any user an earlier failed run issued and could not delete             |
//! | Prepared | choose the new user's name and password; journaled, sealed, first           |
//! | Issued   | `ACL SETUSER <u> reset on ><p> <scope…>` (re-applied as is on resume), then |
//! |          | `ACL SAVE` when the server has an ACL file                                  |
//! | Verified | log in (AUTH) as the new user                                              |
//!
//! Until it is published nobody uses the new user, so a run that fails up to Verified is
//! abandoned and `discard` deletes the user: none is left behind (and a delete that fails then
//! is retried by the next run's Retired). Where Infisical differs: it creates the user before it
//! records it, so a crash in between leaves a live user nobody knows; it never saves, so with an
//! ACL file its users vanish when Redis restarts; it deletes the old user after creating the new
//! one, so a failed delete leaves it behind.

use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::connections::target::{self, Target};
use crate::providers::login::Login;
use crate::providers::password::{self, PasswordRequirements, Required};
use crate::providers::redis::client::{self, save_note};
use crate::providers::redis::connection::APP;
use crate::providers::redis::wire::{scope_problem, RedisConnection, RedisParameters};
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct RedisCredentials;

pub type RedisTarget = Target<RedisConnection>;

/// Nothing beyond the issued user.
#[derive(Default, Serialize, Deserialize)]
pub struct RedisJournal {}

type RedisRun<'a> = Run<'a, RedisCredentials>;

/// Infisical's generated usernames: 32 letters and digits, at least 5 of each class.
fn username_requirements() -> PasswordRequirements {
    PasswordRequirements {
        length: 32,
        required: Required {
            lowercase: 5,
            uppercase: 5,
            digits: 5,
            symbols: 0,
        },
        allowed_symbols: None,
    }
}

impl RotationType for RedisCredentials {
    const TYPE: &'static str = "redis-credentials";
    const NAME: &'static str = "Redis Credentials";
    const PROVIDER: &'static str = "Redis";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[
        Phase::Retired,
        Phase::Prepared,
        Phase::Issued,
        Phase::Verified,
    ];
    // Nothing switches before the publish: consumers learn of the new user only then.
    const LAST_ABANDONABLE: Phase = Phase::Issued;

    type Parameters = RedisParameters;
    type Credential = Login;
    type Journal = RedisJournal;
    type Client = RedisTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<RedisTarget>> {
        target::target(state, rotation, APP, Self::PROVIDER).await
    }

    async fn run(phase: Phase, run: &mut RedisRun<'_>) -> StepResult {
        match phase {
            Phase::Retired => retire(run).await,
            Phase::Prepared => prepare(run),
            Phase::Issued => {
                let login = issued(run)?.clone();
                if let Some(problem) = scope_problem(&run.params.permission_scope) {
                    return Err(StepError::Fatal(problem));
                }
                let c = &run.client.connection;
                let mut conn = manager(run).await?;
                client::set_user(
                    &mut conn,
                    c,
                    &login.username,
                    &login.password,
                    &run.params.rules(),
                )
                .await?;
                let saved = client::save(&mut conn, c).await?;
                run.note = save_note(&saved, &c.username);
                Ok(())
            }
            Phase::Verified => {
                let login = issued(run)?.clone();
                let t = &run.client;
                client::check_login(
                    &t.connection,
                    &login.username,
                    Some(&login.password),
                    t.allow_internal,
                )
                .await
            }
            other => Err(StepError::Panicked(format!("Redis has no phase {other:?}"))),
        }
    }

    /// The run is abandoned: delete the user it issued (nobody was told of it).
    async fn discard(run: &mut RedisRun<'_>) {
        let Some(login) = run.issued.clone() else {
            return;
        };
        if let Err(e) = delete_users(run, std::slice::from_ref(&login.username)).await {
            // The next run's Retired deletes it (it is in this run's journal).
            tracing::warn!(rotation_id = %run.rotation.id, user = %login.username, error = %e.reason(), "could not delete the user of an abandoned Redis run");
        }
    }

    /// Revoke: delete every slot's user (Infisical's revoke), and any leftover.
    async fn revoke(run: &mut RedisRun<'_>) -> StepResult {
        let mut users: Vec<String> = run.slots.items.iter().map(|l| l.username.clone()).collect();
        users.extend(leftovers(run).await?);
        delete_users(run, &users).await
    }
}

/// The login Prepared chose (Issued and Verified work on it).
fn issued<'r>(run: &'r RedisRun<'_>) -> StepResult<&'r Login> {
    run.issued
        .as_ref()
        .ok_or_else(|| StepError::Panicked("no user was prepared".into()))
}

/// A connection as the connection's own (manager) user.
async fn manager(run: &RedisRun<'_>) -> StepResult<redis::aio::MultiplexedConnection> {
    let t = &run.client;
    let c = &t.connection;
    client::connect(c, &c.username, c.password.as_ref(), t.allow_internal).await
}

/// Deletes `users` (gone ones are fine), then saves the ACL file.
async fn delete_users(run: &mut RedisRun<'_>, users: &[String]) -> StepResult {
    if users.is_empty() {
        return Ok(());
    }
    let c = &run.client.connection;
    let mut conn = manager(run).await?;
    for user in users {
        client::del_user(&mut conn, c, user).await?;
    }
    let saved = client::save(&mut conn, c).await?;
    run.note = save_note(&saved, &c.username);
    Ok(())
}

/// Users that failed runs issued and no slot holds: their discard may have failed.
async fn leftovers(run: &RedisRun<'_>) -> StepResult<Vec<String>> {
    let known: Vec<&str> = run
        .slots
        .items
        .iter()
        .map(|l| l.username.as_str())
        .collect();
    let mut users: Vec<String> = run
        .leftovers()
        .await?
        .into_iter()
        .filter_map(|state| state.issued.map(|l| l.username))
        .filter(|u| !known.contains(&u.as_str()))
        .collect();
    users.sort();
    users.dedup();
    Ok(users)
}

/// Retired: the inactive slot's user goes (the active one stays: consumers use it), with
/// the leftovers of failed runs.
async fn retire(run: &mut RedisRun<'_>) -> StepResult {
    let mut users = leftovers(run).await?;
    if let Some(inactive) = run.slots.inactive() {
        users.push(inactive.username.clone());
    }
    delete_users(run, &users).await
}

/// Prepared: a new user's name and password, chosen once per run (a resumed run keeps what
/// its journal holds, so a crash between choosing and applying re-applies the same user).
fn prepare(run: &mut RedisRun<'_>) -> StepResult {
    if run.issued.is_some() {
        return Ok(());
    }
    let requirements = run.params.password_requirements.clone().unwrap_or_default();
    if let Some(problem) = requirements.problem() {
        return Err(StepError::Fatal(problem));
    }
    run.issued = Some(Login {
        username: password::generate(&username_requirements()),
        password: SecretString::from(password::generate(&requirements)),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn usernames_are_32_letters_and_digits() {
        let name = crate::providers::password::generate(&super::username_requirements());
        assert_eq!(name.len(), 32);
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
        assert!(name.chars().filter(|c| c.is_ascii_digit()).count() >= 5);
    }
}
