//! `salesforce-oauth-credentials`: rotates the consumer secret of an External Client App
//! through Salesforce's staged-credentials API, as a rotation type of the engine.
//!
//! | phase     | label     | provider action (idempotent on resume)                            |
//! |-----------|-----------|--------------------------------------------------------------------|
//! | Retired   | retired   | read the app's consumers; refuse the connection's own app; free the |
//! |           |           | staged slot: delete Rotated/Expired records and Active leftovers of |
//! |           |           | Rotary's own abandoned runs; stop on a foreign one                  |
//! | Issued    | staged    | POST staged (or adopt the record an uncertain POST created)         |
//! | Activated | activated | PATCH rotate, unless the consumer's key already is the staged key   |
//!
//! Past `Issued` (the PATCH) the old primary sits in Salesforce's slot as `Rotated` and keeps
//! working until the next rotation retires it.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::crypto::Key;
use crate::providers::salesforce::client::{SfErrorKind, StagedCredential};
use crate::providers::salesforce::{SalesforceClient, SfError};
use crate::rotation::provider::{
    sealed, Credential, Phase, RotationModel, RotationType, Run, RunState, StepError, StepResult,
};
use crate::state::AppState;
use crate::store::rotations::Lifecycle;
use crate::store::rotations::{RotationRow, RunRow};

pub const SELF_ROTATION: &str = "Cannot rotate the consumer secret of the External Client App that this Salesforce connection authenticates with. Choose a different app or use a separate Salesforce connection.";

pub struct SalesforceOAuthCredentials;

/// One slot, as Infisical's `generatedCredentials` items (and as stored since the first
/// release: the sealed JSON is unchanged).
#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceCredential {
    pub consumer_key: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub consumer_secret: SecretString,
    pub staged_credential_url: Option<String>,
}

