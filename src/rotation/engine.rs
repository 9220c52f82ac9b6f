//! The rotation engine: one run per attempt, journaled phase by phase (DESIGN.md's table), so
//! a crash anywhere is resumed from the last durable phase and no credential is ever lost.
//! It is written once for every rotation type (`provider::RotationType`): the type runs the
//! phases, the engine owns everything around them.
//!
//! - After every phase the type's `{journal, issued}` is sealed into the run, fenced: a worker
//!   that lost the lease can no longer write. The last provider phase is not journaled on its
//!   own: `Published` follows at once and records the run in its transaction, and a run
//!   resumed before it re-runs that (idempotent) phase. When the run is given back first,
//!   `release_after` saves it.
//! - A failure before the type's point of no return (`LAST_ABANDONABLE`) retries a few times,
//!   then gives up: scheduled runs wait and resume (backoff), others are abandoned and the type
//!   `discard`s what it issued. After it the run only rolls forward: transient failures resume
//!   later; a permanent one (or a panic) *settles*.
//! - `Published` is one transaction: the issued credential into the inactive slot, a
//!   compare-and-set on `activeIndex`, the mapped secrets, status, the webhook outbox.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt;
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::crypto::Key;
use crate::rotation::journal;
use crate::rotation::provider::{Credential, Phase, RotationModel, RotationType, Run, StepError};
use crate::rotation::schedule::{RotateAt, Schedule};
use crate::state::AppState;
use crate::store::rotations::Lifecycle;
use crate::store::rotations::{self, Outcome, RotationRow, RunRow, Trigger};
use crate::store::secrets::{self, NewSecret};

pub use crate::providers::salesforce::rotation::SELF_ROTATION;

/// A revoke run's note when the DELETE also asked to delete the mapped secrets.
pub const DELETE_SECRETS_NOTE: &str = "deleteSecrets";

/// How many times a phase is tried in one go when it fails transiently.
const STEP_ATTEMPTS: u32 = 3;

/// Messages start like Infisical's, with our name.
pub const ERROR_PREFIX: &str =
    "Rotary encountered an issue while generating credentials with the configured inputs: ";

/// This process's name on the leases it takes.
pub fn worker_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{}-{}", std::process::id(), crate::crypto::random_hex(4)))
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
    /// The provider (or the setup) refuses: the run was abandoned and cleaned up.
    Abandoned(String),
    /// Could not finish now (the provider or the database kept failing, or the lease was
    /// lost); the run stays open and resumes from its journal.
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

/// Test-only fault injection: with the `crash-points` feature in a debug build, a test makes
/// the named phase (by its label) of one rotation (by name) panic or fail with a permanent
/// database error, every time it is tried, until the fault is cleared.
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

/// Fails the phase as a test asked (see `faults`); nothing in other builds.
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

/// Test-only crash points: with the `crash-points` feature in a debug build, the process exits
/// right after journaling the phase labelled ROTARY_CRASH_AFTER.
fn crash_point(step: &str) {
    #[cfg(all(feature = "crash-points", debug_assertions))]
    if std::env::var("ROTARY_CRASH_AFTER").as_deref() == Ok(step) {
        eprintln!("crash-points: exiting after step {step}");
        std::process::exit(86);
    }
    let _ = step;
}

/// Ends a run's bookkeeping however the run ends, a panic included: the lease renewer stops
/// and the in-flight gauge comes down.
struct InFlight {
    renewer: tokio::task::JoinHandle<()>,
}

