//! `aws-iam-user-secret`: every rotation creates an access key for the IAM user and deletes
//! the one of two rotations ago; the previous key keeps working for one interval (dual-phase
//! within IAM's two keys per user).
//!
//! | phase    | what                                                                         |
//! |----------|------------------------------------------------------------------------------|
//! | Retired  | delete the inactive slot's key, and any key a failed run issued               |
//! | Prepared | list the user's keys and journal them: none of them is this run's. When two   |
//! |          | remain (the active one and one Rotary did not issue, or two it did not        |
//! |          | issue) the run stops and names them: Rotary never deletes a key it did not    |
//! |          | issue                                                                         |
//! | Issued   | delete a key neither the journal nor a slot knows (this run's own, created    |
//! |          | before a crash or a lost answer: AWS never shows a secret again), then        |
//! |          | `CreateAccessKey`; the engine journals the key (sealed) the moment it returns |
//! | Verified | `GetCallerIdentity` signed with the new key, waiting out IAM's eventual       |
//! |          | consistency (a bounded retry), and it must be the user's                      |
//!
//! Until it is published nobody uses the new key, so a run that fails up to Issued is
//! abandoned and `discard` deletes it. Where Infisical differs: it deletes the user's oldest
//! key whoever created it (a key the user's owner still uses, say), a crash between its
//! `CreateAccessKey` and its database write leaves a live key nobody knows, and it publishes
//! a key without checking that AWS accepts it.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::providers::aws::client::{AwsClient, KeyCheck};
use crate::providers::aws::connection::{shared_client, APP};
use crate::providers::aws::wire::{AwsKey, AwsParameters, DEFAULT_REGION};
use crate::rotation::provider::{Phase, RotationModel, RotationType, Run, StepError, StepResult};
use crate::state::AppState;
use crate::store::rotations::RotationRow;

pub struct AwsIamUserSecret;

/// A rotation's client: its connection's (shared), and the region its calls are signed for.
pub struct AwsTarget {
    pub aws: Arc<AwsClient>,
    pub region: String,
}

/// What Prepared saw: the user's keys before this run issued one.
#[derive(Default, Serialize, Deserialize)]
pub struct AwsJournal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_before: Option<Vec<String>>,
}

type AwsRun<'a> = Run<'a, AwsIamUserSecret>;

/// IAM's limit of access keys per user.
pub const MAX_KEYS: usize = 2;

/// How long Verified waits for IAM to accept a new key, in growing steps (~16 s in all;
/// IAM documents its changes as eventually consistent, usually within seconds).
const PROPAGATION_WAITS: [u64; 7] = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000];

impl RotationType for AwsIamUserSecret {
    const TYPE: &'static str = "aws-iam-user-secret";
    const NAME: &'static str = "AWS IAM User Secret";
    const PROVIDER: &'static str = "AWS";
    const MODEL: RotationModel = RotationModel::DualPhase;
    const PHASES: &'static [Phase] = &[
        Phase::Retired,
        Phase::Prepared,
        Phase::Issued,
        Phase::Verified,
    ];
    const LAST_ABANDONABLE: Phase = Phase::Issued;

    type Parameters = AwsParameters;
    type Credential = AwsKey;
    type Journal = AwsJournal;
    type Client = AwsTarget;

    async fn client(state: &AppState, rotation: &RotationRow) -> StepResult<Arc<AwsTarget>> {
        let row = crate::connections::target::row(state, rotation, APP, Self::PROVIDER).await?;
        Ok(Arc::new(AwsTarget {
            aws: shared_client(state, &row).await?,
            region: rotation.parameters["region"]
                .as_str()
                .unwrap_or(DEFAULT_REGION)
                .to_string(),
        }))
    }

    async fn run(phase: Phase, run: &mut AwsRun<'_>) -> StepResult {
        match phase {
            Phase::Retired => retire(run).await,
            Phase::Prepared => prepare(run).await,
            Phase::Issued => issue(run).await,
            Phase::Verified => verify(run).await,
            other => Err(StepError::Panicked(format!("AWS has no phase {other:?}"))),
        }
    }

    /// The run is abandoned: delete the key it issued (nobody was told of it), and one it
    /// issued before a crash.
    async fn discard(run: &mut AwsRun<'_>) {
        if let Err(e) = delete_own(run).await {
            tracing::warn!(rotation_id = %run.rotation.id, error = %e.reason(), "could not delete the access key of an abandoned AWS run");
        }
    }

    /// Revoke: delete every key the rotation holds (Infisical's revoke).
    async fn revoke(run: &mut AwsRun<'_>) -> StepResult {
        let mut keys: Vec<String> = run
            .slots
            .items
            .iter()
            .map(|k| k.access_key_id.clone())
            .collect();
        keys.extend(leftovers(run).await?);
        delete(run, &keys).await
    }
}

fn user(run: &AwsRun<'_>) -> String {
    run.params.user_name.trim().to_string()
}

/// The ids of the keys the user holds now.
async fn held(run: &AwsRun<'_>) -> StepResult<Vec<String>> {
    let user = user(run);
    run.client
        .aws
        .keys(&run.client.region, &user)
        .await
        .map_err(|f| {
            f.step(&format!(
                "Failed to list the access keys of IAM user {user}"
            ))
        })
}

async fn delete(run: &AwsRun<'_>, keys: &[String]) -> StepResult {
    let user = user(run);
    for key in keys {
        run.client
            .aws
            .delete_key(&run.client.region, &user, key)
            .await
            .map_err(|f| {
                f.step(&format!(
                    "Failed to delete access key {key} of IAM user {user}"
                ))
            })?;
    }
    Ok(())
}

