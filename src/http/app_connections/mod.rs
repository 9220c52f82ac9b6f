//! App connections on Infisical's routes (`/api/v1/app-connections/...`), for every app in
//! `connections::types::CONNECTION_TYPES`: the generic list and options here, each app's
//! route set from `routes::<C>()` (`handlers`), its OpenAPI operations from
//! `openapi::document::<C>()`. Credentials are checked against the provider when they are set,
//! stored sealed, and never returned: only their public part is.

pub mod handlers;
pub mod openapi;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, Action, Subject};
use crate::auth::Auth;
use crate::connections::types::{self, ConnectionType};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiInput, ApiPath};
use crate::providers::salesforce::client::SfErrorKind;
use crate::providers::salesforce::SfError;
use crate::state::AppState;
use crate::store::app_connections::{self as store, ConnectionRow};

pub use crate::providers::salesforce::connection::APP as SALESFORCE;

/// One app's route set, under `/api/v1/app-connections/{C::APP}` (reference §1.6), and its
/// helper routes.
pub fn routes<C: ConnectionType>() -> Router<AppState> {
    use handlers as h;
    let base = format!("/api/v1/app-connections/{}", C::APP);
    Router::new()
        .route(&base, get(h::list::<C>).post(h::create::<C>))
        .route(&format!("{base}/available"), get(h::available::<C>))
        .route(
            &format!("{base}/connection-name/{{connectionName}}"),
            get(h::get_by_name::<C>),
        )
        .route(
            &format!("{base}/{{connectionId}}"),
            get(h::get::<C>)
                .patch(h::update::<C>)
                .delete(h::delete::<C>),
        )
        .merge(C::helper_routes())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppConnectionView {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub version: i32,
    pub org_id: Uuid,
    pub project_id: Option<Uuid>,
    pub app: String,
    pub method: String,
    /// The non-secret part of the credentials (Salesforce: `instanceUrl`; SQL: host, port,
    /// database, username and the TLS settings).
    #[schema(value_type = Object)]
    pub credentials: Value,
    /// Changes when the credentials change; reveals nothing about them.
    pub credentials_hash: String,
    pub gateway_id: Option<Uuid>,
    pub is_platform_managed_credentials: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn view(state: &AppState, row: ConnectionRow) -> AppConnectionView {
    AppConnectionView {
        credentials_hash: state.root_key.fingerprint(&row.credentials_ct),
        id: row.id,
        name: row.name,
        description: row.description,
        version: row.version,
        org_id: row.org_id,
        project_id: row.project_id,
        app: row.app,
        method: row.method,
        credentials: row.public_config,
        gateway_id: None,
        is_platform_managed_credentials: false,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppConnectionEnvelope {
    pub app_connection: AppConnectionView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppConnectionList {
    pub app_connections: Vec<AppConnectionView>,
}

/// May the caller act on connections of this scope? Project connections follow the project
/// role (admins manage, everyone else reads); organization ones need the organization admin
/// role to manage.
pub(crate) async fn require(
    state: &AppState,
    auth: &Auth,
    project_id: Option<Uuid>,
    action: Action,
) -> ApiResult<()> {
    match project_id {
        Some(project_id) => project_access(state, auth, project_id)
            .await?
            .require(action, Subject::AppConnections),
        None if action == Action::Read => Ok(()),
        None => auth.require_org_admin(
            match action {
                Action::Create => "create",
                Action::Edit => "edit",
                _ => "delete",
            },
            "app-connections",
        ),
    }
}

pub(crate) fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("Could not find App Connection with ID {id}"))
}

/// The connection if the caller may see it; the same 404 otherwise.
pub(crate) async fn visible(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    app: Option<&str>,
    action: Action,
) -> ApiResult<ConnectionRow> {
    let row = store::find(&state.pool, auth.org_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if let Some(project_id) = row.project_id {
        let access = project_access(state, auth, project_id)
            .await
            .map_err(|_| not_found(id))?;
        if access.role == "no-access" {
            return Err(not_found(id));
        }
    }
    require(state, auth, row.project_id, action).await?;
    if let Some(app) = app {
        if row.app != app {
            return Err(ApiError::bad_request(format!(
                "App Connection with ID {id} is not a {} connection",
                display_name(app)
            )));
        }
    }
    Ok(row)
}

fn display_name(app: &str) -> &str {
    types::by_app(app).map(|c| c.name()).unwrap_or(app)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppConnectionOption {
    pub name: String,
    pub app: String,
    pub methods: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppConnectionOptions {
    pub app_connection_options: Vec<AppConnectionOption>,
}

#[utoipa::path(get, path = "/api/v1/app-connections/options", tag = "App Connections", security(("bearer" = [])),
    responses((status = 200, body = AppConnectionOptions), (status = "4XX", body = ErrorBody)))]
pub async fn options(_auth: Auth) -> Json<AppConnectionOptions> {
    let mut options: Vec<AppConnectionOption> = types::CONNECTION_TYPES
        .iter()
        .map(|c| AppConnectionOption {
            name: c.name().into(),
            app: c.app().into(),
            methods: c.methods().iter().map(|m| m.to_string()).collect(),
        })
        .collect();
    // Infisical sorts with localeCompare, which ignores case: Auth0 before AWS.
    options.sort_by_key(|o| o.name.to_lowercase());
    Json(AppConnectionOptions {
        app_connection_options: options,
    })
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only connections of this project (organization connections are always included).
    pub project_id: Option<Uuid>,
}

pub(crate) async fn list_for(
    state: &AppState,
    auth: &Auth,
    app: Option<&str>,
    project: Option<Uuid>,
) -> ApiResult<Vec<AppConnectionView>> {
    let mut out = Vec::new();
    let mut member_of = std::collections::HashMap::new();
    for row in store::list(&state.pool, auth.org_id, app).await? {
        if let Some(project_id) = row.project_id {
            if project.is_some_and(|p| p != project_id) {
                continue;
            }
            let allowed = match member_of.get(&project_id) {
                Some(allowed) => *allowed,
                None => {
                    let allowed = project_access(state, auth, project_id)
                        .await
                        .is_ok_and(|a| a.require(Action::Read, Subject::AppConnections).is_ok());
                    member_of.insert(project_id, allowed);
                    allowed
                }
            };
            if !allowed {
                continue;
            }
        }
        out.push(view(state, row));
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/app-connections", tag = "App Connections", security(("bearer" = [])),
    params(("projectId" = Option<Uuid>, Query)),
    responses((status = 200, body = AppConnectionList), (status = "4XX", body = ErrorBody)))]
pub async fn list_all(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AppConnectionList>> {
    Ok(Json(AppConnectionList {
        app_connections: list_for(&state, &auth, None, q.project_id).await?,
    }))
}

/// The create body; `credentials` is the app's (`C::Input`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateConnection<I: Validate> {
    pub name: String,
    #[validate(length(max = 256, message = "description must be at most 256 characters"))]
    pub description: Option<String>,
    /// One of the app's methods (the options list names them).
    pub method: String,
    #[validate(nested)]
    pub credentials: I,
    /// The project the connection belongs to; none for an organization-wide connection.
    pub project_id: Option<Uuid>,
}

/// The PATCH body: new credentials are checked against the provider before they are saved;
/// the method cannot change.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateConnection<I: Validate> {
    pub name: Option<String>,
    #[validate(length(max = 256, message = "description must be at most 256 characters"))]
    pub description: Option<String>,
    pub method: Option<String>,
    #[validate(nested)]
    pub credentials: Option<I>,
}

/// A connection a rotation of the project may use: `{app, name, id, projectId, orgId}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailableConnection {
    pub app: String,
    pub name: String,
    pub id: Uuid,
    pub project_id: Option<Uuid>,
    pub org_id: Uuid,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailableConnections {
    pub app_connections: Vec<AvailableConnection>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OauthAppView {
    pub identifier: String,
    pub developer_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OauthApps {
    pub apps: Vec<OauthAppView>,
}

/// A provider failure as an API error: the user's setup (400) or the provider itself (502).
pub fn provider_error(context: &str, e: SfError) -> ApiError {
    match e.kind {
        SfErrorKind::Transient => ApiError::Upstream(format!("{context}: {}", e.message)),
        _ => ApiError::bad_request(format!("{context}: {}", e.message)),
    }
}

#[utoipa::path(get, path = "/api/v1/app-connections/salesforce/{connectionId}/oauth-apps", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), security(("bearer" = [])),
    description = "The org's External Client Apps with OAuth usage (the picker for a rotation's appId/appName).",
    responses((status = 200, body = OauthApps), (status = "4XX", body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn oauth_apps(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<OauthApps>> {
    Ok(Json(OauthApps {
        apps: crate::providers::salesforce::connection::oauth_apps(&state, &auth, id).await?,
    }))
}
