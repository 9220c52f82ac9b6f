//! Who is calling: the bearer access token of a machine identity, checked on every request but
//! health and login. Tokens are opaque random strings; only their hashes are stored.

pub mod bootstrap;
pub mod rate_limit;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::identities::{self, TokenRow};

/// The authenticated machine identity behind a request.
#[derive(Debug, Clone)]
pub struct Auth {
    pub identity_id: Uuid,
    pub identity_name: String,
    pub org_id: Uuid,
    pub org_role: String,
    pub token_id: Uuid,
}

impl Auth {
    pub fn is_org_admin(&self) -> bool {
        self.org_role == "admin"
    }

    /// Organization-level actions (managing identities) need the organization's admin role.
    pub fn require_org_admin(&self, action: &str, subject: &str) -> Result<(), ApiError> {
        if self.is_org_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(action, subject))
        }
    }
}

/// A fresh access token: 32 random bytes, URL-safe base64.
pub fn new_access_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The bearer token of a request, if it carries a non-empty one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Looks a token up and checks it is still good: not revoked, not expired, uses left.
pub async fn check_token(state: &AppState, token: &str) -> Result<TokenRow, ApiError> {
    let row = crate::cache::token(state, token)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Invalid access token"))?;
    if row.is_revoked {
        return Err(ApiError::unauthorized(
            "Access token has been revoked; log in again",
        ));
    }
    if row.seconds_left(Utc::now()).is_some_and(|left| left <= 0) {
        return Err(ApiError::unauthorized(
            "Access token has expired; log in again",
        ));
    }
    if row.num_uses_limit > 0 && !identities::use_token(&state.pool, row.id).await? {
        return Err(ApiError::unauthorized(
            "Access token has reached its use limit; log in again",
        ));
    }
    Ok(row)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or_else(|| {
            ApiError::unauthorized(
                "Missing access token: send 'Authorization: Bearer <accessToken>' with a token \
                 from POST /api/v1/auth/universal-auth/login",
            )
        })?;
        let row = check_token(state, token).await?;
        Ok(Auth {
            identity_id: row.identity_id,
            identity_name: row.identity_name,
            org_id: row.org_id,
            org_role: row.org_role,
            token_id: row.id,
        })
    }
}
