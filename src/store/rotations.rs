//! Secret rotation rows and the runs that journal each attempt. Journal writes are fenced:
//! they only land while the writer still holds the run's lease generation.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

/// How long a worker owns a run without renewing its lease, by default.
pub const DEFAULT_LEASE_SECONDS: i64 = 60;

/// The first key of every worker's liveness lock (`rotation::liveness`; the second is
/// `hashtext(worker id)`): "RTLW".
pub const LOCK_NAMESPACE: i32 = 0x5254_4c57;

/// SQL that is true for a `rotation_runs` row whose lease holder's process is gone: it names
/// a holder, and no session of this database holds that holder's lock (`rotation::liveness`).
/// (A hash collision between two worker ids only makes a dead holder look alive: the lease
/// then decides.) Uncorrelated, so Postgres reads `pg_locks` once per statement (a hashed
/// subplan), not once per open run.
pub const HOLDER_GONE: &str = "(lease_owner IS NOT NULL AND hashtext(lease_owner)::oid NOT IN (SELECT l.objid FROM pg_locks l \
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = 1381256279::oid \
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))";

#[derive(Debug, Clone, FromRow)]
pub struct RotationRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub env_id: Uuid,
    pub folder_path: String,
    pub folder_id: Uuid,
    #[sqlx(rename = "type")]
    pub rotation_type: String,
    pub name: String,
    pub description: Option<String>,
    pub connection_id: Uuid,
    pub parameters: Value,
    pub secrets_mapping: Value,
    pub is_auto_rotation_enabled: bool,
    pub rotation_interval: i32,
    pub rotate_at_hours: i32,
    pub rotate_at_minutes: i32,
    pub active_index: i32,
    pub generated_credentials_ct: Option<Vec<u8>>,
    pub lifecycle: Lifecycle,
    pub rotation_status: RotationStatus,
    pub last_rotation_attempted_at: DateTime<Utc>,
    pub last_rotated_at: DateTime<Utc>,
    pub last_rotation_job_id: Option<String>,
    pub next_rotation_at: Option<DateTime<Utc>>,
    pub is_last_rotation_manual: bool,
    pub last_rotation_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RotationRow {
    /// The mapped secret names (`consumerKey` → `SALESFORCE_CONSUMER_KEY`, ...), in a stable order.
    pub fn mapped_keys(&self) -> Vec<String> {
        mapping_values(&self.secrets_mapping)
    }
}

pub fn mapping_values(mapping: &Value) -> Vec<String> {
    let mut keys: Vec<(String, String)> = mapping
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys.into_iter().map(|(_, v)| v).collect()
}

/// Whether a rotation is visible (`secret_rotations.lifecycle`): a rotation is `creating`
/// until its first credential is published (or settled), and invisible to the API until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Creating,
    Active,
}

/// How the last rotation attempt ended (`secret_rotations.rotation_status`), as Infisical
/// names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, serde::Serialize, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum RotationStatus {
    Success,
    Failed,
}

impl RotationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RotationStatus::Success => "success",
            RotationStatus::Failed => "failed",
        }
    }
}

/// Why a run exists (`rotation_runs.trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Trigger {
    /// Creating the rotation (its first credential).
    Create,
    /// rotate-secrets.
    Manual,
    /// The scheduler.
    Scheduled,
    /// DELETE with revokeGeneratedCredentials.
    Revoke,
    /// A plain DELETE (the run only holds the slot for its transaction).
    Delete,
}

