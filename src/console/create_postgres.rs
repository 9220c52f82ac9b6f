//! The form that creates a PostgreSQL rotation: a connection of the project, the two
//! existing users, where the secrets go and when it rotates. The filled form becomes the
//! API's JSON body, validated and handled exactly as
//! `POST /api/v2/secret-rotations/postgres-credentials`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::create::schedule;
use super::pages::{self, NewPostgresRotation};
use super::session::Session;
use super::{
    csrf_refusal, error_page, form_context, header, page, see_other, status_and_message, CsrfForm,
};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::from_value;
use crate::providers::postgres::connection::APP;
use crate::providers::postgres::rotation::PostgresCredentials;
use crate::state::AppState;

/// The form's fields, as posted (and as shown again after an error).
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
pub struct Fields {
    pub csrf: String,
    pub name: String,
    pub description: String,
    pub connection_id: String,
    pub username1: String,
    pub username2: String,
    pub environment: String,
    pub secret_path: String,
    pub username_name: String,
    pub password_name: String,
    pub auto_rotation: Option<String>,
    pub rotation_interval: String,
    pub rotate_at: String,
}

impl Fields {
    /// What a new form starts with: the API's defaults and Infisical's secret names.
    fn defaults() -> Fields {
        Fields {
            environment: "dev".into(),
            secret_path: "/".into(),
            auto_rotation: Some("true".into()),
            rotation_interval: "30".into(),
            rotate_at: "00:00".into(),
            username_name: "POSTGRES_DB_USERNAME".into(),
            password_name: "POSTGRES_DB_PASSWORD".into(),
            ..Fields::default()
        }
    }

    fn body(&self, project_id: Uuid) -> ApiResult<serde_json::Value> {
        let (interval, rotate_at) = schedule(&self.rotation_interval, &self.rotate_at)?;
        Ok(json!({
            "name": self.name.trim(),
            "projectId": project_id.to_string(),
            "description": (!self.description.trim().is_empty()).then(|| self.description.trim()),
            "connectionId": self.connection_id,
            "environment": self.environment,
            "secretPath": self.secret_path,
            "isAutoRotationEnabled": self.auto_rotation.is_some(),
            "rotationInterval": interval,
            "rotateAtUtc": rotate_at,
            "parameters": {"username1": self.username1.trim(), "username2": self.username2.trim()},
            "secretsMapping": {"username": self.username_name.trim(), "password": self.password_name.trim()},
        }))
    }
}

async fn render(
    state: &AppState,
    s: &Session,
    project_id: Uuid,
    fields: &Fields,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let result = async {
        let (project, connections, environments) = form_context(state, s, project_id, APP).await?;
        Ok::<_, ApiError>(NewPostgresRotation {
            project,
            connections,
            environments,
        })
    };
    match result.await {
        Ok(view) => page(
            status,
            pages::new_postgres_rotation(header(s), &view, fields, error, state.rotation_dev_mode),
        ),
        Err(e) => error_page(Some(s), e),
    }
}

fn project(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse::<Uuid>()
        .map_err(|_| ApiError::not_found(format!("Project with ID '{raw}' not found")))
}

pub async fn form(State(state): State<AppState>, s: Session, Path(raw): Path<String>) -> Response {
    match project(&raw) {
        Ok(id) => render(&state, &s, id, &Fields::defaults(), StatusCode::OK, None).await,
        Err(e) => error_page(Some(&s), e),
    }
}

pub async fn create(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let csrf = CsrfForm {
        csrf: fields.csrf.clone(),
    };
    if let Some(refused) = csrf_refusal(&s, &csrf) {
        return refused;
    }
    let project_id = match project(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&s), e),
    };
    let created = async {
        let body = from_value(fields.body(project_id)?)?;
        let created =
            crate::rotation::service::create::<PostgresCredentials>(&state, &s.auth, body).await?;
        Ok::<_, ApiError>(created.id)
    };
    match created.await {
        Ok(id) => see_other(&format!("/console/rotations/{id}?done=created")),
        Err(e) => {
            let (status, message) = status_and_message(e);
            render(&state, &s, project_id, &fields, status, Some(&message)).await
        }
    }
}
