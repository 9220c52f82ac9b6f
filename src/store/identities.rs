//! Organizations, machine identities, their universal-auth settings, client secrets and access
//! tokens. Client secrets and tokens are stored only as hashes.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct IdentityRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub org_role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow)]
pub struct UniversalAuthRow {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub client_id: Uuid,
    pub access_token_ttl: i64,
    pub access_token_max_ttl: i64,
    pub access_token_num_uses_limit: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow)]
pub struct ClientSecretRow {
    pub id: Uuid,
    pub universal_auth_id: Uuid,
    pub description: String,
    pub prefix: String,
    pub ttl: i64,
    pub num_uses: i64,
    pub num_uses_limit: i64,
    pub is_revoked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An access token joined with the identity it belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub ttl: i64,
    pub max_ttl: i64,
    pub num_uses: i64,
    pub num_uses_limit: i64,
    pub is_revoked: bool,
    pub created_at: DateTime<Utc>,
    pub renewed_at: DateTime<Utc>,
    pub org_id: Uuid,
    pub org_role: String,
    pub identity_name: String,
}

impl TokenRow {
    /// Seconds until the token expires (by TTL since the last renewal, or by max TTL since
    /// issue); `None` when it never expires, negative when it has.
    pub fn seconds_left(&self, now: DateTime<Utc>) -> Option<i64> {
        let by_ttl = (self.ttl > 0).then(|| (self.renewed_at - now).num_seconds() + self.ttl);
        let by_max =
            (self.max_ttl > 0).then(|| (self.created_at - now).num_seconds() + self.max_ttl);
        match (by_ttl, by_max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

pub async fn count_identities(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM identities")
        .fetch_one(db)
        .await
}

pub async fn insert_organization(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO organizations (id, name) VALUES ($1, $2)")
        .bind(id)
        .bind(name)
        .execute(db)
        .await?;
    Ok(id)
}

pub async fn insert_identity(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    name: &str,
    org_role: &str,
) -> sqlx::Result<IdentityRow> {
    sqlx::query_as(
        "INSERT INTO identities (id, org_id, name, org_role) VALUES ($1, $2, $3, $4) RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(org_id)
    .bind(name)
    .bind(org_role)
    .fetch_one(db)
    .await
}

pub async fn find_identity(
    db: impl PgExecutor<'_>,
    org_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<IdentityRow>> {
    sqlx::query_as("SELECT * FROM identities WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org_id)
        .fetch_optional(db)
        .await
}

pub async fn list_identities(db: &PgPool, org_id: Uuid) -> sqlx::Result<Vec<IdentityRow>> {
    sqlx::query_as("SELECT * FROM identities WHERE org_id = $1 ORDER BY created_at, id")
        .bind(org_id)
        .fetch_all(db)
        .await
}

pub async fn update_identity(
    db: &PgPool,
    id: Uuid,
    name: Option<&str>,
    org_role: Option<&str>,
) -> sqlx::Result<IdentityRow> {
    sqlx::query_as(
        "UPDATE identities SET name = coalesce($2, name), org_role = coalesce($3, org_role), \
         updated_at = now() WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(name)
    .bind(org_role)
    .fetch_one(db)
    .await
}

pub async fn delete_identity(db: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM identities WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count_org_admins(db: &PgPool, org_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM identities WHERE org_id = $1 AND org_role = 'admin'")
        .bind(org_id)
        .fetch_one(db)
        .await
}

pub struct UniversalAuthSettings {
    pub access_token_ttl: i64,
    pub access_token_max_ttl: i64,
    pub access_token_num_uses_limit: i64,
}

pub async fn insert_universal_auth(
    db: impl PgExecutor<'_>,
    identity_id: Uuid,
    settings: &UniversalAuthSettings,
) -> sqlx::Result<UniversalAuthRow> {
    sqlx::query_as(
        "INSERT INTO universal_auths (id, identity_id, client_id, access_token_ttl, \
         access_token_max_ttl, access_token_num_uses_limit) VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(identity_id)
    .bind(Uuid::new_v4())
    .bind(settings.access_token_ttl)
    .bind(settings.access_token_max_ttl)
    .bind(settings.access_token_num_uses_limit)
    .fetch_one(db)
    .await
}

pub async fn update_universal_auth(
    db: &PgPool,
    identity_id: Uuid,
    settings: &UniversalAuthSettings,
) -> sqlx::Result<UniversalAuthRow> {
    sqlx::query_as(
        "UPDATE universal_auths SET access_token_ttl = $2, access_token_max_ttl = $3, \
         access_token_num_uses_limit = $4, updated_at = now() WHERE identity_id = $1 RETURNING *",
    )
    .bind(identity_id)
    .bind(settings.access_token_ttl)
    .bind(settings.access_token_max_ttl)
    .bind(settings.access_token_num_uses_limit)
    .fetch_one(db)
    .await
}

pub async fn find_universal_auth(
    db: impl PgExecutor<'_>,
    identity_id: Uuid,
) -> sqlx::Result<Option<UniversalAuthRow>> {
    sqlx::query_as("SELECT * FROM universal_auths WHERE identity_id = $1")
        .bind(identity_id)
        .fetch_optional(db)
        .await
}

pub async fn find_universal_auth_by_client_id(
    db: &PgPool,
    client_id: Uuid,
) -> sqlx::Result<Option<UniversalAuthRow>> {
    sqlx::query_as("SELECT * FROM universal_auths WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(db)
        .await
}

/// Removing universal auth also ends every token it issued.
pub async fn delete_universal_auth(db: &PgPool, identity_id: Uuid) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE access_tokens SET is_revoked = true WHERE identity_id = $1")
        .bind(identity_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM universal_auths WHERE identity_id = $1")
        .bind(identity_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn insert_client_secret(
    db: impl PgExecutor<'_>,
    universal_auth_id: Uuid,
    description: &str,
    secret: &str,
    ttl: i64,
    num_uses_limit: i64,
) -> sqlx::Result<ClientSecretRow> {
    sqlx::query_as(
        "INSERT INTO client_secrets (id, universal_auth_id, description, prefix, secret_hash, ttl, \
         num_uses_limit) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         RETURNING id, universal_auth_id, description, prefix, ttl, num_uses, num_uses_limit, \
         is_revoked, created_at, updated_at",
    )
    .bind(Uuid::new_v4())
    .bind(universal_auth_id)
    .bind(description)
    .bind(&secret[..4])
    .bind(crate::crypto::token_hash(secret))
    .bind(ttl)
    .bind(num_uses_limit)
    .fetch_one(db)
    .await
}

const CLIENT_SECRET_COLUMNS: &str = "id, universal_auth_id, description, prefix, ttl, num_uses, \
     num_uses_limit, is_revoked, created_at, updated_at";

pub async fn list_client_secrets(
    db: &PgPool,
    universal_auth_id: Uuid,
) -> sqlx::Result<Vec<ClientSecretRow>> {
    sqlx::query_as(&format!(
        "SELECT {CLIENT_SECRET_COLUMNS} FROM client_secrets \
         WHERE universal_auth_id = $1 AND NOT is_revoked ORDER BY created_at, id"
    ))
    .bind(universal_auth_id)
    .fetch_all(db)
    .await
}

pub async fn find_client_secret(
    db: &PgPool,
    universal_auth_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ClientSecretRow>> {
    sqlx::query_as(&format!(
        "SELECT {CLIENT_SECRET_COLUMNS} FROM client_secrets WHERE universal_auth_id = $1 AND id = $2"
    ))
    .bind(universal_auth_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Revokes a client secret and every access token it issued.
pub async fn revoke_client_secret(db: &PgPool, id: Uuid) -> sqlx::Result<ClientSecretRow> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE access_tokens SET is_revoked = true WHERE client_secret_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query_as(&format!(
        "UPDATE client_secrets SET is_revoked = true, updated_at = now() WHERE id = $1 \
         RETURNING {CLIENT_SECRET_COLUMNS}"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Spends one use of a client secret if it is valid: not revoked, not past its TTL, uses left.
/// Returns its id, or `None` when the secret does not log in.
pub async fn use_client_secret(
    db: &PgPool,
    universal_auth_id: Uuid,
    secret: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "UPDATE client_secrets SET num_uses = num_uses + 1 \
         WHERE universal_auth_id = $1 AND secret_hash = $2 AND NOT is_revoked \
           AND (ttl = 0 OR created_at + make_interval(secs => ttl) > now()) \
           AND (num_uses_limit = 0 OR num_uses < num_uses_limit) \
         RETURNING id",
    )
    .bind(universal_auth_id)
    .bind(crate::crypto::token_hash(secret))
    .fetch_optional(db)
    .await
}

pub async fn insert_access_token(
    db: &PgPool,
    ua: &UniversalAuthRow,
    client_secret_id: Uuid,
    token: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO access_tokens (id, identity_id, client_secret_id, token_hash, ttl, max_ttl, \
         num_uses_limit) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4())
    .bind(ua.identity_id)
    .bind(client_secret_id)
    .bind(crate::crypto::token_hash(token))
    .bind(ua.access_token_ttl)
    .bind(ua.access_token_max_ttl)
    .bind(ua.access_token_num_uses_limit)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find_token(db: &PgPool, token: &str) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(
        "SELECT t.id, t.identity_id, t.ttl, t.max_ttl, t.num_uses, t.num_uses_limit, t.is_revoked, \
                t.created_at, t.renewed_at, i.org_id, i.org_role, i.name AS identity_name \
         FROM access_tokens t JOIN identities i ON i.id = t.identity_id \
         WHERE t.token_hash = $1",
    )
    .bind(crate::crypto::token_hash(token))
    .fetch_optional(db)
    .await
}

/// Spends one use of a token that has a use limit; false when none is left.
pub async fn use_token(db: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "UPDATE access_tokens SET num_uses = num_uses + 1 \
         WHERE id = $1 AND (num_uses_limit = 0 OR num_uses < num_uses_limit)",
    )
    .bind(id)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

pub async fn renew_token(db: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE access_tokens SET renewed_at = now() WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn revoke_token(db: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE access_tokens SET is_revoked = true WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
