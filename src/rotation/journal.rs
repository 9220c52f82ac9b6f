//! Sealing what a run and a rotation remember: a run's state (`rotation_runs.journal_ct`,
//! AAD `rotation-run:{run_id}`) and a rotation's slots (`generated_credentials_ct`, AAD
//! `rotation-credentials:{rotation_id}`). One sealed blob each, whatever the type: a type can
//! never forget to seal a field, and a new type adds no columns.

use uuid::Uuid;

use crate::crypto::Key;
use crate::error::{ApiError, ApiResult};
use crate::rotation::provider::{RotationType, RunState, Slots};
use crate::store::rotations::{RotationRow, RunRow};

fn run_aad(run_id: Uuid) -> String {
    format!("rotation-run:{run_id}")
}

fn slots_aad(rotation_id: Uuid) -> String {
    format!("rotation-credentials:{rotation_id}")
}

/// Seals a run's state, given by parts (`RunState`'s fields, borrowed).
pub fn seal<T: RotationType>(
    key: &Key,
    run_id: Uuid,
    journal: &T::Journal,
    issued: &Option<T::Credential>,
) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Parts<'a, J, C> {
        journal: &'a J,
        issued: &'a Option<C>,
    }
    let plain =
        zeroize::Zeroizing::new(serde_json::to_vec(&Parts { journal, issued }).unwrap_or_default());
    key.seal(&plain, &run_aad(run_id))
}

/// The run's state: from `journal_ct`, else from the type's legacy columns, else empty (a run
/// that has not journaled anything yet).
pub fn open<T: RotationType>(key: &Key, run: &RunRow) -> Result<RunState<T>, String> {
    match &run.journal_ct {
        Some(ct) => {
            let plain = zeroize::Zeroizing::new(
                key.open(ct, &run_aad(run.id))
                    .map_err(|e| format!("opening run {}: {e}", run.id))?,
            );
            serde_json::from_slice(&plain).map_err(|e| format!("run {} journal: {e}", run.id))
        }
        None => Ok(T::legacy_state(key, run).unwrap_or_default()),
    }
}

pub fn seal_slots<T: RotationType>(
    key: &Key,
    rotation_id: Uuid,
    slots: &[T::Credential],
) -> Vec<u8> {
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(slots).unwrap_or_default());
    key.seal(&plain, &slots_aad(rotation_id))
}

pub fn open_slots<T: RotationType>(
    key: &Key,
    row: &RotationRow,
) -> ApiResult<Slots<T::Credential>> {
    let items = match &row.generated_credentials_ct {
        None => vec![],
        Some(ct) => {
            let plain = zeroize::Zeroizing::new(key.open(ct, &slots_aad(row.id)).map_err(|e| {
                ApiError::Internal(anyhow::anyhow!(
                    "opening rotation {} credentials: {e}",
                    row.id
                ))
            })?);
            serde_json::from_slice(&plain).map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("rotation {} credentials: {e}", row.id))
            })?
        }
    };
    Ok(Slots {
        items,
        active_index: row.active_index.clamp(0, 1) as usize,
    })
}
