//! Infisical's v3 raw secrets API, the one every SDK reads. Values are sealed with the
//! project's data key before they reach the database and opened only to answer a reader.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{project_key, Action, Subject};
use crate::auth::Auth;
use crate::crypto::Key;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{lenient_bool, ApiInput, ApiJson, ApiPath};
use crate::http::scope::{self, Scope};
use crate::state::AppState;
use crate::store::secrets::{self, NewSecret, SecretChange, SecretRow};
use crate::validation::check_secret_name;

/// What a reader without `viewSecretValue` sees instead of the value, as in Infisical.
const HIDDEN_VALUE: &str = "<hidden-by-infisical>";

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretView {
    pub id: Uuid,
    #[serde(rename = "_id")]
    pub underscore_id: Uuid,
    /// The project id.
    pub workspace: Uuid,
    /// The environment slug.
    pub environment: String,
    pub version: i32,
    #[serde(rename = "type")]
    pub secret_type: String,
    pub secret_key: String,
    pub secret_value: String,
    pub secret_value_hidden: bool,
    pub secret_comment: String,
    pub secret_path: String,
    pub skip_multiline_encoding: bool,
    pub is_rotated_secret: bool,
    pub rotation_id: Option<Uuid>,
    pub secret_reminder_note: Option<String>,
    pub secret_reminder_repeat_days: Option<i32>,
    #[schema(value_type = Vec<Object>)]
    pub tags: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub secret_metadata: Vec<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn value_aad(id: Uuid) -> String {
    format!("secret-value:{id}")
}

fn comment_aad(id: Uuid) -> String {
    format!("secret-comment:{id}")
}

fn open_text(key: &Key, blob: &[u8], aad: &str) -> ApiResult<String> {
    let plain = key
        .open(blob, aad)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("opening {aad}: {e}")))?;
    String::from_utf8(plain.to_vec())
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("{aad} is not UTF-8")))
}

fn secret_view(
    key: &Key,
    env_slug: &str,
    row: SecretRow,
    show_value: bool,
) -> ApiResult<SecretView> {
    let (value, comment) = open_fields(key, &row, show_value)?;
    Ok(view_with(env_slug, row, value, !show_value, comment))
}

/// The value (or the placeholder when the reader may not see it) and the comment of a row.
fn open_fields(key: &Key, row: &SecretRow, show_value: bool) -> ApiResult<(String, String)> {
    let value = if show_value {
        open_text(key, &row.value_ct, &value_aad(row.id))?
    } else {
        HIDDEN_VALUE.to_string()
    };
    Ok((
        value,
        open_text(key, &row.comment_ct, &comment_aad(row.id))?,
    ))
}

