//! `mongodb-credentials`: two existing users used alternately (dual-phase), as the SQL types
//! (`providers::sql::two_users` holds what they share).
//!
//! | phase    | what                                                                    |
//! |----------|-------------------------------------------------------------------------|
//! | Prepared | choose the inactive user and a new password; journaled, sealed, first   |
//! | Issued   | `updateUser` with it as the connection's user: re-applies the journaled |
//! |          | password on a resumed run                                               |
//! | Verified | log in as that user (authSource = the connection's database) and `ping` |
//!
//! Where Infisical differs: it changes the password and records it after, so a crash in
//! between leaves a user whose password nobody knows; it always generates 48 characters,
//! ignoring `passwordRequirements`, which Rotary honours.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::connections::target::{self, Target};
use crate::providers::login::Login;
use crate::providers::mongodb::client::{ping_as, set_password};
use crate::providers::mongodb::connection::APP;
use crate::providers::mongodb::wire::MongoConnection;
use crate::providers::sql::two_users;
use crate::providers::sql::wire::SqlParameters;
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct MongoCredentials;

#[derive(Default, Serialize, Deserialize)]
pub struct MongoJournal {}

type MongoRun<'a> = Run<'a, MongoCredentials>;

impl RotationType for MongoCredentials {
    const TYPE: &'static str = "mongodb-credentials";
    const NAME: &'static str = "MongoDB Credentials";
    const PROVIDER: &'static str = "MongoDB";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Prepared, Phase::Issued, Phase::Verified];
    // From updateUser on, the inactive user's old password is gone: roll forward only.
    const LAST_ABANDONABLE: Phase = Phase::Prepared;

    type Parameters = SqlParameters;
    type Credential = Login;
    type Journal = MongoJournal;
    type Client = Target<MongoConnection>;

    async fn client(
        state: &AppState,
        rotation: &RotationRow,
    ) -> StepResult<Arc<Target<MongoConnection>>> {
        target::target(state, rotation, APP, Self::PROVIDER).await
    }

    async fn run(phase: Phase, run: &mut MongoRun<'_>) -> StepResult {
        match phase {
            Phase::Prepared => two_users::prepare(run),
            Phase::Issued => {
                let login = two_users::issued(run)?.clone();
                apply(run, &login).await
            }
            Phase::Verified => {
                let login = two_users::issued(run)?.clone();
                let t = &run.client;
                ping_as(
                    &t.connection,
                    &login.username,
                    &login.password,
                    t.allow_internal,
                )
                .await
            }
            other => Err(StepError::Panicked(format!(
                "MongoDB has no phase {other:?}"
            ))),
        }
    }

    /// Revoke: every slot's user gets a random password nobody keeps (Infisical's revoke).
    async fn revoke(run: &mut MongoRun<'_>) -> StepResult {
        for login in two_users::unknown_passwords(run) {
            apply(run, &login).await?;
        }
        Ok(())
    }
}

async fn apply(run: &MongoRun<'_>, login: &Login) -> StepResult {
    let t = &run.client;
    set_password(
        &t.connection,
        &login.username,
        &login.password,
        t.allow_internal,
    )
    .await
}
