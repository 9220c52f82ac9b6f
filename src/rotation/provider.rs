//! The seam between the engine and a rotation type (DESIGN.md's phase model). The engine owns
//! the run: lease, fence, retries, the journal write after every phase, abandon and discard,
//! settle, publish. A type only runs phases: it never writes `rotation_runs` or
//! `secret_rotations`. What it needs to remember between phases goes into `Run::journal` and
//! `Run::issued`, which the engine seals into the run's `journal_ct` after every phase.

use std::future::Future;
use std::sync::Arc;

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::Key;
use crate::state::AppState;
use crate::store::rotations::{RotationRow, RunRow};

/// The phases of a run, in their one fixed order. `Started` and `Published` are the engine's;
/// a type runs a subset of the others (`RotationType::PHASES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Started = 0,
    Retired = 1,
    Prepared = 2,
    Issued = 3,
    Activated = 4,
    Verified = 5,
    Published = 6,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Started,
        Phase::Retired,
        Phase::Prepared,
        Phase::Issued,
        Phase::Activated,
        Phase::Verified,
        Phase::Published,
    ];

    /// The ordinal kept in `rotation_runs.phase`.
    pub fn ordinal(self) -> i16 {
        self as i16
    }

    pub fn from_ordinal(n: i16) -> Option<Phase> {
        Phase::ALL.get(usize::try_from(n).ok()?).copied()
    }

    pub fn default_label(self) -> &'static str {
        match self {
            Phase::Started => "started",
            Phase::Retired => "retired",
            Phase::Prepared => "prepared",
            Phase::Issued => "issued",
            Phase::Activated => "activated",
            Phase::Verified => "verified",
            Phase::Published => "published",
        }
    }
}

/// Dual-phase: the previous credential keeps working for one interval. Single-phase: it dies
/// when the new one is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationModel {
    DualPhase,
    SinglePhase,
}

/// Why a phase (or the engine around it) failed; the engine decides: retry, abandon, settle.
#[derive(Debug)]
pub enum StepError {
    /// The provider failed in a way that may pass (a timeout, a 5xx, a rate limit).
    Transient(String),
    /// The provider (or the setup) refuses: trying again will not help. The message is shown
    /// after Rotary's prefix.
    Fatal(String),
    /// A refusal whose message is complete advice on its own (shown without the prefix).
    Setup(String),
    /// Another worker took the run over (the fence moved).
    LostLease,
    /// The database failed. `detail` is for the log only; `permanent` when trying again
    /// cannot help (a constraint, a value out of range, an index entry too large).
    Db { detail: String, permanent: bool },
    /// The step panicked: a bug. Treated as permanent.
    Panicked(String),
}

/// What a run says when the database failed it: never the database's own text, which goes
/// to the log (it can quote values and names the caller should not see).
pub const DB_FAILED: &str =
    "the database could not record this step (the server log has the details)";

/// What a run says when a step panicked (a bug in Rotary).
pub const STEP_PANICKED: &str =
    "an internal error stopped this step (a bug in Rotary; the server log has the details)";

