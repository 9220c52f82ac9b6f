//! What can be done to a rotation (create, read, update, delete, rotate, check, runs), for
//! the API's handlers and the console alike: permissions, validation that needs the database,
//! the run slot, the engine, the audit log. Generic over the type; what differs between types
//! comes from `RotationApi` and `RotationType` (names in messages, the connection app,
//! `parameters` and `secretsMapping`, the target a rotation reserves, check-credentials).

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::access::{project_access, project_key, Action, ProjectAccess, Subject};
use crate::audit::Actor;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, OrConflict};
use crate::http::secret_rotations::wire::*;
use crate::rotation::api::{mapped_names, stored_mapping, RotationApi};
use crate::rotation::engine::{self, RunError};
use crate::state::AppState;
use crate::store::rotations::{self as store, NewRotation, RotationRow, RunRow};
use crate::store::rotations::{Lifecycle, RotationStatus};
use crate::store::{app_connections, projects, secrets};
use crate::validation::{check_slug, normalize_path};

const IN_PROGRESS: &str = "A rotation is already in progress. Please try again shortly.";

async fn view(state: &AppState, row: RotationRow) -> ApiResult<RotationView> {
    let connection = crate::cache::connection(state, row.org_id, row.connection_id).await?;
    let env = crate::cache::environment_by_id(state, row.env_id).await?;
    let app = match &connection {
        Some(c) => c.app.clone(),
        None => crate::rotation::registry::by_slug(&row.rotation_type)
            .map(|t| t.app().to_string())
            .unwrap_or_default(),
    };
    Ok(RotationView {
        id: row.id,
        name: row.name,
        description: row.description,
        rotation_type: row.rotation_type,
        parameters: row.parameters,
        secrets_mapping: row.secrets_mapping,
        is_auto_rotation_enabled: row.is_auto_rotation_enabled,
        active_index: row.active_index,
        folder_id: row.folder_id,
        connection_id: row.connection_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
        rotation_interval: row.rotation_interval,
        rotate_at_utc: RotateAtUtc {
            hours: row.rotate_at_hours.into(),
            minutes: row.rotate_at_minutes.into(),
        },
        rotation_status: row.rotation_status,
        last_rotation_attempted_at: row.last_rotation_attempted_at,
        last_rotated_at: row.last_rotated_at,
        last_rotation_job_id: row.last_rotation_job_id,
        next_rotation_at: row.next_rotation_at,
        is_last_rotation_manual: row.is_last_rotation_manual,
        last_rotation_message: row.last_rotation_message,
        connection: ConnectionRef {
            app,
            name: connection.map(|c| c.name).unwrap_or_default(),
            id: row.connection_id,
        },
        environment: EnvironmentRef {
            slug: env.slug,
            name: env.name,
            id: env.id,
        },
        project_id: row.project_id,
        folder: FolderRef {
            id: row.folder_id,
            path: row.folder_path,
        },
    })
}

// ---- lookups -------------------------------------------------------------------------------

fn not_found<T: RotationApi>(id: Uuid, quoted: bool) -> ApiError {
    let name = T::NAME;
    if quoted {
        ApiError::not_found(format!("Could not find {name} Rotation with ID \"{id}\""))
    } else {
        ApiError::not_found(format!("Could not find {name} Rotation with ID {id}"))
    }
}

fn wrong_type<T: RotationApi>(id: Uuid) -> ApiError {
    ApiError::bad_request(format!(
        "Secret Rotation with ID \"{id}\" is not configured for {}",
        T::NAME
    ))
}

/// A published rotation the caller may act on, with its project access.
async fn rotation_for<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    action: Action,
    quoted: bool,
) -> ApiResult<(RotationRow, ProjectAccess)> {
    // Reads may use the cached row; a change must start from the database's.
    let row = if action == Action::Read {
        crate::cache::rotation(state, id).await?
    } else {
        store::find(&state.pool, id).await?
    };
    let row = row
        .filter(|r| r.lifecycle == Lifecycle::Active && r.org_id == auth.org_id)
        .ok_or_else(|| not_found::<T>(id, quoted))?;
    let access = project_access(state, auth, row.project_id)
        .await
        .map_err(|_| not_found::<T>(id, quoted))?;
    access.require(action, Subject::SecretRotation)?;
    if row.rotation_type != T::TYPE {
        return Err(wrong_type::<T>(id));
    }
    Ok((row, access))
}