impl InFlight {
    fn start(state: &AppState, run: &RunRow) -> Self {
        let (pool, run, lease) = (state.pool.clone(), run.clone(), state.lease_seconds);
        // Keep the lease alive while the provider is slow.
        let renewer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis((lease * 250).max(100) as u64)).await;
                if !matches!(rotations::renew_lease(&pool, &run, lease).await, Ok(true)) {
                    break;
                }
            }
        });
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
    let rotation = match rotation.filter(|r| r.id == run.rotation_id) {
        Some(row) => row,
        None => rotations::find(&state.pool, run.rotation_id)
            .await
            .map_err(|e| RunError::Interrupted(StepError::from(e).reason()))?
            .ok_or_else(|| RunError::Abandoned("the rotation no longer exists".into()))?,
    };
    let Some(entry) = crate::rotation::registry::by_slug(&rotation.rotation_type) else {
        // A row of a type this binary does not know (a newer replica wrote it): leave it.
        return Err(RunError::Interrupted(format!(
            "this server does not know rotation type {}",
            rotation.rotation_type
        )));
    };
    entry.execute(state, run, rotation).await
}

/// The run of one rotation type; everything here is the engine's.
struct Exec<'a> {
    state: &'a AppState,
    rotation: &'a RotationRow,
    run: RunRow,
    key: &'a Key,
}

/// `execute` for a rotation of type `T` (the registry calls it).
pub async fn execute_typed<T: RotationType>(
    state: &AppState,
    run: RunRow,
    rotation: RotationRow,
) -> Result<RotationRow, RunError> {
    let key = crate::access::project_key_by_id(state, rotation.project_id)
        .await
        .map_err(|e| RunError::Interrupted(StepError::from(e).reason()))?
        .ok_or_else(|| RunError::Abandoned("the project no longer exists".into()))?;
    let started = std::time::Instant::now();
    let in_flight = InFlight::start(state, &run);
    let trigger = run.trigger;
    let mut exec = Exec {
        state,
        rotation: &rotation,
        run,
        key: &key,
    };
    let result = exec.execute::<T>().await;
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
    crate::metrics::run_finished(&rotation.rotation_type, trigger.as_str(), outcome, started);
    result.map(|()| rotation)
}

impl<'a> Exec<'a> {
    /// Opens what the run needs (its state, the parameters, the slots, the client), then
    /// drives it. A setup that fails permanently ends the run as a refusal would.
    async fn execute<T: RotationType>(&mut self) -> Result<(), RunError> {
        let setup = async {
            let saved =
                journal::open::<T>(self.key, &self.run).map_err(|detail| StepError::Db {
                    detail,
                    permanent: true,
                })?;
            let params: T::Parameters = serde_json::from_value(self.rotation.parameters.clone())
                .map_err(|e| {
                    StepError::Fatal(format!("the rotation's parameters are invalid: {e}"))
                })?;
            let slots = journal::open_slots::<T>(self.key, self.rotation)?;
            let client = T::client(self.state, self.rotation).await?;
            Ok::<_, StepError>((saved, params, slots, client))
        };
        let (saved, params, slots, client) = match setup.await {
            Ok(parts) => parts,
            Err(e) if e.is_permanent() && self.phase() <= T::LAST_ABANDONABLE => {
                self.log_failure("setup", &e);
                return Err(self.give_up(&e).await);
            }
            Err(e) => {
                self.log_failure("setup", &e);
                return Err(RunError::Interrupted(e.reason()));
            }
        };
        let mut work = Run::<T> {
            run_id: self.run.id,
            rotation: self.rotation,
            params,
            client,
            slots,
            journal: saved.journal,
            issued: saved.issued,
            note: None,
            db: &self.state.pool,
            key: self.key,
        };
        if self.run.trigger == Trigger::Revoke {
            return self.revoke(&mut work).await;
        }
        self.drive(&mut work).await
    }