impl StepError {
    /// Whether retrying the step cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            StepError::Fatal(_)
                | StepError::Setup(_)
                | StepError::Panicked(_)
                | StepError::Db {
                    permanent: true,
                    ..
                }
        )
    }

    /// The reason as the run (and the API, and webhooks) tell it: provider messages are
    /// Rotary's own words; database and panic details stay in the log.
    pub fn reason(&self) -> String {
        match self {
            StepError::Transient(m) | StepError::Fatal(m) | StepError::Setup(m) => m.clone(),
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

impl From<crate::error::ApiError> for StepError {
    fn from(e: crate::error::ApiError) -> Self {
        let permanent = match &e {
            crate::error::ApiError::Internal(inner) => inner
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

/// A step's failure answered outside a run (check-credentials, a rotation's client): the
/// user's setup is a 400, the provider being away a 502, anything else a 500.
impl From<StepError> for crate::error::ApiError {
    fn from(e: StepError) -> Self {
        use crate::error::ApiError;
        match e {
            StepError::Fatal(m) | StepError::Setup(m) => ApiError::BadRequest(m),
            StepError::Transient(m) => ApiError::Upstream(m),
            other => ApiError::Internal(anyhow::anyhow!("a provider step failed: {other:?}")),
        }
    }
}

pub type StepResult<T = ()> = Result<T, StepError>;

/// One credential slot, as the type's `generatedCredentials` items. Secrets are
/// `SecretString`, serialized only through `sealed::expose` (into a sealed column or an
/// answer that returns them on purpose).
pub trait Credential: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The values the mapped secrets get, by `secretsMapping` field.
    fn secrets(&self) -> Vec<(&'static str, SecretString)>;
    /// Identifies it without revealing it (a key, a username): logs and notes.
    fn label(&self) -> String;
}

/// Serializes a secret on purpose (sealed journals and slots, generated-credentials).
pub mod sealed {
    use secrecy::{ExposeSecret, SecretString};

    pub fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose_secret())
    }

    pub fn expose_option<S: serde::Serializer>(
        secret: &Option<SecretString>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => s.serialize_some(secret.expose_secret()),
            None => s.serialize_none(),
        }
    }
}

/// A rotation's two slots and which one is active.
#[derive(Clone)]
pub struct Slots<C> {
    pub items: Vec<C>,
    pub active_index: usize,
}

impl<C> Slots<C> {
    pub fn active(&self) -> Option<&C> {
        self.items.get(self.active_index)
    }
    pub fn inactive(&self) -> Option<&C> {
        self.items.get(1 - self.active_index.min(1))
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// What a run's `journal_ct` holds, sealed under AAD `rotation-run:{run_id}`.
#[derive(Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = ""))]
pub struct RunState<T: RotationType> {
    pub journal: T::Journal,
    pub issued: Option<T::Credential>,
}

impl<T: RotationType> Default for RunState<T> {
    fn default() -> Self {
        RunState {
            journal: T::Journal::default(),
            issued: None,
        }
    }
}

/// What a phase sees and may change. After each phase that returns Ok the engine seals
/// `{journal, issued}` into the run, fenced, and writes `note` beside it.
pub struct Run<'a, T: RotationType> {
    pub run_id: Uuid,
    pub rotation: &'a RotationRow,
    pub params: T::Parameters,
    pub client: Arc<T::Client>,
    pub slots: Slots<T::Credential>,
    pub journal: T::Journal,
    pub issued: Option<T::Credential>,
    pub note: Option<String>,
    pub(crate) db: &'a sqlx::PgPool,
    pub(crate) key: &'a Key,
}

impl<T: RotationType> Run<'_, T> {
    /// The states of this rotation's failed runs (newest first): what Rotary issued in runs it
    /// abandoned, so a type can recognize its own leftovers at the provider.
    pub async fn leftovers(&self) -> StepResult<Vec<RunState<T>>> {
        let runs = crate::store::rotations::failed_runs(self.db, self.rotation.id).await?;
        Ok(runs
            .iter()
            .filter_map(|run| crate::rotation::journal::open::<T>(self.key, run).ok())
            .collect())
    }
}

pub trait RotationType: Sized + Send + Sync + 'static {
    /// "salesforce-oauth-credentials": the path segment, the `type` field, the stored value.
    const TYPE: &'static str;
    /// "Salesforce OAuth Credentials": messages.
    const NAME: &'static str;
    /// "Salesforce", "PostgreSQL": the provider in messages.
    const PROVIDER: &'static str;
    const MODEL: RotationModel;
    /// The phases this type runs, in order (`Started` and `Published` are implied).
    const PHASES: &'static [Phase];
    /// Past this phase the provider has switched: the run only rolls forward (or settles).
    const LAST_ABANDONABLE: Phase;

    type Parameters: DeserializeOwned + Send + Sync;
    type Credential: Credential;
    /// What this type writes down between phases; sealed with the run.
    type Journal: Serialize + DeserializeOwned + Default + Send + Sync;
    /// What the phases call the provider with, shared by the runs of one connection.
    type Client: Send + Sync + 'static;

    /// The client for a rotation's connection; `Setup` when the connection is gone.
    fn client(
        state: &AppState,
        rotation: &RotationRow,
    ) -> impl Future<Output = StepResult<Arc<Self::Client>>> + Send;

    /// Runs one phase; idempotent given `run.journal` (a crash after the side effect and
    /// before the journal write runs it again).
    fn run(phase: Phase, run: &mut Run<'_, Self>) -> impl Future<Output = StepResult> + Send;

    /// Undoes what `Issued` created when a run is abandoned at or before LAST_ABANDONABLE.
    fn discard(_run: &mut Run<'_, Self>) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// DELETE …?revokeGeneratedCredentials=true: revoke what the rotation issued, over every
    /// slot; idempotent (a crash mid-revoke runs it again). A `Setup` error's message is the
    /// answer's.
    fn revoke(_run: &mut Run<'_, Self>) -> impl Future<Output = StepResult> + Send {
        async { Ok(()) }
    }

    /// Whether the provider already switched to the issued credential although the phase
    /// that switches it failed (its answer was lost, or a later step of it failed): then the
    /// run is past its point of no return after all.
    fn switched_meanwhile(_run: &Run<'_, Self>) -> impl Future<Output = bool> + Send {
        async { false }
    }

    /// The credentials the rotation's own app connection holds from now on, when the run
    /// changed them (LDAP rotating the connection's principal): sealed and written in the
    /// transaction that publishes (or that ends a revoke), so the connection never holds a
    /// password the provider no longer takes.
    fn connection_update(_run: &Run<'_, Self>) -> Option<serde_json::Value> {
        None
    }

    /// How a phase is named in `rotation_runs.step`, the runs API and ROTARY_CRASH_AFTER.
    fn label(phase: Phase) -> &'static str {
        phase.default_label()
    }

    /// A run written before `journal_ct` existed (a type's own legacy columns), if any.
    fn legacy_state(_key: &Key, _run: &RunRow) -> Option<RunState<Self>> {
        None
    }
}
