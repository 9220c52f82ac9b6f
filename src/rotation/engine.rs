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
use futures_util::FutureExt;
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
    /// Past the point of no return, the run could not publish and never will by retrying (a
    /// permanent database error, a bug): it ended failed, the slots record the credential the
    /// provider now holds, and the mapped secrets keep the previous one, which still works.
    Settled(String),
}

impl RunError {
    pub fn message(&self) -> &str {
        match self {
            RunError::Abandoned(m) | RunError::Interrupted(m) | RunError::Settled(m) => m,
        }
    }
}

/// What a run says when the database failed it: never the database's own text, which goes
/// to the log (it can quote values and names the caller should not see).
const DB_FAILED: &str = "the database could not record this step (the server log has the details)";

/// What a run says when a step panicked (a bug in Rotary).
const STEP_PANICKED: &str =
    "an internal error stopped this step (a bug in Rotary; the server log has the details)";

/// Test-only fault injection: with the `crash-points` feature in a debug build, a test makes
/// the named step of one rotation (by name) panic or fail with a permanent database error,
/// every time it is tried, until the fault is cleared.
#[cfg(all(feature = "crash-points", debug_assertions))]
pub mod faults {
    use std::sync::Mutex;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Fault {
        Panic,
        PermanentDbError,
    }

    static FAULTS: Mutex<Vec<(String, String, Fault)>> = Mutex::new(Vec::new());

    /// From now on, entering `step` in a run of the rotation named `rotation` fails with `fault`.
    pub fn inject(rotation: &str, step: &str, fault: Fault) {
        FAULTS
            .lock()
            .unwrap()
            .push((rotation.into(), step.into(), fault));
    }

    pub fn clear(rotation: &str) {
        FAULTS.lock().unwrap().retain(|(r, _, _)| r != rotation);
    }

    pub(super) fn at(rotation: &str, step: &str) -> Option<Fault> {
        FAULTS
            .lock()
            .unwrap()
            .iter()
            .find(|(r, s, _)| r == rotation && s == step)
            .map(|(_, _, f)| *f)
    }
}

/// Fails the step as a test asked (see `faults`); nothing in other builds.
fn fault_point(rotation: &str, step: &str) -> Result<(), StepError> {
    #[cfg(all(feature = "crash-points", debug_assertions))]
    match faults::at(rotation, step) {
        Some(faults::Fault::Panic) => panic!("fault injected: panic entering step {step}"),
        Some(faults::Fault::PermanentDbError) => {
            return Err(StepError::Db {
                detail: format!("fault injected: permanent database error entering step {step}"),
                permanent: true,
            })
        }
        None => {}
    }
    let _ = (rotation, step);
    Ok(())
}

/// Ends a run's bookkeeping however the run ends, a panic included: the lease renewer stops
/// and the in-flight gauge comes down.
struct InFlight {
    renewer: tokio::task::JoinHandle<()>,
}

