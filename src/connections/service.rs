//! What can be done to an app connection (list, available, get, get by name, create,
//! update, delete), for the API's handlers and the console alike: permissions, validation
//! against the provider, sealing. Generic over the connection type (reference §1.6).

use uuid::Uuid;

use crate::access::{project_access, Action, Subject};
use crate::auth::Auth;
use crate::connections::{self, types::ConnectionType};
use crate::error::{ApiError, ApiResult, OrConflict};
use crate::http::app_connections::{
    list_for, require, view, visible, AppConnectionView, AvailableConnection, CreateConnection,
    UpdateConnection,
};
use crate::state::AppState;
use crate::store::app_connections::{self as store, ConnectionChange, NewConnection};
use crate::validation::check_slug;

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
    state: &AppState,
    auth: &Auth,
    project_id: Option<Uuid>,
) -> ApiResult<Vec<AppConnectionView>> {
    list_for(state, auth, Some(C::APP), project_id).await
}

/// The connections the caller may use in a project's rotations: the project's own, and the
/// organization's when the caller is an org admin (only they may use one, see
/// `secret_rotations::handlers::require_org_connection_grant`).
pub async fn available<C: ConnectionType>(
    state: &AppState,
    auth: &Auth,
    project_id: Option<Uuid>,
) -> ApiResult<Vec<AvailableConnection>> {
    if let Some(project_id) = project_id {
        project_access(state, auth, project_id)
            .await?
            .require(Action::Read, Subject::AppConnections)?;
    }
    let rows = list_for(state, auth, Some(C::APP), project_id).await?;
    Ok(rows
        .into_iter()
        .filter(|c| match c.project_id {
            Some(p) => project_id.is_none_or(|want| want == p),
            None => auth.is_org_admin(),
        })
        .map(|c| AvailableConnection {
            app: c.app,
            name: c.name,
            id: c.id,
            project_id: c.project_id,
            org_id: c.org_id,
        })
        .collect())
}

pub async fn get<C: ConnectionType>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<AppConnectionView> {
    let row = visible(state, auth, id, Some(C::APP), Action::Read).await?;
    Ok(view(state, row))
}

/// `?projectId=` names the project whose connection it is; without it, an organization one.
pub async fn get_by_name<C: ConnectionType>(
    state: &AppState,
    auth: &Auth,
    name: &str,
    project_id: Option<Uuid>,
) -> ApiResult<AppConnectionView> {
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
    let id = store::find_by_name(&state.pool, auth.org_id, project_id, C::APP, name)
        .await?
        .ok_or_else(missing)?;
    let row = visible(state, auth, id, Some(C::APP), Action::Read)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => missing(),
            other => other,
        })?;
    Ok(view(state, row))
}

/// Creates the connection after checking its credentials against the provider.
pub async fn create<C: ConnectionType>(
    state: &AppState,
    auth: &Auth,
    body: CreateConnection<C::Input>,
) -> ApiResult<AppConnectionView> {
    check_slug("name", &body.name)?;
    check_method::<C>(&body.method)?;
    require(state, auth, body.project_id, Action::Create).await?;
    if store::name_taken(&state.pool, auth.org_id, body.project_id, &body.name, None).await? {
        return Err(name_exists(&body.name));
    }
    let credentials = C::validate(state, auth.org_id, &body.method, &body.credentials).await?;
    let id = Uuid::new_v4();
    let key = connections::sealing_key(state, body.project_id).await?;
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
    Ok(view(state, row))
}

pub async fn update<C: ConnectionType>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    body: UpdateConnection<C::Input>,
) -> ApiResult<AppConnectionView> {
    if let Some(name) = &body.name {
        check_slug("name", name)?;
    }
    if let Some(method) = &body.method {
        check_method::<C>(method)?;
    }
    let row = visible(state, auth, id, Some(C::APP), Action::Edit).await?;
    if let Some(name) = &body.name {
        if store::name_taken(&state.pool, auth.org_id, row.project_id, name, Some(id)).await? {
            return Err(name_exists(name));
        }
    }
    let (public_config, credentials_ct) = match &body.credentials {
        Some(input) => {
            let credentials = C::validate(state, row.org_id, &row.method, input).await?;
            let key = connections::sealing_key(state, row.project_id).await?;
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
    Ok(view(state, row))
}

/// Deletes a connection no rotation uses.
pub async fn delete<C: ConnectionType>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> ApiResult<AppConnectionView> {
    delete_of(state, auth, id, Some(C::APP)).await
}

/// Deletes a connection of `app` (or of any app: the console's list holds every app's).
pub async fn delete_of(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    app: Option<&str>,
) -> ApiResult<AppConnectionView> {
    let row = visible(state, auth, id, app, Action::Delete).await?;
    let used = crate::store::rotations::count_for_connection(&state.pool, id).await?;
    if used > 0 {
        return Err(ApiError::bad_request(format!(
            "App Connection with ID {id} is used by {used} secret rotation(s); delete them first"
        )));
    }
    store::delete(&state.pool, id).await?;
    Ok(view(state, row))
}
