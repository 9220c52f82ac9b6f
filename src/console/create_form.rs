//! The form that creates a rotation of a type described in `forms::ROTATION_FORMS` (all but
//! Salesforce, whose form picks an app: `create.rs`): a connection of the project, the type's
//! parameters, where the secrets go and when it rotates. The filled form becomes the API's
//! JSON body, validated and handled exactly as `POST /api/v2/secret-rotations/{type}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::create::schedule;
use super::forms::{self, RotationForm, Values};
use super::pages::{self, NewTypedRotation};
use super::session::Session;
use super::{
    csrf_refusal, error_page, form_context, header, page, see_other, status_and_message, CsrfForm,
};
use crate::error::{ApiError, ApiResult};
use crate::rotation::registry::{self, RegisteredType};
use crate::state::AppState;

/// The form field of a mapped secret's name: `usernameName` for `username`.
pub fn secret_field(field: &str) -> String {
    format!("{field}Name")
}

/// What a new form starts with: the API's defaults, the type's, and Infisical's secret names.
fn defaults(form: &RotationForm, t: &dyn RegisteredType) -> Values {
    let mut values = forms::defaults(form.parameters);
    for (k, v) in [
        ("environment", "dev"),
        ("secretPath", "/"),
        ("autoRotation", "true"),
        ("rotationInterval", "30"),
        ("rotateAt", "00:00"),
    ] {
        values.insert(k.into(), v.into());
    }
    for (field, name) in t.secrets() {
        values.insert(secret_field(field), name.to_string());
    }
    values
}

fn body(
    form: &RotationForm,
    t: &dyn RegisteredType,
    v: &Values,
    project_id: Uuid,
) -> ApiResult<Value> {
    let get = |k: &str| v.get(k).map(|s| s.trim()).unwrap_or_default();
    let (interval, rotate_at) = schedule(get("rotationInterval"), get("rotateAt"))?;
    let mut mapping = Map::new();
    for (field, _) in t.secrets() {
        mapping.insert(field.to_string(), json!(get(&secret_field(field))));
    }
    let mut body = json!({
        "name": get("name"),
        "projectId": project_id.to_string(),
        "description": (!get("description").is_empty()).then(|| get("description")),
        "connectionId": get("connectionId"),
        "environment": get("environment"),
        "secretPath": get("secretPath"),
        "isAutoRotationEnabled": v.contains_key("autoRotation"),
        "rotationInterval": interval,
        "rotateAtUtc": rotate_at,
        "parameters": forms::body(form.parameters, v),
        "secretsMapping": mapping,
    });
    let temporary = forms::body(form.temporary, v);
    if temporary.as_object().is_some_and(|t| !t.is_empty()) {
        body["temporaryParameters"] = temporary;
    }
    Ok(body)
}

async fn render(
    state: &AppState,
    s: &Session,
    (form, t): (&'static RotationForm, &'static dyn RegisteredType),
    project_id: Uuid,
    values: &Values,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    match form_context(state, s, project_id, t.app()).await {
        Ok((project, connections, environments)) => {
            let view = NewTypedRotation {
                project,
                connections,
                environments,
                form,
                secrets: t.secrets(),
            };
            page(
                status,
                pages::new_typed_rotation(header(s), &view, values, error, state.rotation_dev_mode),
            )
        }
        Err(e) => error_page(Some(s), e),
    }
}

fn project(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse::<Uuid>()
        .map_err(|_| ApiError::not_found(format!("Project with ID '{raw}' not found")))
}

/// The form and its registered type.
fn typed(form: &'static RotationForm) -> (&'static RotationForm, &'static dyn RegisteredType) {
    let t = registry::by_slug(form.slug).expect("every console form names a registered type");
    (form, t)
}

pub async fn form(
    form: &'static RotationForm,
    state: AppState,
    s: Session,
    raw: String,
) -> Response {
    let typed = typed(form);
    match project(&raw) {
        Ok(id) => {
            let values = defaults(form, typed.1);
            render(&state, &s, typed, id, &values, StatusCode::OK, None).await
        }
        Err(e) => error_page(Some(&s), e),
    }
}

pub async fn create(
    form: &'static RotationForm,
    state: AppState,
    s: Session,
    raw: String,
    posted: Vec<(String, String)>,
) -> Response {
    let values: Values = posted.into_iter().collect();
    let csrf = CsrfForm {
        csrf: values.get("csrf").cloned().unwrap_or_default(),
    };
    if let Some(refused) = csrf_refusal(&s, &csrf) {
        return refused;
    }
    let project_id = match project(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&s), e),
    };
    let typed = typed(form);
    let created = async {
        let body = body(form, typed.1, &values, project_id)?;
        let created = typed.1.service().create(&state, &s.auth, body).await?;
        Ok::<_, ApiError>(created.id)
    };
    match created.await {
        Ok(id) => see_other(&format!("/console/rotations/{id}?done=created")),
        Err(e) => {
            let (status, message) = status_and_message(e);
            let kept = forms::without_secrets(form.parameters, values);
            let kept = forms::without_secrets(form.temporary, kept);
            render(&state, &s, typed, project_id, &kept, status, Some(&message)).await
        }
    }
}

/// The routes of every form: `/console/projects/{projectId}/rotations/new-{short}`.
pub fn routes() -> axum::Router<AppState> {
    let mut router = axum::Router::new();
    for f in forms::ROTATION_FORMS {
        router = router.route(
            &format!("/console/projects/{{projectId}}/rotations/new-{}", f.short),
            axum::routing::get(
                move |State(state): State<AppState>, s: Session, Path(raw): Path<String>| {
                    form(f, state, s, raw)
                },
            )
            .post(
                move |State(state): State<AppState>,
                      s: Session,
                      Path(raw): Path<String>,
                      Form(posted): Form<Vec<(String, String)>>| {
                    create(f, state, s, raw, posted)
                },
            ),
        );
    }
    router
}