impl InFlight {
    fn start(renewer: tokio::task::JoinHandle<()>) -> Self {
        metrics::gauge!("rotary_runs_in_flight").increment(1.0);
        InFlight { renewer }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.renewer.abort();
        metrics::gauge!("rotary_runs_in_flight").decrement(1.0);
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
    let in_flight = InFlight::start(renewer);
    let result = ctx.drive().await;
    // The run changed the rotation's row (status, times, last message): readers in this
    // process see it at once.
    state.lookups.clear_content();
    drop(in_flight);
    let outcome = match &result {
        Ok(()) => "succeeded",
        Err(RunError::Abandoned(_)) => "failed",
        Err(RunError::Settled(_)) => "settled",
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
#[derive(Debug)]
enum StepError {
    /// The provider failed in a way that may pass (a timeout, a 5xx, a rate limit).
    Transient(String),
    /// The provider (or the setup) refuses: trying again will not help.
    Fatal(String),
    LostLease,
    /// The database failed. `detail` is for the log only; `permanent` when trying again
    /// cannot help (a constraint, a value out of range, an index entry too large).
    Db {
        detail: String,
        permanent: bool,
    },
    /// The step panicked: a bug. Treated as permanent.
    Panicked(String),
}

impl StepError {
    /// Whether retrying the step cannot help.
    fn is_permanent(&self) -> bool {
        matches!(
            self,
            StepError::Fatal(_)
                | StepError::Panicked(_)
                | StepError::Db {
                    permanent: true,
                    ..
                }
        )
    }

    /// The reason as the run (and the API, and webhooks) tell it: provider messages are
    /// Rotary's own words; database and panic details stay in the log.
    fn reason(&self) -> String {
        match self {
            StepError::Transient(m) | StepError::Fatal(m) => m.clone(),
            StepError::LostLease => "another worker took this run over".into(),
            StepError::Db { .. } => DB_FAILED.into(),
            StepError::Panicked(_) => STEP_PANICKED.into(),
        }
    }
}

/// Whether a database error can pass by itself: the connection, the server shutting down or
/// short of resources, a serialization conflict or deadlock. Anything else (SQLSTATE classes
/// 22 data exception, 23 integrity, 42 syntax, 54 program limit such as an index row too
/// large) fails the same way every time.
pub fn is_transient_db_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            ["08", "40", "53", "55", "57", "58"]
                .iter()
                .any(|class| code.starts_with(class))
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        StepError::Db {
            permanent: !is_transient_db_error(&e),
            detail: e.to_string(),
        }
    }
}

impl From<ApiError> for StepError {
    fn from(e: ApiError) -> Self {
        let permanent = match &e {
            ApiError::Internal(inner) => inner
                .downcast_ref::<sqlx::Error>()
                .is_none_or(|db| !is_transient_db_error(db)),
            _ => true,
        };
        StepError::Db {
            detail: format!("{e:#}"),
            permanent,
        }
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
            // A panic in a step is a bug; it ends the step like a permanent error, so the run
            // still ends (abandoned or settled) and the rotation stays usable.
            let result = match std::panic::AssertUnwindSafe(self.step(&step))
                .catch_unwind()
                .await
            {
                Ok(result) => result,
                Err(panic) => Err(StepError::Panicked(panic_text(&panic))),
            };
            let error = match result {
                Ok(()) => {
                    failures = 0;
                    crash_point(&self.run.step);
                    continue;
                }
                Err(StepError::LostLease) => {
                    return Err(RunError::Interrupted(StepError::LostLease.reason()));
                }
                Err(error) => error,
            };
            self.log_failure(&step, &error);
            failures += 1;
            let reason = error.reason();
            if self.before_activation() && error.is_permanent() && self.activated_meanwhile().await
            {
                // The step failed after the provider had already switched to the staged
                // credential: past the point of no return after all.
                self.run.step = "activated".into();
            }
            if self.before_activation() {
                if error.is_permanent() || failures >= STEP_ATTEMPTS {
                    return Err(self.give_up(&reason).await);
                }
            } else if error.is_permanent() {
                // The new credential is live and publishing cannot succeed: record it and end.
                return Err(self.settle(&reason).await);
            } else if failures >= STEP_ATTEMPTS {
                // Activated, and the database (or the provider) keeps failing for now: the new
                // credential is live and must be published. Leave the run open; it resumes at
                // publish after a backoff that grows with each attempt.
                let delay = resume_delay(self.run.attempts as u32);
                let _ = rotations::release_after(&self.state.pool, &self.run, &reason, delay).await;
                return Err(RunError::Interrupted(reason));
            }
            tokio::time::sleep(Duration::from_millis(250 << failures)).await;
        }
    }

    /// Runs the step that follows `step` once.
    async fn step(&mut self, step: &str) -> Result<(), StepError> {
        let next = match step {
            "started" => "retired",
            "retired" => "staged",
            "staged" => "activated",
            "activated" => "published",
            other => return Err(StepError::Panicked(format!("unknown step {other}"))),
        };
        fault_point(&self.rotation.name, next)?;
        match step {
            "started" => self.inspect_and_retire().await,
            "retired" => self.stage().await,
            "staged" => self.activate().await,
            _ => self.publish().await,
        }
    }

    fn log_failure(&self, step: &str, error: &StepError) {
        let (rotation_id, run_id) = (self.rotation.id, self.run.id);
        match error {
            StepError::Db { detail, permanent } => {
                tracing::warn!(%rotation_id, %run_id, step, error = %detail, permanent, "rotation step failed in the database")
            }
            StepError::Panicked(detail) => {
                tracing::error!(%rotation_id, %run_id, step, panic = %detail, "rotation step panicked")
            }
            other => {
                tracing::warn!(%rotation_id, %run_id, step, error = %other.reason(), "rotation step failed")
            }
        }
    }

