//! The rotation engine: one run per attempt, journaled step by step (DESIGN.md's table), so a
//! crash anywhere is resumed from the last durable step and no credential is ever lost.
//!
//! | step      | provider action (idempotent on resume)                         | journaled            |
//! |-----------|-----------------------------------------------------------------|----------------------|
//! | started   | read the app's consumers; refuse the connection's own app       | run row + lease      |
//! | retired   | free the staged slot: delete Rotated/Expired records, and Active | consumer id          |
//! |           | leftovers of Rotary's own abandoned runs; stop on a foreign one  |                      |
//! | staged    | POST staged (or adopt the record an uncertain POST created)      | key + sealed secret  |
//! | activated | PATCH rotate, unless the consumer's key already is the staged key| step                 |
//! | published | one DB transaction: secrets, slots, CAS on activeIndex, status   | run succeeded        |

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::connections;
use crate::crypto::Key;
use crate::error::{ApiError, ApiResult};
use crate::providers::salesforce::client::{SfErrorKind, StagedCredential};
use crate::providers::salesforce::{SalesforceClient, SfError};
use crate::rotation::schedule::{RotateAt, Schedule};
use crate::state::AppState;
use crate::store::rotations::{self, Journal, RotationRow, RunRow};
use crate::store::secrets::{self, NewSecret};

/// How many times a step is tried in one go when Salesforce fails transiently.
const STEP_ATTEMPTS: u32 = 3;

/// Messages start like Infisical's, with our name.
pub const ERROR_PREFIX: &str =
    "Rotary encountered an issue while generating credentials with the configured inputs: ";

pub const SELF_ROTATION: &str = "Cannot rotate the consumer secret of the External Client App that this Salesforce connection authenticates with. Choose a different app or use a separate Salesforce connection.";

/// This process's name on the leases it takes.
pub fn worker_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{}-{}", std::process::id(), crate::crypto::random_hex(4)))
}

/// One credential slot, as Infisical's `generatedCredentials` items.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    pub consumer_key: String,
    pub consumer_secret: SecretString,
    pub staged_credential_url: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SlotOut<'a> {
    consumer_key: &'a str,
    consumer_secret: &'a str,
    staged_credential_url: &'a Option<String>,
}

fn slots_aad(rotation_id: Uuid) -> String {
    format!("rotation-credentials:{rotation_id}")
}

fn staged_aad(run_id: Uuid) -> String {
    format!("rotation-run-secret:{run_id}")
}

pub fn seal_slots(key: &Key, rotation_id: Uuid, slots: &[Slot]) -> Vec<u8> {
    let out: Vec<SlotOut> = slots
        .iter()
        .map(|s| SlotOut {
            consumer_key: &s.consumer_key,
            consumer_secret: s.consumer_secret.expose_secret(),
            staged_credential_url: &s.staged_credential_url,
        })
        .collect();
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(&out).unwrap_or_default());
    key.seal(&plain, &slots_aad(rotation_id))
}

pub fn open_slots(key: &Key, row: &RotationRow) -> ApiResult<Vec<Slot>> {
    let Some(ct) = &row.generated_credentials_ct else {
        return Ok(vec![]);
    };
    let plain = key.open(ct, &slots_aad(row.id)).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "opening rotation {} credentials: {e}",
            row.id
        ))
    })?;
    serde_json::from_slice(&plain)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("rotation {} credentials: {e}", row.id)))
}

pub fn schedule_of(state: &AppState, row: &RotationRow) -> Schedule {
    Schedule {
        auto_rotation: row.is_auto_rotation_enabled,
        interval: i64::from(row.rotation_interval),
        rotate_at: RotateAt {
            hours: row.rotate_at_hours as u32,
            minutes: row.rotate_at_minutes as u32,
        },
        dev_mode: state.rotation_dev_mode,
    }
}

/// Why a run stopped without publishing.
#[derive(Debug)]
pub enum RunError {
    /// Salesforce (or the setup) refuses: the run was abandoned and cleaned up.
    Abandoned(String),
    /// Could not finish now (Salesforce or the database kept failing, or the lease was lost);
    /// the run stays open and resumes from its journal.
    Interrupted(String),
}

impl RunError {
    pub fn message(&self) -> &str {
        match self {
            RunError::Abandoned(m) | RunError::Interrupted(m) => m,
        }
    }
}

