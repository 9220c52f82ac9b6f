//! Where a secret or folder request points: project (by `workspaceId` or `projectId`),
//! environment slug and folder path, resolved and permission-checked in one place.

use uuid::Uuid;

use crate::access::{project_access, ProjectAccess};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::projects::{self, EnvironmentRow};
use crate::validation::normalize_path;

pub struct Scope {
    pub access: ProjectAccess,
    pub env: EnvironmentRow,
    /// Normalized folder path, e.g. `/` or `/apps/billing`.
    pub path: String,
}

/// The project id a request names, under either of the keys Infisical's routes use.
pub fn project_id(
    workspace_id: Option<Uuid>,
    project_id: Option<Uuid>,
    field: &str,
) -> ApiResult<Uuid> {
    workspace_id
        .or(project_id)
        .ok_or_else(|| ApiError::invalid("invalid_type", &[field], "Required"))
}

pub async fn resolve(
    state: &AppState,
    auth: &Auth,
    project_id: Uuid,
    environment: &str,
    raw_path: &str,
    path_field: &str,
) -> ApiResult<Scope> {
    let path = normalize_path(path_field, raw_path)?;
    let access = project_access(state, auth, project_id).await?;
    let env = crate::cache::environment_by_slug(state, project_id, environment)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Environment with slug '{environment}' in project with ID '{project_id}' not found"
            ))
        })?;
    Ok(Scope { access, env, path })
}

impl Scope {
    /// Whether the folder path exists (the root always does).
    pub async fn folder_exists(&self, state: &AppState) -> ApiResult<bool> {
        if self.path == "/" {
            return Ok(true);
        }
        Ok(
            projects::find_folder_by_path(&state.pool, self.env.id, &self.path)
                .await?
                .is_some(),
        )
    }

    pub fn folder_not_found(&self) -> ApiError {
        ApiError::not_found(format!(
            "Folder with path '{}' in environment with slug '{}' not found",
            self.path, self.env.slug
        ))
    }
}