/// The project a request names by its `projectId` string (Infisical takes any string; one
/// that is not an id names no project), if the caller may act on its rotations.
async fn project_for(
    state: &AppState,
    auth: &Auth,
    raw: &str,
    action: Action,
) -> ApiResult<(Uuid, ProjectAccess)> {
    let raw = raw.trim();
    let id = raw
        .parse::<Uuid>()
        .map_err(|_| ApiError::not_found(format!("Project with ID '{raw}' not found")))?;
    let access = project_access(state, auth, id).await?;
    access.require(action, Subject::SecretRotation)?;
    Ok((id, access))
}

/// Whether a worker is working on the rotation now (an unfinished run with a live lease).
async fn run_in_flight(state: &AppState, rotation_id: Uuid) -> ApiResult<Option<RunRow>> {
    let run = store::open_run(&state.pool, rotation_id).await?;
    Ok(run.filter(|r| r.lease_expires_at.is_some_and(|t| t > Utc::now())))
}

/// Writes an audit log entry about a rotation (see `audit::rotation`).
async fn audit(
    state: &AppState,
    actor: Actor<'_>,
    row: &RotationRow,
    event_type: &'static str,
    outcome: &'static str,
    extra: Value,
) {
    crate::audit::rotation(&state.pool, actor, row, event_type, outcome, extra).await
}

/// The registered type of a rotation the caller's organization has, for callers that know
/// only its id (the console); the unknown-id 404 otherwise.
pub async fn type_of(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<&'static dyn crate::rotation::registry::RegisteredType> {
    let missing =
        || ApiError::not_found(format!("Could not find Secret Rotation with ID \"{id}\""));
    let row = crate::cache::rotation(state, id)
        .await?
        .filter(|r| r.lifecycle == Lifecycle::Active && r.org_id == auth.org_id)
        .ok_or_else(missing)?;
    crate::rotation::registry::by_slug(&row.rotation_type)
        .filter(|t| t.public())
        .ok_or_else(missing)
}

// ---- lists ---------------------------------------------------------------------------------

/// The project's rotations (of one type, or all) as the API shows them, if the caller may
/// read them (the console lists the same).
pub async fn visible(
    state: &AppState,
    auth: &Auth,
    project_id: &str,
    only: Option<&str>,
) -> ApiResult<Vec<RotationView>> {
    let (id, _) = project_for(state, auth, project_id, Action::Read).await?;
    let mut out = Vec::new();
    for row in store::list_visible(&state.pool, id, only).await? {
        out.push(view(state, row).await?);
    }
    Ok(out)
}

pub async fn list<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    project_id: &str,
) -> ApiResult<Vec<RotationView>> {
    visible(state, auth, project_id, Some(T::TYPE)).await
}

pub async fn get<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<RotationView> {
    let (row, _) = rotation_for::<T>(state, auth, id, Action::Read, true).await?;
    view(state, row).await
}
/// The folder a request names, or Infisical's "Could not find folder" 400.
async fn folder_of(
    state: &AppState,
    project_id: Uuid,
    environment: &str,
    raw_path: &str,
) -> ApiResult<(crate::store::projects::EnvironmentRow, String, Uuid)> {
    let missing = || {
        ApiError::bad_request(format!(
            "Could not find folder with path \"{raw_path}\" in environment \"{environment}\" for project with ID \"{project_id}\""
        ))
    };
    let path = normalize_path("secretPath", raw_path)?;
    let env = crate::cache::environment_by_slug(state, project_id, environment)
        .await?
        .ok_or_else(missing)?;
    let folder_id = if path == "/" {
        env.id
    } else {
        projects::find_folder_by_path(&state.pool, env.id, &path)
            .await?
            .ok_or_else(missing)?
            .id
    };
    Ok((env, path, folder_id))
}