    /// Whether Salesforce already made the staged credential primary (a step failing after
    /// the PATCH took effect). Unknown counts as no: the run is then abandoned, as before.
    async fn activated_meanwhile(&self) -> bool {
        let Some(staged_key) = self.run.staged_key.as_deref() else {
            return false;
        };
        let Some(consumer_id) = self.run.consumer_id.as_deref() else {
            return false;
        };
        matches!(self.primary_key(consumer_id).await, Ok(key) if key == staged_key)
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
        if let Some(settled) = self.settled_credential(&consumer.key)? {
            // An earlier run settled: the inactive slot holds the credential Salesforce made
            // primary, and the mapped secrets still hold the previous one (now `Rotated`).
            // Retiring that one would break the consumers, and a new credential would push
            // the settled one out unrecorded: publish the settled credential instead.
            let ct = self.project_key.seal(
                settled.consumer_secret.expose_secret().as_bytes(),
                &staged_aad(self.run.id),
            );
            let url = settled.staged_credential_url.clone().unwrap_or_default();
            return self
                .journal(Journal {
                    step: "activated",
                    consumer_id: Some(&consumer_id),
                    note: Some("Published the credential that an earlier, settled run left active at Salesforce."),
                    staged: Some(("", &settled.consumer_key, ct, &url)),
                })
                .await;
        }
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
        let new_slot = self.journaled_slot()?;
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
                        return Err(StepError::Fatal(format!(
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
            return Err(StepError::Fatal(
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

    /// The inactive slot's credential when it is the consumer's primary one: what a settled run
    /// leaves (see `settle`).
    fn settled_credential(&self, primary_key: &str) -> Result<Option<Slot>, StepError> {
        if self.rotation.lifecycle != "active" {
            return Ok(None);
        }
        let slots = open_slots(&self.project_key, &self.rotation)?;
        let inactive = (1 - self.rotation.active_index) as usize;
        Ok(slots
            .into_iter()
            .nth(inactive)
            .filter(|slot| slot.consumer_key == primary_key))
    }

    /// The credential this run issued, from its journal.
    fn journaled_slot(&self) -> Result<Slot, StepError> {
        let staged_ct = self.run.staged_secret_ct.clone().unwrap_or_default();
        let secret = self
            .project_key
            .open(&staged_ct, &staged_aad(self.run.id))
            .map_err(|e| StepError::Db {
                detail: format!("opening the staged secret: {e}"),
                permanent: true,
            })?;
        let secret = SecretString::from(String::from_utf8_lossy(&secret).into_owned());
        Ok(Slot {
            consumer_key: self.run.staged_key.clone().unwrap_or_default(),
            consumer_secret: secret,
            staged_credential_url: self.run.staged_url.clone(),
        })
    }

    /// Ends a run that is past the point of no return but cannot publish (DESIGN.md's
    /// *settle*): the inactive slot records the credential Salesforce now holds as primary,
    /// `activeIndex` and the mapped secrets stay (the previous credential is Salesforce's
    /// `Rotated` one and keeps working), the rotation says `failed` and why, and the run ends.
    /// A rotation still being created becomes visible with the new credential in its only
    /// slot, so it can be fixed, rotated again or deleted.
    async fn settle(&mut self, reason: &str) -> RunError {
        let message = truncate(
            &format!(
                "{ERROR_PREFIX}{reason}. The new credential is active at Salesforce and recorded in the rotation's generated credentials, but the mapped secrets were not updated and still hold the previous credential, which keeps working until the next rotation. Fix the cause, then rotate again."
            ),
            1024,
        );
        let result = async {
            let new_slot = self.journaled_slot()?;
            let mut tx = self.state.pool.begin().await?;
            if !rotations::finish_run(&mut tx, &self.run, &self.run.step.clone(), "failed", Some(&message)).await? {
                return Err(StepError::LostLease);
            }
            let Some(rotation) = rotations::find_for_update(&mut tx, self.rotation.id).await? else {
                return Err(StepError::LostLease);
            };
            let mut slots = open_slots(&self.project_key, &rotation)?;
            let creating = rotation.lifecycle == "creating";
            if creating || slots.is_empty() {
                slots = vec![new_slot];
            } else {
                let inactive = (1 - rotation.active_index) as usize;
                if slots.len() <= inactive {
                    slots.push(new_slot);
                } else {
                    slots[inactive] = new_slot;
                }
            }
            let now = Utc::now();
            let next = schedule_of(self.state, &rotation).next(rotation.last_rotated_at, true, false, now);
            sqlx::query(
                "UPDATE secret_rotations SET generated_credentials_ct = $2, lifecycle = 'active', \
                 active_index = CASE WHEN $3 THEN 0 ELSE active_index END, rotation_status = 'failed', \
                 last_rotation_attempted_at = $4, last_rotation_message = $5, last_rotation_job_id = $6, \
                 next_rotation_at = $7, updated_at = now() WHERE id = $1",
            )
            .bind(rotation.id)
            .bind(seal_slots(&self.project_key, rotation.id, &slots))
            .bind(creating)
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
            tx.commit().await?;
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                tracing::warn!(rotation_id = %self.rotation.id, run_id = %self.run.id, "rotation settled: the new credential is live but not published");
                RunError::Settled(message)
            }
            Err(StepError::LostLease) => RunError::Interrupted(StepError::LostLease.reason()),
            Err(e) => {
                // The database cannot take even this: leave the run open to be resumed later.
                self.log_failure("settle", &e);
                let delay = resume_delay(self.run.attempts as u32);
                let _ =
                    rotations::release_after(&self.state.pool, &self.run, &e.reason(), delay).await;
                RunError::Interrupted(e.reason())
            }
        }
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

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// How long a live-but-unpublished run waits before it is resumed: 1 s, doubling per attempt,
/// at most 5 minutes, with ±20 % jitter (a database that stays down is not hammered).
fn resume_delay(attempt: u32) -> Duration {
    let base = 2f64
        .powi(attempt.saturating_sub(1).min(9) as i32)
        .min(300.0);
    Duration::from_secs_f64(base * (0.8 + rand::random::<f64>() * 0.4))
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
