//! The versioned secret store. Values and comments arrive here already sealed; this module
//! never sees plaintext. Every write appends a row to `secret_versions`.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct SecretRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub env_id: Uuid,
    pub path: String,
    pub key: String,
    #[sqlx(rename = "type")]
    pub secret_type: String,
    pub version: i32,
    pub value_ct: Vec<u8>,
    pub comment_ct: Vec<u8>,
    pub skip_multiline_encoding: bool,
    pub rotation_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn list(
    db: &PgPool,
    env_id: Uuid,
    path: &str,
    recursive: bool,
) -> sqlx::Result<Vec<SecretRow>> {
    sqlx::query_as(
        "SELECT * FROM secrets WHERE env_id = $1 \
         AND (path = $2 OR ($3 AND starts_with(path, CASE WHEN $2 = '/' THEN '/' ELSE $2 || '/' END))) \
         ORDER BY path, key",
    )
    .bind(env_id)
    .bind(path)
    .bind(recursive)
    .fetch_all(db)
    .await
}

pub async fn find(
    db: &PgPool,
    env_id: Uuid,
    path: &str,
    key: &str,
) -> sqlx::Result<Option<SecretRow>> {
    sqlx::query_as(
        "SELECT * FROM secrets WHERE env_id = $1 AND path = $2 AND key = $3 AND type = 'shared'",
    )
    .bind(env_id)
    .bind(path)
    .bind(key)
    .fetch_optional(db)
    .await
}

async fn record_version(db: &mut PgConnection, row: &SecretRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO secret_versions (id, secret_id, project_id, env_id, path, key, version, value_ct, comment_ct) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::new_v4())
    .bind(row.id)
    .bind(row.project_id)
    .bind(row.env_id)
    .bind(&row.path)
    .bind(&row.key)
    .bind(row.version)
    .bind(&row.value_ct)
    .bind(&row.comment_ct)
    .execute(db)
    .await?;
    Ok(())
}

pub struct NewSecret<'a> {
    pub id: Uuid,
    pub project_id: Uuid,
    pub env_id: Uuid,
    pub path: &'a str,
    pub key: &'a str,
    pub value_ct: Vec<u8>,
    pub comment_ct: Vec<u8>,
    pub skip_multiline_encoding: bool,
}

/// Inserts version 1. Returns `None` when a secret with that name already exists there.
pub async fn insert(db: &PgPool, new: NewSecret<'_>) -> sqlx::Result<Option<SecretRow>> {
    let mut tx = db.begin().await?;
    let row = insert_in(&mut tx, new, None).await?;
    tx.commit().await?;
    Ok(row)
}

/// Inserts version 1 inside the caller's transaction, owned by `rotation_id` when given.
pub async fn insert_in(
    db: &mut PgConnection,
    new: NewSecret<'_>,
    rotation_id: Option<Uuid>,
) -> sqlx::Result<Option<SecretRow>> {
    let row: Option<SecretRow> = sqlx::query_as(
        "INSERT INTO secrets (id, project_id, env_id, path, key, version, value_ct, comment_ct, skip_multiline_encoding, rotation_id) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9) ON CONFLICT (env_id, path, key, type) DO NOTHING RETURNING *",
    )
    .bind(new.id)
    .bind(new.project_id)
    .bind(new.env_id)
    .bind(new.path)
    .bind(new.key)
    .bind(&new.value_ct)
    .bind(&new.comment_ct)
    .bind(new.skip_multiline_encoding)
    .bind(rotation_id)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(row) = &row {
        record_version(db, row).await?;
    }
    Ok(row)
}

/// The secret a rotation owns under this name, for the engine to write.
pub async fn find_owned(
    db: &mut PgConnection,
    rotation_id: Uuid,
    key: &str,
) -> sqlx::Result<Option<SecretRow>> {
    sqlx::query_as("SELECT * FROM secrets WHERE rotation_id = $1 AND key = $2")
        .bind(rotation_id)
        .bind(key)
        .fetch_optional(db)
        .await
}

/// One change to an engine-owned secret: a new name, a new sealed value, or both.
pub struct OwnedWrite {
    pub id: Uuid,
    pub new_key: Option<String>,
    pub value_ct: Option<Vec<u8>>,
}

/// Writes a new version of each engine-owned secret given (name and/or value) with its history
/// entry, in one statement: one round trip for all the secrets a rotation publishes.
pub async fn write_owned(db: &mut PgConnection, writes: &[OwnedWrite]) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = writes.iter().map(|w| w.id).collect();
    let keys: Vec<Option<&str>> = writes.iter().map(|w| w.new_key.as_deref()).collect();
    let cts: Vec<Option<&[u8]>> = writes.iter().map(|w| w.value_ct.as_deref()).collect();
    sqlx::query(
        "WITH new AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[]) AS n(id, key, value_ct)), \
         row AS (UPDATE secrets s SET key = coalesce(new.key, s.key), value_ct = coalesce(new.value_ct, s.value_ct), \
           version = s.version + 1, updated_at = now() FROM new WHERE s.id = new.id RETURNING s.*) \
         INSERT INTO secret_versions (id, secret_id, project_id, env_id, path, key, version, value_ct, comment_ct) \
         SELECT gen_random_uuid(), id, project_id, env_id, path, key, version, value_ct, comment_ct FROM row",
    )
    .bind(ids)
    .bind(keys)
    .bind(cts)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes the secrets a rotation owns, or hands them over to users (no owner).
pub async fn release_owned(
    db: &mut PgConnection,
    rotation_id: Uuid,
    delete: bool,
) -> sqlx::Result<()> {
    let sql = if delete {
        "DELETE FROM secrets WHERE rotation_id = $1"
    } else {
        "UPDATE secrets SET rotation_id = NULL WHERE rotation_id = $1"
    };
    sqlx::query(sql).bind(rotation_id).execute(db).await?;
    Ok(())
}

pub struct SecretChange {
    pub new_key: Option<String>,
    pub value_ct: Option<Vec<u8>>,
    pub comment_ct: Option<Vec<u8>>,
    pub skip_multiline_encoding: Option<bool>,
}

/// Writes the next version, guarded by the version the caller read (so two concurrent edits
/// cannot both win). `None` when the secret changed or vanished meanwhile.
pub async fn update(
    db: &PgPool,
    current: &SecretRow,
    change: SecretChange,
) -> sqlx::Result<Option<SecretRow>> {
    let mut tx = db.begin().await?;
    let row: Option<SecretRow> = sqlx::query_as(
        "UPDATE secrets SET key = coalesce($3, key), value_ct = coalesce($4, value_ct), \
         comment_ct = coalesce($5, comment_ct), skip_multiline_encoding = coalesce($6, skip_multiline_encoding), \
         version = version + 1, updated_at = now() WHERE id = $1 AND version = $2 RETURNING *",
    )
    .bind(current.id)
    .bind(current.version)
    .bind(change.new_key)
    .bind(change.value_ct)
    .bind(change.comment_ct)
    .bind(change.skip_multiline_encoding)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = &row {
        record_version(&mut tx, row).await?;
    }
    tx.commit().await?;
    Ok(row)
}

pub async fn delete(db: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM secrets WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count_versions(db: &PgPool, secret_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM secret_versions WHERE secret_id = $1")
        .bind(secret_id)
        .fetch_one(db)
        .await
}
