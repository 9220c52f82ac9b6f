//! A project's app connections, of every app: list, create (the service checks the
//! credentials against the provider before saving them: a Salesforce token, a database or
//! Redis login), check (Salesforce: list the org's External Client Apps; the others: log in)
//! and delete; the forms are `forms::CONNECTION_FORMS`. Each form goes through the API's own parsing and validation, and its service.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::forms::{self, ConnectionForm};
use super::pages;
use super::session::Session;
use super::{
    csrf_refusal, error_page, header, page, see_other, status_and_message, usable_connections,
    CsrfForm,
};
use crate::access::{project_access, Action, Subject};
use crate::connections::types::{by_app, ConnectionType};
use crate::error::ApiError;
use crate::providers::salesforce::connection::{oauth_apps, SalesforceApp};
use crate::state::AppState;

/// A connections page's posted create form (`app` says which), or nothing.
pub type Fields = super::forms::Values;

fn posted(form: Vec<(String, String)>) -> Fields {
    form.into_iter().collect()
}

/// The API's create body for the form that was sent.
fn body(form: &ConnectionForm, fields: &Fields, project: Uuid) -> serde_json::Value {
    json!({
        "name": fields.get("name").map(|n| n.trim()).unwrap_or_default(),
        "method": form.method,
        "projectId": project,
        "credentials": forms::body(form.fields, fields),
    })
}

fn project_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("Project with ID '{raw}' not found")))
}

async fn render(
    state: &AppState,
    s: &Session,
    project_id: Uuid,
    fields: &Fields,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Response {
    let result = async {
        let access = project_access(state, &s.auth, project_id).await?;
        access.require(Action::Read, Subject::SecretRotation)?;
        // The project's own: organization-wide ones are not this page's to delete.
        let mut connections = usable_connections(state, s.auth.org_id, project_id, None).await?;
        connections.retain(|c| c.project_id == Some(project_id));
        Ok::<_, ApiError>((access.project, connections))
    };
    match result.await {
        Ok((project, connections)) => page(
            status,
            pages::connections(header(s), &project, &connections, fields, notice, error),
        ),
        Err(e) => error_page(Some(s), e),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    apps: Option<usize>,
}

pub async fn view(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let id = match project_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&s), e),
    };
    let notice = match q.done.as_deref() {
        Some("created") => Some(
            "Connection created: its credentials were checked against the provider.".to_string(),
        ),
        Some("deleted") => Some("Connection deleted.".to_string()),
        Some("checked") => Some(match q.apps {
            Some(apps) => {
                format!("The connection works: Salesforce lists {apps} External Client App(s).")
            }
            None => "The connection works: Rotary logged in with it.".to_string(),
        }),
        _ => None,
    };
    render(
        &state,
        &s,
        id,
        &Fields::default(),
        StatusCode::OK,
        notice.as_deref(),
        None,
    )
    .await
}

fn back_to(project: Uuid, done: &str) -> Response {
    see_other(&format!(
        "/console/projects/{project}/connections?done={done}"
    ))
}

pub async fn create(
    State(state): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let fields = posted(form);
    let csrf = CsrfForm {
        csrf: fields.get("csrf").cloned().unwrap_or_default(),
    };
    if let Some(refused) = csrf_refusal(&s, &csrf) {
        return refused;
    }
    let id = match project_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&s), e),
    };
    let app = fields.get("app").cloned().unwrap_or_default();
    let (Some(form), Some(registered)) = (forms::connection_form(&app), by_app(&app)) else {
        return error_page(
            Some(&s),
            ApiError::bad_request(format!("There is no {app:?} connection form")),
        );
    };
    let created = registered.create(&state, &s.auth, body(form, &fields, id));
    match created.await {
        Ok(_) => back_to(id, "created"),
        Err(e) => {
            let (status, message) = status_and_message(e);
            let kept = forms::without_secrets(form.fields, fields);
            render(&state, &s, id, &kept, status, None, Some(&message)).await
        }
    }
}

/// Check and delete act on one connection of the project.
async fn on_connection(
    state: &AppState,
    s: &Session,
    raw_project: &str,
    raw_connection: &str,
    form: &CsrfForm,
    check: bool,
) -> Response {
    if let Some(refused) = csrf_refusal(s, form) {
        return refused;
    }
    let project = match project_id(raw_project) {
        Ok(id) => id,
        Err(e) => return error_page(Some(s), e),
    };
    let result = async {
        let id = raw_connection.parse::<Uuid>().map_err(|_| {
            ApiError::not_found(format!(
                "Could not find App Connection with ID {raw_connection}"
            ))
        })?;
        if !check {
            crate::connections::service::delete_of(state, &s.auth, id, None).await?;
            return Ok("deleted".to_string());
        }
        let row = crate::store::app_connections::find(&state.pool, s.auth.org_id, id)
            .await?
            .ok_or_else(|| crate::http::app_connections::not_found(id))?;
        if row.app == SalesforceApp::APP {
            // Listing the org's apps checks the credentials and says what the picker will offer.
            let apps = oauth_apps(state, &s.auth, id).await?;
            return Ok(format!("checked&apps={}", apps.len()));
        }
        let registered =
            by_app(&row.app).ok_or_else(|| crate::http::app_connections::not_found(id))?;
        registered.check(state, &s.auth, id).await?;
        Ok::<_, ApiError>("checked".to_string())
    };
    match result.await {
        Ok(done) => back_to(project, &done),
        Err(e) => {
            let (status, message) = status_and_message(e);
            render(
                state,
                s,
                project,
                &Fields::default(),
                status,
                None,
                Some(&message),
            )
            .await
        }
    }
}

pub async fn check(
    State(state): State<AppState>,
    s: Session,
    Path((project, connection)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    on_connection(&state, &s, &project, &connection, &form, true).await
}

pub async fn delete(
    State(state): State<AppState>,
    s: Session,
    Path((project, connection)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    on_connection(&state, &s, &project, &connection, &form, false).await
}