/// Test-only crash points: with the `crash-points` feature in a debug build, the process exits
/// right after journaling the step named in ROTARY_CRASH_AFTER.
fn crash_point(step: &str) {
    #[cfg(all(feature = "crash-points", debug_assertions))]
    if std::env::var("ROTARY_CRASH_AFTER").as_deref() == Ok(step) {
        eprintln!("crash-points: exiting after step {step}");
        std::process::exit(86);
    }
    let _ = step;
}

struct Ctx<'a> {
    state: &'a AppState,
    rotation: RotationRow,
    run: RunRow,
    client: std::sync::Arc<SalesforceClient>,
    connection_key: String,
    app_id: String,
    project_key: Key,
    /// This execution just staged (POST) the credential and has not tried to activate it:
    /// no PATCH can have happened, so activation need not read Salesforce's state first.
    staged_here: bool,
}

fn param(row: &RotationRow, name: &str) -> String {
    row.parameters[name]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Executes (or resumes) a run that this worker holds the lease of, to the end.
/// On success, the rotation as it was when the run started (for the caller's audit entry).
pub async fn execute(state: &AppState, run: RunRow) -> Result<RotationRow, RunError> {
    execute_claimed(state, run, None).await
}

/// `execute`, given the rotation's row when the caller read it as it opened the run (the
/// scheduler's claim locks and returns it: one query fewer per scheduled run).
pub async fn execute_claimed(
    state: &AppState,
    run: RunRow,
    rotation: Option<RotationRow>,
) -> Result<RotationRow, RunError> {
    let interrupted = |e: ApiError| RunError::Interrupted(format!("{e}"));
    let rotation = match rotation.filter(|r| r.id == run.rotation_id) {
        Some(row) => row,
        None => rotations::find(&state.pool, run.rotation_id)
            .await
            .map_err(|e| interrupted(e.into()))?
            .ok_or_else(|| RunError::Abandoned("the rotation no longer exists".into()))?,
    };
    let connection = crate::cache::connection(state, rotation.org_id, rotation.connection_id)
        .await
        .map_err(|e| interrupted(e.into()))?
        .ok_or_else(|| {
            RunError::Abandoned("the rotation's app connection no longer exists".into())
        })?;
    let client = connections::shared_client(state, &connection)
        .await
        .map_err(interrupted)?;
    let project_key = crate::access::project_key_by_id(state, rotation.project_id)
        .await
        .map_err(interrupted)?
        .ok_or_else(|| RunError::Abandoned("the project no longer exists".into()))?;
    let mut ctx = Ctx {
        state,
        app_id: param(&rotation, "appId"),
        rotation,
        run,
        connection_key: client.consumer_key().to_string(),
        client,
        project_key,
        staged_here: false,
    };

    // Keep the lease alive while Salesforce is slow.
    let renewer = {
        let pool = state.pool.clone();
        let run = ctx.run.clone();
        let lease = state.lease_seconds;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis((lease * 250).max(100) as u64)).await;
                if !matches!(rotations::renew_lease(&pool, &run, lease).await, Ok(true)) {
                    break;
                }
            }
        })
    };
    let started = std::time::Instant::now();
    metrics::gauge!("rotary_runs_in_flight").increment(1.0);
    let result = ctx.drive().await;
    // The run changed the rotation's row (status, times, last message): readers in this
    // process see it at once.
    state.lookups.clear_content();
    metrics::gauge!("rotary_runs_in_flight").decrement(1.0);
    renewer.abort();
    let outcome = match &result {
        Ok(()) => "succeeded",
        Err(RunError::Abandoned(_)) => "failed",
        Err(RunError::Interrupted(_)) => "interrupted",
    };
    crate::metrics::run_finished(
        &ctx.rotation.rotation_type,
        &ctx.run.trigger,
        outcome,
        started,
    );
    result.map(|()| ctx.rotation)
}

/// What one step attempt says: go on, try again (transient), or give up.
enum StepError {
    Transient(String),
    Fatal(String),
    LostLease,
    Db(String),
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        StepError::Db(e.to_string())
    }
}

impl From<ApiError> for StepError {
    fn from(e: ApiError) -> Self {
        StepError::Db(format!("{e:#}"))
    }
}

fn sf(e: SfError) -> StepError {
    if e.kind == SfErrorKind::Transient {
        StepError::Transient(e.message)
    } else {
        StepError::Fatal(e.message)
    }
}