pub async fn get_by_name<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    name: &str,
    q: &ByNameQuery,
) -> ApiResult<RotationView> {
    let (project_id, _) = project_for(state, auth, &q.project_id, Action::Read).await?;
    let (env, path, _) = folder_of(
        state,
        project_id,
        q.environment.trim(),
        q.secret_path.trim(),
    )
    .await?;
    let row = store::find_by_name(&state.pool, env.id, &path, name.trim())
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Could not find {} Rotation with name \"{}\"",
                T::NAME,
                name.trim()
            ))
        })?;
    if row.rotation_type != T::TYPE {
        return Err(wrong_type::<T>(row.id));
    }
    view(state, row).await
}

// ---- create --------------------------------------------------------------------------------

/// Checks the connection can serve a rotation in this project.
async fn usable_connection<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    project_id: Uuid,
) -> ApiResult<app_connections::ConnectionRow> {
    let connection = app_connections::find(&state.pool, auth.org_id, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Could not find App Connection with ID {id}"))
        })?;
    if connection.app != T::APP {
        return Err(ApiError::bad_request(format!(
            "{} Connection with ID {id} cannot be used to connect to {}",
            connection.app,
            T::PROVIDER
        )));
    }
    match connection.project_id {
        Some(owner) if owner != project_id => {
            // Only a member of the connection's project learns that it exists (D17).
            if project_access(state, auth, owner).await.is_err() {
                return Err(ApiError::not_found(format!(
                    "Could not find App Connection with ID {id}"
                )));
            }
            return Err(ApiError::bad_request(format!(
                "You cannot connect project App Connection with ID \"{id}\" from project with ID \"{owner}\" to project with ID \"{project_id}\""
            )));
        }
        Some(_) => {}
        None => require_org_connection_grant(auth, id)?,
    }
    Ok(connection)
}

/// An organization-wide connection reaches everything its credentials reach (a whole
/// Salesforce org, every role of a database): whoever points a rotation at it can rotate any
/// of it and read the new secret. Only an org admin
/// may (Infisical's `connect` permission on app connections, held by its admin role); a
/// project member uses a project connection (D3).
fn require_org_connection_grant(auth: &Auth, id: Uuid) -> ApiResult<()> {
    if auth.is_org_admin() {
        return Ok(());
    }
    Err(ApiError::PermissionDenied {
        message: format!(
            "You are not allowed to connect on app-connections: App Connection with ID {id} belongs to the whole organization, and only organization admins may use it in a rotation. Ask an org admin, or use a connection of this project."
        ),
        details: json!([{"action": "connect", "inverted": false, "subject": "app-connections"}]),
    })
}

fn duplicate_keys(keys: &[String]) -> ApiResult<()> {
    let mut seen = std::collections::BTreeSet::new();
    let dups: Vec<&str> = keys
        .iter()
        .filter(|k| !seen.insert(k.as_str()))
        .map(String::as_str)
        .collect();
    if dups.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Secrets mapping keys must be unique. \"{}\" contains duplicate keys.",
            keys.join(", ")
        )))
    }
}

fn keys_exist(path: &str, used: &[String]) -> ApiResult<()> {
    if used.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "The following secrets already exist at the path \"{path}\": {}",
            used.join(", ")
        )))
    }
}

fn name_exists(name: &str, path: &str) -> ApiError {
    ApiError::bad_request(format!(
        "A Secret Rotation with the name \"{name}\" already exists at the secret path \"{path}\""
    ))
}

