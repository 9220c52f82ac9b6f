//! A rotation type for testing the engine on its own (crash-points builds only): an in-memory
//! provider of access keys, like AWS IAM's (the provider mints a key and shows its secret
//! once; an account holds at most two), with a fault a test can set per phase. Tests drive it
//! through `engine::execute` and check the engine's guarantees: refusals before and after the
//! point of no return, lease loss, settle, discard, and that no live key is ever unknown.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::rotation::api::RotationApi;
use crate::rotation::provider::{
    sealed, Credential, Phase, RotationModel, RotationType, Run, StepError, StepResult,
};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub const TYPE: &str = "fake-credentials";

/// What a phase does wrong, set by a test for one rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeFault {
    /// Refuse before doing anything.
    Refuse,
    /// Fail transiently this many times, then work.
    TransientTimes(u32),
    /// Do the side effect, then answer with a transient error (the answer was lost).
    LoseAnswer,
    /// Move the run's fence before the phase (another worker took it over).
    StealLease,
}

/// One account at the fake provider.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// Live keys: id → secret.
    pub keys: BTreeMap<String, String>,
    pub faults: HashMap<Phase, FakeFault>,
    /// Keys minted so far (a key is never minted twice for one run unless it was lost).
    pub minted: u32,
}

static ACCOUNTS: Mutex<BTreeMap<Uuid, Account>> = Mutex::new(BTreeMap::new());

/// The account of a rotation (created empty on first use).
pub fn account(rotation_id: Uuid) -> Account {
    ACCOUNTS
        .lock()
        .unwrap()
        .entry(rotation_id)
        .or_default()
        .clone()
}

pub fn set_fault(rotation_id: Uuid, phase: Phase, fault: Option<FakeFault>) {
    let mut accounts = ACCOUNTS.lock().unwrap();
    let account = accounts.entry(rotation_id).or_default();
    match fault {
        Some(f) => account.faults.insert(phase, f),
        None => account.faults.remove(&phase),
    };
}

/// Whether a key and secret authenticate.
pub fn authenticates(rotation_id: Uuid, key_id: &str, secret: &str) -> bool {
    account(rotation_id).keys.get(key_id).map(String::as_str) == Some(secret)
}

pub struct FakeRotation;

#[derive(Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FakeKey {
    pub key_id: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub secret: SecretString,
}

/// The fake's `secretsMapping` (its rotations are made by tests, not through the API).
#[derive(Clone, Serialize, Deserialize, validator::Validate, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FakeMapping {
    pub key_id: String,
    pub secret: String,
}

/// Not served: the engine tests drive the fake directly.
impl RotationApi for FakeRotation {
    const APP: &'static str = "fake";
    const PUBLIC: bool = false;
    type Input = FakeMapping;
    type Mapping = FakeMapping;
    const SECRETS: &'static [(&'static str, &'static str)] =
        &[("keyId", "FAKE_KEY_ID"), ("secret", "FAKE_SECRET")];

    async fn check(_state: &AppState, client: &FakeClient, active: &FakeKey) -> ApiResult<()> {
        let works = client.with(|a| {
            a.keys.get(&active.key_id).map(String::as_str) == Some(active.secret.expose_secret())
        });
        if works {
            Ok(())
        } else {
            Err(ApiError::bad_request(
                "the active key does not authenticate",
            ))
        }
    }
}

impl Credential for FakeKey {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("keyId", SecretString::from(self.key_id.clone())),
            ("secret", self.secret.clone()),
        ]
    }
    fn label(&self) -> String {
        self.key_id.clone()
    }
}

#[derive(Default, Serialize, Deserialize)]
pub struct FakeJournal {
    pub retired: Vec<String>,
}

/// The client: which account, and the pool (for `StealLease`).
pub struct FakeClient {
    rotation_id: Uuid,
    pool: sqlx::PgPool,
}