fn slot_ids(run: &AwsRun<'_>) -> Vec<String> {
    run.slots
        .items
        .iter()
        .map(|k| k.access_key_id.clone())
        .collect()
}

/// The keys failed runs issued that no slot holds.
async fn leftovers(run: &AwsRun<'_>) -> StepResult<Vec<String>> {
    let slots = slot_ids(run);
    Ok(run
        .leftovers()
        .await?
        .into_iter()
        .filter_map(|state| state.issued.map(|k| k.access_key_id))
        .filter(|k| !slots.contains(k))
        .collect())
}

/// Keys the user holds that neither Prepared's list nor a slot knows: this run's own, from an
/// attempt whose answer or journal write was lost.
fn orphans(run: &AwsRun<'_>, held: &[String]) -> Vec<String> {
    let Some(before) = &run.journal.held_before else {
        return Vec::new();
    };
    let slots = slot_ids(run);
    held.iter()
        .filter(|k| !before.contains(k) && !slots.contains(k))
        .cloned()
        .collect()
}

async fn delete_own(run: &AwsRun<'_>) -> StepResult {
    let now = held(run).await?;
    let mut keys = orphans(run, &now);
    if let Some(issued) = &run.issued {
        if !keys.contains(&issued.access_key_id) {
            keys.push(issued.access_key_id.clone());
        }
    }
    keys.retain(|k| now.contains(k));
    delete(run, &keys).await
}

async fn retire(run: &mut AwsRun<'_>) -> StepResult {
    let now = held(run).await?;
    let mut keys = leftovers(run).await?;
    if let Some(inactive) = run.slots.inactive() {
        keys.push(inactive.access_key_id.clone());
    }
    keys.retain(|k| now.contains(k));
    delete(run, &keys).await
}

/// The refusal when the user has no room for a new key beside the active one.
fn no_room(user: &str, foreign: &[String], active: Option<&str>) -> StepError {
    let message = match active {
        Some(active) => format!(
            "IAM user {user} holds access key {}, which Rotary did not issue, beside the rotation's active key {active}. AWS allows {MAX_KEYS} access keys per user and the active key keeps working while Rotary issues the next one, so there is no room: delete {} (Rotary never deletes a key it did not issue), or give the rotation an IAM user of its own",
            foreign.join(", "),
            foreign.join(", ")
        ),
        None => format!(
            "IAM user {user} already holds {MAX_KEYS} access keys that Rotary did not issue ({}). AWS allows {MAX_KEYS} per user: delete one of them (Rotary never deletes a key it did not issue), or give the rotation an IAM user of its own",
            foreign.join(", ")
        ),
    };
    StepError::Fatal(message)
}

async fn prepare(run: &mut AwsRun<'_>) -> StepResult {
    let now = held(run).await?;
    if now.len() >= MAX_KEYS {
        let slots = slot_ids(run);
        let foreign: Vec<String> = now.iter().filter(|k| !slots.contains(k)).cloned().collect();
        let active = run.slots.active().map(|k| k.access_key_id.as_str());
        let active = active.filter(|a| now.iter().any(|k| k == a));
        return Err(no_room(&user(run), &foreign, active));
    }
    run.journal.held_before = Some(now);
    Ok(())
}

async fn issue(run: &mut AwsRun<'_>) -> StepResult {
    let now = held(run).await?;
    delete(run, &orphans(run, &now)).await?;
    let user = user(run);
    let key = run
        .client
        .aws
        .create_key(&run.client.region, &user)
        .await
        .map_err(|f| {
            f.step(&format!(
                "Failed to create an access key for IAM user {user}"
            ))
        })?;
    run.issued = Some(key);
    Ok(())
}

async fn verify(run: &mut AwsRun<'_>) -> StepResult {
    let new = run
        .issued
        .clone()
        .ok_or_else(|| StepError::Panicked("no access key was issued".into()))?;
    let user = user(run);
    let mut last = String::new();
    for wait in [0].into_iter().chain(PROPAGATION_WAITS) {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        match run.client.aws.check_key(&run.client.region, &new).await {
            Ok(KeyCheck::Works(arn)) if is_users(&arn, &user) => return Ok(()),
            Ok(KeyCheck::Works(arn)) => {
                return Err(StepError::Fatal(format!(
                    "the new access key {} signs as {arn}, not as IAM user {user}",
                    new.access_key_id
                )))
            }
            Ok(KeyCheck::Refused(why)) => last = why,
            Err(f) => return Err(f.step("AWS STS failed")),
        }
    }
    Err(StepError::Transient(format!(
        "AWS does not accept the new access key {} of IAM user {user} yet: {last}",
        new.access_key_id
    )))
}

/// `arn:aws:iam::<account>:user/<path/>name` is `user`'s (IAM names ignore case).
fn is_users(arn: &str, user: &str) -> bool {
    arn.contains(":user/")
        && arn
            .rsplit('/')
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_is_the_user_s_by_its_last_segment() {
        assert!(is_users(
            "arn:aws:iam::123456789012:user/ci-deploy",
            "ci-deploy"
        ));
        assert!(is_users(
            "arn:aws:iam::123456789012:user/team/ci-deploy",
            "ci-deploy"
        ));
        assert!(!is_users(
            "arn:aws:iam::123456789012:user/ci-deploy2",
            "ci-deploy"
        ));
        assert!(!is_users(
            "arn:aws:sts::123456789012:assumed-role/ci-deploy/s",
            "ci-deploy"
        ));
    }
}