/// Creates the rotation and runs its first rotation before it becomes visible.
pub async fn create<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    body: CreateRotation<T::Input, T::Mapping>,
) -> ApiResult<RotationView> {
    let name = body.name.trim().to_string();
    check_slug("name", &name)?;
    check_slug("environment", body.environment.trim())?;
    let (project_id, access) = project_for(state, auth, &body.project_id, Action::Create).await?;
    let first_journal = T::temporary(&body.parameters, body.temporary_parameters.as_ref())?;
    let secret_path = body.secret_path.trim().to_string();
    let (env, path, folder_id) =
        folder_of(state, project_id, body.environment.trim(), &secret_path).await?;
    let connection = usable_connection::<T>(state, auth, body.connection_id, project_id).await?;
    let mapping: Vec<String> = mapped_names::<T>(&body.secrets_mapping)
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    let rotate_at = body.rotate_at_utc.unwrap_or(RotateAtInput {
        hours: 0,
        minutes: 0,
    });
    let new = NewRotation {
        id: Uuid::new_v4(),
        org_id: auth.org_id,
        project_id,
        env_id: env.id,
        folder_path: path.clone(),
        folder_id,
        rotation_type: T::TYPE.into(),
        name: name.clone(),
        description: body.description.map(|d| d.trim().to_string()),
        connection_id: body.connection_id,
        parameters: T::normalized(&body.parameters),
        secrets_mapping: stored_mapping::<T>(&body.secrets_mapping),
        is_auto_rotation_enabled: body.is_auto_rotation_enabled.unwrap_or(true),
        rotation_interval: body.rotation_interval.min(i32::MAX.into()) as i32,
        rotate_at_hours: rotate_at.hours as i32,
        rotate_at_minutes: rotate_at.minutes as i32,
        targets: T::targets(&connection, &body.parameters),
    };
    let run = {
        let mut tx = state.pool.begin().await?;
        store::lock_folder(&mut tx, env.id, &path).await?;
        if store::name_taken(&mut tx, env.id, &path, &name, None).await? {
            return Err(name_exists(&name, &secret_path));
        }
        duplicate_keys(&mapping)?;
        keys_exist(
            &secret_path,
            &store::keys_in_use(&mut tx, env.id, &path, &mapping, None).await?,
        )?;
        let mut run =
            store::insert_creating(&mut tx, &new, engine::worker_id(), state.lease_seconds)
                .await
                .or_conflict(|| T::target_taken(&body.parameters))?;
        if let Some(journal) = &first_journal {
            let sealed = crate::rotation::journal::seal::<T>(
                &project_key(state, &access.project)?,
                run.id,
                journal,
                &None,
            );
            store::set_journal(&mut tx, run.id, &sealed).await?;
            run.journal_ct = Some(sealed);
        }
        tx.commit().await?;
        run
    };
    match engine::execute(state, run).await {
        Ok(_) => {
            tracing::info!(rotation_id = %new.id, "rotation created");
            let row = store::find(&state.pool, new.id).await?.ok_or_else(|| not_found::<T>(new.id, true))?;
            audit(state, Actor::Identity(auth), &row, "CREATE_SECRET_ROTATION", "success", json!({"parameters": row.parameters, "secretsMapping": row.secrets_mapping})).await;
            view(state, row).await
        }
        Err(RunError::Abandoned(message)) => {
            if let Ok(Some(row)) = store::find(&state.pool, new.id).await {
                audit(state, Actor::Identity(auth), &row, "CREATE_SECRET_ROTATION", "failure", json!({"message": message})).await;
            }
            engine::cleanup_failed_creation(state, new.id).await;
            Err(ApiError::bad_request(message))
        }
        // Visible now, failed, with the new credential in its slot: the message says what to do.
        Err(RunError::Settled(message)) => Err(ApiError::RotationFailed(format!(
            "{message} The rotation was created with ID \"{}\".",
            new.id
        ))),
        Err(RunError::Interrupted(message)) => Err(ApiError::RotationFailed(format!(
            "{message}. The new credential is active at {}; Rotary will publish it when the run resumes.",
            T::PROVIDER
        ))),
    }
}

// ---- update --------------------------------------------------------------------------------