/// Where a run stands (`rotation_runs.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Outcome {
    Running,
    Succeeded,
    Failed,
    /// Ended without running (auto-rotation switched off, or its rotation deleted).
    Cancelled,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Create => "create",
            Trigger::Manual => "manual",
            Trigger::Scheduled => "scheduled",
            Trigger::Revoke => "revoke",
            Trigger::Delete => "delete",
        }
    }
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct RunRow {
    pub id: Uuid,
    pub rotation_id: Uuid,
    pub trigger: Trigger,
    pub step: String,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub note: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub fence: i64,
    pub attempts: i32,
    pub consumer_id: Option<String>,
    pub staged_id: Option<String>,
    pub staged_key: Option<String>,
    pub staged_secret_ct: Option<Vec<u8>>,
    pub staged_url: Option<String>,
    /// The type's sealed state (`rotation::journal`); NULL for a run written before it.
    pub journal_ct: Option<Vec<u8>>,
    /// The ordinal of the last completed phase (`provider::Phase`).
    pub phase: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub struct NewRotation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub env_id: Uuid,
    pub folder_path: String,
    pub folder_id: Uuid,
    pub rotation_type: String,
    pub name: String,
    pub description: Option<String>,
    pub connection_id: Uuid,
    pub parameters: Value,
    pub secrets_mapping: Value,
    pub is_auto_rotation_enabled: bool,
    pub rotation_interval: i32,
    pub rotate_at_hours: i32,
    pub rotate_at_minutes: i32,
    /// What the rotation rotates, reserved for it (`rotation_targets`; the first is also
    /// `secret_rotations.target`, for replicas of the previous version).
    pub targets: Vec<String>,
}

/// The unique indexes that reserve a rotation's targets (the row's first target, and every
/// target's row).
pub const TARGET_CONSTRAINTS: [&str; 2] = ["secret_rotations_target", "rotation_targets_pkey"];

