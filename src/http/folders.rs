//! Folders inside an environment, on Infisical's v1 (`workspaceId`) and v2 (`projectId`) routes.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, Action, Subject};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody, OrConflict};
use crate::http::extract::{lenient_bool, ApiInput, ApiJson, ApiPath};
use crate::http::scope::{self, Scope};
use crate::state::AppState;
use crate::store::projects::{self, EnvironmentRow, FolderRow};
use crate::validation::check_folder_name;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FolderEnvironment {
    pub env_id: Uuid,
    pub env_name: String,
    pub env_slug: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FolderView {
    pub id: Uuid,
    pub name: String,
    pub env_id: Uuid,
    pub parent_id: Option<Uuid>,
    /// Full path of the folder itself.
    pub path: String,
    pub description: Option<String>,
    pub version: i32,
    pub is_reserved: bool,
    pub project_id: Uuid,
    pub environment: FolderEnvironment,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn folder_view(row: FolderRow, env: &EnvironmentRow) -> FolderView {
    FolderView {
        id: row.id,
        name: row.name,
        env_id: row.env_id,
        parent_id: row.parent_id,
        path: row.path,
        description: None,
        version: 1,
        is_reserved: false,
        project_id: env.project_id,
        environment: FolderEnvironment {
            env_id: env.id,
            env_name: env.name.clone(),
            env_slug: env.slug.clone(),
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct FolderEnvelope {
    pub folder: FolderView,
}

#[derive(Serialize, ToSchema)]
pub struct FolderList {
    pub folders: Vec<FolderView>,
}

fn default_root() -> String {
    "/".into()
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateFolderRequest {
    /// Project id (v1 name).
    pub workspace_id: Option<Uuid>,
    /// Project id (v2 name).
    pub project_id: Option<Uuid>,
    pub environment: String,
    pub name: String,
    /// Parent path; missing parents are created.
    #[serde(default = "default_root")]
    pub path: String,
}

#[utoipa::path(post, path = "/api/v2/folders", tag = "Folders", request_body = CreateFolderRequest,
    security(("bearer" = [])),
    description = "Creates a folder (and missing parents). Creating an existing folder returns it. Also served at /api/v1/folders.",
    responses((status = 200, body = FolderEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn create_folder(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateFolderRequest>,
) -> ApiResult<Json<FolderEnvelope>> {
    check_folder_name("name", &body.name)?;
    let project_id = scope::project_id(body.workspace_id, body.project_id, "workspaceId")?;
    let scope = scope::resolve(
        &state,
        &auth,
        project_id,
        &body.environment,
        &body.path,
        "path",
    )
    .await?;
    scope
        .access
        .require(Action::Create, Subject::SecretFolders)?;
    let full = if scope.path == "/" {
        format!("/{}", body.name)
    } else {
        format!("{}/{}", scope.path, body.name)
    };
    let mut tx = state.pool.begin().await?;
    let folder = projects::ensure_folder_path(&mut tx, scope.env.id, &full)
        .await?
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("folder path {full} produced no folder"))
        })?;
    tx.commit().await?;
    Ok(Json(FolderEnvelope {
        folder: folder_view(folder, &scope.env),
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListFoldersQuery {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub environment: String,
    #[serde(default = "default_root", alias = "directory")]
    pub path: String,
    /// Include folders at every depth below `path`.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub recursive: Option<bool>,
}

#[utoipa::path(get, path = "/api/v2/folders", tag = "Folders", security(("bearer" = [])),
    params(("projectId" = Option<Uuid>, Query), ("workspaceId" = Option<Uuid>, Query),
           ("environment" = String, Query), ("path" = Option<String>, Query), ("recursive" = Option<bool>, Query)),
    description = "Folders inside a path. Also served at /api/v1/folders.",
    responses((status = 200, body = FolderList), (status = "4XX", body = ErrorBody)))]
pub async fn list_folders(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(query): ApiInput<ListFoldersQuery>,
) -> ApiResult<Json<FolderList>> {
    let project_id = scope::project_id(query.workspace_id, query.project_id, "workspaceId")?;
    let scope = scope::resolve(
        &state,
        &auth,
        project_id,
        &query.environment,
        &query.path,
        "path",
    )
    .await?;
    scope.access.require(Action::Read, Subject::SecretFolders)?;
    let rows = projects::list_folders(
        &state.pool,
        scope.env.id,
        &scope.path,
        query.recursive.unwrap_or(false),
    )
    .await?;
    Ok(Json(FolderList {
        folders: rows
            .into_iter()
            .map(|r| folder_view(r, &scope.env))
            .collect(),
    }))
}

/// A folder by id with its environment, if the caller may see its project.
async fn folder_by_id(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    action: Action,
) -> ApiResult<(FolderRow, EnvironmentRow)> {
    let not_found = || ApiError::not_found(format!("Folder with ID '{id}' not found"));
    let folder = projects::find_folder(&state.pool, id)
        .await?
        .ok_or_else(not_found)?;
    let env = projects::environment_by_id(&state.pool, folder.env_id).await?;
    let access = project_access(state, auth, env.project_id)
        .await
        .map_err(|_| not_found())?;
    access.require(action, Subject::SecretFolders)?;
    Ok((folder, env))
}

#[utoipa::path(get, path = "/api/v2/folders/{folderId}", tag = "Folders",
    params(("folderId" = Uuid, Path)), security(("bearer" = [])),
    description = "Also served at /api/v1/folders/{folderId}.",
    responses((status = 200, body = FolderEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_folder(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FolderEnvelope>> {
    let (folder, env) = folder_by_id(&state, &auth, id, Action::Read).await?;
    Ok(Json(FolderEnvelope {
        folder: folder_view(folder, &env),
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFolderRequest {
    /// The new name.
    pub name: String,
}

#[utoipa::path(patch, path = "/api/v2/folders/{folderId}", tag = "Folders",
    params(("folderId" = Uuid, Path)), request_body = UpdateFolderRequest, security(("bearer" = [])),
    description = "Renames a folder; everything inside moves with it. Also served at /api/v1/folders/{folderId}.",
    responses((status = 200, body = FolderEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update_folder(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateFolderRequest>,
) -> ApiResult<Json<FolderEnvelope>> {
    check_folder_name("name", &body.name)?;
    let (folder, env) = folder_by_id(&state, &auth, id, Action::Edit).await?;
    if folder.name != body.name {
        let parent = folder.path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        let target = format!("{parent}/{}", body.name);
        if projects::find_folder_by_path(&state.pool, env.id, &target)
            .await?
            .is_some()
        {
            return Err(ApiError::bad_request(format!(
                "A folder named '{}' already exists at '{}'",
                body.name,
                if parent.is_empty() { "/" } else { parent }
            )));
        }
        if projects::has_rotated_secrets_under(&state.pool, env.id, &folder.path).await? {
            return Err(ApiError::bad_request("Cannot update rotated secret"));
        }
    }
    let parent = folder.path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let row = projects::rename_folder(&state.pool, &folder, &body.name)
        .await
        .or_conflict(|| {
            ApiError::bad_request(format!(
                "A folder named '{}' already exists at '{}'",
                body.name,
                if parent.is_empty() { "/" } else { parent }
            ))
        })?;
    Ok(Json(FolderEnvelope {
        folder: folder_view(row, &env),
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteFolderInput {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub environment: Option<String>,
    /// Parent path of the folder when it is named rather than given by id.
    #[serde(default = "default_root")]
    pub path: String,
}

#[utoipa::path(delete, path = "/api/v2/folders/{folderId}", tag = "Folders",
    params(("folderId" = String, Path, description = "Folder id, or its name inside `path`")),
    request_body = DeleteFolderInput, security(("bearer" = [])),
    description = "Deletes a folder with its subfolders and secrets. Also served at /api/v1/folders/{folderId}.",
    responses((status = 200, body = FolderEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete_folder(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id_or_name): ApiPath<String>,
    ApiInput(input): ApiInput<DeleteFolderInput>,
) -> ApiResult<Json<FolderEnvelope>> {
    let (folder, env) = match id_or_name.parse::<Uuid>() {
        Ok(id) => folder_by_id(&state, &auth, id, Action::Delete).await?,
        Err(_) => {
            check_folder_name("folderId", &id_or_name)?;
            let project_id =
                scope::project_id(input.workspace_id, input.project_id, "workspaceId")?;
            let environment = input
                .environment
                .as_deref()
                .ok_or_else(|| ApiError::invalid("invalid_type", &["environment"], "Required"))?;
            let Scope { access, env, path } =
                scope::resolve(&state, &auth, project_id, environment, &input.path, "path").await?;
            access.require(Action::Delete, Subject::SecretFolders)?;
            let full = if path == "/" {
                format!("/{id_or_name}")
            } else {
                format!("{path}/{id_or_name}")
            };
            let folder = projects::find_folder_by_path(&state.pool, env.id, &full)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(format!("Folder with path '{full}' not found"))
                })?;
            (folder, env)
        }
    };
    if projects::has_rotated_secrets_under(&state.pool, env.id, &folder.path).await? {
        return Err(ApiError::bad_request("Cannot delete rotated secrets"));
    }
    projects::delete_folder(&state.pool, &folder).await?;
    Ok(Json(FolderEnvelope {
        folder: folder_view(folder, &env),
    }))
}
