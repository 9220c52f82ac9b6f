//! Projects (Infisical's "workspaces"), their environments and identity memberships.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, Action, Subject, PROJECT_ROLES};
use crate::auth::Auth;
use crate::crypto::Key;
use crate::error::{ApiError, ApiResult, ErrorBody, OrConflict};
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::projects::{self, EnvironmentRow, MembershipRow, NewProject, ProjectRow};
use crate::validation::{check_slug, slugify};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub position: i32,
    pub project_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<EnvironmentRow> for EnvironmentView {
    fn from(row: EnvironmentRow) -> Self {
        EnvironmentView {
            id: row.id,
            name: row.name,
            slug: row.slug,
            position: row.position,
            project_id: row.project_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    pub id: Uuid,
    #[serde(rename = "_id")]
    pub underscore_id: Uuid,
    pub name: String,
    pub slug: String,
    pub org_id: Uuid,
    #[serde(rename = "type")]
    pub project_type: String,
    pub description: Option<String>,
    pub version: i32,
    pub has_delete_protection: bool,
    pub environments: Vec<EnvironmentView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn project_view(state: &AppState, row: ProjectRow) -> ApiResult<ProjectView> {
    let environments = projects::list_environments(&state.pool, row.id).await?;
    Ok(ProjectView {
        id: row.id,
        underscore_id: row.id,
        name: row.name,
        slug: row.slug,
        org_id: row.org_id,
        project_type: "secret-manager".into(),
        description: None,
        version: 3,
        has_delete_protection: false,
        environments: environments.into_iter().map(Into::into).collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateProjectRequest {
    #[validate(length(min = 1, max = 64, message = "projectName must be 1 to 64 characters"))]
    pub project_name: String,
    /// Defaults to a slug of the name with a random suffix.
    pub slug: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectEnvelope {
    pub project: ProjectView,
}

#[utoipa::path(post, path = "/api/v2/workspace", tag = "Projects",
    request_body = CreateProjectRequest, security(("bearer" = [])),
    responses((status = 200, body = ProjectEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateProjectRequest>,
) -> ApiResult<Json<ProjectEnvelope>> {
    if auth.org_role == "no-access" {
        return Err(ApiError::forbidden("create", "workspace"));
    }
    let name = body.project_name.trim();
    let slug = match body.slug {
        Some(slug) => {
            check_slug("slug", &slug)?;
            slug
        }
        None => {
            let base = slugify(name);
            let suffix = &crate::crypto::random_hex(2);
            if base.is_empty() {
                format!("project-{suffix}")
            } else {
                format!("{base}-{suffix}")
            }
        }
    };
    if projects::slug_taken(&state.pool, auth.org_id, &slug).await? {
        return Err(ApiError::bad_request(format!(
            "A project with the slug '{slug}' already exists"
        )));
    }
    let id = Uuid::new_v4();
    let data_key = Key::generate();
    let row = projects::insert_project(
        &state.pool,
        NewProject {
            id,
            org_id: auth.org_id,
            name,
            slug: &slug,
            wrapped_key: state.root_key.wrap(&data_key, id),
            root_key_id: state.root_key.id(),
            admin: auth.identity_id,
        },
    )
    .await
    .or_conflict(|| {
        ApiError::bad_request(format!("A project with the slug '{slug}' already exists"))
    })?;
    state
        .data_keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, data_key);
    tracing::info!(project_id = %id, "project created");
    Ok(Json(ProjectEnvelope {
        project: project_view(&state, row).await?,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceList {
    pub workspaces: Vec<ProjectView>,
}

#[utoipa::path(get, path = "/api/v1/workspace", tag = "Projects", security(("bearer" = [])),
    description = "Projects the caller is a member of.",
    responses((status = 200, body = WorkspaceList), (status = "4XX", body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<WorkspaceList>> {
    let mut workspaces = Vec::new();
    for row in projects::list_member_projects(&state.pool, auth.identity_id).await? {
        workspaces.push(project_view(&state, row).await?);
    }
    Ok(Json(WorkspaceList { workspaces }))
}

#[derive(Serialize, ToSchema)]
pub struct WorkspaceEnvelope {
    pub workspace: ProjectView,
}

#[utoipa::path(get, path = "/api/v1/workspace/{projectId}", tag = "Projects",
    params(("projectId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = WorkspaceEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<Uuid>,
) -> ApiResult<Json<WorkspaceEnvelope>> {
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Read, Subject::Workspace)?;
    Ok(Json(WorkspaceEnvelope {
        workspace: project_view(&state, access.project).await?,
    }))
}

// ---- environments --------------------------------------------------------------------------

#[derive(Deserialize, Validate, ToSchema)]
pub struct CreateEnvironmentRequest {
    #[validate(length(min = 1, max = 64, message = "name must be 1 to 64 characters"))]
    pub name: String,
    pub slug: String,
    /// Place in the project's environment list (default: last).
    #[validate(range(min = 1, message = "position must be at least 1"))]
    pub position: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct EnvironmentEnvelope {
    pub message: String,
    /// The project id.
    pub workspace: Uuid,
    pub environment: EnvironmentView,
}

#[utoipa::path(post, path = "/api/v1/workspace/{projectId}/environments", tag = "Projects",
    params(("projectId" = Uuid, Path)), request_body = CreateEnvironmentRequest, security(("bearer" = [])),
    responses((status = 200, body = EnvironmentEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn create_environment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateEnvironmentRequest>,
) -> ApiResult<Json<EnvironmentEnvelope>> {
    check_slug("slug", &body.slug)?;
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Create, Subject::Environments)?;
    if projects::find_environment_by_slug(&state.pool, project_id, &body.slug)
        .await?
        .is_some()
    {
        return Err(ApiError::bad_request(format!(
            "Environment with slug '{}' already exist",
            body.slug
        )));
    }
    let existing = projects::list_environments(&state.pool, project_id).await?;
    let position = body
        .position
        .unwrap_or_else(|| existing.iter().map(|e| e.position).max().unwrap_or(0) + 1);
    let mut tx = state.pool.begin().await?;
    let row =
        projects::insert_environment(&mut tx, project_id, body.name.trim(), &body.slug, position)
            .await
            .or_conflict(|| {
                ApiError::bad_request(format!(
                    "Environment with slug '{}' already exist",
                    body.slug
                ))
            })?;
    tx.commit().await?;
    Ok(Json(EnvironmentEnvelope {
        message: "Successfully created new environment".into(),
        workspace: project_id,
        environment: row.into(),
    }))
}

async fn environment_of(
    state: &AppState,
    project_id: Uuid,
    env_id: Uuid,
) -> ApiResult<EnvironmentRow> {
    projects::find_environment(&state.pool, project_id, env_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Environment with ID '{env_id}' not found")))
}

#[derive(Serialize, ToSchema)]
pub struct EnvironmentOnly {
    pub environment: EnvironmentView,
}

#[utoipa::path(get, path = "/api/v1/workspace/{projectId}/environments/{envId}", tag = "Projects",
    params(("projectId" = Uuid, Path), ("envId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = EnvironmentOnly), (status = "4XX", body = ErrorBody)))]
pub async fn get_environment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((project_id, env_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<EnvironmentOnly>> {
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Read, Subject::Environments)?;
    let row = environment_of(&state, project_id, env_id).await?;
    Ok(Json(EnvironmentOnly {
        environment: row.into(),
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct UpdateEnvironmentRequest {
    #[validate(length(min = 1, max = 64, message = "name must be 1 to 64 characters"))]
    pub name: Option<String>,
    pub slug: Option<String>,
    #[validate(range(min = 1, message = "position must be at least 1"))]
    pub position: Option<i32>,
}

#[utoipa::path(patch, path = "/api/v1/workspace/{projectId}/environments/{envId}", tag = "Projects",
    params(("projectId" = Uuid, Path), ("envId" = Uuid, Path)), request_body = UpdateEnvironmentRequest,
    security(("bearer" = [])),
    responses((status = 200, body = EnvironmentEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update_environment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((project_id, env_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<UpdateEnvironmentRequest>,
) -> ApiResult<Json<EnvironmentEnvelope>> {
    if let Some(slug) = &body.slug {
        check_slug("slug", slug)?;
    }
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Edit, Subject::Environments)?;
    let current = environment_of(&state, project_id, env_id).await?;
    if let Some(slug) = body.slug.as_deref().filter(|s| *s != current.slug) {
        if projects::find_environment_by_slug(&state.pool, project_id, slug)
            .await?
            .is_some()
        {
            return Err(ApiError::bad_request(format!(
                "Environment with slug '{slug}' already exist"
            )));
        }
    }
    let row = projects::update_environment(
        &state.pool,
        env_id,
        body.name.as_deref().map(str::trim),
        body.slug.as_deref(),
        body.position,
    )
    .await?;
    Ok(Json(EnvironmentEnvelope {
        message: "Successfully updated environment".into(),
        workspace: project_id,
        environment: row.into(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/workspace/{projectId}/environments/{envId}", tag = "Projects",
    params(("projectId" = Uuid, Path), ("envId" = Uuid, Path)), security(("bearer" = [])),
    description = "Deletes the environment with its folders and secrets.",
    responses((status = 200, body = EnvironmentEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete_environment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((project_id, env_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<EnvironmentEnvelope>> {
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Delete, Subject::Environments)?;
    let row = environment_of(&state, project_id, env_id).await?;
    if projects::has_rotated_secrets_under(&state.pool, env_id, "/").await? {
        return Err(ApiError::bad_request("Cannot delete rotated secrets"));
    }
    projects::delete_environment(&state.pool, env_id).await?;
    Ok(Json(EnvironmentEnvelope {
        message: "Successfully deleted environment".into(),
        workspace: project_id,
        environment: row.into(),
    }))
}

// ---- identity memberships ------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipRoleView {
    pub id: Uuid,
    pub role: String,
    pub custom_role_id: Option<Uuid>,
    pub custom_role_slug: Option<String>,
    pub is_temporary: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberIdentity {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipView {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub project_id: Uuid,
    pub roles: Vec<MembershipRoleView>,
    pub identity: MemberIdentity,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<MembershipRow> for MembershipView {
    fn from(row: MembershipRow) -> Self {
        MembershipView {
            id: row.id,
            identity_id: row.identity_id,
            project_id: row.project_id,
            roles: vec![role_view(&row)],
            identity: MemberIdentity {
                id: row.identity_id,
                name: row.identity_name,
            },
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

fn role_view(row: &MembershipRow) -> MembershipRoleView {
    MembershipRoleView {
        id: row.id,
        role: row.role.clone(),
        custom_role_id: None,
        custom_role_slug: None,
        is_temporary: false,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipEnvelope {
    pub identity_membership: MembershipView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipList {
    pub identity_memberships: Vec<MembershipView>,
    pub total_count: usize,
}

#[derive(Deserialize, Serialize, Validate, ToSchema)]
pub struct RoleEntry {
    pub role: String,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct MembershipRequest {
    /// One role: admin, member, viewer or no-access.
    pub role: Option<String>,
    /// Infisical's list form; Rotary takes one role, the first.
    #[validate(length(min = 1, message = "roles must not be empty"))]
    pub roles: Option<Vec<RoleEntry>>,
}

impl MembershipRequest {
    fn role(&self) -> Option<&str> {
        self.roles
            .as_ref()
            .and_then(|r| r.first())
            .map(|r| r.role.as_str())
            .or(self.role.as_deref())
    }
}

fn check_project_role(role: &str) -> ApiResult<()> {
    if PROJECT_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_enum_value",
            &["role"],
            format!("Invalid role '{role}'; expected one of admin, member, viewer, no-access"),
        ))
    }
}

async fn membership_of(
    state: &AppState,
    project_id: Uuid,
    identity_id: Uuid,
) -> ApiResult<MembershipRow> {
    projects::find_membership(&state.pool, project_id, identity_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Identity with ID '{identity_id}' is not a member of this project"
            ))
        })
}

#[utoipa::path(post, path = "/api/v2/workspace/{projectId}/identity-memberships/{identityId}", tag = "Projects",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)), request_body = MembershipRequest,
    security(("bearer" = [])),
    responses((status = 200, body = MembershipEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn add_membership(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<MembershipRequest>,
) -> ApiResult<Json<MembershipEnvelope>> {
    let role = body.role().unwrap_or("no-access").to_string();
    check_project_role(&role)?;
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Create, Subject::Identity)?;
    if crate::store::identities::find_identity(&state.pool, auth.org_id, identity_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!(
            "Identity with ID '{identity_id}' not found"
        )));
    }
    if projects::find_membership(&state.pool, project_id, identity_id)
        .await?
        .is_some()
    {
        return Err(ApiError::bad_request(
            "Identity is already a member of this project",
        ));
    }
    projects::insert_membership(&state.pool, project_id, identity_id, &role)
        .await
        .or_conflict(|| ApiError::bad_request("Identity is already a member of this project"))?;
    let row = membership_of(&state, project_id, identity_id).await?;
    Ok(Json(MembershipEnvelope {
        identity_membership: row.into(),
    }))
}

#[utoipa::path(get, path = "/api/v2/workspace/{projectId}/identity-memberships", tag = "Projects",
    params(("projectId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = MembershipList), (status = "4XX", body = ErrorBody)))]
pub async fn list_memberships(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(project_id): ApiPath<Uuid>,
) -> ApiResult<Json<MembershipList>> {
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Read, Subject::Identity)?;
    let rows = projects::list_memberships(&state.pool, project_id).await?;
    Ok(Json(MembershipList {
        total_count: rows.len(),
        identity_memberships: rows.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v2/workspace/{projectId}/identity-memberships/{identityId}", tag = "Projects",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = MembershipEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_membership(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<MembershipEnvelope>> {
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Read, Subject::Identity)?;
    let row = membership_of(&state, project_id, identity_id).await?;
    Ok(Json(MembershipEnvelope {
        identity_membership: row.into(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct RolesEnvelope {
    pub roles: Vec<MembershipRoleView>,
}

/// Refuses a change that would leave the project without an admin.
async fn keep_an_admin(
    state: &AppState,
    current: &MembershipRow,
    new_role: Option<&str>,
) -> ApiResult<()> {
    if current.role == "admin"
        && new_role != Some("admin")
        && projects::count_admins(&state.pool, current.project_id).await? <= 1
    {
        return Err(ApiError::bad_request(
            "A project must keep at least one admin",
        ));
    }
    Ok(())
}

#[utoipa::path(patch, path = "/api/v2/workspace/{projectId}/identity-memberships/{identityId}", tag = "Projects",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)), request_body = MembershipRequest,
    security(("bearer" = [])),
    responses((status = 200, body = RolesEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update_membership(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<MembershipRequest>,
) -> ApiResult<Json<RolesEnvelope>> {
    let Some(role) = body.role().map(str::to_string) else {
        return Err(ApiError::invalid("invalid_type", &["roles"], "Required"));
    };
    check_project_role(&role)?;
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Edit, Subject::Identity)?;
    let current = membership_of(&state, project_id, identity_id).await?;
    keep_an_admin(&state, &current, Some(&role)).await?;
    projects::update_membership_role(&state.pool, project_id, identity_id, &role).await?;
    let row = membership_of(&state, project_id, identity_id).await?;
    Ok(Json(RolesEnvelope {
        roles: vec![role_view(&row)],
    }))
}

#[utoipa::path(delete, path = "/api/v2/workspace/{projectId}/identity-memberships/{identityId}", tag = "Projects",
    params(("projectId" = Uuid, Path), ("identityId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = MembershipEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete_membership(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((project_id, identity_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<MembershipEnvelope>> {
    let access = project_access(&state, &auth, project_id).await?;
    access.require(Action::Delete, Subject::Identity)?;
    let current = membership_of(&state, project_id, identity_id).await?;
    keep_an_admin(&state, &current, None).await?;
    projects::delete_membership(&state.pool, project_id, identity_id).await?;
    Ok(Json(MembershipEnvelope {
        identity_membership: current.into(),
    }))
}
