//! A project's app connections, of every app: list, create (the service checks the
//! credentials against the provider before saving them: a Salesforce token, a PostgreSQL
//! login), check (Salesforce: list the org's External Client Apps; PostgreSQL: log in) and
//! delete. Each form goes through the API's own parsing and validation, and its service.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::pages;
use super::session::Session;
use super::{
    csrf_refusal, error_page, header, page, see_other, status_and_message, usable_connections,
    CsrfForm,
};
use crate::access::{project_access, Action, Subject};
use crate::error::ApiError;
use crate::http::extract::from_value;
use crate::providers::postgres::connection::PostgresApp;
use crate::providers::salesforce::connection::{oauth_apps, SalesforceApp};
use crate::state::AppState;

/// The create forms' fields, shown again after an error (never a secret). `app` says which
/// form was sent.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Fields {
    pub csrf: String,
    pub app: String,
    pub name: String,
    pub instance_url: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub host: String,
    pub port: String,
    pub database: String,
    pub username: String,
    pub password: String,
    pub ssl_enabled: Option<String>,
    pub ssl_reject_unauthorized: Option<String>,
    pub ssl_certificate: String,
}

impl Fields {
    /// The API's create body for the form that was sent.
    fn body(&self, project: Uuid) -> serde_json::Value {
        if self.app == POSTGRES {
            return json!({
                "name": self.name.trim(),
                "method": "username-and-password",
                "projectId": project,
                "credentials": {
                    "host": self.host.trim(),
                    "port": self.port.trim(),
                    "database": self.database.trim(),
                    "username": self.username.trim(),
                    "password": self.password,
                    "sslEnabled": self.ssl_enabled.is_some(),
                    "sslRejectUnauthorized": self.ssl_reject_unauthorized.is_some(),
                    "sslCertificate": self.ssl_certificate,
                },
            });
        }
        json!({
            "name": self.name.trim(),
            "method": "client-credentials",
            "projectId": project,
            "credentials": {
                "instanceUrl": self.instance_url.trim(),
                "consumerKey": self.consumer_key.trim(),
                "consumerSecret": self.consumer_secret.trim(),
            },
        })
    }
}

const POSTGRES: &str = crate::providers::postgres::connection::APP;

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
            None => "The connection works: it logged in and ran SELECT 1.".to_string(),
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
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(refused) = csrf_refusal(
        &s,
        &CsrfForm {
            csrf: fields.csrf.clone(),
        },
    ) {
        return refused;
    }
    let id = match project_id(&raw) {
        Ok(id) => id,
        Err(e) => return error_page(Some(&s), e),
    };
    let created = async {
        let body = fields.body(id);
        if fields.app == POSTGRES {
            return crate::connections::service::create::<PostgresApp>(
                &state,
                &s.auth,
                from_value(body)?,
            )
            .await;
        }
        let body = from_value(body)?;
        crate::connections::service::create::<SalesforceApp>(&state, &s.auth, body).await
    };
    match created.await {
        Ok(_) => back_to(id, "created"),
        Err(e) => {
            let (status, message) = status_and_message(e);
            let kept = Fields {
                consumer_secret: String::new(),
                password: String::new(),
                ..fields
            };
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
        let row = crate::store::app_connections::find(&state.pool, s.auth.org_id, id).await?;
        match row.as_ref().map(|r| r.app.as_str()) {
            Some(POSTGRES) => {
                crate::providers::postgres::connection::check(state, &s.auth, id).await?;
                return Ok::<_, ApiError>("checked".to_string());
            }
            Some(crate::providers::mysql::connection::APP) => {
                crate::providers::mysql::connection::check(state, &s.auth, id).await?;
                return Ok("checked".to_string());
            }
            _ => {}
        }
        let apps = oauth_apps(state, &s.auth, id).await?;
        Ok(format!("checked&apps={}", apps.len()))
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