impl FakeClient {
    /// Applies the phase's fault, if any: `Ok(true)` when the side effect should happen and
    /// its answer be lost.
    async fn fault(&self, phase: Phase, run_id: Uuid) -> StepResult<bool> {
        let fault = {
            let mut accounts = ACCOUNTS.lock().unwrap();
            let account = accounts.entry(self.rotation_id).or_default();
            let fault = account.faults.get(&phase).copied();
            if let Some(FakeFault::TransientTimes(n)) = fault {
                if n <= 1 {
                    account.faults.remove(&phase);
                } else {
                    account
                        .faults
                        .insert(phase, FakeFault::TransientTimes(n - 1));
                }
            }
            if fault == Some(FakeFault::LoseAnswer) || fault == Some(FakeFault::StealLease) {
                account.faults.remove(&phase);
            }
            fault
        };
        match fault {
            None => Ok(false),
            Some(FakeFault::Refuse) => Err(StepError::Fatal(format!(
                "the fake provider refuses {phase:?}"
            ))),
            Some(FakeFault::TransientTimes(_)) => {
                Err(StepError::Transient("the fake provider is busy".into()))
            }
            Some(FakeFault::LoseAnswer) => Ok(true),
            Some(FakeFault::StealLease) => {
                sqlx::query("UPDATE rotation_runs SET fence = fence + 1 WHERE id = $1")
                    .bind(run_id)
                    .execute(&self.pool)
                    .await?;
                Ok(false)
            }
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Account) -> R) -> R {
        f(ACCOUNTS
            .lock()
            .unwrap()
            .entry(self.rotation_id)
            .or_default())
    }
}

type FakeRun<'a> = Run<'a, FakeRotation>;

impl RotationType for FakeRotation {
    const TYPE: &'static str = TYPE;
    const NAME: &'static str = "Fake Credentials";
    const PROVIDER: &'static str = "Fake";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[Phase::Retired, Phase::Issued, Phase::Verified];
    // Nothing uses the new key before it is published: abandonable through Verified.
    const LAST_ABANDONABLE: Phase = Phase::Verified;

    type Parameters = serde_json::Value;
    type Credential = FakeKey;
    type Journal = FakeJournal;
    type Client = FakeClient;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<FakeClient>> {
        Ok(Arc::new(FakeClient {
            rotation_id: rotation.id,
            pool: state.pool.clone(),
        }))
    }

    async fn run(phase: Phase, run: &mut FakeRun<'_>) -> StepResult {
        let lose_answer = run.client.fault(phase, run.run_id).await?;
        match phase {
            // Free capacity: delete every key but the active slot's (the inactive slot's,
            // and any the slots do not know: an orphan of a lost answer).
            Phase::Retired => {
                let keep = run.slots.active().map(|k| k.key_id.clone());
                let removed = run.client.with(|a| {
                    let gone: Vec<String> = a
                        .keys
                        .keys()
                        .filter(|k| Some(*k) != keep.as_ref())
                        .cloned()
                        .collect();
                    for k in &gone {
                        a.keys.remove(k);
                    }
                    gone
                });
                run.journal.retired.extend(removed);
            }
            // Mint a key, unless this run already holds one. A key the slots and the journal
            // do not know was minted by this run before its answer was lost: delete it first.
            Phase::Issued => {
                if run.issued.is_some() {
                    return Ok(());
                }
                let known: Vec<String> = run.slots.items.iter().map(|k| k.key_id.clone()).collect();
                let key = run.client.with(|a| {
                    a.keys.retain(|k, _| known.contains(k));
                    if a.keys.len() >= 2 {
                        return None;
                    }
                    a.minted += 1;
                    let id = format!(
                        "FAKE{}{}",
                        a.minted,
                        &Uuid::new_v4().simple().to_string()[..8]
                    );
                    let secret = Uuid::new_v4().simple().to_string();
                    a.keys.insert(id.clone(), secret.clone());
                    Some((id, secret))
                });
                let Some((key_id, secret)) = key else {
                    return Err(StepError::Fatal(
                        "the account already holds two keys".into(),
                    ));
                };
                if lose_answer {
                    return Err(StepError::Transient("the answer was lost".into()));
                }
                run.issued = Some(FakeKey {
                    key_id,
                    secret: SecretString::from(secret),
                });
            }
            Phase::Verified => {
                let issued = run
                    .issued
                    .as_ref()
                    .ok_or_else(|| StepError::Fatal("nothing issued".into()))?;
                let ok = run.client.with(|a| {
                    a.keys.get(&issued.key_id).map(String::as_str)
                        == Some(issued.secret.expose_secret())
                });
                if !ok {
                    return Err(StepError::Fatal("the new key does not authenticate".into()));
                }
            }
            other => return Err(StepError::Panicked(format!("no phase {other:?}"))),
        }
        if lose_answer {
            return Err(StepError::Transient("the answer was lost".into()));
        }
        Ok(())
    }

    async fn discard(run: &mut FakeRun<'_>) {
        if let Some(issued) = &run.issued {
            let id = issued.key_id.clone();
            run.client.with(|a| a.keys.remove(&id));
        }
    }
}
