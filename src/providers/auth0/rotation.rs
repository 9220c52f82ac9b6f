//! `auth0-client-secret`: the application's one client secret replaced by one Rotary chooses
//! (single-phase: Auth0 keeps one secret per client, so the old one dies when the new one is
//! set).
//!
//! | phase    | what                                                                        |
//! |----------|-----------------------------------------------------------------------------|
//! | Prepared | choose the new secret (48 letters and digits, as Infisical); journaled,     |
//! |          | sealed, first                                                                |
//! | Issued   | if the new secret already authenticates (a resumed run), nothing; else      |
//! |          | `PATCH /api/v2/clients/{id}` with it                                         |
//! | Verified | the client authenticates with it at the token endpoint                       |
//!
//! From Issued on the run only rolls forward and publishes: the old secret is gone. Where
//! Infisical differs: its check takes Auth0's `401 access_denied` (a wrong secret) for a working
//! secret, and a crash between its PATCH and its database write loses the only secret.

use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::providers::auth0::client::{Auth0Client, SecretCheck};
use crate::providers::auth0::connection::{shared_client, APP};
use crate::providers::auth0::wire::{Auth0Parameters, Auth0Secret};
use crate::providers::password::{self, PasswordRequirements};
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct Auth0ClientSecret;

#[derive(Default, Serialize, Deserialize)]
pub struct Auth0Journal {}

type Auth0Run<'a> = Run<'a, Auth0ClientSecret>;

impl RotationType for Auth0ClientSecret {
    const TYPE: &'static str = "auth0-client-secret";
    const NAME: &'static str = "Auth0 Client Secret";
    const PROVIDER: &'static str = "Auth0";
    const MODEL: RotationModel = RotationModel::SinglePhase;
    const PHASES: &'static [Phase] = &[Phase::Prepared, Phase::Issued, Phase::Verified];
    const LAST_ABANDONABLE: Phase = Phase::Prepared;

    type Parameters = Auth0Parameters;
    type Credential = Auth0Secret;
    type Journal = Auth0Journal;
    type Client = Auth0Client;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<Auth0Client>> {
        let row = crate::connections::target::row(state, rotation, APP, Self::PROVIDER).await?;
        shared_client(state, &row).await
    }

    async fn run(phase: Phase, run: &mut Auth0Run<'_>) -> StepResult {
        match phase {
            Phase::Prepared => {
                if run.issued.is_none() {
                    run.issued = Some(Auth0Secret {
                        client_id: run.params.client_id.trim().to_string(),
                        client_secret: SecretString::from(password::generate(
                            &PasswordRequirements::default(),
                        )),
                    });
                }
                Ok(())
            }
            Phase::Issued => {
                let new = issued(run)?.clone();
                if works(&run.client, &new).await? {
                    return Ok(());
                }
                run.client
                    .set_secret(&new.client_id, &new.client_secret)
                    .await
                    .map_err(|f| {
                        f.step(&format!(
                            "Failed to set the client secret of Auth0 application {}",
                            new.client_id
                        ))
                    })
            }
            Phase::Verified => {
                let new = issued(run)?.clone();
                if works(&run.client, &new).await? {
                    Ok(())
                } else {
                    Err(StepError::Fatal(format!(
                        "Failed to verify credentials - the Auth0 application {} does not authenticate with its new secret",
                        new.client_id
                    )))
                }
            }
            other => Err(StepError::Panicked(format!("Auth0 has no phase {other:?}"))),
        }
    }

    /// Whether the new secret authenticates although the PATCH's answer was lost.
    async fn switched_meanwhile(run: &Auth0Run<'_>) -> bool {
        match run.issued.as_ref() {
            Some(new) => works(&run.client, new).await.unwrap_or(false),
            None => false,
        }
    }

    /// Revoke: Auth0 generates a secret nobody keeps (`rotate-secret`, as Infisical).
    async fn revoke(run: &mut Auth0Run<'_>) -> StepResult {
        let id = run.params.client_id.trim().to_string();
        run.client.rotate_secret(&id).await.map_err(|f| {
            f.step(&format!(
                "Failed to revoke the client secret of Auth0 application {id}"
            ))
        })
    }
}

fn issued<'r>(run: &'r Auth0Run<'_>) -> StepResult<&'r Auth0Secret> {
    run.issued
        .as_ref()
        .ok_or_else(|| StepError::Panicked("no client secret was prepared".into()))
}

async fn works(client: &Auth0Client, secret: &Auth0Secret) -> StepResult<bool> {
    match client
        .check_secret(&secret.client_id, &secret.client_secret)
        .await
    {
        Ok(SecretCheck::Works) => Ok(true),
        Ok(SecretCheck::Refused(_)) => Ok(false),
        Err(f) => Err(f.step("Auth0's token endpoint failed")),
    }
}