impl Credential for SalesforceCredential {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("consumerKey", SecretString::from(self.consumer_key.clone())),
            ("consumerSecret", self.consumer_secret.clone()),
        ]
    }
    fn label(&self) -> String {
        format!("key ending {}", tail(&self.consumer_key))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceParameters {
    pub app_id: String,
    #[serde(default)]
    pub app_name: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceJournal {
    /// The consumer being rotated (the app's first).
    pub consumer_id: Option<String>,
    /// Salesforce's id of the staged record (it may change: activation looks it up by key).
    pub staged_id: Option<String>,
    /// The run publishes the credential an earlier, settled run left primary: nothing to
    /// issue or activate.
    #[serde(default)]
    pub adopted: bool,
    /// This execution just staged and has not tried to activate: no PATCH can have happened,
    /// so activation need not read Salesforce's state first. Never journaled.
    #[serde(skip)]
    pub staged_here: bool,
}

fn sf(e: SfError) -> StepError {
    if e.kind == SfErrorKind::Transient {
        StepError::Transient(e.message)
    } else {
        StepError::Fatal(e.message)
    }
}

fn tail(key: &str) -> &str {
    &key[key.len().saturating_sub(6)..]
}

type SfRun<'a> = Run<'a, SalesforceOAuthCredentials>;

impl RotationType for SalesforceOAuthCredentials {
    const TYPE: &'static str = "salesforce-oauth-credentials";
    const NAME: &'static str = "Salesforce OAuth Credentials";
    const PROVIDER: &'static str = "Salesforce";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Retired, Phase::Issued, Phase::Activated];
    const LAST_ABANDONABLE: Phase = Phase::Issued;

    type Parameters = SalesforceParameters;
    type Credential = SalesforceCredential;
    type Journal = SalesforceJournal;
    type Client = SalesforceClient;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<SalesforceClient>> {
        let connection = crate::cache::connection(state, rotation.org_id, rotation.connection_id)
            .await?
            .ok_or_else(|| {
                StepError::Setup("the rotation's app connection no longer exists".into())
            })?;
        crate::providers::salesforce::connection::shared_client(state, &connection)
            .await
            .map_err(|e| match e {
                crate::error::ApiError::BadRequest(m) => StepError::Fatal(m),
                other => other.into(),
            })
    }

    async fn run(phase: Phase, run: &mut SfRun<'_>) -> StepResult {
        match phase {
            Phase::Retired => inspect_and_retire(run).await,
            Phase::Issued => stage(run).await,
            Phase::Activated => activate(run).await,
            other => Err(StepError::Panicked(format!(
                "Salesforce has no phase {other:?}"
            ))),
        }
    }

    /// Removes the staged credential this run created, so the org holds nothing Rotary does
    /// not know. A failure is logged: the next run's retire step deletes the leftover.
    async fn discard(run: &mut SfRun<'_>) {
        let (Some(issued), Some(consumer_id)) =
            (run.issued.clone(), run.journal.consumer_id.clone())
        else {
            return;
        };
        let app_id = run.params.app_id.clone();
        if let Ok(slot) = run.client.staged(&app_id, &consumer_id).await {
            for record in slot
                .into_iter()
                .filter(|s| s.key == issued.consumer_key && s.state == "Active")
            {
                if let Err(e) = run
                    .client
                    .delete_staged(&app_id, &consumer_id, &record.id)
                    .await
                {
                    tracing::warn!(rotation_id = %run.rotation.id, error = %e, "could not delete an abandoned staged credential");
                }
            }
        }
    }

    /// Deletes the previous credential Rotary left in the staged slot, then disables OAuth on
    /// the app (the only way the API offers to stop the primary credential).
    async fn revoke(run: &mut SfRun<'_>) -> StepResult {
        let app_id = run.params.app_id.clone();
        let app_name = run.params.app_name.clone();
        let failed = |reason: String| {
            StepError::Setup(format!(
                "Failed to disable OAuth on Salesforce External Client App \"{app_name}\": {reason}"
            ))
        };
        let ours: Vec<String> = run
            .slots
            .items
            .iter()
            .map(|s| s.consumer_key.clone())
            .collect();
        if let Ok(consumers) = run.client.consumers(&app_id).await {
            for consumer in consumers.iter().take(1) {
                for record in run
                    .client
                    .staged(&app_id, &consumer.id)
                    .await
                    .map_err(|e| failed(e.message))?
                {
                    if ours.contains(&record.key) {
                        run.client
                            .delete_staged(&app_id, &consumer.id, &record.id)
                            .await
                            .map_err(|e| failed(e.message))?;
                    }
                }
            }
        }
        let policy = run
            .client
            .find_policy(&app_name)
            .await
            .map_err(|e| failed(e.message))?
            .ok_or_else(|| {
                failed(format!(
                    "no ExtlClntAppConfigurablePolicies belongs to \"{app_name}\""
                ))
            })?;
        run.client
            .disable_oauth(&policy, &app_name)
            .await
            .map_err(|e| failed(e.message))
    }

    async fn switched_meanwhile(run: &SfRun<'_>) -> bool {
        let (Some(issued), Some(consumer_id)) = (&run.issued, &run.journal.consumer_id) else {
            return false;
        };
        matches!(primary_key(run, consumer_id).await, Ok(key) if key == issued.consumer_key)
    }

    fn label(phase: Phase) -> &'static str {
        match phase {
            Phase::Issued => "staged",
            other => other.default_label(),
        }
    }

    /// Runs journaled before `journal_ct` kept Salesforce's state in columns of their own.
    fn legacy_state(key: &Key, row: &RunRow) -> Option<RunState<Self>> {
        let issued = match (&row.staged_key, &row.staged_secret_ct) {
            (Some(staged_key), Some(ct)) => {
                let secret = key
                    .open(ct, &format!("rotation-run-secret:{}", row.id))
                    .ok()?;
                Some(SalesforceCredential {
                    consumer_key: staged_key.clone(),
                    consumer_secret: SecretString::from(
                        String::from_utf8_lossy(&secret).into_owned(),
                    ),
                    staged_credential_url: row.staged_url.clone(),
                })
            }
            _ => None,
        };
        Some(RunState {
            journal: SalesforceJournal {
                consumer_id: row.consumer_id.clone(),
                staged_id: row.staged_id.clone(),
                adopted: false,
                staged_here: false,
            },
            issued,
        })
    }
}

/// Retired: pick the consumer, refuse self-rotation, free the staged slot.
async fn inspect_and_retire(run: &mut SfRun<'_>) -> StepResult {
    let app_id = run.params.app_id.clone();
    let consumers = run.client.consumers(&app_id).await.map_err(sf)?;
    let Some(consumer) = consumers.first() else {
        return Err(StepError::Fatal(format!(
            "Salesforce app \"{app_id}\" has no consumers configured for rotation"
        )));
    };
    if consumer.key == run.client.consumer_key() {
        return Err(StepError::Setup(SELF_ROTATION.into()));
    }
    run.note = (consumers.len() > 1).then(|| {
        format!(
            "Salesforce app \"{app_id}\" has {} consumers; Rotary rotated the first one only. Assign each consumer to its own External Client App if all need rotation.",
            consumers.len()
        )
    });
    let consumer_id = consumer.id.clone();
    run.journal.consumer_id = Some(consumer_id.clone());
    if run.rotation.lifecycle == Lifecycle::Active {
        if let Some(settled) = run
            .slots
            .inactive()
            .filter(|s| s.consumer_key == consumer.key)
        {
            // An earlier run settled: the inactive slot holds the credential Salesforce made
            // primary, and the mapped secrets still hold the previous one (now `Rotated`).
            // Retiring that one would break the consumers, and a new credential would push
            // the settled one out unrecorded: publish the settled credential instead.
            run.issued = Some(settled.clone());
            run.journal.adopted = true;
            run.note = Some(
                "Published the credential that an earlier, settled run left active at Salesforce."
                    .into(),
            );
            return Ok(());
        }
    }
    let mine_now = run.issued.as_ref().map(|c| c.consumer_key.clone());
    for record in run.client.staged(&app_id, &consumer_id).await.map_err(sf)? {
        match record.state.as_str() {
            "Active" if mine_now.as_deref() == Some(record.key.as_str()) => {}
            "Active" => {
                let ours = run.leftovers().await?.iter().any(|s| {
                    s.issued
                        .as_ref()
                        .is_some_and(|c| c.consumer_key == record.key)
                });
                if !ours {
                    return Err(StepError::Fatal(format!(
                        "Salesforce holds a staged credential Rotary did not create (key ending {}): someone else is rotating this app. Rotate or delete it in Salesforce, then try again.",
                        tail(&record.key)
                    )));
                }
                run.client
                    .delete_staged(&app_id, &consumer_id, &record.id)
                    .await
                    .map_err(sf)?;
            }
            // The previous credential (consumers had a full interval to leave it), an
            // expired record, or Rotary's own leftover: free the slot.
            _ => {
                run.client
                    .delete_staged(&app_id, &consumer_id, &record.id)
                    .await
                    .map_err(sf)?;
            }
        }
    }
    Ok(())
}

/// Issued (label `staged`): a new key and secret, journaled (secret sealed) by the engine
/// before anything else happens.
async fn stage(run: &mut SfRun<'_>) -> StepResult {
    if run.journal.adopted || run.issued.is_some() {
        return Ok(());
    }
    let app_id = run.params.app_id.clone();
    let consumer_id = run.journal.consumer_id.clone().unwrap_or_default();
    let staged = match run.client.stage(&app_id, &consumer_id).await {
        Ok(staged) => staged,
        Err(e) => {
            // Whatever the answer said, the POST may have happened (a reset, a 5xx after
            // the effect, a retried request refused as a duplicate). The retire step left
            // the slot without an Active record, so one there now is ours: adopt it.
            let slot = run.client.staged(&app_id, &consumer_id).await.map_err(sf)?;
            match slot.into_iter().find(|s| s.state == "Active") {
                Some(adopted) => adopted,
                None => return Err(sf(e)),
            }
        }
    };
    record_staged(run, staged);
    Ok(())
}

fn record_staged(run: &mut SfRun<'_>, staged: StagedCredential) {
    run.journal.staged_id = Some(staged.id);
    run.journal.staged_here = true;
    run.issued = Some(SalesforceCredential {
        consumer_key: staged.key,
        consumer_secret: SecretString::from(staged.secret.expose_secret().to_string()),
        staged_credential_url: Some(staged.url),
    });
}

/// Activated: promote the staged credential, unless that already happened.
async fn activate(run: &mut SfRun<'_>) -> StepResult {
    if run.journal.adopted {
        return Ok(());
    }
    let app_id = run.params.app_id.clone();
    let consumer_id = run.journal.consumer_id.clone().unwrap_or_default();
    let staged_key = run
        .issued
        .as_ref()
        .map(|c| c.consumer_key.clone())
        .unwrap_or_default();
    let record_id = if std::mem::take(&mut run.journal.staged_here) {
        run.journal.staged_id.clone().unwrap_or_default()
    } else {
        // Resuming (or retrying): the PATCH may already have happened.
        if primary_key(run, &consumer_id).await? == staged_key {
            return Ok(());
        }
        // Find the record by key: Salesforce may reuse or change staged ids.
        let slot = run.client.staged(&app_id, &consumer_id).await.map_err(sf)?;
        let Some(record) = slot
            .into_iter()
            .find(|s| s.key == staged_key && s.state == "Active")
        else {
            return Err(StepError::Fatal(
                "the staged credential disappeared from Salesforce before it could be activated"
                    .into(),
            ));
        };
        record.id
    };
    if let Err(e) = run.client.rotate(&app_id, &consumer_id, &record_id).await {
        // An uncertain or refused PATCH may still have rotated: read the truth.
        if primary_key(run, &consumer_id).await? != staged_key {
            return Err(sf(e));
        }
    }
    Ok(())
}

async fn primary_key(run: &SfRun<'_>, consumer_id: &str) -> StepResult<String> {
    let app_id = &run.params.app_id;
    let consumers = run.client.consumers(app_id).await.map_err(sf)?;
    consumers
        .into_iter()
        .find(|c| c.id == consumer_id)
        .map(|c| c.key)
        .ok_or_else(|| {
            StepError::Fatal(format!(
                "consumer {consumer_id} is no longer part of Salesforce app \"{app_id}\""
            ))
        })
}
