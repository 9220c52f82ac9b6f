//! The handlers of one app's connection routes, generic over the connection type
//! (`routes::<C>()` instantiates them): each unwraps the request and calls
//! `connections::service`, which the console calls too.

use axum::extract::State;
use axum::Json;
use uuid::Uuid;

use super::{
    AppConnectionEnvelope, AppConnectionList, AvailableConnections, CreateConnection, ListQuery,
    UpdateConnection,
};
use crate::auth::Auth;
use crate::connections::service;
use crate::connections::types::ConnectionType;
use crate::error::ApiResult;
use crate::http::extract::{ApiInput, ApiJson, ApiPath};
use crate::state::AppState;

fn envelope(view: super::AppConnectionView) -> Json<AppConnectionEnvelope> {
    Json(AppConnectionEnvelope {
        app_connection: view,
    })
}

pub async fn list<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AppConnectionList>> {
    Ok(Json(AppConnectionList {
        app_connections: service::list::<C>(&state, &auth, q.project_id).await?,
    }))
}

pub async fn available<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AvailableConnections>> {
    Ok(Json(AvailableConnections {
        app_connections: service::available::<C>(&state, &auth, q.project_id).await?,
    }))
}

pub async fn get<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    service::get::<C>(&state, &auth, id).await.map(envelope)
}

pub async fn get_by_name<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiInput(q): ApiInput<ListQuery>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    service::get_by_name::<C>(&state, &auth, &name, q.project_id)
        .await
        .map(envelope)
}

pub async fn create<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateConnection<C::Input>>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    service::create::<C>(&state, &auth, body)
        .await
        .map(envelope)
}

pub async fn update<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateConnection<C::Input>>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    service::update::<C>(&state, &auth, id, body)
        .await
        .map(envelope)
}

pub async fn delete<C: ConnectionType>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AppConnectionEnvelope>> {
    service::delete::<C>(&state, &auth, id).await.map(envelope)
}