/// Changes what the body names; new `parameters` point the rotation at another target.
pub async fn update<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    body: UpdateRotation<T::Input, T::Mapping>,
) -> ApiResult<RotationView> {
    if let Some(name) = &body.name {
        check_slug("name", name.trim())?;
    }
    let (row, access) = rotation_for::<T>(state, auth, id, Action::Edit, false).await?;
    // New parameters point the rotation at another app: the same rules as creating it.
    let new_targets = match &body.parameters {
        Some(params) => {
            T::check_update(&row.parameters, params)?;
            let connection = app_connections::find(&state.pool, row.org_id, row.connection_id)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_request("The rotation's app connection no longer exists")
                })?;
            if connection.project_id.is_none() {
                require_org_connection_grant(auth, connection.id)?;
            }
            Some(T::targets(&connection, params))
        }
        None => None,
    };
    let mut tx = state.pool.begin().await?;
    store::lock_folder(&mut tx, row.env_id, &row.folder_path).await?;
    if let Some(name) = body.name.as_deref().map(str::trim) {
        if store::name_taken(&mut tx, row.env_id, &row.folder_path, name, Some(id)).await? {
            return Err(name_exists(name, &row.folder_path));
        }
    }
    let new_mapping = body
        .secrets_mapping
        .as_ref()
        .map(|m| (mapped_names::<T>(m), stored_mapping::<T>(m)));
    if let Some((names, _)) = &new_mapping {
        let keys: Vec<String> = names.iter().map(|(_, name)| name.clone()).collect();
        duplicate_keys(&keys)?;
        let old = row.mapped_keys();
        let fresh: Vec<String> = keys.into_iter().filter(|k| !old.contains(k)).collect();
        keys_exist(
            &row.folder_path,
            &store::keys_in_use(&mut tx, row.env_id, &row.folder_path, &fresh, Some(id)).await?,
        )?;
        // Rename the owned secrets: each field's secret to the field's new name.
        for (field, to) in names {
            let from = row.secrets_mapping[*field].as_str().unwrap_or_default();
            if from != to {
                if let Some(secret) = secrets::find_owned(&mut tx, id, from).await? {
                    secrets::write_owned(
                        &mut tx,
                        &[secrets::OwnedWrite {
                            id: secret.id,
                            new_key: Some(to.clone()),
                            value_ct: None,
                        }],
                    )
                    .await?;
                }
            }
        }
    }
    let mut merged = row.clone();
    if let Some(v) = body.is_auto_rotation_enabled {
        merged.is_auto_rotation_enabled = v;
    }
    if let Some(v) = body.rotation_interval {
        merged.rotation_interval = v.min(i32::MAX.into()) as i32;
    }
    if let Some(at) = body.rotate_at_utc {
        merged.rotate_at_hours = at.hours as i32;
        merged.rotate_at_minutes = at.minutes as i32;
    }
    if !merged.is_auto_rotation_enabled {
        // Switching auto-rotation off cancels scheduled attempts that have not started.
        store::cancel_waiting(&mut tx, id).await?;
    }
    let now = Utc::now();
    let next = engine::schedule_of(state, &merged).next(
        merged.last_rotated_at,
        merged.rotation_status == RotationStatus::Failed,
        merged.is_last_rotation_manual,
        now,
    );
    sqlx::query(
        "UPDATE secret_rotations SET name = coalesce($2, name), description = CASE WHEN $3 THEN $4 ELSE description END, \
         is_auto_rotation_enabled = $5, rotation_interval = $6, rotate_at_hours = $7, rotate_at_minutes = $8, \
         parameters = coalesce($9, parameters), secrets_mapping = coalesce($10, secrets_mapping), next_rotation_at = $11, \
         target = coalesce($12, target), updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(body.name.as_deref().map(str::trim))
    .bind(body.description.is_some())
    .bind(body.description.as_deref().map(str::trim))
    .bind(merged.is_auto_rotation_enabled)
    .bind(merged.rotation_interval)
    .bind(merged.rotate_at_hours)
    .bind(merged.rotate_at_minutes)
    .bind(body.parameters.as_ref().map(T::normalized))
    .bind(new_mapping.map(|(_, stored)| stored))
    .bind(next)
    .bind(new_targets.as_ref().and_then(|t| t.first().cloned()))
    .execute(&mut *tx)
    .await
    .map_err(|e| match (crate::error::unique_violation(&e), &body.parameters) {
        (Some(c), Some(params)) if store::TARGET_CONSTRAINTS.contains(&c.as_str()) => T::target_taken(params),
        (Some(_), _) => name_exists(body.name.as_deref().unwrap_or_default().trim(), &row.folder_path),
        (None, _) => e.into(),
    })?;
    if let (Some(targets), Some(params)) = (&new_targets, &body.parameters) {
        store::reserve_targets(&mut tx, id, targets)
            .await
            .or_conflict(|| T::target_taken(params))?;
    }
    tx.commit().await?;
    drop(access);
    let row = store::find(&state.pool, id)
        .await?
        .ok_or_else(|| not_found::<T>(id, false))?;
    audit(
        state,
        Actor::Identity(auth),
        &row,
        "UPDATE_SECRET_ROTATION",
        "success",
        json!({}),
    )
    .await;
    view(state, row).await
}

