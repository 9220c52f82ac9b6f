//! A rotation's page and its buttons, for every type. Each action calls the same service as
//! the API (`rotation::service`: same checks, permissions, audit log and messages) through
//! the registry, and shows its outcome on the page.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::pages;
use super::session::Session;
use super::{csrf_refusal, error_page, header, page, see_other, status_and_message, CsrfForm};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::from_value;
use crate::http::secret_rotations::{DeleteQuery, RotationView, RunView};
use crate::rotation::registry::ErasedService;
use crate::rotation::service::type_of;
use crate::state::AppState;

/// What a finished action says on the page (fixed texts: the query string cannot inject any).
const NOTICES: [(&str, &str); 5] = [
    (
        "created",
        "Created, and rotated once: the mapped secrets hold the new credential.",
    ),
    (
        "rotated",
        "Rotated: the new credential is published to the mapped secrets.",
    ),
    (
        "checked",
        "The active credential authenticates at the provider.",
    ),
    ("auto-on", "Auto-rotation is on."),
    (
        "auto-off",
        "Auto-rotation is off: only \"Rotate now\" rotates.",
    ),
];

#[derive(Deserialize)]
pub struct PageQuery {
    done: Option<String>,
}

/// The service of the rotation's type.
async fn service_of(
    state: &AppState,
    s: &Session,
    id: Uuid,
) -> ApiResult<&'static dyn ErasedService> {
    Ok(type_of(state, &s.auth, id).await?.service())
}

async fn load(state: &AppState, s: &Session, id: Uuid) -> ApiResult<(RotationView, Vec<RunView>)> {
    let service = service_of(state, s, id).await?;
    let rotation = service.get(state, &s.auth, id).await?;
    let runs = service.runs(state, &s.auth, id).await?;
    Ok((rotation, runs))
}

/// The page, with a notice or an error above it.
async fn show(
    state: &AppState,
    s: &Session,
    id: Uuid,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    match load(state, s, id).await {
        Ok((rotation, runs)) => page(
            status,
            pages::rotation(
                header(s),
                &rotation,
                &runs,
                notice,
                error,
                state.rotation_dev_mode,
            ),
        ),
        Err(e) => error_page(Some(s), e),
    }
}

fn parse(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::not_found(format!("Could not find Secret Rotation with ID \"{raw}\""))
    })
}

pub async fn view(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let id = match parse(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&s), e),
    };
    let notice = q
        .done
        .as_deref()
        .and_then(|d| NOTICES.iter().find(|(k, _)| *k == d))
        .map(|(_, text)| *text);
    show(&state, &s, id, StatusCode::OK, notice, None).await
}

fn back_to(id: Uuid, done: &str) -> Response {
    see_other(&format!("/console/rotations/{id}?done={done}"))
}

/// Runs `action` after the CSRF check; back to the page with `done`, or the page with the
/// error and the API's status.
async fn act<F>(
    state: &AppState,
    s: &Session,
    raw: &str,
    csrf: &CsrfForm,
    done: &str,
    action: F,
) -> Response
where
    F: std::future::Future<Output = ApiResult<()>>,
{
    if let Some(refused) = csrf_refusal(s, csrf) {
        return refused;
    }
    let id = match parse(raw) {
        Ok(id) => id,
        Err(e) => return error_page(Some(s), e),
    };
    match action.await {
        Ok(()) => back_to(id, done),
        Err(e) => {
            let (status, message) = status_and_message(e);
            show(state, s, id, status, None, Some(&message)).await
        }
    }
}

pub async fn rotate(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let action = async {
        let id = parse(&raw)?;
        service_of(&state, &s, id)
            .await?
            .rotate(&state, &s.auth, id)
            .await?;
        Ok(())
    };
    act(&state, &s, &raw, &form, "rotated", action).await
}

pub async fn check(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let action = async {
        let id = parse(&raw)?;
        service_of(&state, &s, id)
            .await?
            .check(&state, &s.auth, id)
            .await
    };
    act(&state, &s, &raw, &form, "checked", action).await
}

#[derive(Deserialize)]
pub struct AutoForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enabled: String,
}

pub async fn auto_rotation(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Form(form): Form<AutoForm>,
) -> Response {
    let enabled = form.enabled == "true";
    let action = async {
        // Through the API's own parsing and validation, as if sent as JSON.
        let id = parse(&raw)?;
        service_of(&state, &s, id)
            .await?
            .update(
                &state,
                &s.auth,
                id,
                serde_json::json!({"isAutoRotationEnabled": enabled}),
            )
            .await?;
        Ok(())
    };
    let done = if enabled { "auto-on" } else { "auto-off" };
    let csrf = CsrfForm { csrf: form.csrf };
    act(&state, &s, &raw, &csrf, done, action).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    delete_secrets: Option<String>,
    #[serde(default)]
    revoke_generated_credentials: Option<String>,
}

pub async fn delete(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    let csrf = CsrfForm { csrf: form.csrf };
    if let Some(refused) = csrf_refusal(&s, &csrf) {
        return refused;
    }
    let result = async {
        // A query string's values, as the API receives them.
        let flag = |on: bool| if on { "true" } else { "false" };
        let query: DeleteQuery = from_value(serde_json::json!({
            "deleteSecrets": flag(form.delete_secrets.is_some()),
            "revokeGeneratedCredentials": flag(form.revoke_generated_credentials.is_some()),
        }))?;
        let id = parse(&raw)?;
        service_of(&state, &s, id)
            .await?
            .delete(&state, &s.auth, id, &query)
            .await
            .map(|deleted| deleted.project_id)
    };
    match result.await {
        Ok(project) => see_other(&format!("/console/projects/{project}?done=deleted")),
        Err(e) => match parse(&raw) {
            Ok(id) => {
                let (status, message) = status_and_message(e);
                show(&state, &s, id, status, None, Some(&message)).await
            }
            Err(_) => error_page(Some(&s), e),
        },
    }
}
