//! Infisical's v2 secret-rotations API, for every rotation type, plus Rotary's
//! `check-credentials` and run history. One set of handlers (`handlers`) is instantiated per
//! type by `routes::<T>()`, and `openapi::document::<T>()` describes the same routes; the
//! registry (`rotation::registry::TYPES`) lists the types. Creating and rotating run the
//! journaled engine synchronously; the answer reflects what is published.

pub mod handlers;
pub mod openapi;
pub mod wire;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::http::extract::ApiInput;
use crate::rotation::api::RotationApi;
use crate::rotation::registry;
use crate::state::AppState;

pub use crate::rotation::service::visible;
pub use wire::*;

/// The routes of one type, under `/api/v2/secret-rotations/{T::TYPE}`.
pub fn routes<T: RotationApi>() -> Router<AppState> {
    use handlers as h;
    let base = format!("/api/v2/secret-rotations/{}", T::TYPE);
    Router::new()
        .route(&base, get(h::list::<T>).post(h::create::<T>))
        .route(
            &format!("{base}/rotation-name/{{rotationName}}"),
            get(h::get_by_name::<T>),
        )
        .route(
            &format!("{base}/{{rotationId}}"),
            get(h::get::<T>)
                .patch(h::update::<T>)
                .delete(h::delete::<T>),
        )
        .route(
            &format!("{base}/{{rotationId}}/generated-credentials"),
            get(h::generated_credentials::<T>),
        )
        .route(
            &format!("{base}/{{rotationId}}/rotate-secrets"),
            post(h::rotate_secrets::<T>),
        )
        .route(
            &format!("{base}/{{rotationId}}/check-credentials"),
            post(h::check_credentials::<T>),
        )
        .route(&format!("{base}/{{rotationId}}/runs"), get(h::runs::<T>))
}

#[utoipa::path(get, path = "/api/v2/secret-rotations/options", tag = "Secret Rotations", security(("bearer" = [])),
    responses((status = 200, body = RotationOptions), (status = "4XX", body = ErrorBody)))]
pub async fn options(_auth: Auth) -> Json<RotationOptions> {
    let mut options: Vec<RotationOption> = registry::public().map(|t| t.option()).collect();
    // Infisical sorts with localeCompare, which ignores case: Auth0 before AWS.
    options.sort_by_key(|o| o.name.to_lowercase());
    Json(RotationOptions {
        secret_rotation_options: options,
    })
}

#[utoipa::path(get, path = "/api/v2/secret-rotations", tag = "Secret Rotations", security(("bearer" = [])),
    params(("projectId" = String, Query)),
    responses((status = 200, body = RotationList), (status = "4XX", body = ErrorBody)))]
pub async fn list_all(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(q): ApiInput<ProjectQuery>,
) -> ApiResult<Json<RotationList>> {
    Ok(Json(RotationList {
        secret_rotations: visible(&state, &auth, &q.project_id, None).await?,
    }))
}