/// Reserves `targets` for the rotation, replacing what it had; a unique violation on
/// `rotation_targets_pkey` when another rotation holds one.
pub async fn reserve_targets(
    db: &mut PgConnection,
    rotation_id: Uuid,
    targets: &[String],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM rotation_targets WHERE rotation_id = $1")
        .bind(rotation_id)
        .execute(&mut *db)
        .await?;
    sqlx::query(
        "INSERT INTO rotation_targets (org_id, type, target, rotation_id) \
         SELECT r.org_id, r.type, t, r.id FROM secret_rotations r, unnest($2::text[]) t WHERE r.id = $1",
    )
    .bind(rotation_id)
    .bind(targets)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Inserts a rotation in the `creating` state (invisible to the API) with its first run,
/// leased by `owner`.
pub async fn insert_creating(
    db: &mut PgConnection,
    new: &NewRotation,
    owner: &str,
    lease: i64,
) -> sqlx::Result<RunRow> {
    sqlx::query(
        "INSERT INTO secret_rotations (id, org_id, project_id, env_id, folder_path, folder_id, type, name, description, \
         connection_id, parameters, secrets_mapping, is_auto_rotation_enabled, rotation_interval, rotate_at_hours, rotate_at_minutes, target) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(new.id)
    .bind(new.org_id)
    .bind(new.project_id)
    .bind(new.env_id)
    .bind(&new.folder_path)
    .bind(new.folder_id)
    .bind(&new.rotation_type)
    .bind(&new.name)
    .bind(&new.description)
    .bind(new.connection_id)
    .bind(&new.parameters)
    .bind(&new.secrets_mapping)
    .bind(new.is_auto_rotation_enabled)
    .bind(new.rotation_interval)
    .bind(new.rotate_at_hours)
    .bind(new.rotate_at_minutes)
    .bind(new.targets.first())
    .execute(&mut *db)
    .await?;
    reserve_targets(db, new.id, &new.targets).await?;
    insert_run(db, new.id, Trigger::Create, owner, lease)
        .await
        .map(|r| r.expect("a new rotation has no open run"))
}

/// Seals a run's first journal (a create's temporary parameters) before it starts.
pub async fn set_journal(
    db: &mut PgConnection,
    run_id: Uuid,
    journal_ct: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("UPDATE rotation_runs SET journal_ct = $2 WHERE id = $1")
        .bind(run_id)
        .bind(journal_ct)
        .execute(db)
        .await
        .map(drop)
}

/// Opens a run leased by `owner`; `None` when the rotation already has an unfinished run.
pub async fn insert_run(
    db: &mut PgConnection,
    rotation_id: Uuid,
    trigger: Trigger,
    owner: &str,
    lease: i64,
) -> sqlx::Result<Option<RunRow>> {
    sqlx::query_as(
        "INSERT INTO rotation_runs (id, rotation_id, trigger, lease_owner, lease_expires_at) \
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) \
         ON CONFLICT (rotation_id) WHERE outcome = 'running' DO NOTHING RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(rotation_id)
    .bind(trigger)
    .bind(owner)
    .bind(lease as f64)
    .fetch_optional(db)
    .await
}

/// Takes over an unfinished run whose lease has expired or whose worker's process is gone
/// (`liveness`): a new fence, so the old worker's late writes are refused.
pub async fn take_over_expired(
    db: &PgPool,
    rotation_id: Uuid,
    owner: &str,
    lease: i64,
) -> sqlx::Result<Option<RunRow>> {
    sqlx::query_as(&format!(
        "UPDATE rotation_runs SET lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3), \
         fence = fence + 1, attempts = attempts + 1, updated_at = now() \
         WHERE rotation_id = $1 AND outcome = 'running' \
         AND (lease_expires_at IS NULL OR lease_expires_at < now() OR (lease_owner <> $2 AND {})) \
         RETURNING *",
        HOLDER_GONE
    ))
    .bind(rotation_id)
    .bind(owner)
    .bind(lease as f64)
    .fetch_optional(db)
    .await
}

pub async fn open_run(db: &PgPool, rotation_id: Uuid) -> sqlx::Result<Option<RunRow>> {
    sqlx::query_as("SELECT * FROM rotation_runs WHERE rotation_id = $1 AND outcome = 'running'")
        .bind(rotation_id)
        .fetch_optional(db)
        .await
}

/// Rotations with an unfinished run whose lease expired or whose worker is gone: work a
/// crashed worker left behind.
pub async fn orphaned_rotations(
    db: &PgPool,
    me: &str,
    types: &[String],
) -> sqlx::Result<Vec<Uuid>> {
    // `pg_locks` is read only for runs another worker holds (in a burst: none, every open run
    // is this worker's own).
    sqlx::query_scalar(&format!(
        "SELECT rotation_id FROM rotation_runs WHERE outcome = 'running' \
         AND (lease_expires_at IS NULL OR lease_expires_at < now() OR (lease_owner <> $2 AND {})) \
         AND rotation_id IN (SELECT id FROM secret_rotations WHERE type = ANY($1)) ORDER BY created_at",
        HOLDER_GONE
    ))
    .bind(types)
    .bind(me)
    .fetch_all(db)
    .await
}

/// Records a completed phase: its label and ordinal and the sealed run state, fenced. The run
/// as it now stands, or `None` when the lease was lost.
pub async fn journal(
    db: &PgPool,
    run: &RunRow,
    label: &str,
    phase: i16,
    journal_ct: &[u8],
    note: Option<&str>,
    lease: i64,
) -> sqlx::Result<Option<RunRow>> {
    sqlx::query_as(
        "UPDATE rotation_runs SET step = $3, phase = $4, journal_ct = $5, note = coalesce($6, note), \
         lease_expires_at = now() + make_interval(secs => $7), updated_at = now() \
         WHERE id = $1 AND fence = $2 AND outcome = 'running' RETURNING *",
    )
    .bind(run.id)
    .bind(run.fence)
    .bind(label)
    .bind(phase)
    .bind(journal_ct)
    .bind(note)
    .bind(lease as f64)
    .fetch_optional(db)
    .await
}

pub async fn renew_lease(db: &PgPool, run: &RunRow, lease: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE rotation_runs SET lease_expires_at = now() + make_interval(secs => $3) \
         WHERE id = $1 AND fence = $2 AND outcome = 'running'",
    )
    .bind(run.id)
    .bind(run.fence)
    .bind(lease as f64)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a run back with the lease ending after `delay`: a run past the point of no return
/// that could not publish now is resumed then (by any worker), not in a tight loop. The
/// phase the worker reached is saved with it (the last provider phase is not journaled on its
/// own: see `engine`).
pub async fn release_after(
    db: &PgPool,
    run: &RunRow,
    error: &str,
    delay: std::time::Duration,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE rotation_runs SET lease_expires_at = now() + make_interval(secs => $5), error = $3, step = $4, \
         phase = $6, journal_ct = coalesce($7, journal_ct), updated_at = now() \
         WHERE id = $1 AND fence = $2 AND outcome = 'running'",
    )
    .bind(run.id)
    .bind(run.fence)
    .bind(error)
    .bind(&run.step)
    .bind(delay.as_secs_f64())
    .bind(run.phase)
    .bind(&run.journal_ct)
    .execute(db)
    .await?;
    Ok(())
}

/// Leaves a failed scheduled run for a later attempt: nobody owns it, and it can be taken
/// over once `delay` has passed.
pub async fn release_for_retry(
    db: &PgPool,
    run: &RunRow,
    error: &str,
    delay: std::time::Duration,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE rotation_runs SET lease_owner = NULL, lease_expires_at = now() + make_interval(secs => $4), \
         error = $3, updated_at = now() WHERE id = $1 AND fence = $2 AND outcome = 'running'",
    )
    .bind(run.id)
    .bind(run.fence)
    .bind(error)
    .bind(delay.as_secs_f64())
    .execute(db)
    .await?;
    Ok(())
}

/// Cancels scheduled runs of a rotation that are waiting for a retry and have not staged a
/// credential yet (used when auto-rotation is switched off).
pub async fn cancel_waiting(db: &mut PgConnection, rotation_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE rotation_runs SET outcome = 'cancelled', finished_at = now(), updated_at = now(), \
         error = coalesce(error, '') || CASE WHEN error IS NULL THEN 'cancelled: auto-rotation was disabled' ELSE ' (cancelled: auto-rotation was disabled)' END \
         WHERE rotation_id = $1 AND outcome = 'running' AND trigger = 'scheduled' AND phase < 3 \
         AND (lease_owner IS NULL OR lease_expires_at < now())",
    )
    .bind(rotation_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Picks due rotations for this worker and opens a scheduled run for each: at most `limit`,
/// at most `per_connection` running per app connection (counting every worker's runs), taken
/// round-robin across connections so one busy org does not starve the others. Rows other
/// workers are claiming are skipped, not waited for.
pub async fn claim_due(
    db: &PgPool,
    owner: &str,
    lease: i64,
    limit: usize,
    per_connection: usize,
    types: &[String],
) -> sqlx::Result<Vec<(RunRow, RotationRow)>> {
    if limit == 0 {
        return Ok(vec![]);
    }
    let mut tx = db.begin().await?;
    // Open runs per connection: `live` (a worker holds the lease) count against the cap; all of
    // them are skipped among the candidates below.
    let busy: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "SELECT r.connection_id, count(*) FILTER (WHERE x.lease_owner IS NOT NULL AND x.lease_expires_at > now()), count(*) \
         FROM rotation_runs x JOIN secret_rotations r ON r.id = x.rotation_id \
         WHERE x.outcome = 'running' GROUP BY r.connection_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let open_runs: i64 = busy.iter().map(|(_, _, all)| all).sum();
    let mut running: std::collections::HashMap<Uuid, usize> = busy
        .into_iter()
        .map(|(c, live, _)| (c, live as usize))
        .collect();
    // Candidates are read without locks (locking every candidate row is a write per row);
    // only the picked ones are locked below, and checked again under the lock. The first rows
    // of the due index, in order, are read before anything is filtered, so the scan stops
    // after them however many rotations are due (a burst of 10,000 at the same second) and
    // whatever the planner's statistics say about `next_rotation_at`; rotations with an open
    // run are still due and come first, hence `open_runs` more.
    let due: Vec<(Uuid, Uuid, f64)> = sqlx::query_as(
        "SELECT c.id, c.connection_id, extract(epoch FROM now() - c.next_rotation_at)::float8 FROM ( \
           SELECT r.id, r.connection_id, r.next_rotation_at FROM secret_rotations r \
           WHERE r.lifecycle = 'active' AND r.is_auto_rotation_enabled AND r.type = ANY($2) \
           ORDER BY r.next_rotation_at LIMIT $1) c \
         WHERE c.next_rotation_at <= now() \
         AND NOT EXISTS (SELECT 1 FROM rotation_runs x WHERE x.rotation_id = c.id AND x.outcome = 'running') \
         ORDER BY c.next_rotation_at",
    )
    .bind((limit * 8) as i64 + open_runs)
    .bind(types)
    .fetch_all(&mut *tx)
    .await?;
    if due.is_empty() {
        return Ok(vec![]);
    }
    // Round-robin over connections, oldest due first within each.
    let mut queues: Vec<(Uuid, std::collections::VecDeque<Uuid>)> = Vec::new();
    let lag: std::collections::HashMap<Uuid, f64> =
        due.iter().map(|(r, _, lag)| (*r, *lag)).collect();
    for (rotation, connection, _) in due {
        match queues.iter_mut().find(|(c, _)| *c == connection) {
            Some((_, q)) => q.push_back(rotation),
            None => queues.push((connection, std::collections::VecDeque::from([rotation]))),
        }
    }
    let mut picked = Vec::new();
    while picked.len() < limit {
        let mut progress = false;
        for (connection, queue) in queues.iter_mut() {
            if picked.len() >= limit {
                break;
            }
            let slots = running.entry(*connection).or_insert(0);
            if *slots >= per_connection {
                continue;
            }
            if let Some(rotation) = queue.pop_front() {
                *slots += 1;
                picked.push(rotation);
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    // Lock the picked rows, skipping those another worker is claiming, and check again that
    // they are due with no open run: another worker may have rotated one since the read.
    let picked: Vec<RotationRow> = sqlx::query_as(
        "SELECT r.* FROM secret_rotations r WHERE r.id = ANY($1) \
         AND r.lifecycle = 'active' AND r.is_auto_rotation_enabled AND r.next_rotation_at <= now() \
         AND NOT EXISTS (SELECT 1 FROM rotation_runs x WHERE x.rotation_id = r.id AND x.outcome = 'running') \
         ORDER BY r.next_rotation_at FOR UPDATE OF r SKIP LOCKED",
    )
    .bind(&picked)
    .fetch_all(&mut *tx)
    .await?;
    let mut runs = Vec::new();
    for rotation in picked {
        if let Some(run) =
            insert_run(&mut tx, rotation.id, Trigger::Scheduled, owner, lease).await?
        {
            // Scheduler lag: from the due time to the start of the run.
            metrics::histogram!("rotary_scheduler_lag_seconds")
                .record(lag.get(&rotation.id).copied().unwrap_or(0.0).max(0.0));
            runs.push((run, rotation));
        }
    }
    tx.commit().await?;
    Ok(runs)
}

/// Seconds until the next auto-rotation falls due (none is due now or it would be claimed).
pub async fn seconds_until_next_due(db: &PgPool) -> sqlx::Result<Option<f64>> {
    // ORDER BY … LIMIT 1 rather than min(): the planner turns min() into this only when it
    // believes many rows match, and with statistics that say few do it aggregates every
    // future rotation instead (seen in a burst: 0.9 ms a call, growing with the table).
    sqlx::query_scalar(
        "SELECT extract(epoch FROM next_rotation_at - now())::float8 FROM secret_rotations \
         WHERE lifecycle = 'active' AND is_auto_rotation_enabled AND next_rotation_at > now() \
         ORDER BY next_rotation_at LIMIT 1",
    )
    .fetch_optional(db)
    .await
}

pub async fn finish_run(
    db: &mut PgConnection,
    run: &RunRow,
    step: &str,
    outcome: Outcome,
    error: Option<&str>,
) -> sqlx::Result<bool> {
    let phase = if step == "published" { 6 } else { run.phase };
    let done = sqlx::query(
        "UPDATE rotation_runs SET step = $3, outcome = $4, error = $5, phase = $6, finished_at = now(), updated_at = now(), \
         lease_expires_at = NULL WHERE id = $1 AND fence = $2 AND outcome = 'running'",
    )
    .bind(run.id)
    .bind(run.fence)
    .bind(step)
    .bind(outcome)
    .bind(error)
    .bind(phase)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_run(db: &PgPool, id: Uuid) -> sqlx::Result<RunRow> {
    sqlx::query_as("SELECT * FROM rotation_runs WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

pub async fn list_runs(db: &PgPool, rotation_id: Uuid) -> sqlx::Result<Vec<RunRow>> {
    sqlx::query_as(
        "SELECT * FROM rotation_runs WHERE rotation_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(rotation_id)
    .fetch_all(db)
    .await
}

/// The rotation's failed runs that journaled anything, newest first (at most 50): what a type
/// issued and abandoned, so it can recognize its own leftovers at the provider.
pub async fn failed_runs(db: &PgPool, rotation_id: Uuid) -> sqlx::Result<Vec<RunRow>> {
    sqlx::query_as(
        "SELECT * FROM rotation_runs WHERE rotation_id = $1 AND outcome = 'failed' \
         AND (journal_ct IS NOT NULL OR staged_key IS NOT NULL) ORDER BY created_at DESC LIMIT 50",
    )
    .bind(rotation_id)
    .fetch_all(db)
    .await
}

/// Sets a run's note (a revoke run remembers `deleteSecrets` in it).
pub async fn set_note(db: &mut PgConnection, run_id: Uuid, note: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE rotation_runs SET note = $2 WHERE id = $1")
        .bind(run_id)
        .bind(note)
        .execute(db)
        .await?;
    Ok(())
}

/// Ends the rotation's open run when its worker is gone (lease expired or process dead);
/// how many it ended (0: none, or one in flight).
pub async fn cancel_dead_run(
    db: &mut PgConnection,
    rotation_id: Uuid,
    why: &str,
) -> sqlx::Result<u64> {
    let done = sqlx::query(&format!(
        "UPDATE rotation_runs SET outcome = 'cancelled', error = $2, finished_at = now(), updated_at = now(), \
         lease_expires_at = NULL WHERE rotation_id = $1 AND outcome = 'running' \
         AND (lease_expires_at IS NULL OR lease_expires_at < now() OR {})",
        HOLDER_GONE
    ))
    .bind(rotation_id)
    .bind(why)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The rotation, locked until the transaction ends.
pub async fn find_for_update(db: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<RotationRow>> {
    sqlx::query_as("SELECT * FROM secret_rotations WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn find(db: &PgPool, id: Uuid) -> sqlx::Result<Option<RotationRow>> {
    sqlx::query_as("SELECT * FROM secret_rotations WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A rotation with the ids and names of the secrets it owns, in one query: what publishing
/// reads before its transaction.
pub async fn find_with_owned(
    db: &PgPool,
    id: Uuid,
) -> sqlx::Result<Option<(RotationRow, Vec<(Uuid, String)>)>> {
    use sqlx::{FromRow, Row};
    let Some(row) = sqlx::query(
        "SELECT r.*, coalesce(o.ids, '{}') AS owned_ids, coalesce(o.keys, '{}') AS owned_keys \
         FROM secret_rotations r LEFT JOIN LATERAL (SELECT array_agg(s.id ORDER BY s.key) AS ids, \
           array_agg(s.key ORDER BY s.key) AS keys FROM secrets s WHERE s.rotation_id = r.id) o ON true \
         WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let ids: Vec<Uuid> = row.try_get("owned_ids")?;
    let keys: Vec<String> = row.try_get("owned_keys")?;
    Ok(Some((
        RotationRow::from_row(&row)?,
        ids.into_iter().zip(keys).collect(),
    )))
}

/// Published rotations of a project (optionally one type), by name.
pub async fn list_visible(
    db: &PgPool,
    project_id: Uuid,
    rotation_type: Option<&str>,
) -> sqlx::Result<Vec<RotationRow>> {
    sqlx::query_as(
        "SELECT * FROM secret_rotations WHERE project_id = $1 AND lifecycle = 'active' \
         AND ($2::text IS NULL OR type = $2) ORDER BY name, id",
    )
    .bind(project_id)
    .bind(rotation_type)
    .fetch_all(db)
    .await
}

pub async fn find_by_name(
    db: &PgPool,
    env_id: Uuid,
    folder_path: &str,
    name: &str,
) -> sqlx::Result<Option<RotationRow>> {
    sqlx::query_as(
        "SELECT * FROM secret_rotations WHERE env_id = $1 AND folder_path = $2 AND name = $3 AND lifecycle = 'active'",
    )
    .bind(env_id)
    .bind(folder_path)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Whether another rotation (published or being created) in the folder has this name.
pub async fn name_taken(
    db: &mut PgConnection,
    env_id: Uuid,
    folder_path: &str,
    name: &str,
    except: Option<Uuid>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM secret_rotations WHERE env_id = $1 AND folder_path = $2 AND name = $3 \
         AND id IS DISTINCT FROM $4)",
    )
    .bind(env_id)
    .bind(folder_path)
    .bind(name)
    .bind(except)
    .fetch_one(db)
    .await
}

/// Of `keys`, those already used in the folder: by a shared secret, or reserved by another
/// rotation's mapping (one that is still being created has no secrets yet).
pub async fn keys_in_use(
    db: &mut PgConnection,
    env_id: Uuid,
    folder_path: &str,
    keys: &[String],
    except: Option<Uuid>,
) -> sqlx::Result<Vec<String>> {
    let mut used: Vec<String> = sqlx::query_scalar(
        "SELECT key FROM secrets WHERE env_id = $1 AND path = $2 AND type = 'shared' AND key = ANY($3) \
         AND ($4::uuid IS NULL OR rotation_id IS DISTINCT FROM $4) \
         UNION SELECT m.value FROM secret_rotations r, jsonb_each_text(r.secrets_mapping) m \
         WHERE jsonb_path_query_array(r.secrets_mapping, '$.*') ?| $3 \
         AND r.env_id = $1 AND r.folder_path = $2 AND m.value = ANY($3) AND ($4::uuid IS NULL OR r.id <> $4)",
    )
    .bind(env_id)
    .bind(folder_path)
    .bind(keys)
    .bind(except)
    .fetch_all(db)
    .await?;
    used.sort_by_key(|k| keys.iter().position(|x| x == k));
    used.dedup();
    Ok(used)
}

/// The rotation (published or being created) whose mapping reserves `key` in the folder.
pub async fn reserved_by(
    db: &PgPool,
    env_id: Uuid,
    folder_path: &str,
    key: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT r.name FROM secret_rotations r \
         WHERE jsonb_path_query_array(r.secrets_mapping, '$.*') ? $3 \
         AND r.env_id = $1 AND r.folder_path = $2 LIMIT 1",
    )
    .bind(env_id)
    .bind(folder_path)
    .bind(key)
    .fetch_optional(db)
    .await
}

pub async fn lock_folder(
    db: &mut PgConnection,
    env_id: Uuid,
    folder_path: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtext('rotation-folder:' || $1::text || ':' || $2))",
    )
    .bind(env_id)
    .bind(folder_path)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(db: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM secret_rotations WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count_for_connection(db: &PgPool, connection_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM secret_rotations WHERE connection_id = $1")
        .bind(connection_id)
        .fetch_one(db)
        .await
}

/// A rotation is overdue when it has been due this long (the dashboard summary and the
/// `rotary_rotations_overdue` gauge agree on it).
pub const OVERDUE_AFTER_SECONDS: f64 = 300.0;

// The dashboard summary's wire types: read from the database and sent as they are.

/// A project's rotations counted for the dashboard summary.
#[derive(Debug, FromRow, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Counts)]
pub struct SummaryCounts {
    /// Rotations in the project.
    pub total: i64,
    /// Whose last rotation succeeded.
    pub success: i64,
    /// Whose last rotation failed.
    pub failed: i64,
    /// Being rotated now (a run with a live lease).
    pub rotating: i64,
    pub auto_rotation_disabled: i64,
    /// Auto-rotating and past their next rotation time.
    pub due: i64,
    /// Due for more than five minutes: the scheduler is behind or cannot run them.
    pub overdue: i64,
}

pub async fn summary_counts(db: &PgPool, project_id: Uuid) -> sqlx::Result<SummaryCounts> {
    sqlx::query_as(
        "SELECT count(*) AS total, \
                count(*) FILTER (WHERE rotation_status = 'success') AS success, \
                count(*) FILTER (WHERE rotation_status = 'failed') AS failed, \
                (SELECT count(DISTINCT u.rotation_id) FROM rotation_runs u \
                   JOIN secret_rotations x ON x.id = u.rotation_id \
                  WHERE x.project_id = $1 AND x.lifecycle = 'active' \
                    AND u.outcome = 'running' AND u.lease_expires_at > now()) AS rotating, \
                count(*) FILTER (WHERE NOT is_auto_rotation_enabled) AS auto_rotation_disabled, \
                count(*) FILTER (WHERE is_auto_rotation_enabled AND next_rotation_at <= now()) AS due, \
                count(*) FILTER (WHERE is_auto_rotation_enabled \
                                   AND next_rotation_at <= now() - make_interval(secs => $2)) AS overdue \
         FROM secret_rotations WHERE project_id = $1 AND lifecycle = 'active'",
    )
    .bind(project_id)
    .bind(OVERDUE_AFTER_SECONDS)
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, Copy)]
pub enum SummaryList {
    NextDue,
    Failed,
    Overdue,
}

/// One rotation, as a dashboard lists it.
#[derive(Debug, FromRow, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationBrief {
    pub id: Uuid,
    pub name: String,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub rotation_type: String,
    /// The environment's slug.
    pub environment: String,
    #[serde(rename = "secretPath")]
    pub folder_path: String,
    pub rotation_status: RotationStatus,
    pub is_auto_rotation_enabled: bool,
    pub next_rotation_at: Option<DateTime<Utc>>,
    pub last_rotated_at: DateTime<Utc>,
    pub last_rotation_attempted_at: DateTime<Utc>,
    pub last_rotation_message: Option<String>,
}

pub async fn summary_list(
    db: &PgPool,
    project_id: Uuid,
    which: SummaryList,
    limit: i64,
) -> sqlx::Result<Vec<RotationBrief>> {
    let (filter, order) = match which {
        SummaryList::NextDue => (
            "r.is_auto_rotation_enabled AND r.next_rotation_at IS NOT NULL",
            "r.next_rotation_at",
        ),
        SummaryList::Failed => (
            "r.rotation_status = 'failed'",
            "r.last_rotation_attempted_at DESC",
        ),
        SummaryList::Overdue => (
            "r.is_auto_rotation_enabled AND r.next_rotation_at <= now() - make_interval(secs => $3)",
            "r.next_rotation_at",
        ),
    };
    sqlx::query_as(&format!(
        "SELECT r.id, r.name, r.type, e.slug AS environment, r.folder_path, r.rotation_status, \
                r.is_auto_rotation_enabled, r.next_rotation_at, r.last_rotated_at, \
                r.last_rotation_attempted_at, r.last_rotation_message \
         FROM secret_rotations r JOIN environments e ON e.id = r.env_id \
         WHERE r.project_id = $1 AND r.lifecycle = 'active' AND {filter} \
         ORDER BY {order}, r.id LIMIT $2"
    ))
    .bind(project_id)
    .bind(limit)
    .bind(OVERDUE_AFTER_SECONDS)
    .fetch_all(db)
    .await
}
