//! The handlers of one rotation type's routes, generic over the type (`routes::<T>()`
//! instantiates them): each unwraps the request and calls `rotation::service`, which the
//! console calls too.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use uuid::Uuid;

use super::wire::*;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::http::extract::{ApiInput, ApiJson, ApiPath};
use crate::rotation::api::RotationApi;
use crate::rotation::service;
use crate::state::AppState;

fn envelope(view: RotationView) -> Json<RotationEnvelope> {
    Json(RotationEnvelope {
        secret_rotation: view,
    })
}

pub async fn list<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ProjectQuery>,
) -> ApiResult<Json<RotationList>> {
    Ok(Json(RotationList {
        secret_rotations: service::list::<T>(&state, &auth, &q.project_id).await?,
    }))
}

pub async fn get<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RotationEnvelope>> {
    service::get::<T>(&state, &auth, id).await.map(envelope)
}

pub async fn get_by_name<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiInput(q): ApiInput<ByNameQuery>,
) -> ApiResult<Json<RotationEnvelope>> {
    service::get_by_name::<T>(&state, &auth, &name, &q)
        .await
        .map(envelope)
}

pub async fn create<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateRotation<T::Input, T::Mapping>>,
) -> ApiResult<Json<RotationEnvelope>> {
    service::create::<T>(&state, &auth, body)
        .await
        .map(envelope)
}

pub async fn update<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateRotation<T::Input, T::Mapping>>,
) -> ApiResult<Json<RotationEnvelope>> {
    service::update::<T>(&state, &auth, id, body)
        .await
        .map(envelope)
}

pub async fn delete<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiInput(q): ApiInput<DeleteQuery>,
) -> ApiResult<Json<RotationEnvelope>> {
    service::delete::<T>(&state, &auth, id, &q)
        .await
        .map(envelope)
}

pub async fn generated_credentials<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<GeneratedCredentials<T::Credential>>> {
    service::generated_credentials::<T>(&state, &auth, id)
        .await
        .map(Json)
}

pub async fn rotate_secrets<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RotationEnvelope>> {
    service::rotate_secrets::<T>(&state, &auth, id)
        .await
        .map(envelope)
}

pub async fn check_credentials<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    service::check_credentials::<T>(&state, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn runs<T: RotationApi>(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RunList>> {
    Ok(Json(RunList {
        runs: service::runs::<T>(&state, &auth, id).await?,
    }))
}
