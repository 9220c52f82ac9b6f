//! App connection rows. Credentials arrive sealed; this module never sees plaintext.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct ConnectionRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Option<Uuid>,
    pub app: String,
    pub method: String,
    pub name: String,
    pub description: Option<String>,
    pub version: i32,
    pub public_config: Value,
    pub credentials_ct: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewConnection<'a> {
    pub id: Uuid,
    pub org_id: Uuid,
    pub project_id: Option<Uuid>,
    pub app: &'a str,
    pub method: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub public_config: Value,
    pub credentials_ct: Vec<u8>,
}

pub async fn name_taken(
    db: &PgPool,
    org_id: Uuid,
    project_id: Option<Uuid>,
    name: &str,
    except: Option<Uuid>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM app_connections WHERE org_id = $1 AND project_id IS NOT DISTINCT FROM $2 \
         AND name = $3 AND id IS DISTINCT FROM $4)",
    )
    .bind(org_id)
    .bind(project_id)
    .bind(name)
    .bind(except)
    .fetch_one(db)
    .await
}

pub async fn insert(db: &PgPool, new: NewConnection<'_>) -> sqlx::Result<ConnectionRow> {
    sqlx::query_as(
        "INSERT INTO app_connections (id, org_id, project_id, app, method, name, description, public_config, credentials_ct) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
    )
    .bind(new.id)
    .bind(new.org_id)
    .bind(new.project_id)
    .bind(new.app)
    .bind(new.method)
    .bind(new.name)
    .bind(new.description)
    .bind(new.public_config)
    .bind(new.credentials_ct)
    .fetch_one(db)
    .await
}

pub async fn find(db: &PgPool, org_id: Uuid, id: Uuid) -> sqlx::Result<Option<ConnectionRow>> {
    sqlx::query_as("SELECT * FROM app_connections WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The id of the app's connection named `name` in the project (or the organization's, when
/// no project is named).
pub async fn find_by_name(
    db: &PgPool,
    org_id: Uuid,
    project_id: Option<Uuid>,
    app: &str,
    name: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM app_connections WHERE org_id = $1 AND project_id IS NOT DISTINCT FROM $2 AND app = $3 AND name = $4",
    )
    .bind(org_id)
    .bind(project_id)
    .bind(app)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Connections of the organization, optionally of one app, in creation order.
pub async fn list(
    db: &PgPool,
    org_id: Uuid,
    app: Option<&str>,
) -> sqlx::Result<Vec<ConnectionRow>> {
    sqlx::query_as(
        "SELECT * FROM app_connections WHERE org_id = $1 AND ($2::text IS NULL OR app = $2) ORDER BY created_at, id",
    )
    .bind(org_id)
    .bind(app)
    .fetch_all(db)
    .await
}

pub struct ConnectionChange {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub public_config: Option<Value>,
    pub credentials_ct: Option<Vec<u8>>,
}

/// Applies a change; new credentials bump the version.
pub async fn update(
    db: &PgPool,
    id: Uuid,
    change: ConnectionChange,
) -> sqlx::Result<ConnectionRow> {
    let new_credentials = change.credentials_ct.is_some();
    sqlx::query_as(
        "UPDATE app_connections SET name = coalesce($2, name), \
         description = CASE WHEN $3 THEN $4 ELSE description END, \
         public_config = coalesce($5, public_config), credentials_ct = coalesce($6, credentials_ct), \
         version = version + CASE WHEN $7 THEN 1 ELSE 0 END, updated_at = now() WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(change.name)
    .bind(change.description.is_some())
    .bind(change.description.flatten())
    .bind(change.public_config)
    .bind(change.credentials_ct)
    .bind(new_credentials)
    .fetch_one(db)
    .await
}

/// New sealed credentials (a rotation changed the connection's own password), in the
/// caller's transaction.
pub async fn set_credentials(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    credentials_ct: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE app_connections SET credentials_ct = $2, version = version + 1, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(credentials_ct)
    .execute(db)
    .await
    .map(drop)
}

pub async fn delete(db: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM app_connections WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}
