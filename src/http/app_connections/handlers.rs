//! The handlers of one app's connection routes, generic over the connection type
//! (`routes::<C>()` instantiates them; reference §1.6).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{
    list_for, require, view, visible, AppConnectionEnvelope, AppConnectionList, ListQuery,
};
use crate::access::{project_access, Action, Subject};
use crate::auth::Auth;
use crate::connections::{self, types::ConnectionType};
use crate::error::{ApiError, ApiResult, OrConflict};
use crate::http::extract::{ApiInput, ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::app_connections::{self as store, ConnectionChange, NewConnection};
use crate::validation::check_slug;

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

fn check_method<C: ConnectionType>(method: &str) -> ApiResult<()> {
    if C::METHODS.contains(&method) {
        return Ok(());
    }
    let expected: Vec<String> = C::METHODS.iter().map(|m| format!("'{m}'")).collect();
    Err(ApiError::invalid(
        "invalid_enum_value",
        &["method"],
        format!(
            "Invalid enum value. Expected {}, received '{method}'",
            expected.join(" | ")
        ),
    ))
}

fn name_exists(name: &str) -> ApiError {
    ApiError::bad_request(format!(
        "An App Connection with the name \"{name}\" already exists"
    ))
}

pub async fn list<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AppConnectionList>> {
    Ok(Json(AppConnectionList {
        app_connections: list_for(&state, &auth, Some(C::APP), q.project_id).await?,
    }))
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

/// The connections the caller may use in a project's rotations: the project's own, and the
/// organization's when the caller is an org admin (only they may use one, see
/// `secret_rotations::handlers::require_org_connection_grant`).
pub async fn available<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AvailableConnections>> {
    if let Some(project_id) = q.project_id {
        project_access(&state, &auth, project_id)
            .await?
            .require(Action::Read, Subject::AppConnections)?;
    }
    let rows = list_for(&state, &auth, Some(C::APP), q.project_id).await?;
    Ok(Json(AvailableConnections {
        app_connections: rows
            .into_iter()
            .filter(|c| match c.project_id {
                Some(p) => q.project_id.is_none_or(|want| want == p),
                None => auth.is_org_admin(),
            })
            .map(|c| AvailableConnection {
                app: c.app,
                name: c.name,
                id: c.id,
                project_id: c.project_id,
                org_id: c.org_id,
            })
            .collect(),
    }))
}

pub async fn get<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    let row = visible(&state, &auth, id, Some(C::APP), Action::Read).await?;
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
}

/// `?projectId=` names the project whose connection it is; without it, an organization one.
pub async fn get_by_name<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid(
            "too_small",
            &["connectionName"],
            "Connection name required",
        ));
    }
    let missing = || {
        ApiError::not_found(format!(
            "Could not find App Connection with name \"{name}\""
        ))
    };
    let id = store::find_by_name(&state.pool, auth.org_id, q.project_id, C::APP, name)
        .await?
        .ok_or_else(missing)?;
    let row = visible(&state, &auth, id, Some(C::APP), Action::Read)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => missing(),
            other => other,
        })?;
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
}

/// Creates the connection after checking its credentials against the provider.
pub async fn create<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateConnection<C::Input>>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    check_slug("name", &body.name)?;
    check_method::<C>(&body.method)?;
    require(&state, &auth, body.project_id, Action::Create).await?;
    if store::name_taken(&state.pool, auth.org_id, body.project_id, &body.name, None).await? {
        return Err(name_exists(&body.name));
    }
    let credentials = C::validate(&state, &body.method, &body.credentials).await?;
    let id = Uuid::new_v4();
    let key = connections::sealing_key(&state, body.project_id).await?;
    let row = store::insert(
        &state.pool,
        NewConnection {
            id,
            org_id: auth.org_id,
            project_id: body.project_id,
            app: C::APP,
            method: &body.method,
            name: &body.name,
            description: body.description.as_deref(),
            public_config: C::public(&credentials),
            credentials_ct: connections::seal_as(&key, id, &credentials),
        },
    )
    .await
    .or_conflict(|| name_exists(&body.name))?;
    tracing::info!(connection_id = %id, app = C::APP, "app connection created");
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
}

pub async fn update<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateConnection<C::Input>>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    if let Some(name) = &body.name {
        check_slug("name", name)?;
    }
    if let Some(method) = &body.method {
        check_method::<C>(method)?;
    }
    let row = visible(&state, &auth, id, Some(C::APP), Action::Edit).await?;
    if let Some(name) = &body.name {
        if store::name_taken(&state.pool, auth.org_id, row.project_id, name, Some(id)).await? {
            return Err(name_exists(name));
        }
    }
    let (public_config, credentials_ct) = match &body.credentials {
        Some(input) => {
            let credentials = C::validate(&state, &row.method, input).await?;
            let key = connections::sealing_key(&state, row.project_id).await?;
            (
                Some(C::public(&credentials)),
                Some(connections::seal_as(&key, id, &credentials)),
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
    .or_conflict(|| name_exists(&new_name.unwrap_or_default()))?;
    Ok(Json(AppConnectionEnvelope {
        app_connection: view(&state, row),
    }))
}

/// Deletes a connection no rotation uses.
pub async fn delete<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    let row = visible(&state, &auth, id, Some(C::APP), Action::Delete).await?;
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