impl Ctx<'_> {
    async fn drive(&mut self) -> Result<(), RunError> {
        let mut failures = 0;
        loop {
            if self.run.step == "published" || self.run.outcome != "running" {
                return Ok(());
            }
            let step = self.run.step.clone();
            let result = match step.as_str() {
                "started" => self.inspect_and_retire().await,
                "retired" => self.stage().await,
                "staged" => self.activate().await,
                "activated" => self.publish().await,
                other => Err(StepError::Fatal(format!("unknown step {other}"))),
            };
            match result {
                Ok(()) => {
                    failures = 0;
                    crash_point(&self.run.step);
                }
                Err(StepError::LostLease) => {
                    return Err(RunError::Interrupted(
                        "another worker took this run over".into(),
                    ));
                }
                Err(StepError::Fatal(reason)) if self.before_activation() => {
                    return Err(self.give_up(&reason).await)
                }
                Err(StepError::Fatal(reason))
                | Err(StepError::Transient(reason))
                | Err(StepError::Db(reason)) => {
                    failures += 1;
                    if failures >= STEP_ATTEMPTS {
                        if self.before_activation() {
                            return Err(self.give_up(&reason).await);
                        }
                        // Activated: the new credential is live and must be published. Leave
                        // the run open; the next attempt resumes at publish.
                        let _ = rotations::release(&self.state.pool, &self.run, &reason).await;
                        return Err(RunError::Interrupted(reason));
                    }
                    tokio::time::sleep(Duration::from_millis(250 << failures)).await;
                }
            }
        }
    }

    /// A scheduled run that failed before activation waits and tries again (exponential
    /// backoff with jitter, resuming the same run) until its attempt budget is spent; then,
    /// and for manual runs at once, it is abandoned.
    async fn give_up(&mut self, reason: &str) -> RunError {
        let retry = &self.state.retry;
        if self.run.trigger == "scheduled" && (self.run.attempts as u32) < retry.attempts {
            let delay = retry.delay(self.run.attempts as u32);
            let message = format!("{ERROR_PREFIX}{reason}");
            match rotations::release_for_retry(&self.state.pool, &self.run, &message, delay).await {
                Ok(()) => {
                    tracing::warn!(rotation_id = %self.rotation.id, attempt = self.run.attempts, retry_in_s = delay.as_secs_f64(), "scheduled rotation failed; will retry");
                    return RunError::Interrupted(message);
                }
                Err(e) => tracing::error!(error = %e, "scheduling a retry"),
            }
        }
        self.abandon(reason).await
    }

    fn before_activation(&self) -> bool {
        matches!(self.run.step.as_str(), "started" | "retired" | "staged")
    }

    async fn journal(&mut self, entry: Journal<'_>) -> Result<(), StepError> {
        match rotations::journal(&self.state.pool, &self.run, entry, self.state.lease_seconds)
            .await?
        {
            Some(run) => {
                self.run = run;
                Ok(())
            }
            None => Err(StepError::LostLease),
        }
    }

    fn consumer_id(&self) -> String {
        self.run.consumer_id.clone().unwrap_or_default()
    }

    /// started → retired: pick the consumer, refuse self-rotation, free the staged slot.
    async fn inspect_and_retire(&mut self) -> Result<(), StepError> {
        let consumers = self.client.consumers(&self.app_id).await.map_err(sf)?;
        let Some(consumer) = consumers.first() else {
            return Err(StepError::Fatal(format!(
                "Salesforce app \"{}\" has no consumers configured for rotation",
                self.app_id
            )));
        };
        if consumer.key == self.connection_key {
            return Err(StepError::Fatal(SELF_ROTATION.into()));
        }
        let note = (consumers.len() > 1).then(|| {
            format!(
                "Salesforce app \"{}\" has {} consumers; Rotary rotated the first one only. Assign each consumer to its own External Client App if all need rotation.",
                self.app_id,
                consumers.len()
            )
        });
        let consumer_id = consumer.id.clone();
        for record in self
            .client
            .staged(&self.app_id, &consumer_id)
            .await
            .map_err(sf)?
        {
            let mine_now = self.run.staged_key.as_deref() == Some(record.key.as_str());
            match record.state.as_str() {
                "Active" if mine_now => {}
                "Active"
                    if !rotations::abandoned_staged_keys(&self.state.pool, self.rotation.id)
                        .await?
                        .contains(&record.key) =>
                {
                    return Err(StepError::Fatal(format!(
                        "Salesforce holds a staged credential Rotary did not create (key ending {}): someone else is rotating this app. Rotate or delete it in Salesforce, then try again.",
                        tail(&record.key)
                    )));
                }
                // The previous credential (consumers had a full interval to leave it), an
                // expired record, or Rotary's own leftover: free the slot.
                _ => {
                    self.client
                        .delete_staged(&self.app_id, &consumer_id, &record.id)
                        .await
                        .map_err(sf)?;
                }
            }
        }
        self.journal(Journal {
            step: "retired",
            consumer_id: Some(&consumer_id),
            note: note.as_deref(),
            staged: None,
        })
        .await
    }

    /// retired → staged: a new key and secret, journaled (secret sealed) before anything else.
    async fn stage(&mut self) -> Result<(), StepError> {
        if self.run.staged_key.is_some() {
            return self
                .journal(Journal {
                    step: "staged",
                    consumer_id: None,
                    note: None,
                    staged: None,
                })
                .await;
        }
        let consumer_id = self.consumer_id();
        let staged = match self.client.stage(&self.app_id, &consumer_id).await {
            Ok(staged) => staged,
            Err(e) => {
                // Whatever the answer said, the POST may have happened (a reset, a 5xx after
                // the effect, a retried request refused as a duplicate). The retire step left
                // the slot without an Active record, so one there now is ours: adopt it.
                let slot = self
                    .client
                    .staged(&self.app_id, &consumer_id)
                    .await
                    .map_err(sf)?;
                match slot.into_iter().find(|s| s.state == "Active") {
                    Some(adopted) => adopted,
                    None => return Err(sf(e)),
                }
            }
        };
        self.record_staged(&staged).await
    }

    async fn record_staged(&mut self, staged: &StagedCredential) -> Result<(), StepError> {
        let ct = self.project_key.seal(
            staged.secret.expose_secret().as_bytes(),
            &staged_aad(self.run.id),
        );
        self.journal(Journal {
            step: "staged",
            consumer_id: None,
            note: None,
            staged: Some((&staged.id, &staged.key, ct, &staged.url)),
        })
        .await?;
        self.staged_here = true;
        Ok(())
    }

    /// staged → activated: promote the staged credential, unless that already happened.
    async fn activate(&mut self) -> Result<(), StepError> {
        let consumer_id = self.consumer_id();
        let staged_key = self.run.staged_key.clone().unwrap_or_default();
        let record_id = if std::mem::take(&mut self.staged_here) {
            self.run.staged_id.clone().unwrap_or_default()
        } else {
            // Resuming (or retrying): the PATCH may already have happened.
            if self.primary_key(&consumer_id).await? == staged_key {
                return self.activated();
            }
            // Find the record by key: Salesforce may reuse or change staged ids.
            let slot = self
                .client
                .staged(&self.app_id, &consumer_id)
                .await
                .map_err(sf)?;
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
        match self
            .client
            .rotate(&self.app_id, &consumer_id, &record_id)
            .await
        {
            Ok(()) => {}
            Err(e) => {
                // An uncertain or refused PATCH may still have rotated: read the truth.
                if self.primary_key(&consumer_id).await? != staged_key {
                    return Err(sf(e));
                }
            }
        }
        self.activated()
    }

    /// Activation is not journaled on its own: publish follows at once and records the run as
    /// published in its transaction, and a run resumed at `staged` finds out from Salesforce
    /// that the staged key is already the primary one. When the run is given back before
    /// publishing, `release` saves the step. (One write fewer per rotation.)
    fn activated(&mut self) -> Result<(), StepError> {
        self.run.step = "activated".into();
        Ok(())
    }

    async fn primary_key(&self, consumer_id: &str) -> Result<String, StepError> {
        let consumers = self.client.consumers(&self.app_id).await.map_err(sf)?;
        consumers
            .into_iter()
            .find(|c| c.id == consumer_id)
            .map(|c| c.key)
            .ok_or_else(|| {
                StepError::Fatal(format!(
                    "consumer {consumer_id} is no longer part of Salesforce app \"{}\"",
                    self.app_id
                ))
            })
    }

    /// activated → published: one transaction writes the mapped secrets, the slots and the
    /// status, guarded by a compare-and-set on `activeIndex` and the run's fence.
    async fn publish(&mut self) -> Result<(), StepError> {
        let state = self.state;
        let (rotation, owned) = rotations::find_with_owned(&state.pool, self.rotation.id)
            .await?
            .ok_or_else(|| StepError::Fatal("the rotation was deleted while it ran".into()))?;
        let staged_ct = self.run.staged_secret_ct.clone().unwrap_or_default();
        let secret = self
            .project_key
            .open(&staged_ct, &staged_aad(self.run.id))
            .map_err(|e| StepError::Db(format!("opening the staged secret: {e}")))?;
        let secret = SecretString::from(String::from_utf8_lossy(&secret).into_owned());
        let new_slot = Slot {
            consumer_key: self.run.staged_key.clone().unwrap_or_default(),
            consumer_secret: secret,
            staged_credential_url: self.run.staged_url.clone(),
        };
        let creating = rotation.lifecycle == "creating";
        let mut slots = open_slots(&self.project_key, &rotation)?;
        let new_index = if creating || slots.is_empty() {
            0
        } else {
            1 - rotation.active_index
        };
        if slots.len() <= new_index as usize {
            slots.push(new_slot.clone());
        } else {
            slots[new_index as usize] = new_slot.clone();
        }
        let now = Utc::now();
        let manual = self.run.trigger != "scheduled";
        let next = schedule_of(state, &rotation).next(now, false, manual, now);

        let mut tx = state.pool.begin().await?;
        if !rotations::finish_run(&mut tx, &self.run, "published", "succeeded", None).await? {
            return Err(StepError::LostLease);
        }
        let mapping = &rotation.secrets_mapping;
        let values = [
            (
                mapping["consumerKey"].as_str().unwrap_or_default(),
                new_slot.consumer_key.clone(),
            ),
            (
                mapping["consumerSecret"].as_str().unwrap_or_default(),
                new_slot.consumer_secret.expose_secret().to_string(),
            ),
        ];
        let mut rewritten = Vec::new();
        for (name, value) in values {
            match owned.iter().find(|(_, key)| key == name) {
                Some((id, _)) => {
                    let ct = self
                        .project_key
                        .seal(value.as_bytes(), &format!("secret-value:{id}"));
                    rewritten.push(secrets::OwnedWrite {
                        id: *id,
                        new_key: None,
                        value_ct: Some(ct),
                    });
                }
                None => {
                    let id = Uuid::new_v4();
                    let inserted = secrets::insert_in(
                        &mut tx,
                        NewSecret {
                            id,
                            project_id: rotation.project_id,
                            env_id: rotation.env_id,
                            path: &rotation.folder_path,
                            key: name,
                            value_ct: self
                                .project_key
                                .seal(value.as_bytes(), &format!("secret-value:{id}")),
                            comment_ct: self.project_key.seal(b"", &format!("secret-comment:{id}")),
                            skip_multiline_encoding: false,
                        },
                        Some(rotation.id),
                    )
                    .await?;
                    if inserted.is_none() {
                        return Err(StepError::Db(format!(
                            "a secret named {name} appeared at the rotation's path"
                        )));
                    }
                }
            }
        }
        if !rewritten.is_empty() {
            secrets::write_owned(&mut tx, &rewritten).await?;
        }
        let updated: Option<(bool,)> = sqlx::query_as(
            "UPDATE secret_rotations SET generated_credentials_ct = $3, active_index = $4, lifecycle = 'active', \
             rotation_status = 'success', last_rotation_attempted_at = $5, last_rotated_at = $5, \
             last_rotation_job_id = $6, next_rotation_at = $7, is_last_rotation_manual = $8, \
             last_rotation_message = $9, updated_at = now() WHERE id = $1 AND active_index = $2 \
             RETURNING EXISTS (SELECT 1 FROM webhooks w WHERE w.project_id = secret_rotations.project_id \
               AND w.env_id = secret_rotations.env_id AND NOT w.is_disabled \
               AND (secret_rotations.folder_path = w.secret_path OR w.secret_path = '/' \
               OR starts_with(secret_rotations.folder_path, w.secret_path || '/')))",
        )
        .bind(rotation.id)
        .bind(rotation.active_index)
        .bind(seal_slots(&self.project_key, rotation.id, &slots))
        .bind(new_index)
        .bind(now)
        .bind(self.run.id.to_string())
        .bind(next)
        .bind(manual)
        .bind(&self.run.note)
        .fetch_optional(&mut *tx)
        .await?;
        // The UPDATE also says whether a webhook listens here (most projects have none: then
        // there is nothing to enqueue and no query to make).
        let Some((listened,)) = updated else {
            return Err(StepError::Db(
                "the rotation's active index changed under this run".into(),
            ));
        };
        // The event goes out with the change: both commit, or neither.
        if listened {
            crate::webhooks::enqueue_rotation(
                &mut tx,
                crate::webhooks::RotationEvent {
                    event: crate::webhooks::ROTATION_SUCCEEDED,
                    rotation: &rotation,
                    triggered_manually: manual,
                    error_message: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        // This process's readers see the new credential at once; other replicas clear on the
        // commit's notification (see `cache`).
        self.state.lookups.clear_content();
        self.run.step = "published".into();
        tracing::info!(rotation_id = %rotation.id, run_id = %self.run.id, "rotation published");
        Ok(())
    }

    /// Gives up before activation: removes the staged credential this run created (so the org
    /// holds nothing Rotary does not know), marks the run failed and says why.
    async fn abandon(&mut self, reason: &str) -> RunError {
        if let (Some(key), Some(consumer_id)) =
            (self.run.staged_key.clone(), self.run.consumer_id.clone())
        {
            if let Ok(slot) = self.client.staged(&self.app_id, &consumer_id).await {
                for record in slot
                    .into_iter()
                    .filter(|s| s.key == key && s.state == "Active")
                {
                    if let Err(e) = self
                        .client
                        .delete_staged(&self.app_id, &consumer_id, &record.id)
                        .await
                    {
                        // Recorded in the failed run: the next run's retire step deletes it.
                        tracing::warn!(rotation_id = %self.rotation.id, error = %e, "could not delete an abandoned staged credential");
                    }
                }
            }
        }
        let message = if reason == SELF_ROTATION {
            reason.to_string()
        } else {
            format!("{ERROR_PREFIX}{reason}")
        };
        let message = truncate(&message, 1024);
        let result = async {
            let mut tx = self.state.pool.begin().await?;
            if !rotations::finish_run(&mut tx, &self.run, &self.run.step.clone(), "failed", Some(&message)).await? {
                return Ok::<_, sqlx::Error>(());
            }
            let rotation = rotations::find(&self.state.pool, self.rotation.id).await?;
            if let Some(rotation) = rotation.filter(|r| r.lifecycle == "active") {
                let now = Utc::now();
                let next = schedule_of(self.state, &rotation).next(rotation.last_rotated_at, true, false, now);
                sqlx::query(
                    "UPDATE secret_rotations SET rotation_status = 'failed', last_rotation_attempted_at = $2, \
                     last_rotation_message = $3, last_rotation_job_id = $4, next_rotation_at = $5, updated_at = now() WHERE id = $1",
                )
                .bind(rotation.id)
                .bind(now)
                .bind(&message)
                .bind(self.run.id.to_string())
                .bind(next)
                .execute(&mut *tx)
                .await?;
                crate::webhooks::enqueue_rotation(
                    &mut tx,
                    crate::webhooks::RotationEvent {
                        event: crate::webhooks::ROTATION_FAILED,
                        rotation: &rotation,
                        triggered_manually: self.run.trigger != "scheduled",
                        error_message: Some(&message),
                    },
                )
                .await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(rotation_id = %self.rotation.id, error = %e, "recording an abandoned run");
        }
        RunError::Abandoned(message)
    }
}

fn tail(key: &str) -> &str {
    &key[key.len().saturating_sub(6)..]
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(max - 3).collect::<String>())
    }
}

/// A rotation whose creation was abandoned is removed (it never became visible).
pub async fn cleanup_failed_creation(state: &AppState, rotation_id: Uuid) {
    let Ok(Some(row)) = rotations::find(&state.pool, rotation_id).await else {
        return;
    };
    if row.lifecycle != "creating" {
        return;
    }
    if let Ok(None) = rotations::open_run(&state.pool, rotation_id).await {
        if let Ok(mut tx) = state.pool.begin().await {
            if rotations::delete(&mut tx, rotation_id).await.is_ok() {
                let _ = tx.commit().await;
            }
        }
    }
}
