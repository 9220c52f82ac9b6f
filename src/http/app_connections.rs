//! App connections on Infisical's routes (`/api/v1/app-connections/...`). Salesforce is the
//! one app so far, with the `client-credentials` method. Credentials are checked by getting a
//! token when they are set, stored sealed, and never returned: only `instanceUrl` is.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_access, Action, Subject};
use crate::auth::Auth;
use crate::connections::{self, SalesforceCredentials};
use crate::error::{ApiError, ApiResult, ErrorBody, OrConflict};
use crate::http::extract::{ApiInput, ApiJson, ApiPath};
use crate::providers::salesforce::client::SfErrorKind;
use crate::providers::salesforce::{SalesforceClient, SfError};
use crate::providers::url_guard::check_instance_url;
use crate::state::AppState;
use crate::store::app_connections::{
    self as store, ConnectionChange, ConnectionRow, NewConnection,
};
use crate::validation::check_slug;

pub const SALESFORCE: &str = "salesforce";
const CLIENT_CREDENTIALS: &str = "client-credentials";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicCredentials {
    pub instance_url: String,
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
    /// The non-secret part of the credentials.
    pub credentials: PublicCredentials,
    /// Changes when the credentials change; reveals nothing about them.
    pub credentials_hash: String,
    pub gateway_id: Option<Uuid>,
    pub is_platform_managed_credentials: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(state: &AppState, row: ConnectionRow) -> AppConnectionView {
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
        credentials: PublicCredentials {
            instance_url: row.public_config["instanceUrl"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        },
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
async fn require(
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

fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("Could not find App Connection with ID {id}"))
}

/// The connection if the caller may see it; the same 404 otherwise.
async fn visible(
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
    match app {
        SALESFORCE => "Salesforce",
        other => other,
    }
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
    Json(AppConnectionOptions {
        app_connection_options: vec![AppConnectionOption {
            name: "Salesforce".into(),
            app: SALESFORCE.into(),
            methods: vec![CLIENT_CREDENTIALS.into()],
        }],
    })
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only connections of this project (organization connections are always included).
    pub project_id: Option<Uuid>,
}

async fn list_for(
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

#[utoipa::path(get, path = "/api/v1/app-connections/salesforce", tag = "App Connections", security(("bearer" = [])),
    params(("projectId" = Option<Uuid>, Query)),
    responses((status = 200, body = AppConnectionList), (status = "4XX", body = ErrorBody)))]
pub async fn list_salesforce(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AppConnectionList>> {
    Ok(Json(AppConnectionList {
        app_connections: list_for(&state, &auth, Some(SALESFORCE), q.project_id).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/app-connections/salesforce/{connectionId}", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = AppConnectionEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_salesforce(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    let row = visible(&state, &auth, id, Some(SALESFORCE), Action::Read).await?;
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceCredentialsInput {
    /// The org's My Domain URL, e.g. https://acme.my.salesforce.com.
    #[validate(length(min = 1, message = "Instance URL required"))]
    pub instance_url: String,
    #[validate(length(min = 1, message = "Consumer Key required"))]
    pub consumer_key: String,
    #[validate(length(min = 1, message = "Consumer Secret required"))]
    #[schema(value_type = String)]
    pub consumer_secret: String,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSalesforceConnection {
    pub name: String,
    #[validate(length(max = 256, message = "description must be at most 256 characters"))]
    pub description: Option<String>,
    /// Always `client-credentials`.
    pub method: String,
    #[validate(nested)]
    pub credentials: SalesforceCredentialsInput,
    /// The project the connection belongs to; none for an organization-wide connection.
    pub project_id: Option<Uuid>,
}

fn check_method(method: &str) -> ApiResult<()> {
    if method == CLIENT_CREDENTIALS {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_enum_value",
            &["method"],
            format!("Invalid enum value. Expected 'client-credentials', received '{method}'"),
        ))
    }
}

/// Checks the URL and gets a token with the credentials: the connection works, or the user
/// learns why not.
async fn validate_credentials(
    state: &AppState,
    input: &SalesforceCredentialsInput,
) -> ApiResult<SalesforceCredentials> {
    let failed =
        |reason: String| ApiError::bad_request(format!("Failed to validate credentials: {reason}"));
    let instance_url = check_instance_url(&input.instance_url, state.allow_internal_urls)
        .await
        .map_err(failed)?;
    let secret = SecretString::from(input.consumer_secret.trim().to_string());
    let client = SalesforceClient::new(
        state.provider_http.clone(),
        &instance_url,
        input.consumer_key.trim(),
        secret.clone(),
    );
    client.fetch_token().await.map_err(|e| failed(e.message))?;
    Ok(SalesforceCredentials {
        instance_url,
        consumer_key: input.consumer_key.trim().to_string(),
        consumer_secret: secret,
    })
}

#[utoipa::path(post, path = "/api/v1/app-connections/salesforce", tag = "App Connections",
    request_body = CreateSalesforceConnection, security(("bearer" = [])),
    description = "Creates a Salesforce connection after getting a token with its credentials.",
    responses((status = 200, body = AppConnectionEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn create_salesforce(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateSalesforceConnection>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    check_slug("name", &body.name)?;
    check_method(&body.method)?;
    require(&state, &auth, body.project_id, Action::Create).await?;
    if store::name_taken(&state.pool, auth.org_id, body.project_id, &body.name, None).await? {
        return Err(ApiError::bad_request(format!(
            "An App Connection with the name \"{}\" already exists",
            body.name
        )));
    }
    let credentials = validate_credentials(&state, &body.credentials).await?;
    let id = Uuid::new_v4();
    let key = connections::sealing_key(&state, body.project_id).await?;
    let row = store::insert(
        &state.pool,
        NewConnection {
            id,
            org_id: auth.org_id,
            project_id: body.project_id,
            app: SALESFORCE,
            method: CLIENT_CREDENTIALS,
            name: &body.name,
            description: body.description.as_deref(),
            public_config: json!({"instanceUrl": credentials.instance_url}),
            credentials_ct: connections::seal(&key, id, &credentials),
        },
    )
    .await
    .or_conflict(|| {
        ApiError::bad_request(format!(
            "An App Connection with the name \"{}\" already exists",
            body.name
        ))
    })?;
    tracing::info!(connection_id = %id, "app connection created");
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSalesforceConnection {
    pub name: Option<String>,
    #[validate(length(max = 256, message = "description must be at most 256 characters"))]
    pub description: Option<String>,
    pub method: Option<String>,
    /// New credentials, checked with a token before they are saved.
    #[validate(nested)]
    pub credentials: Option<SalesforceCredentialsInput>,
}

#[utoipa::path(patch, path = "/api/v1/app-connections/salesforce/{connectionId}", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), request_body = UpdateSalesforceConnection, security(("bearer" = [])),
    responses((status = 200, body = AppConnectionEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update_salesforce(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateSalesforceConnection>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    if let Some(name) = &body.name {
        check_slug("name", name)?;
    }
    if let Some(method) = &body.method {
        check_method(method)?;
    }
    let row = visible(&state, &auth, id, Some(SALESFORCE), Action::Edit).await?;
    if let Some(name) = &body.name {
        if store::name_taken(&state.pool, auth.org_id, row.project_id, name, Some(id)).await? {
            return Err(ApiError::bad_request(format!(
                "An App Connection with the name \"{name}\" already exists"
            )));
        }
    }
    let (public_config, credentials_ct) = match &body.credentials {
        Some(input) => {
            let credentials = validate_credentials(&state, input).await?;
            let key = connections::sealing_key(&state, row.project_id).await?;
            (
                Some(json!({"instanceUrl": credentials.instance_url})),
                Some(connections::seal(&key, id, &credentials)),
            )
        }
        None => (None, None),
    };
    let new_name = body.name.clone();
    let row = store::update(
        &state.pool,
        id,
        ConnectionChange {
            name: body.name,
            description: body.description.map(Some),
            public_config,
            credentials_ct,
        },
    )
    .await
    .or_conflict(|| {
        ApiError::bad_request(format!(
            "An App Connection with the name \"{}\" already exists",
            new_name.unwrap_or_default()
        ))
    })?;
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
}

#[utoipa::path(delete, path = "/api/v1/app-connections/salesforce/{connectionId}", tag = "App Connections",
    params(("connectionId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = AppConnectionEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete_salesforce(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    let row = visible(&state, &auth, id, Some(SALESFORCE), Action::Delete).await?;
    let used = crate::store::rotations::count_for_connection(&state.pool, id).await?;
    if used > 0 {
        return Err(ApiError::bad_request(format!(
            "App Connection with ID {id} is used by {used} secret rotation(s); delete them first"
        )));
    }
    store::delete(&state.pool, id).await?;
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
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
    let row = visible(&state, &auth, id, Some(SALESFORCE), Action::Read).await?;
    let client = connections::salesforce_client(&state, &row).await?;
    let apps = client
        .list_apps()
        .await
        .map_err(|e| provider_error("Failed to list Salesforce apps", e))?;
    Ok(Json(OauthApps {
        apps: apps
            .into_iter()
            .map(|a| OauthAppView {
                identifier: a.identifier,
                developer_name: a.developer_name,
            })
            .collect(),
    }))
}