fn view_with(
    env_slug: &str,
    row: SecretRow,
    secret_value: String,
    secret_value_hidden: bool,
    secret_comment: String,
) -> SecretView {
    SecretView {
        id: row.id,
        underscore_id: row.id,
        workspace: row.project_id,
        environment: env_slug.to_string(),
        version: row.version,
        secret_type: row.secret_type,
        secret_key: row.key,
        secret_value,
        secret_value_hidden,
        secret_comment,
        secret_path: row.path,
        skip_multiline_encoding: row.skip_multiline_encoding,
        is_rotated_secret: row.rotation_id.is_some(),
        rotation_id: row.rotation_id,
        secret_reminder_note: None,
        secret_reminder_repeat_days: None,
        tags: vec![],
        secret_metadata: vec![],
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// The sealed fields as they sit, in this order, in a serialized `SecretView` whose value and
/// comment are empty: a listing's rows are serialized once around this gap (`frame`), and each
/// request fills in the opened fields (`write_listing`). No other text of a row can contain it:
/// quotes inside strings are escaped.
const SEALED_GAP: &str = r#""secretValue":"","secretValueHidden":false,"secretComment":"""#;

/// A row's JSON before and after its sealed fields.
fn frame(env_slug: &str, row: &SecretRow) -> (String, String) {
    let json = serde_json::to_string(&view_with(
        env_slug,
        row.clone(),
        String::new(),
        false,
        String::new(),
    ))
    .expect("a secret view serializes");
    let at = json
        .find(SEALED_GAP)
        .expect("SecretView keeps its value, hidden flag and comment together, in that order");
    (
        json[..at].to_string(),
        json[at + SEALED_GAP.len()..].to_string(),
    )
}

/// The list endpoint's body, `SecretList` as JSON, from the listing's frames: the same text
/// `serde_json` writes for it, with each value and comment opened for this request only.
fn write_listing(
    key: &Key,
    listing: &crate::cache::Listing,
    frames: &[(String, String)],
    show_value: bool,
) -> ApiResult<Vec<u8>> {
    let framed: usize = frames.iter().map(|(a, b)| a.len() + b.len() + 96).sum();
    let mut body = Vec::with_capacity(framed + 64);
    body.extend_from_slice(b"{\"secrets\":[");
    for (i, (row, (before, after))) in listing.rows.iter().zip(frames).enumerate() {
        if i > 0 {
            body.push(b',');
        }
        let (value, comment) = open_fields(key, row, show_value)?;
        let value = zeroize::Zeroizing::new(value);
        body.extend_from_slice(before.as_bytes());
        body.extend_from_slice(br#""secretValue":"#);
        serde_json::to_writer(&mut body, value.as_str()).map_err(anyhow::Error::from)?;
        body.extend_from_slice(br#","secretValueHidden":"#);
        body.extend_from_slice(if show_value { b"false" } else { b"true" });
        body.extend_from_slice(br#","secretComment":"#);
        serde_json::to_writer(&mut body, &comment).map_err(anyhow::Error::from)?;
        body.extend_from_slice(after.as_bytes());
    }
    body.extend_from_slice(b"],\"imports\":[]}");
    Ok(body)
}

fn default_root() -> String {
    "/".into()
}

/// Only shared secrets exist for machine identities; personal ones belong to users.
fn check_type(secret_type: Option<&str>) -> ApiResult<()> {
    match secret_type {
        None | Some("shared") => Ok(()),
        Some("personal") => Err(ApiError::bad_request(
            "Personal secrets belong to users; machine identities can only use type 'shared'",
        )),
        Some(other) => Err(ApiError::invalid(
            "invalid_enum_value",
            &["type"],
            format!("Invalid enum value. Expected 'shared' | 'personal', received '{other}'"),
        )),
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListSecretsQuery {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub environment: String,
    #[serde(default = "default_root")]
    pub secret_path: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub recursive: Option<bool>,
    /// Default true; false replaces values with a placeholder.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub view_secret_value: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct SecretList {
    pub secrets: Vec<SecretView>,
    /// Secret imports; Rotary has none, so this is always empty.
    #[schema(value_type = Vec<Object>)]
    pub imports: Vec<serde_json::Value>,
}

#[utoipa::path(get, path = "/api/v3/secrets/raw", tag = "Secrets", security(("bearer" = [])),
    params(("workspaceId" = Uuid, Query), ("environment" = String, Query), ("secretPath" = Option<String>, Query),
           ("recursive" = Option<bool>, Query), ("viewSecretValue" = Option<bool>, Query)),
    responses((status = 200, body = SecretList), (status = "4XX", body = ErrorBody)))]
pub async fn list_secrets(
    State(state): State<AppState>,
    auth: Auth,
    ApiInput(query): ApiInput<ListSecretsQuery>,
) -> ApiResult<axum::response::Response> {
    let project_id = scope::project_id(query.workspace_id, query.project_id, "workspaceId")?;
    let scope = scope::resolve(
        &state,
        &auth,
        project_id,
        &query.environment,
        &query.secret_path,
        "secretPath",
    )
    .await?;
    scope.access.require(Action::Read, Subject::Secrets)?;
    let key = project_key(&state, &scope.access.project)?;
    let show = query.view_secret_value.unwrap_or(true);
    let listing = crate::cache::secrets(
        &state,
        scope.env.id,
        &scope.path,
        query.recursive.unwrap_or(false),
    )
    .await?;
    let frames = listing.frames.get_or_init(|| {
        listing
            .rows
            .iter()
            .map(|row| frame(&scope.env.slug, row))
            .collect()
    });
    let body = write_listing(&key, &listing, frames, show)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct SecretEnvelope {
    pub secret: SecretView,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetSecretQuery {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub environment: String,
    #[serde(default = "default_root")]
    pub secret_path: String,
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub view_secret_value: Option<bool>,
}

/// A name a secret rotation maps in this folder belongs to the rotation, even before its first
/// credential is published.
async fn refuse_reserved(state: &AppState, scope: &Scope, name: &str) -> ApiResult<()> {
    match crate::store::rotations::reserved_by(&state.pool, scope.env.id, &scope.path, name).await?
    {
        Some(rotation) => Err(ApiError::bad_request(format!(
            "Secret with name '{name}' is managed by secret rotation '{rotation}'"
        ))),
        None => Ok(()),
    }
}

async fn existing(state: &AppState, scope: &Scope, name: &str) -> ApiResult<SecretRow> {
    secrets::find(&state.pool, scope.env.id, &scope.path, name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Secret with name '{name}' not found")))
}

#[utoipa::path(get, path = "/api/v3/secrets/raw/{secretName}", tag = "Secrets", security(("bearer" = [])),
    params(("secretName" = String, Path), ("workspaceId" = Uuid, Query), ("environment" = String, Query),
           ("secretPath" = Option<String>, Query), ("viewSecretValue" = Option<bool>, Query)),
    responses((status = 200, body = SecretEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiInput(query): ApiInput<GetSecretQuery>,
) -> ApiResult<Json<SecretEnvelope>> {
    check_type(query.secret_type.as_deref())?;
    let project_id = scope::project_id(query.workspace_id, query.project_id, "workspaceId")?;
    let scope = scope::resolve(
        &state,
        &auth,
        project_id,
        &query.environment,
        &query.secret_path,
        "secretPath",
    )
    .await?;
    scope.access.require(Action::Read, Subject::Secrets)?;
    let row = crate::cache::secret(&state, scope.env.id, &scope.path, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Secret with name '{name}' not found")))?;
    let key = project_key(&state, &scope.access.project)?;
    Ok(Json(SecretEnvelope {
        secret: secret_view(
            &key,
            &scope.env.slug,
            row,
            query.view_secret_value.unwrap_or(true),
        )?,
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSecretRequest {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub environment: String,
    #[serde(default = "default_root")]
    pub secret_path: String,
    #[validate(length(max = 65536, message = "secretValue must be at most 65536 characters"))]
    pub secret_value: String,
    #[serde(default)]
    #[validate(length(
        max = 10000,
        message = "secretComment must be at most 10000 characters"
    ))]
    pub secret_comment: String,
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub skip_multiline_encoding: Option<bool>,
}

#[utoipa::path(post, path = "/api/v3/secrets/raw/{secretName}", tag = "Secrets", security(("bearer" = [])),
    params(("secretName" = String, Path)), request_body = CreateSecretRequest,
    responses((status = 200, body = SecretEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn create_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<CreateSecretRequest>,
) -> ApiResult<Json<SecretEnvelope>> {
    check_secret_name(&name)?;
    check_type(body.secret_type.as_deref())?;
    let project_id = scope::project_id(body.workspace_id, body.project_id, "workspaceId")?;
    let scope = scope::resolve(
        &state,
        &auth,
        project_id,
        &body.environment,
        &body.secret_path,
        "secretPath",
    )
    .await?;
    scope.access.require(Action::Create, Subject::Secrets)?;
    if !scope.folder_exists(&state).await? {
        return Err(scope.folder_not_found());
    }
    refuse_reserved(&state, &scope, &name).await?;
    let key = project_key(&state, &scope.access.project)?;
    let id = Uuid::new_v4();
    let row = secrets::insert(
        &state.pool,
        NewSecret {
            id,
            project_id,
            env_id: scope.env.id,
            path: &scope.path,
            key: &name,
            value_ct: key.seal(body.secret_value.as_bytes(), &value_aad(id)),
            comment_ct: key.seal(body.secret_comment.as_bytes(), &comment_aad(id)),
            skip_multiline_encoding: body.skip_multiline_encoding.unwrap_or(false),
        },
    )
    .await?
    .ok_or_else(|| ApiError::bad_request(format!("Secret with name '{name}' already exists")))?;
    tracing::info!(secret_id = %row.id, "secret created");
    Ok(Json(SecretEnvelope {
        secret: secret_view(&key, &scope.env.slug, row, true)?,
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSecretRequest {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub environment: String,
    #[serde(default = "default_root")]
    pub secret_path: String,
    #[validate(length(max = 65536, message = "secretValue must be at most 65536 characters"))]
    pub secret_value: Option<String>,
    #[validate(length(
        max = 10000,
        message = "secretComment must be at most 10000 characters"
    ))]
    pub secret_comment: Option<String>,
    pub new_secret_name: Option<String>,
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub skip_multiline_encoding: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v3/secrets/raw/{secretName}", tag = "Secrets", security(("bearer" = [])),
    params(("secretName" = String, Path)), request_body = UpdateSecretRequest,
    description = "Writes a new version; the previous ones are kept. Secrets owned by a rotation cannot be changed.",
    responses((status = 200, body = SecretEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateSecretRequest>,
) -> ApiResult<Json<SecretEnvelope>> {
    check_type(body.secret_type.as_deref())?;
    if let Some(new_name) = &body.new_secret_name {
        if let Some((code, message)) = crate::validation::secret_name_problem(new_name) {
            return Err(ApiError::invalid(code, &["newSecretName"], message));
        }
    }
    let project_id = scope::project_id(body.workspace_id, body.project_id, "workspaceId")?;
    let scope = scope::resolve(
        &state,
        &auth,
        project_id,
        &body.environment,
        &body.secret_path,
        "secretPath",
    )
    .await?;
    scope.access.require(Action::Edit, Subject::Secrets)?;
    let current = existing(&state, &scope, &name).await?;
    if current.rotation_id.is_some() {
        let message = if body.new_secret_name.is_some() {
            "Cannot update rotated secret name"
        } else {
            "Cannot update rotated secret"
        };
        return Err(ApiError::bad_request(message));
    }
    let new_key = body.new_secret_name.filter(|n| *n != name);
    if let Some(new_name) = &new_key {
        refuse_reserved(&state, &scope, new_name).await?;
        if secrets::find(&state.pool, scope.env.id, &scope.path, new_name)
            .await?
            .is_some()
        {
            return Err(ApiError::bad_request(format!(
                "Secret with name '{new_name}' already exists"
            )));
        }
    }
    let key = project_key(&state, &scope.access.project)?;
    let change = SecretChange {
        new_key,
        value_ct: body
            .secret_value
            .map(|v| key.seal(v.as_bytes(), &value_aad(current.id))),
        comment_ct: body
            .secret_comment
            .map(|c| key.seal(c.as_bytes(), &comment_aad(current.id))),
        skip_multiline_encoding: body.skip_multiline_encoding,
    };
    let row = secrets::update(&state.pool, &current, change)
        .await?
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Secret '{name}' was changed by another request at the same time; read it again and retry"
            ))
        })?;
    Ok(Json(SecretEnvelope {
        secret: secret_view(&key, &scope.env.slug, row, true)?,
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteSecretInput {
    pub workspace_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub environment: String,
    #[serde(default = "default_root")]
    pub secret_path: String,
    #[serde(rename = "type")]
    pub secret_type: Option<String>,
}

#[utoipa::path(delete, path = "/api/v3/secrets/raw/{secretName}", tag = "Secrets", security(("bearer" = [])),
    params(("secretName" = String, Path)), request_body = DeleteSecretInput,
    description = "Parameters may come in the JSON body (as the SDKs send them) or the query.",
    responses((status = 200, body = SecretEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(name): ApiPath<String>,
    ApiInput(input): ApiInput<DeleteSecretInput>,
) -> ApiResult<Json<SecretEnvelope>> {
    check_type(input.secret_type.as_deref())?;
    let project_id = scope::project_id(input.workspace_id, input.project_id, "workspaceId")?;
    let scope = scope::resolve(
        &state,
        &auth,
        project_id,
        &input.environment,
        &input.secret_path,
        "secretPath",
    )
    .await?;
    scope.access.require(Action::Delete, Subject::Secrets)?;
    let row = existing(&state, &scope, &name).await?;
    if row.rotation_id.is_some() {
        return Err(ApiError::bad_request("Cannot delete rotated secrets"));
    }
    let key = project_key(&state, &scope.access.project)?;
    secrets::delete(&state.pool, row.id).await?;
    Ok(Json(SecretEnvelope {
        secret: secret_view(&key, &scope.env.slug, row, true)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &Key, name: &str, value: &str, comment: &str, rotation: bool) -> SecretRow {
        let id = Uuid::new_v4();
        SecretRow {
            id,
            project_id: Uuid::new_v4(),
            env_id: Uuid::new_v4(),
            path: "/a \"quoted\" folder".into(),
            key: name.into(),
            secret_type: "shared".into(),
            version: 3,
            value_ct: key.seal(value.as_bytes(), &value_aad(id)),
            comment_ct: key.seal(comment.as_bytes(), &comment_aad(id)),
            skip_multiline_encoding: true,
            rotation_id: rotation.then(Uuid::new_v4),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    /// The framed listing is byte for byte what serializing the views writes, whatever the
    /// values hold, shown or hidden, empty or not.
    #[test]
    fn a_framed_listing_is_the_serialized_list() {
        let key = Key::generate();
        for rows in [
            vec![],
            vec![
                row(&key, "PLAIN", "value", "", false),
                row(
                    &key,
                    "TRICKY",
                    "a \"quote\", a \\ and\nnewline \u{1} é 🔑",
                    "note \"x\"\t",
                    true,
                ),
                row(&key, "EMPTY", "", "", false),
            ],
        ] {
            for show in [true, false] {
                let listing = crate::cache::Listing {
                    rows: rows.clone(),
                    frames: Default::default(),
                };
                let frames: Vec<_> = rows.iter().map(|r| frame("dev \"x\"", r)).collect();
                let framed = write_listing(&key, &listing, &frames, show).unwrap();
                let expected = serde_json::to_vec(&SecretList {
                    secrets: rows
                        .iter()
                        .map(|r| secret_view(&key, "dev \"x\"", r.clone(), show).unwrap())
                        .collect(),
                    imports: vec![],
                })
                .unwrap();
                assert_eq!(
                    String::from_utf8(framed).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }
}
