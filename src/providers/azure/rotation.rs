//! `azure-client-secret`: every rotation adds a client secret to the app registration and
//! removes the one of two rotations ago; the previous secret keeps working for one interval
//! (dual-phase; Entra ID keeps many secrets per app).
//!
//! | phase    | what                                                                        |
//! |----------|-----------------------------------------------------------------------------|
//! | Retired  | `removePassword` the inactive slot's secret, and any secret a failed run     |
//! |          | added                                                                        |
//! | Issued   | check the expiry fits Azure's five years; remove a secret this run added     |
//! |          | before a crash (its name holds the run id; Graph never shows a secret again) |
//! |          | then `addPassword`, named for the run, expiring after two intervals and      |
//! |          | three days (Infisical's)                                                     |
//! | Verified | the client gets a token with the new secret, waiting out Entra ID's          |
//! |          | replication (a bounded retry)                                                |
//!
//! Until it is published nobody uses the new secret, so a run that fails up to Verified is
//! abandoned and `discard` removes it. Where Infisical differs: it checks the five-year limit
//! after creating the secret (which stays behind), a crash between its `addPassword` and its
//! database write leaves a live secret nobody knows, and it removes the old secret after adding
//! the new one.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::providers::azure::client::{step, AzureClient, SecretCheck};
use crate::providers::azure::connection::{shared_client, APP};
use crate::providers::azure::wire::{AzureParameters, AzureSecret};
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct AzureClientSecret;

#[derive(Default, Serialize, Deserialize)]
pub struct AzureJournal {}

type AzureRun<'a> = Run<'a, AzureClientSecret>;

/// The longest interval whose secrets fit Azure's limit of five years: 2 × interval + 3
/// days ≤ ⌊365 × 2.5⌋ × 2.
pub const MAX_INTERVAL_DAYS: i32 = 909;

/// How long Verified waits for a new secret to be accepted, in growing steps.
const REPLICATION_WAITS: [u64; 7] = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000];

/// The display name of the secret a run adds: it finds it again after a crash.
pub fn secret_name(run_id: uuid::Uuid) -> String {
    format!("Rotary rotated secret (run {run_id})")
}

impl RotationType for AzureClientSecret {
    const TYPE: &'static str = "azure-client-secret";
    const NAME: &'static str = "Azure Client Secret";
    const PROVIDER: &'static str = "Azure";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Retired, Phase::Issued, Phase::Verified];
    const LAST_ABANDONABLE: Phase = Phase::Issued;

    type Parameters = AzureParameters;
    type Credential = AzureSecret;
    type Journal = AzureJournal;
    type Client = AzureClient;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<AzureClient>> {
        let row = crate::connections::target::row(state, rotation, APP, Self::PROVIDER).await?;
        shared_client(state, &row).await
    }

    async fn run(phase: Phase, run: &mut AzureRun<'_>) -> StepResult {
        match phase {
            Phase::Retired => retire(run).await,
            Phase::Issued => issue(run).await,
            Phase::Verified => verify(run).await,
            other => Err(StepError::Panicked(format!("Azure has no phase {other:?}"))),
        }
    }

    /// The run is abandoned: remove the secret it added (nobody was told of it).
    async fn discard(run: &mut AzureRun<'_>) {
        if let Err(e) = remove_own(run).await {
            tracing::warn!(rotation_id = %run.rotation.id, error = %e.reason(), "could not remove the secret of an abandoned Azure run");
        }
    }

    /// Revoke: remove every secret the rotation holds (Infisical's revoke).
    async fn revoke(run: &mut AzureRun<'_>) -> StepResult {
        let mut keys: Vec<String> = run.slots.items.iter().map(|s| s.key_id.clone()).collect();
        keys.extend(leftovers(run).await?);
        remove(run, &keys).await
    }
}

fn object_id(run: &AzureRun<'_>) -> String {
    run.params.object_id.trim().to_lowercase()
}

