//! The web console, served by `rotary serve` itself under `/console` (and `/`): server-rendered
//! pages, no JavaScript build. Every page reads through the same services and permissions as
//! the API; errors are the API's messages, shown as a page.

mod connections;
mod create;
mod create_form;
mod forms;
mod pages;
mod rotation;
pub mod session;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::Markup;
use serde::Deserialize;
use uuid::Uuid;

use crate::access::{project_access, Action, Subject};
use crate::error::ApiError;
use crate::state::AppState;
use pages::Header;
use session::{Session, SESSION_COOKIE, SIGN_IN_CSRF_COOKIE};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(create_form::routes())
        .route("/", get(home))
        .route("/console", get(home))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/projects", get(projects))
        .route("/console/projects/{projectId}", get(project))
        .route(
            "/console/projects/{projectId}/rotations/new",
            get(create::form).post(create::create),
        )
        .route(
            "/console/projects/{projectId}/connections",
            get(connections::view).post(connections::create),
        )
        .route(
            "/console/projects/{projectId}/connections/{connectionId}/check",
            post(connections::check),
        )
        .route(
            "/console/projects/{projectId}/connections/{connectionId}/delete",
            post(connections::delete),
        )
        .route("/console/rotations/{rotationId}", get(rotation::view))
        .route(
            "/console/rotations/{rotationId}/rotate",
            post(rotation::rotate),
        )
        .route(
            "/console/rotations/{rotationId}/check",
            post(rotation::check),
        )
        .route(
            "/console/rotations/{rotationId}/auto-rotation",
            post(rotation::auto_rotation),
        )
        .route(
            "/console/rotations/{rotationId}/delete",
            post(rotation::delete),
        )
        .layer(axum::middleware::map_response(frame_and_sniff_headers))
}

/// Every console answer: never inside a frame (clickjacking "Rotate now" or "Delete" from a
/// same-site page), and served as the type it says it is.
async fn frame_and_sniff_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Pages hold what only this identity may see: never stored by the browser or a proxy.
fn page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, Html(markup.into_string())).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 303 to `to` (a path this module built from ids and fixed words).
fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(to) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, to);
    }
    response
}

/// An API error's status and plain message, for a page that shows it.
fn status_and_message(err: ApiError) -> (StatusCode, String) {
    let message = plain_message(&err);
    (err.into_response().status(), message)
}

fn header(s: &Session) -> Header<'_> {
    Header {
        identity: &s.auth.identity_name,
        csrf: &s.csrf,
    }
}

/// The connections (of `app`, or of every app) a project may use: its own and the organization's.
async fn usable_connections(
    state: &AppState,
    org_id: Uuid,
    project_id: Uuid,
    app: Option<&str>,
) -> sqlx::Result<Vec<crate::store::app_connections::ConnectionRow>> {
    let all = crate::store::app_connections::list(&state.pool, org_id, app).await?;
    Ok(all
        .into_iter()
        .filter(|c| c.project_id.is_none_or(|p| p == project_id))
        .collect())
}

/// What a rotation form needs: the project (if the caller may read its rotations), the
/// connections of `app` the caller may use in it (organization-wide ones serve rotations of
/// org admins only, see `rotation::service`), and its environments.
async fn form_context(
    state: &AppState,
    s: &Session,
    project_id: Uuid,
    app: &str,
) -> Result<
    (
        crate::store::projects::ProjectRow,
        Vec<crate::store::app_connections::ConnectionRow>,
        Vec<crate::store::projects::EnvironmentRow>,
    ),
    ApiError,
> {
    let access = crate::access::project_access(state, &s.auth, project_id).await?;
    access.require(
        crate::access::Action::Read,
        crate::access::Subject::SecretRotation,
    )?;
    let connections = usable_connections(state, s.auth.org_id, project_id, Some(app))
        .await?
        .into_iter()
        .filter(|c| c.project_id.is_some() || s.auth.is_org_admin())
        .collect();
    let environments = crate::store::projects::list_environments(&state.pool, project_id).await?;
    Ok((access.project, connections, environments))
}

