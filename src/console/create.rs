//! The form that creates a Salesforce rotation. Without JavaScript the External Client App
//! picker is a second step: choosing the connection reloads the form with that connection's
//! apps (the API's oauth-apps). The filled form becomes the API's JSON body, validated and
//! handled exactly as `POST /api/v2/secret-rotations/salesforce-oauth-credentials`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::pages::{self, NewRotation};
use super::session::Session;
use super::{
    csrf_refusal, error_page, form_context, header, page, plain_message, see_other,
    status_and_message, CsrfForm,
};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::from_value;
use crate::state::AppState;

/// The form's fields, as posted (and as shown again after an error).
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
pub struct Fields {
    pub csrf: String,
    pub name: String,
    pub description: String,
    pub connection_id: String,
    pub environment: String,
    pub secret_path: String,
    /// `identifier|developerName` of the picked app.
    pub app: String,
    pub auto_rotation: Option<String>,
    pub rotation_interval: String,
    pub rotate_at: String,
    pub consumer_key_name: String,
    pub consumer_secret_name: String,
}

impl Fields {
    /// What a new form starts with: the API's defaults and the seed's secret names.
    fn defaults(connection_id: Option<String>) -> Fields {
        Fields {
            connection_id: connection_id.unwrap_or_default(),
            environment: "dev".into(),
            secret_path: "/".into(),
            auto_rotation: Some("true".into()),
            rotation_interval: "30".into(),
            rotate_at: "00:00".into(),
            consumer_key_name: "SALESFORCE_CONSUMER_KEY".into(),
            consumer_secret_name: "SALESFORCE_CONSUMER_SECRET".into(),
            ..Fields::default()
        }
    }
}

/// Everything the form shows besides the fields: the project's connections and
/// environments, and the picked connection's apps (or why they could not be listed).
async fn render(
    state: &AppState,
    s: &Session,
    project_id: Uuid,
    fields: &Fields,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let result = async {
        let (project, connections, environments) =
            form_context(state, s, project_id, "salesforce").await?;
        let (apps, apps_error) = match fields.connection_id.parse::<Uuid>() {
            Ok(id) => {
                match crate::providers::salesforce::connection::oauth_apps(state, &s.auth, id).await
                {
                    Ok(apps) => (apps, None),
                    Err(e) => (Vec::new(), Some(plain_message(&e))),
                }
            }
            Err(_) => (Vec::new(), None),
        };
        Ok::<_, ApiError>(NewRotation {
            project,
            connections,
            environments,
            apps,
            apps_error,
        })
    };
    match result.await {
        Ok(view) => page(
            status,
            pages::new_rotation(header(s), &view, fields, error, state.rotation_dev_mode),
        ),
        Err(e) => error_page(Some(s), e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FormQuery {
    connection_id: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Query(q): Query<FormQuery>,
) -> Response {
    match raw.parse::<Uuid>() {
        Ok(project_id) => {
            render(
                &state,
                &s,
                project_id,
                &Fields::defaults(q.connection_id),
                StatusCode::OK,
                None,
            )
            .await
        }
        Err(_) => error_page(
            Some(&s),
            ApiError::not_found(format!("Project with ID '{raw}' not found")),
        ),
    }
}

/// The schedule fields as the API takes them: `(rotationInterval, rotateAtUtc)`.
pub(super) fn schedule(interval: &str, rotate_at: &str) -> ApiResult<(i64, serde_json::Value)> {
    let (hours, minutes) = rotate_at.split_once(':').unwrap_or((rotate_at, "0"));
    let number = |field: &str, text: &str| {
        text.trim().parse::<i64>().map_err(|_| {
            ApiError::invalid(
                "invalid_type",
                &[field],
                format!("{field} must be a whole number"),
            )
        })
    };
    Ok((
        number("rotationInterval", interval)?,
        json!({"hours": number("hours", hours)?, "minutes": number("minutes", minutes)?}),
    ))
}

/// The API's create body from the form.
fn body(project_id: Uuid, f: &Fields) -> ApiResult<serde_json::Value> {
    let (app_id, app_name) = f.app.split_once('|').unwrap_or(("", ""));
    let (interval, rotate_at) = schedule(&f.rotation_interval, &f.rotate_at)?;
    Ok(json!({
        "name": f.name.trim(),
        "projectId": project_id.to_string(),
        "description": (!f.description.trim().is_empty()).then(|| f.description.trim()),
        "connectionId": f.connection_id,
        "environment": f.environment,
        "secretPath": f.secret_path,
        "isAutoRotationEnabled": f.auto_rotation.is_some(),
        "rotationInterval": interval,
        "rotateAtUtc": rotate_at,
        "parameters": {"appId": app_id, "appName": app_name},
        "secretsMapping": {"consumerKey": f.consumer_key_name.trim(), "consumerSecret": f.consumer_secret_name.trim()},
    }))
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
    let Ok(project_id) = raw.parse::<Uuid>() else {
        return error_page(
            Some(&s),
            ApiError::not_found(format!("Project with ID '{raw}' not found")),
        );
    };
    let created = async {
        let body = from_value(body(project_id, &fields)?)?;
        let created = crate::rotation::service::create::<
            crate::providers::salesforce::rotation::SalesforceOAuthCredentials,
        >(&state, &s.auth, body)
        .await?;
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