async fn remove(run: &AzureRun<'_>, keys: &[String]) -> StepResult {
    let app = object_id(run);
    for key in keys {
        run.client.remove_password(&app, key).await.map_err(|f| {
            step(
                f,
                &format!("Failed to remove client secret with keyId {key} from app {app}"),
            )
        })?;
    }
    Ok(())
}

/// The keyIds failed runs added that no slot holds.
async fn leftovers(run: &AzureRun<'_>) -> StepResult<Vec<String>> {
    let slots: Vec<&str> = run.slots.items.iter().map(|s| s.key_id.as_str()).collect();
    Ok(run
        .leftovers()
        .await?
        .into_iter()
        .filter_map(|state| state.issued.map(|s| s.key_id))
        .filter(|k| !slots.contains(&k.as_str()))
        .collect())
}

/// Removes what this run added: its journaled secret, and any secret named for the run.
async fn remove_own(run: &AzureRun<'_>) -> StepResult {
    let app = object_id(run);
    let name = secret_name(run.run_id);
    let mut keys: Vec<String> = run
        .client
        .passwords(&app)
        .await
        .map_err(|f| {
            step(
                f,
                &format!("Failed to check credential existence for app {app}"),
            )
        })?
        .into_iter()
        .filter(|p| p.display_name == name)
        .map(|p| p.key_id)
        .collect();
    keys.extend(run.issued.iter().map(|s| s.key_id.clone()));
    keys.dedup();
    remove(run, &keys).await
}

async fn retire(run: &mut AzureRun<'_>) -> StepResult {
    let mut keys = leftovers(run).await?;
    if let Some(inactive) = run.slots.inactive() {
        keys.push(inactive.key_id.clone());
    }
    remove(run, &keys).await
}

async fn issue(run: &mut AzureRun<'_>) -> StepResult {
    let interval = run.rotation.rotation_interval;
    if interval > MAX_INTERVAL_DAYS {
        return Err(StepError::Fatal(format!(
            "Azure does not support token duration over 5 years: a rotation interval of at most {MAX_INTERVAL_DAYS} days keeps each secret (two intervals and three days) within it"
        )));
    }
    // A secret this run added before a crash cannot be read again: remove it, add another.
    remove_own(run).await?;
    let app = object_id(run);
    let end = chrono::Utc::now() + chrono::Duration::days(2 * i64::from(interval) + 3);
    let (key_id, secret) = run
        .client
        .add_password(&app, &secret_name(run.run_id), end)
        .await
        .map_err(|f| {
            step(
                f,
                &format!("Failed to add client secret to Azure app {app}"),
            )
        })?;
    run.issued = Some(AzureSecret {
        client_id: run.params.client_id.trim().to_lowercase(),
        client_secret: secret,
        key_id,
    });
    Ok(())
}

async fn verify(run: &mut AzureRun<'_>) -> StepResult {
    let new = run
        .issued
        .clone()
        .ok_or_else(|| StepError::Panicked("no secret was issued".into()))?;
    let mut last = String::new();
    for wait in [0].into_iter().chain(REPLICATION_WAITS) {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        match works(&run.client, &new).await? {
            Ok(()) => return Ok(()),
            Err(refused) => last = refused,
        }
    }
    Err(StepError::Transient(format!(
        "Azure does not accept the new client secret of app {} yet: {last}",
        new.client_id
    )))
}

/// Ok(Ok) when the client gets a token with the secret, Ok(Err(why)) when refused.
async fn works(client: &AzureClient, s: &AzureSecret) -> StepResult<Result<(), String>> {
    match client.check_secret(&s.client_id, &s.client_secret).await {
        Ok(SecretCheck::Works) => Ok(Ok(())),
        Ok(SecretCheck::Refused(why)) => Ok(Err(why)),
        Err(f) => Err(step(f, "Azure's token endpoint failed")),
    }
}