    /// A revoke run (DELETE with `revokeGeneratedCredentials`): it holds the rotation's one
    /// open-run slot, so no rotation can start under it; the type revokes, then one fenced
    /// transaction deletes the rotation (and, when asked, its mapped secrets). A crash
    /// mid-revoke is taken over and finished like any run.
    async fn revoke<T: RotationType>(&mut self, work: &mut Run<'a, T>) -> Result<(), RunError> {
        let attempt = std::panic::AssertUnwindSafe(T::revoke(work)).catch_unwind();
        let result = match attempt.await {
            Ok(result) => result,
            Err(panic) => Err(StepError::Panicked(panic_text(&panic))),
        };
        if let Err(error) = result {
            self.log_failure("revoke", &error);
            let message = match &error {
                StepError::Setup(m) => m.clone(),
                other => format!("{ERROR_PREFIX}{}", other.reason()),
            };
            if let Ok(mut tx) = self.state.pool.begin().await {
                if let Ok(true) = rotations::finish_run(
                    &mut tx,
                    &self.run,
                    "started",
                    Outcome::Failed,
                    Some(&message),
                )
                .await
                {
                    let _ = tx.commit().await;
                }
            }
            return Err(RunError::Abandoned(message));
        }
        let delete_secrets = self.run.note.as_deref() == Some(DELETE_SECRETS_NOTE);
        let deleted = async {
            let connection_update = self.sealed_connection_update(work).await?;
            let mut tx = self.state.pool.begin().await?;
            if !rotations::finish_run(&mut tx, &self.run, "revoked", Outcome::Succeeded, None)
                .await?
            {
                return Err(StepError::LostLease);
            }
            if let Some((id, ct)) = &connection_update {
                crate::store::app_connections::set_credentials(&mut tx, *id, ct).await?;
            }
            secrets::release_owned(&mut tx, self.rotation.id, delete_secrets).await?;
            rotations::delete(&mut tx, self.rotation.id).await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        deleted.map_err(|e| {
            self.log_failure("revoke", &e);
            RunError::Interrupted(e.reason())
        })
    }

    /// The rotation's connection sealed with the credentials the run changed, if it changed
    /// them (`RotationType::connection_update`).
    async fn sealed_connection_update<T: RotationType>(
        &self,
        work: &Run<'_, T>,
    ) -> Result<Option<(Uuid, Vec<u8>)>, StepError> {
        let Some(credentials) = T::connection_update(work) else {
            return Ok(None);
        };
        let row = crate::store::app_connections::find(
            &self.state.pool,
            self.rotation.org_id,
            self.rotation.connection_id,
        )
        .await?
        .ok_or_else(|| StepError::Fatal("the rotation's app connection no longer exists".into()))?;
        let key = crate::connections::sealing_key(self.state, row.project_id).await?;
        Ok(Some((
            row.id,
            crate::connections::seal_as(&key, row.id, &credentials),
        )))
    }

    fn phase(&self) -> Phase {
        Phase::from_ordinal(self.run.phase).unwrap_or(Phase::Started)
    }

    async fn drive<T: RotationType>(&mut self, work: &mut Run<'a, T>) -> Result<(), RunError> {
        let mut failures = 0;
        loop {
            if self.run.outcome != Outcome::Running || self.phase() == Phase::Published {
                return Ok(());
            }
            let next = T::PHASES.iter().copied().find(|p| *p > self.phase());
            let label = next.map(T::label).unwrap_or("published");
            // A panic in a phase is a bug; it ends the phase like a permanent error, so the
            // run still ends (abandoned or settled) and the rotation stays usable.
            let attempt = async {
                fault_point(&self.rotation.name, label)?;
                match next {
                    Some(phase) => T::run(phase, work).await,
                    None => self.publish(work).await,
                }
            };
            let result = match std::panic::AssertUnwindSafe(attempt).catch_unwind().await {
                Ok(result) => result,
                Err(panic) => Err(StepError::Panicked(panic_text(&panic))),
            };
            let error = match result {
                Ok(()) => {
                    failures = 0;
                    if let Some(phase) = next {
                        self.completed(work, phase).await?;
                    }
                    crash_point(label);
                    continue;
                }
                Err(StepError::LostLease) => {
                    return Err(RunError::Interrupted(StepError::LostLease.reason()));
                }
                Err(error) => error,
            };
            self.log_failure(label, &error);
            failures += 1;
            if self.phase() <= T::LAST_ABANDONABLE
                && error.is_permanent()
                && T::switched_meanwhile(work).await
            {
                // The phase failed after the provider had already switched to the issued
                // credential: past the point of no return after all.
                self.run.phase = next.unwrap_or(Phase::Published).ordinal();
                self.run.step = label.into();
            }
            if self.phase() <= T::LAST_ABANDONABLE {
                if error.is_permanent() || failures >= STEP_ATTEMPTS {
                    self.discard_unless_retried(work).await;
                    return Err(self.give_up(&error).await);
                }
            } else if error.is_permanent() {
                if T::MODEL == RotationModel::SinglePhase && next.is_some() {
                    // Single-phase: the old credential is gone, so keeping the mapped secrets
                    // would leave consumers nothing that works. Publish the new one, saying
                    // which step it skipped; only a publish that fails itself settles.
                    tracing::warn!(rotation_id = %self.rotation.id, run_id = %self.run.id, step = label, "single-phase run publishes past a failed step");
                    work.note = Some(format!(
                        "Published without finishing the {label} step ({}); check the credential.",
                        error.reason()
                    ));
                    match self.publish(work).await {
                        Ok(()) => return Ok(()),
                        Err(StepError::LostLease) => {
                            return Err(RunError::Interrupted(StepError::LostLease.reason()))
                        }
                        Err(e) => return Err(self.settle(work, &e.reason()).await),
                    }
                }
                // The new credential is live and publishing cannot succeed: record it and end.
                return Err(self.settle(work, &error.reason()).await);
            } else if failures >= STEP_ATTEMPTS {
                // Past the point of no return, and the database (or the provider) keeps
                // failing for now: the new credential is live and must be published. Leave
                // the run open; it resumes after a backoff that grows with each attempt.
                let delay = resume_delay(self.run.attempts as u32);
                let _ =
                    rotations::release_after(&self.state.pool, &self.run, &error.reason(), delay)
                        .await;
                return Err(RunError::Interrupted(error.reason()));
            }
            tokio::time::sleep(Duration::from_millis(250 << failures)).await;
        }
    }

    /// Records a completed phase: sealed and fenced, except the last provider phase (see the
    /// module's comment), which is kept in memory for `Published` or `release_after`.
    async fn completed<T: RotationType>(
        &mut self,
        work: &Run<'_, T>,
        phase: Phase,
    ) -> Result<(), RunError> {
        let sealed = journal::seal::<T>(self.key, self.run.id, &work.journal, &work.issued);
        if T::PHASES.last() == Some(&phase) {
            self.run.step = T::label(phase).into();
            self.run.phase = phase.ordinal();
            self.run.journal_ct = Some(sealed);
            return Ok(());
        }
        let written = rotations::journal(
            &self.state.pool,
            &self.run,
            T::label(phase),
            phase.ordinal(),
            &sealed,
            work.note.as_deref(),
            self.state.lease_seconds,
        )
        .await;
        match written {
            Ok(Some(run)) => {
                self.run = run;
                Ok(())
            }
            Ok(None) => Err(RunError::Interrupted(StepError::LostLease.reason())),
            Err(e) => {
                let e = StepError::from(e);
                self.log_failure(T::label(phase), &e);
                Err(RunError::Interrupted(e.reason()))
            }
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

    /// Before abandoning, the type discards what it issued; a scheduled run that will be
    /// retried keeps it (it resumes from its journal).
    async fn discard_unless_retried<T: RotationType>(&self, work: &mut Run<'_, T>) {
        let retried = self.run.trigger == Trigger::Scheduled
            && (self.run.attempts as u32) < self.state.retry.attempts;
        if !retried {
            T::discard(work).await;
        }
    }

    /// A scheduled run that failed before the point of no return waits and tries again
    /// (exponential backoff with jitter, resuming the same run) until its attempt budget is
    /// spent; then, and for other runs at once, it is abandoned.
    async fn give_up(&mut self, error: &StepError) -> RunError {
        let reason = error.reason();
        let retry = &self.state.retry;
        if self.run.trigger == Trigger::Scheduled && (self.run.attempts as u32) < retry.attempts {
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
        self.abandon(error).await
    }

    /// One transaction writes the mapped secrets, the slots and the status, guarded by a
    /// compare-and-set on `activeIndex` and the run's fence.
    async fn publish<T: RotationType>(&mut self, work: &Run<'_, T>) -> Result<(), StepError> {
        let state = self.state;
        let (rotation, owned) = rotations::find_with_owned(&state.pool, self.rotation.id)
            .await?
            .ok_or_else(|| StepError::Fatal("the rotation was deleted while it ran".into()))?;
        let new_slot = work.issued.clone().ok_or_else(|| {
            StepError::Panicked("no credential was issued before publishing".into())
        })?;
        let creating = rotation.lifecycle == Lifecycle::Creating;
        let mut slots = journal::open_slots::<T>(self.key, &rotation)?.items;
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
        let manual = self.run.trigger != Trigger::Scheduled;
        let next = schedule_of(state, &rotation).next(now, false, manual, now);
        let connection_update = self.sealed_connection_update(work).await?;

        let mut tx = state.pool.begin().await?;
        if !rotations::finish_run(&mut tx, &self.run, "published", Outcome::Succeeded, None).await?
        {
            return Err(StepError::LostLease);
        }
        if let Some((id, ct)) = &connection_update {
            crate::store::app_connections::set_credentials(&mut tx, *id, ct).await?;
        }
        let mapping = &rotation.secrets_mapping;
        let mut rewritten = Vec::new();
        for (field, value) in new_slot.secrets() {
            let name = mapping[field].as_str().unwrap_or_default();
            match owned.iter().find(|(_, key)| key == name) {
                Some((id, _)) => {
                    let ct = self.key.seal(
                        value.expose_secret().as_bytes(),
                        &format!("secret-value:{id}"),
                    );
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
                            value_ct: self.key.seal(
                                value.expose_secret().as_bytes(),
                                &format!("secret-value:{id}"),
                            ),
                            comment_ct: self.key.seal(b"", &format!("secret-comment:{id}")),
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
        .bind(journal::seal_slots::<T>(self.key, rotation.id, &slots))
        .bind(new_index)
        .bind(now)
        .bind(self.run.id.to_string())
        .bind(next)
        .bind(manual)
        .bind(work.note.as_ref().or(self.run.note.as_ref()))
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
        if connection_update.is_some() {
            self.state.lookups.clear();
        } else {
            self.state.lookups.clear_content();
        }
        self.run.step = "published".into();
        self.run.phase = Phase::Published.ordinal();
        tracing::info!(rotation_id = %rotation.id, run_id = %self.run.id, credential = %new_slot.label(), "rotation published");
        Ok(())
    }

    /// Ends a run that is past the point of no return but cannot publish (DESIGN.md's
    /// *settle*): the inactive slot records the credential the provider now holds, the
    /// `activeIndex` and the mapped secrets stay (the previous credential keeps working), the
    /// rotation says `failed` and why, and the run ends. A rotation still being created becomes
    /// visible with the new credential in its only slot, so it can be fixed, rotated again or
    /// deleted.
    async fn settle<T: RotationType>(&mut self, work: &Run<'_, T>, reason: &str) -> RunError {
        let message = truncate(
            &format!(
                "{ERROR_PREFIX}{reason}. The new credential is active at {} and recorded in the rotation's generated credentials, but the mapped secrets were not updated and still hold the previous credential, which keeps working until the next rotation. Fix the cause, then rotate again.",
                T::PROVIDER
            ),
            1024,
        );
        let result = async {
            let new_slot = work.issued.clone().ok_or_else(|| {
                StepError::Panicked("no credential was issued before settling".into())
            })?;
            // The provider holds the new credential: so must the connection, if it is its own.
            let connection_update = self.sealed_connection_update(work).await?;
            let mut tx = self.state.pool.begin().await?;
            if !rotations::finish_run(
                &mut tx,
                &self.run,
                &self.run.step.clone(),
                Outcome::Failed,
                Some(&message),
            )
            .await?
            {
                return Err(StepError::LostLease);
            }
            if let Some((id, ct)) = &connection_update {
                crate::store::app_connections::set_credentials(&mut tx, *id, ct).await?;
            }
            let Some(rotation) = rotations::find_for_update(&mut tx, self.rotation.id).await?
            else {
                return Err(StepError::LostLease);
            };
            let mut slots = journal::open_slots::<T>(self.key, &rotation)?;
            let creating = rotation.lifecycle == Lifecycle::Creating;
            if creating || slots.is_empty() {
                slots.items = vec![new_slot];
            } else {
                let inactive = 1 - slots.active_index.min(1);
                if slots.items.len() <= inactive {
                    slots.items.push(new_slot);
                } else {
                    slots.items[inactive] = new_slot;
                }
            }
            let sealed = journal::seal_slots::<T>(self.key, rotation.id, &slots.items);
            self.record_failure(&mut tx, &rotation, &message, Some((sealed, creating)))
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

    /// Records on the rotation that this run failed: status, message, the run, the next
    /// attempt (the next day at the rotate time), and the `secrets.rotation-failed` webhook
    /// event, in the caller's transaction. A settling run also gives the slots (sealed) and
    /// whether the rotation was still being created (then it becomes visible, slot 0 active).
    async fn record_failure(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        rotation: &RotationRow,
        message: &str,
        settled_slots: Option<(Vec<u8>, bool)>,
    ) -> sqlx::Result<()> {
        let now = Utc::now();
        let next =
            schedule_of(self.state, rotation).next(rotation.last_rotated_at, true, false, now);
        let (slots_ct, creating) = match settled_slots {
            Some((ct, creating)) => (Some(ct), creating),
            None => (None, false),
        };
        sqlx::query(
            "UPDATE secret_rotations SET rotation_status = 'failed', last_rotation_attempted_at = $2, \
             last_rotation_message = $3, last_rotation_job_id = $4, next_rotation_at = $5, \
             generated_credentials_ct = coalesce($6, generated_credentials_ct), \
             lifecycle = CASE WHEN $6 IS NULL THEN lifecycle ELSE 'active' END, \
             active_index = CASE WHEN $7 THEN 0 ELSE active_index END, updated_at = now() WHERE id = $1",
        )
        .bind(rotation.id)
        .bind(now)
        .bind(message)
        .bind(self.run.id.to_string())
        .bind(next)
        .bind(slots_ct)
        .bind(creating)
        .execute(&mut **tx)
        .await?;
        crate::webhooks::enqueue_rotation(
            tx,
            crate::webhooks::RotationEvent {
                event: crate::webhooks::ROTATION_FAILED,
                rotation,
                triggered_manually: self.run.trigger != Trigger::Scheduled,
                error_message: Some(message),
            },
        )
        .await
    }

    /// Gives up before the point of no return (the type has discarded what it issued): marks
    /// the run failed and says why.
    async fn abandon(&mut self, error: &StepError) -> RunError {
        let message = match error {
            StepError::Setup(m) => m.clone(),
            other => format!("{ERROR_PREFIX}{}", other.reason()),
        };
        let message = truncate(&message, 1024);
        let result = async {
            let mut tx = self.state.pool.begin().await?;
            if !rotations::finish_run(
                &mut tx,
                &self.run,
                &self.run.step.clone(),
                Outcome::Failed,
                Some(&message),
            )
            .await?
            {
                return Ok::<_, sqlx::Error>(());
            }
            let rotation = rotations::find(&self.state.pool, self.rotation.id).await?;
            if let Some(rotation) = rotation.filter(|r| r.lifecycle == Lifecycle::Active) {
                self.record_failure(&mut tx, &rotation, &message, None)
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
    if row.lifecycle != Lifecycle::Creating {
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