// ---- delete --------------------------------------------------------------------------------

/// Deletes the rotation; with revokeGeneratedCredentials, revokes first, as a journaled run.
pub async fn delete<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    q: &DeleteQuery,
) -> ApiResult<RotationView> {
    let (row, _) = rotation_for::<T>(state, auth, id, Action::Delete, true).await?;
    let deleted = view(state, row.clone()).await?;
    if q.revoke_generated_credentials {
        // A revoke is a run: it takes the rotation's one open-run slot first, so no rotation
        // can stage a credential between the check and the revoke that the delete would then
        // orphan. The engine revokes, then deletes.
        let run = {
            let mut tx = state.pool.begin().await?;
            let run = take_the_run_slot::<T>(state, &mut tx, id, store::Trigger::Revoke).await?;
            if q.delete_secrets {
                store::set_note(&mut tx, run.id, engine::DELETE_SECRETS_NOTE).await?;
            }
            tx.commit().await?;
            store::get_run(&state.pool, run.id).await?
        };
        match engine::execute(state, run).await {
            Ok(_) => {}
            Err(RunError::Abandoned(message)) => return Err(ApiError::bad_request(message)),
            Err(e) => return Err(ApiError::RotationFailed(e.message().to_string())),
        }
    } else {
        let mut tx = state.pool.begin().await?;
        take_the_run_slot::<T>(state, &mut tx, id, store::Trigger::Delete).await?;
        secrets::release_owned(&mut tx, id, q.delete_secrets).await?;
        store::delete(&mut tx, id).await?;
        tx.commit().await?;
    }
    audit(state, Actor::Identity(auth), &row, "DELETE_SECRET_ROTATION", "success",
        json!({"deleteSecrets": q.delete_secrets, "revokeGeneratedCredentials": q.revoke_generated_credentials})).await;
    tracing::info!(rotation_id = %id, delete_secrets = q.delete_secrets, revoked = q.revoke_generated_credentials, "rotation deleted");
    Ok(deleted)
}

/// Opens the rotation's one run (for a delete or a revoke) in `tx`, with the rotation's row
/// locked, so the scheduler skips it and a rotate-secrets waits. A run in flight refuses; a
/// run whose worker died is cancelled first (its lease or its process is gone).
async fn take_the_run_slot<T: RotationApi>(
    state: &AppState,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: Uuid,
    trigger: store::Trigger,
) -> ApiResult<RunRow> {
    store::find_for_update(tx, id)
        .await?
        .ok_or_else(|| not_found::<T>(id, true))?;
    if let Some(run) =
        store::insert_run(tx, id, trigger, engine::worker_id(), state.lease_seconds).await?
    {
        return Ok(run);
    }
    if store::cancel_dead_run(tx, id, "cancelled: the rotation was deleted").await? == 0 {
        return Err(ApiError::bad_request(IN_PROGRESS));
    }
    store::insert_run(tx, id, trigger, engine::worker_id(), state.lease_seconds)
        .await?
        .ok_or_else(|| ApiError::bad_request(IN_PROGRESS))
}

// ---- credentials, rotate, check, runs ------------------------------------------------------

/// The slots, secrets included (audited).
pub async fn generated_credentials<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<GeneratedCredentials<T::Credential>> {
    let (row, access) =
        rotation_for::<T>(state, auth, id, Action::ReadGeneratedCredentials, true).await?;
    let slots =
        crate::rotation::journal::open_slots::<T>(&project_key(state, &access.project)?, &row)?
            .items;
    audit(
        state,
        Actor::Identity(auth),
        &row,
        "GET_SECRET_ROTATION_GENERATED_CREDENTIALS",
        "success",
        json!({}),
    )
    .await;
    Ok(GeneratedCredentials {
        generated_credentials: slots,
        active_index: row.active_index,
        rotation_id: row.id,
        rotation_type: T::TYPE.into(),
    })
}

