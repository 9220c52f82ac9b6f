//! Bootstrap, universal-auth login, token renewal and revocation.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::bootstrap::{self, BootstrapResult};
use crate::auth::{check_token, new_access_token};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::ApiJson;
use crate::state::AppState;
use crate::store::identities;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct BootstrapRequest {
    /// Name of the organization to create.
    #[validate(length(min = 1, max = 64, message = "organization must be 1 to 64 characters"))]
    pub organization: String,
}

#[utoipa::path(post, path = "/api/v1/admin/bootstrap", tag = "Auth",
    description = "Sets up a new instance: creates the organization and an admin machine identity. Works only while no identity exists.",
    request_body = BootstrapRequest,
    responses((status = 200, body = BootstrapResult), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn bootstrap(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BootstrapRequest>,
) -> ApiResult<Json<BootstrapResult>> {
    let result = bootstrap::bootstrap(&state.pool, body.organization.trim()).await?;
    tracing::info!(identity_id = %result.identity.id, "instance bootstrapped");
    Ok(Json(result))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    #[validate(length(min = 1, message = "clientId is required"))]
    pub client_id: String,
    #[validate(length(min = 1, message = "clientSecret is required"))]
    pub client_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub access_token: String,
    /// Seconds until the token expires (0 = never).
    pub expires_in: i64,
    #[serde(rename = "accessTokenMaxTTL")]
    pub access_token_max_ttl: i64,
    pub token_type: String,
}

#[utoipa::path(post, path = "/api/v1/auth/universal-auth/login", tag = "Auth",
    description = "Exchanges a machine identity's client id and secret for an access token.",
    request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let (token, ua) =
        universal_auth_login(&state, peer, &body.client_id, &body.client_secret).await?;
    Ok(Json(TokenResponse {
        access_token: token,
        expires_in: ua.access_token_ttl,
        access_token_max_ttl: ua.access_token_max_ttl,
        token_type: "Bearer".into(),
    }))
}

/// Universal-auth login, for the API and the console alike: rate-limited per client id and
/// per source address; a new access token and the identity's universal-auth settings.
pub async fn universal_auth_login(
    state: &AppState,
    peer: SocketAddr,
    client_id: &str,
    client_secret: &str,
) -> ApiResult<(String, identities::UniversalAuthRow)> {
    let limiter = &state.login_limiter;
    // Parsed first: the limiter counts the id, not the string sent (other spellings of one id,
    // megabytes of junk).
    let parsed = client_id.trim().parse::<Uuid>().ok();
    let keys = crate::auth::rate_limit::login_keys(parsed, peer.ip());
    for key in &keys {
        limiter
            .check(key)
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    }
    let invalid = || {
        for key in &keys {
            limiter.record_failure(key);
        }
        tracing::warn!("universal-auth login refused");
        ApiError::unauthorized("Invalid credentials")
    };
    let Some(client_id) = parsed else {
        return Err(invalid());
    };
    let Some(ua) = identities::find_universal_auth_by_client_id(&state.pool, client_id).await?
    else {
        return Err(invalid());
    };
    let Some(client_secret_id) =
        identities::use_client_secret(&state.pool, ua.id, client_secret).await?
    else {
        return Err(invalid());
    };
    let token = new_access_token();
    identities::insert_access_token(&state.pool, &ua, client_secret_id, &token).await?;
    tracing::info!(identity_id = %ua.identity_id, "universal-auth login");
    Ok((token, ua))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    #[validate(length(min = 1, message = "accessToken is required"))]
    pub access_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/token/renew", tag = "Auth",
    description = "Extends an access token by its TTL, up to its max TTL.",
    request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn renew(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let row = check_token(&state, &body.access_token).await?;
    let now = Utc::now();
    if row.max_ttl > 0 && (now - row.created_at).num_seconds() + row.ttl > row.max_ttl {
        // A renewal would outlive the max TTL: Infisical refuses rather than shortening.
        return Err(ApiError::bad_request(
            "Failed to renew access token due to max TTL expiration; log in again",
        ));
    }
    identities::renew_token(&state.pool, row.id).await?;
    Ok(Json(TokenResponse {
        access_token: body.access_token,
        expires_in: row.ttl,
        access_token_max_ttl: row.max_ttl,
        token_type: "Bearer".into(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

#[utoipa::path(post, path = "/api/v1/auth/token/revoke", tag = "Auth",
    description = "Revokes an access token at once.",
    request_body = TokenRequest,
    responses((status = 200, body = MessageResponse), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<Json<MessageResponse>> {
    let row = check_token(&state, &body.access_token).await?;
    identities::revoke_token(&state.pool, row.id).await?;
    Ok(Json(MessageResponse {
        message: "Successfully revoked access token".into(),
    }))
}
