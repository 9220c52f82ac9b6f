//! Machine identities of the organization, their universal-auth settings and client secrets,
//! on Infisical's routes. Managing identities needs the organization's admin role.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::bootstrap::DEFAULT_TOKEN_TTL;
use crate::auth::Auth;
use crate::crypto;
use crate::error::{ApiError, ApiResult, ErrorBody, OrConflict};
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;
use crate::store::identities::{
    self, ClientSecretRow, IdentityRow, UniversalAuthRow, UniversalAuthSettings,
};

pub const ORG_ROLES: [&str; 3] = ["admin", "member", "no-access"];

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdentityView {
    pub id: Uuid,
    pub name: String,
    pub org_id: Uuid,
    /// Organization role: admin, member or no-access.
    pub role: String,
    pub auth_methods: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn identity_view(state: &AppState, row: IdentityRow) -> ApiResult<IdentityView> {
    let has_ua = identities::find_universal_auth(&state.pool, row.id)
        .await?
        .is_some();
    Ok(IdentityView {
        id: row.id,
        name: row.name,
        org_id: row.org_id,
        role: row.org_role,
        auth_methods: if has_ua {
            vec!["universal-auth".into()]
        } else {
            vec![]
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[derive(Serialize, ToSchema)]
pub struct IdentityEnvelope {
    pub identity: IdentityView,
}

#[derive(Serialize, ToSchema)]
pub struct IdentityList {
    pub identities: Vec<IdentityView>,
}

fn check_org_role(role: &str) -> Result<(), ApiError> {
    if ORG_ROLES.contains(&role) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_enum_value",
            &["role"],
            format!("Invalid role '{role}'; expected one of admin, member, no-access"),
        ))
    }
}

/// The identity with this id in the caller's organization, or 404.
async fn org_identity(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<IdentityRow> {
    identities::find_identity(&state.pool, auth.org_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Identity with ID '{id}' not found")))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateIdentityRequest {
    #[validate(length(min = 1, max = 64, message = "name must be 1 to 64 characters"))]
    pub name: String,
    /// Must be the caller's organization when given.
    pub organization_id: Option<Uuid>,
    /// Organization role (default `member`).
    #[serde(default = "default_member")]
    pub role: String,
}

fn default_member() -> String {
    "member".into()
}

#[utoipa::path(post, path = "/api/v1/identities", tag = "Identities",
    request_body = CreateIdentityRequest, security(("bearer" = [])),
    responses((status = 200, body = IdentityEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn create_identity(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<CreateIdentityRequest>,
) -> ApiResult<Json<IdentityEnvelope>> {
    auth.require_org_admin("create", "identity")?;
    check_org_role(&body.role)?;
    if body.organization_id.is_some_and(|org| org != auth.org_id) {
        return Err(ApiError::forbidden("create", "identity"));
    }
    let row =
        identities::insert_identity(&state.pool, auth.org_id, body.name.trim(), &body.role).await?;
    Ok(Json(IdentityEnvelope {
        identity: identity_view(&state, row).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/identities", tag = "Identities", security(("bearer" = [])),
    responses((status = 200, body = IdentityList), (status = "4XX", body = ErrorBody)))]
pub async fn list_identities(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<IdentityList>> {
    auth.require_org_admin("read", "identity")?;
    let mut views = Vec::new();
    for row in identities::list_identities(&state.pool, auth.org_id).await? {
        views.push(identity_view(&state, row).await?);
    }
    Ok(Json(IdentityList { identities: views }))
}

#[utoipa::path(get, path = "/api/v1/identities/{identityId}", tag = "Identities",
    params(("identityId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = IdentityEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_identity(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<IdentityEnvelope>> {
    if id != auth.identity_id {
        auth.require_org_admin("read", "identity")?;
    }
    let row = org_identity(&state, &auth, id).await?;
    Ok(Json(IdentityEnvelope {
        identity: identity_view(&state, row).await?,
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct UpdateIdentityRequest {
    #[validate(length(min = 1, max = 64, message = "name must be 1 to 64 characters"))]
    pub name: Option<String>,
    pub role: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/identities/{identityId}", tag = "Identities",
    params(("identityId" = Uuid, Path)), request_body = UpdateIdentityRequest, security(("bearer" = [])),
    responses((status = 200, body = IdentityEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update_identity(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateIdentityRequest>,
) -> ApiResult<Json<IdentityEnvelope>> {
    auth.require_org_admin("edit", "identity")?;
    let current = org_identity(&state, &auth, id).await?;
    if let Some(role) = &body.role {
        check_org_role(role)?;
        if current.org_role == "admin"
            && role != "admin"
            && identities::count_org_admins(&state.pool, auth.org_id).await? <= 1
        {
            return Err(ApiError::bad_request(
                "The organization must keep at least one admin identity",
            ));
        }
    }
    let row = identities::update_identity(
        &state.pool,
        id,
        body.name.as_deref().map(str::trim),
        body.role.as_deref(),
    )
    .await?;
    Ok(Json(IdentityEnvelope {
        identity: identity_view(&state, row).await?,
    }))
}

#[utoipa::path(delete, path = "/api/v1/identities/{identityId}", tag = "Identities",
    params(("identityId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = IdentityEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete_identity(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<IdentityEnvelope>> {
    auth.require_org_admin("delete", "identity")?;
    let row = org_identity(&state, &auth, id).await?;
    if id == auth.identity_id {
        return Err(ApiError::bad_request(
            "You cannot delete the identity you are authenticated as",
        ));
    }
    let view = identity_view(&state, row).await?;
    identities::delete_identity(&state.pool, id).await?;
    Ok(Json(IdentityEnvelope { identity: view }))
}

// ---- universal auth ------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UniversalAuthView {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub client_id: Uuid,
    #[serde(rename = "accessTokenTTL")]
    pub access_token_ttl: i64,
    #[serde(rename = "accessTokenMaxTTL")]
    pub access_token_max_ttl: i64,
    pub access_token_num_uses_limit: i64,
    /// Rotary does not restrict by address; every address is trusted.
    #[schema(value_type = Vec<Object>)]
    pub access_token_trusted_ips: Value,
    #[schema(value_type = Vec<Object>)]
    pub client_secret_trusted_ips: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn all_addresses() -> Value {
    json!([
        {"ipAddress": "0.0.0.0", "prefix": 0, "type": "ipv4"},
        {"ipAddress": "::", "prefix": 0, "type": "ipv6"}
    ])
}

impl From<UniversalAuthRow> for UniversalAuthView {
    fn from(row: UniversalAuthRow) -> Self {
        UniversalAuthView {
            id: row.id,
            identity_id: row.identity_id,
            client_id: row.client_id,
            access_token_ttl: row.access_token_ttl,
            access_token_max_ttl: row.access_token_max_ttl,
            access_token_num_uses_limit: row.access_token_num_uses_limit,
            access_token_trusted_ips: all_addresses(),
            client_secret_trusted_ips: all_addresses(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UniversalAuthEnvelope {
    pub identity_universal_auth: UniversalAuthView,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct UniversalAuthRequest {
    /// Seconds an access token lives after login or renewal (0 = no limit). Default 2592000.
    #[serde(rename = "accessTokenTTL")]
    #[validate(range(
        min = 0,
        max = 315360000,
        message = "accessTokenTTL must be between 0 and 315360000"
    ))]
    pub access_token_ttl: Option<i64>,
    /// Seconds a token can be renewed up to (0 = no limit). Default 2592000.
    #[serde(rename = "accessTokenMaxTTL")]
    #[validate(range(
        min = 0,
        max = 315360000,
        message = "accessTokenMaxTTL must be between 0 and 315360000"
    ))]
    pub access_token_max_ttl: Option<i64>,
    /// Requests a token may serve (0 = no limit).
    #[serde(rename = "accessTokenNumUsesLimit")]
    #[validate(range(min = 0, message = "accessTokenNumUsesLimit must not be negative"))]
    pub access_token_num_uses_limit: Option<i64>,
}

impl UniversalAuthRequest {
    fn settings(&self, base: Option<&UniversalAuthRow>) -> Result<UniversalAuthSettings, ApiError> {
        let settings = UniversalAuthSettings {
            access_token_ttl: self
                .access_token_ttl
                .or(base.map(|b| b.access_token_ttl))
                .unwrap_or(DEFAULT_TOKEN_TTL),
            access_token_max_ttl: self
                .access_token_max_ttl
                .or(base.map(|b| b.access_token_max_ttl))
                .unwrap_or(DEFAULT_TOKEN_TTL),
            access_token_num_uses_limit: self
                .access_token_num_uses_limit
                .or(base.map(|b| b.access_token_num_uses_limit))
                .unwrap_or(0),
        };
        if settings.access_token_max_ttl > 0
            && settings.access_token_ttl > settings.access_token_max_ttl
        {
            return Err(ApiError::bad_request(
                "Access token TTL cannot be greater than max TTL",
            ));
        }
        Ok(settings)
    }
}

#[utoipa::path(post, path = "/api/v1/auth/universal-auth/identities/{identityId}", tag = "Identities",
    params(("identityId" = Uuid, Path)), request_body = UniversalAuthRequest, security(("bearer" = [])),
    responses((status = 200, body = UniversalAuthEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn attach_universal_auth(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UniversalAuthRequest>,
) -> ApiResult<Json<UniversalAuthEnvelope>> {
    auth.require_org_admin("edit", "identity")?;
    org_identity(&state, &auth, id).await?;
    if identities::find_universal_auth(&state.pool, id)
        .await?
        .is_some()
    {
        return Err(ApiError::bad_request(
            "Failed to add universal auth to already configured identity",
        ));
    }
    let row = identities::insert_universal_auth(&state.pool, id, &body.settings(None)?)
        .await
        .or_conflict(|| {
            ApiError::bad_request("Failed to add universal auth to already configured identity")
        })?;
    Ok(Json(UniversalAuthEnvelope {
        identity_universal_auth: row.into(),
    }))
}

/// The identity's universal auth, or 404 when it has none.
async fn universal_auth_of(state: &AppState, auth: &Auth, id: Uuid) -> ApiResult<UniversalAuthRow> {
    org_identity(state, auth, id).await?;
    identities::find_universal_auth(&state.pool, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Identity with ID '{id}' does not have universal auth configured"
            ))
        })
}

#[utoipa::path(get, path = "/api/v1/auth/universal-auth/identities/{identityId}", tag = "Identities",
    params(("identityId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = UniversalAuthEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_universal_auth(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UniversalAuthEnvelope>> {
    auth.require_org_admin("read", "identity")?;
    let row = universal_auth_of(&state, &auth, id).await?;
    Ok(Json(UniversalAuthEnvelope {
        identity_universal_auth: row.into(),
    }))
}

#[utoipa::path(patch, path = "/api/v1/auth/universal-auth/identities/{identityId}", tag = "Identities",
    params(("identityId" = Uuid, Path)), request_body = UniversalAuthRequest, security(("bearer" = [])),
    responses((status = 200, body = UniversalAuthEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn update_universal_auth(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UniversalAuthRequest>,
) -> ApiResult<Json<UniversalAuthEnvelope>> {
    auth.require_org_admin("edit", "identity")?;
    let current = universal_auth_of(&state, &auth, id).await?;
    let settings = body.settings(Some(&current))?;
    let row = identities::update_universal_auth(&state.pool, id, &settings).await?;
    Ok(Json(UniversalAuthEnvelope {
        identity_universal_auth: row.into(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/auth/universal-auth/identities/{identityId}", tag = "Identities",
    params(("identityId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = UniversalAuthEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn delete_universal_auth(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<UniversalAuthEnvelope>> {
    auth.require_org_admin("edit", "identity")?;
    let row = universal_auth_of(&state, &auth, id).await?;
    identities::delete_universal_auth(&state.pool, id).await?;
    Ok(Json(UniversalAuthEnvelope {
        identity_universal_auth: row.into(),
    }))
}

// ---- client secrets ------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretView {
    pub id: Uuid,
    #[serde(rename = "identityUAId")]
    pub identity_ua_id: Uuid,
    pub description: String,
    pub client_secret_prefix: String,
    pub client_secret_num_uses: i64,
    pub client_secret_num_uses_limit: i64,
    #[serde(rename = "clientSecretTTL")]
    pub client_secret_ttl: i64,
    pub is_client_secret_revoked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientSecretRow> for ClientSecretView {
    fn from(row: ClientSecretRow) -> Self {
        ClientSecretView {
            id: row.id,
            identity_ua_id: row.universal_auth_id,
            description: row.description,
            client_secret_prefix: row.prefix,
            client_secret_num_uses: row.num_uses,
            client_secret_num_uses_limit: row.num_uses_limit,
            client_secret_ttl: row.ttl,
            is_client_secret_revoked: row.is_revoked,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateClientSecretRequest {
    #[serde(default)]
    #[validate(length(max = 256, message = "description must be at most 256 characters"))]
    pub description: String,
    /// Logins the secret allows (0 = no limit).
    #[serde(default)]
    #[validate(range(min = 0, message = "numUsesLimit must not be negative"))]
    pub num_uses_limit: i64,
    /// Seconds the secret stays valid (0 = no limit).
    #[serde(default)]
    #[validate(range(
        min = 0,
        max = 315360000,
        message = "ttl must be between 0 and 315360000"
    ))]
    pub ttl: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedClientSecret {
    /// Shown once; only its hash is kept.
    pub client_secret: String,
    pub client_secret_data: ClientSecretView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretEnvelope {
    pub client_secret_data: ClientSecretView,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecretList {
    pub client_secret_data: Vec<ClientSecretView>,
}

#[utoipa::path(post, path = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets", tag = "Identities",
    params(("identityId" = Uuid, Path)), request_body = CreateClientSecretRequest, security(("bearer" = [])),
    responses((status = 200, body = CreatedClientSecret), (status = "4XX", body = ErrorBody)))]
pub async fn create_client_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateClientSecretRequest>,
) -> ApiResult<Json<CreatedClientSecret>> {
    auth.require_org_admin("edit", "identity")?;
    let ua = universal_auth_of(&state, &auth, id).await?;
    let secret = crypto::random_hex(32);
    let row = identities::insert_client_secret(
        &state.pool,
        ua.id,
        &body.description,
        &secret,
        body.ttl,
        body.num_uses_limit,
    )
    .await?;
    Ok(Json(CreatedClientSecret {
        client_secret: secret,
        client_secret_data: row.into(),
    }))
}

#[utoipa::path(get, path = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets", tag = "Identities",
    params(("identityId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ClientSecretList), (status = "4XX", body = ErrorBody)))]
pub async fn list_client_secrets(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ClientSecretList>> {
    auth.require_org_admin("read", "identity")?;
    let ua = universal_auth_of(&state, &auth, id).await?;
    let rows = identities::list_client_secrets(&state.pool, ua.id).await?;
    Ok(Json(ClientSecretList {
        client_secret_data: rows.into_iter().map(Into::into).collect(),
    }))
}

async fn client_secret_of(
    state: &AppState,
    auth: &Auth,
    identity_id: Uuid,
    secret_id: Uuid,
) -> ApiResult<ClientSecretRow> {
    let ua = universal_auth_of(state, auth, identity_id).await?;
    identities::find_client_secret(&state.pool, ua.id, secret_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Client secret with ID '{secret_id}' not found"))
        })
}

#[utoipa::path(get, path = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}", tag = "Identities",
    params(("identityId" = Uuid, Path), ("clientSecretId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ClientSecretEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn get_client_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((identity_id, secret_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<ClientSecretEnvelope>> {
    auth.require_org_admin("read", "identity")?;
    let row = client_secret_of(&state, &auth, identity_id, secret_id).await?;
    Ok(Json(ClientSecretEnvelope {
        client_secret_data: row.into(),
    }))
}

#[utoipa::path(post, path = "/api/v1/auth/universal-auth/identities/{identityId}/client-secrets/{clientSecretId}/revoke", tag = "Identities",
    params(("identityId" = Uuid, Path), ("clientSecretId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = ClientSecretEnvelope), (status = "4XX", body = ErrorBody)))]
pub async fn revoke_client_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((identity_id, secret_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<ClientSecretEnvelope>> {
    auth.require_org_admin("edit", "identity")?;
    client_secret_of(&state, &auth, identity_id, secret_id).await?;
    let row = identities::revoke_client_secret(&state.pool, secret_id).await?;
    Ok(Json(ClientSecretEnvelope {
        client_secret_data: row.into(),
    }))
}