/// Rotates now, synchronously.
pub async fn rotate_secrets<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<RotationView> {
    let (before, _) = rotation_for::<T>(state, auth, id, Action::RotateSecrets, true).await?;
    let run = {
        let mut conn = state.pool.acquire().await?;
        store::insert_run(
            &mut conn,
            id,
            store::Trigger::Manual,
            engine::worker_id(),
            state.lease_seconds,
        )
        .await
        .map_err(|e| match &e {
            // A delete that held the rotation's row committed first.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => {
                ApiError::not_found(format!(
                    "Secret Rotation with ID \"{id}\" was deleted before it could be rotated"
                ))
            }
            _ => e.into(),
        })?
    };
    let run = match run {
        Some(run) => run,
        // A run is open: if its worker died, take it over and finish it; else it is busy.
        None => store::take_over_expired(&state.pool, id, engine::worker_id(), state.lease_seconds)
            .await?
            .ok_or_else(|| ApiError::bad_request(IN_PROGRESS))?,
    };
    let run_id = run.id;
    match engine::execute(state, run).await {
        Ok(_) => {
            let row = store::find(&state.pool, id)
                .await?
                .ok_or_else(|| not_found::<T>(id, true))?;
            audit(
                state,
                Actor::Identity(auth),
                &row,
                "SECRET_ROTATION_ROTATE_SECRETS",
                "success",
                json!({"jobId": run_id, "message": null}),
            )
            .await;
            view(state, row).await
        }
        Err(e) => {
            // A delete that won the race against this rotate removed the rotation (and its
            // run) before the run could start: nothing happened at the provider.
            if store::find(&state.pool, id).await?.is_none() {
                return Err(ApiError::not_found(format!(
                    "Secret Rotation with ID \"{id}\" was deleted before it could be rotated"
                )));
            }
            audit(
                state,
                Actor::Identity(auth),
                &before,
                "SECRET_ROTATION_ROTATE_SECRETS",
                "failure",
                json!({"jobId": run_id, "message": e.message()}),
            )
            .await;
            Err(ApiError::RotationFailed(e.message().to_string()))
        }
    }
}

/// Does the active credential authenticate? Reports only (audited).
pub async fn check_credentials<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<()> {
    let (row, access) =
        rotation_for::<T>(state, auth, id, Action::ReadGeneratedCredentials, true).await?;
    if run_in_flight(state, id).await?.is_some() {
        return Err(ApiError::bad_request(
            "A rotation is in progress. Please try again shortly.",
        ));
    }
    let slots =
        crate::rotation::journal::open_slots::<T>(&project_key(state, &access.project)?, &row)?
            .items;
    let Some(active) = slots.get(row.active_index as usize) else {
        return Err(ApiError::bad_request(
            "No active credentials are available to check for this rotation.",
        ));
    };
    let checked = match T::client(state, &row).await {
        Ok(client) => T::check(state, &client, active).await,
        Err(e) => Err(ApiError::from(e)),
    };
    let (outcome, message) = match &checked {
        Ok(_) => ("success", Value::Null),
        Err(e) => ("failure", json!(e.to_string())),
    };
    audit(
        state,
        Actor::Identity(auth),
        &row,
        "SECRET_ROTATION_CHECK_CREDENTIALS",
        outcome,
        json!({"errorMessage": message}),
    )
    .await;
    checked?;
    Ok(())
}

/// The rotation's run history, newest first (Rotary only).
pub async fn runs<T: RotationApi>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<Vec<RunView>> {
    rotation_for::<T>(state, auth, id, Action::Read, true).await?;
    let runs = store::list_runs(&state.pool, id).await?;
    Ok(runs
        .into_iter()
        .map(|r| RunView {
            id: r.id,
            trigger: r.trigger.to_string(),
            step: r.step,
            outcome: r.outcome.to_string(),
            error: r.error,
            note: r.note,
            attempts: r.attempts,
            started_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
        })
        .collect())
}
