//! First start: create the organization and its admin machine identity, once.

use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::crypto;
use crate::error::ApiError;
use crate::store::identities::{self, UniversalAuthSettings};

/// Access tokens live 30 days by default, as in Infisical.
pub const DEFAULT_TOKEN_TTL: i64 = 2_592_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct BootstrapResult {
    pub organization: OrganizationView,
    pub identity: BootstrapIdentity,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BootstrapIdentity {
    pub id: Uuid,
    pub name: String,
    pub credentials: Credentials,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub client_id: Uuid,
    pub client_secret: String,
}

/// Creates the organization and an admin identity with universal-auth credentials, but only
/// while the instance has no identity at all. Concurrent calls are serialized by a lock.
pub async fn bootstrap(pool: &PgPool, organization: &str) -> Result<BootstrapResult, ApiError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('rotary-bootstrap'))")
        .execute(&mut *tx)
        .await?;
    if identities::count_identities(&mut *tx).await? > 0 {
        return Err(ApiError::bad_request("Instance has already been set up"));
    }
    let org_id = identities::insert_organization(&mut *tx, organization).await?;
    let identity = identities::insert_identity(&mut *tx, org_id, "admin", "admin").await?;
    let ua = identities::insert_universal_auth(
        &mut *tx,
        identity.id,
        &UniversalAuthSettings {
            access_token_ttl: DEFAULT_TOKEN_TTL,
            access_token_max_ttl: DEFAULT_TOKEN_TTL,
            access_token_num_uses_limit: 0,
        },
    )
    .await?;
    let secret = crypto::random_hex(32);
    identities::insert_client_secret(&mut *tx, ua.id, "bootstrap", &secret, 0, 0).await?;
    tx.commit().await?;
    Ok(BootstrapResult {
        organization: OrganizationView {
            id: org_id,
            name: organization.to_string(),
        },
        identity: BootstrapIdentity {
            id: identity.id,
            name: identity.name,
            credentials: Credentials {
                client_id: ua.client_id,
                client_secret: secret,
            },
        },
    })
}
