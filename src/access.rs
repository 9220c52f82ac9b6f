//! Project permissions: an identity sees a project only as a member, and its role decides
//! what it may do there. Refusals use CASL's wording, as Infisical does.

use uuid::Uuid;

use crate::auth::Auth;
use crate::crypto::Key;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::projects::ProjectRow;

pub const PROJECT_ROLES: [&str; 4] = ["admin", "member", "viewer", "no-access"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Edit,
    Delete,
    RotateSecrets,
    ReadGeneratedCredentials,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::RotateSecrets => "rotate-secrets",
            Action::ReadGeneratedCredentials => "read-generated-credentials",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Secrets,
    SecretFolders,
    Environments,
    /// Identity memberships of the project.
    Identity,
    Workspace,
    AppConnections,
    SecretRotation,
    Webhooks,
}

impl Subject {
    fn as_str(self) -> &'static str {
        match self {
            Subject::Secrets => "secrets",
            Subject::SecretFolders => "secret-folders",
            Subject::Environments => "environments",
            Subject::Identity => "identity",
            Subject::Workspace => "workspace",
            Subject::AppConnections => "app-connections",
            Subject::SecretRotation => "secret-rotation",
            Subject::Webhooks => "webhooks",
        }
    }
}

/// Whether a project role allows an action. Admins do everything; members work with secrets
/// and folders and read the rest; viewers only read; no-access does nothing.
pub fn role_allows(role: &str, action: Action, subject: Subject) -> bool {
    match role {
        "admin" => true,
        "member" => {
            action == Action::Read
                || matches!(
                    subject,
                    Subject::Secrets | Subject::SecretFolders | Subject::SecretRotation
                )
        }
        "viewer" => action == Action::Read,
        _ => false,
    }
}

/// A project as seen by the calling identity.
pub struct ProjectAccess {
    pub project: ProjectRow,
    pub role: String,
}

impl ProjectAccess {
    pub fn require(&self, action: Action, subject: Subject) -> ApiResult<()> {
        if role_allows(&self.role, action, subject) {
            Ok(())
        } else {
            Err(ApiError::forbidden(action.as_str(), subject.as_str()))
        }
    }
}

/// The project if the caller is a member. Non-members get the same 404 as for a project that
/// does not exist, so they learn nothing about it.
pub async fn project_access(
    state: &AppState,
    auth: &Auth,
    project_id: Uuid,
) -> ApiResult<ProjectAccess> {
    match crate::cache::membership(state, project_id, auth.identity_id).await? {
        Some((project, role)) if project.org_id == auth.org_id => {
            Ok(ProjectAccess { project, role })
        }
        _ => Err(ApiError::not_found(format!(
            "Project with ID '{project_id}' not found"
        ))),
    }
}

/// The project's data key, unwrapped once and then cached.
/// The project's data key by project id: from the cache, else read and unwrapped.
pub async fn project_key_by_id(state: &AppState, project_id: Uuid) -> ApiResult<Option<Key>> {
    if let Some(key) = cached_key(state, project_id) {
        return Ok(Some(key));
    }
    match crate::store::projects::find_project(&state.pool, project_id).await? {
        Some(project) => project_key(state, &project).map(Some),
        None => Ok(None),
    }
}

fn cached_key(state: &AppState, project_id: Uuid) -> Option<Key> {
    state
        .data_keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&project_id)
        .cloned()
}

pub fn project_key(state: &AppState, project: &ProjectRow) -> ApiResult<Key> {
    if let Some(key) = cached_key(state, project.id) {
        return Ok(key);
    }
    if project.root_key_id != state.root_key.id() {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "project {} is wrapped by root key {} but ROTARY_ROOT_KEY is {}",
            project.id,
            project.root_key_id,
            state.root_key.id()
        )));
    }
    let key = state
        .root_key
        .unwrap_key(&project.wrapped_key, project.id)
        .map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "unwrapping project {} key: {e}",
                project.id
            ))
        })?;
    state
        .data_keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(project.id, key.clone());
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_their_names_say() {
        use Action::*;
        use Subject::*;
        assert!(role_allows("admin", Delete, Identity));
        assert!(role_allows("member", Edit, Secrets));
        assert!(role_allows("member", Create, SecretFolders));
        assert!(!role_allows("member", Create, Environments));
        assert!(!role_allows("member", Edit, Identity));
        assert!(role_allows("viewer", Read, Secrets));
        assert!(!role_allows("viewer", Create, Secrets));
        assert!(!role_allows("no-access", Read, Secrets));
        assert!(!role_allows("unknown", Read, Secrets));
    }
}