/// An API error's message in plain words.
fn plain_message(err: &ApiError) -> String {
    match err {
        ApiError::Internal(_) => {
            "Something went wrong on the server; the log has the details (look for this request's id).".to_string()
        }
        ApiError::Validation(issues) => issues
            .iter()
            .map(|i| {
                let path: Vec<String> = i
                    .path
                    .iter()
                    .map(|p| p.as_str().map(str::to_string).unwrap_or_else(|| p.to_string()))
                    .collect();
                if path.is_empty() {
                    i.message.clone()
                } else {
                    format!("{}: {}", path.join("."), i.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        ApiError::RateLimited { retry_after_secs } => {
            format!("Too many attempts; try again in {retry_after_secs} seconds.")
        }
        other => other.to_string(),
    }
}

/// An API error as a page: its status, and its message in plain words.
fn error_page(session: Option<&Session>, err: ApiError) -> Response {
    let (status, message) = status_and_message(err);
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        _ => "Something went wrong",
    };
    page(status, pages::error(session.map(header), title, &message))
}

async fn home(session: Option<Session>) -> Response {
    match session {
        Some(_) => see_other("/console/projects"),
        None => see_other("/console/sign-in"),
    }
}

async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::CSS.0,
    )
        .into_response()
}

#[derive(Deserialize)]
struct SignInQuery {
    expired: Option<String>,
}

/// A fresh double-submit token for the sign-in form (there is no session to bind it to yet).
fn sign_in_form(
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Response {
    let csrf = crate::crypto::random_hex(16);
    let mut response = page(status, pages::sign_in(&csrf, notice, error));
    response.headers_mut().append(
        SET_COOKIE,
        session::set_cookie(SIGN_IN_CSRF_COOKIE, &csrf, 3600, session::over_tls(headers)),
    );
    response
}

async fn sign_in_page(headers: HeaderMap, Query(q): Query<SignInQuery>) -> Response {
    let notice = q
        .expired
        .is_some()
        .then_some("Your session has ended (it expired or was revoked); sign in again.");
    sign_in_form(&headers, StatusCode::OK, None, notice)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInForm {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    csrf: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = session::cookie(&headers, SIGN_IN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !session::same(expected, &form.csrf) {
        return sign_in_form(
            &headers,
            StatusCode::FORBIDDEN,
            Some("The form had expired; please sign in again."),
            None,
        );
    }
    match crate::http::auth::universal_auth_login(
        &state,
        peer,
        &form.client_id,
        &form.client_secret,
    )
    .await
    {
        Ok((token, ua)) => {
            let mut response = see_other("/console/projects");
            let tls = session::over_tls(&headers);
            // The cookie lives as long as the token may (its max TTL); the token's own TTL
            // still ends the session first unless it is renewed.
            let max_age = if ua.access_token_max_ttl > 0 {
                ua.access_token_max_ttl
            } else {
                30 * 86400
            };
            let jar = response.headers_mut();
            jar.append(
                SET_COOKIE,
                session::set_cookie(SESSION_COOKIE, &token, max_age, tls),
            );
            jar.append(
                SET_COOKIE,
                session::set_cookie(SIGN_IN_CSRF_COOKIE, "", 0, tls),
            );
            response
        }
        Err(ApiError::Unauthorized(_)) => sign_in_form(
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("That client ID and client secret do not match a machine identity."),
            None,
        ),
        Err(ApiError::RateLimited { retry_after_secs }) => sign_in_form(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed sign-ins; try again in {retry_after_secs} seconds."
            )),
            None,
        ),
        Err(other) => error_page(None, other),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The refusal of a form whose CSRF token is not this session's.
fn csrf_refusal(s: &Session, form: &CsrfForm) -> Option<Response> {
    if session::same(&s.csrf, &form.csrf) {
        None
    } else {
        Some(page(
            StatusCode::FORBIDDEN,
            pages::error(
                Some(header(s)),
                "Not allowed",
                "This form did not come from this session (missing or wrong CSRF token); reload the page and try again.",
            ),
        ))
    }
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    s: Session,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = csrf_refusal(&s, &form) {
        return refused;
    }
    if let Err(e) = crate::store::identities::revoke_token(&state.pool, s.auth.token_id).await {
        return error_page(Some(&s), e.into());
    }
    let mut response = see_other("/console/sign-in");
    response.headers_mut().append(
        SET_COOKIE,
        session::set_cookie(SESSION_COOKIE, "", 0, session::over_tls(&headers)),
    );
    response
}

async fn projects(State(state): State<AppState>, s: Session) -> Response {
    match crate::store::projects::list_member_projects(&state.pool, s.auth.identity_id).await {
        Ok(rows) => page(StatusCode::OK, pages::projects(header(&s), &rows)),
        Err(e) => error_page(Some(&s), e.into()),
    }
}

#[derive(Deserialize)]
struct ProjectQuery {
    status: Option<String>,
    done: Option<String>,
}

async fn project(
    State(state): State<AppState>,
    s: Session,
    Path(raw_id): Path<String>,
    Query(q): Query<ProjectQuery>,
) -> Response {
    let status = q.status.as_deref().unwrap_or("all");
    if !pages::STATUS_FILTERS.iter().any(|(v, _)| *v == status) {
        return error_page(
            Some(&s),
            ApiError::bad_request(format!(
                "Unknown status filter '{status}': use all, success or failed"
            )),
        );
    }
    let result = async {
        let id = raw_id
            .parse::<Uuid>()
            .map_err(|_| ApiError::not_found(format!("Project with ID '{raw_id}' not found")))?;
        let access = project_access(&state, &s.auth, id).await?;
        access.require(Action::Read, Subject::SecretRotation)?;
        let mut rows = crate::rotation::service::visible(&state, &s.auth, &raw_id, None).await?;
        if status != "all" {
            rows.retain(|r| r.rotation_status.as_str() == status);
        }
        Ok::<_, ApiError>((access.project, rows))
    };
    match result.await {
        Ok((project, rows)) => {
            let notice = (q.done.as_deref() == Some("deleted")).then_some("Rotation deleted.");
            page(
                StatusCode::OK,
                pages::rotations(header(&s), &project, status, &rows, notice),
            )
        }
        Err(e) => error_page(Some(&s), e),
    }
}
