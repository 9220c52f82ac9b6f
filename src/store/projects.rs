//! Projects with their environments, folders and identity memberships.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor, PgPool, Postgres, Transaction};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct ProjectRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub slug: String,
    pub wrapped_key: Vec<u8>,
    pub root_key_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow)]
pub struct EnvironmentRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    pub slug: String,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow)]
pub struct MembershipRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub identity_id: Uuid,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub identity_name: String,
}

#[derive(Debug, Clone, FromRow)]
pub struct FolderRow {
    pub id: Uuid,
    pub env_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub path: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The environments every new project starts with, as in Infisical.
pub const DEFAULT_ENVIRONMENTS: [(&str, &str); 3] = [
    ("Development", "dev"),
    ("Staging", "staging"),
    ("Production", "prod"),
];

pub async fn slug_taken(db: &PgPool, org_id: Uuid, slug: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projects WHERE org_id = $1 AND slug = $2)")
        .bind(org_id)
        .bind(slug)
        .fetch_one(db)
        .await
}

pub struct NewProject<'a> {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: &'a str,
    pub slug: &'a str,
    pub wrapped_key: Vec<u8>,
    pub root_key_id: String,
    pub admin: Uuid,
}

/// Creates the project, its default environments and the creator's admin membership.
pub async fn insert_project(db: &PgPool, new: NewProject<'_>) -> sqlx::Result<ProjectRow> {
    let mut tx = db.begin().await?;
    let row: ProjectRow = sqlx::query_as(
        "INSERT INTO projects (id, org_id, name, slug, wrapped_key, root_key_id) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
    )
    .bind(new.id)
    .bind(new.org_id)
    .bind(new.name)
    .bind(new.slug)
    .bind(&new.wrapped_key)
    .bind(&new.root_key_id)
    .fetch_one(&mut *tx)
    .await?;
    for (position, (name, slug)) in DEFAULT_ENVIRONMENTS.iter().enumerate() {
        insert_environment(&mut tx, row.id, name, slug, position as i32 + 1).await?;
    }
    sqlx::query(
        "INSERT INTO project_memberships (id, project_id, identity_id, role) VALUES ($1, $2, $3, 'admin')",
    )
    .bind(Uuid::new_v4())
    .bind(row.id)
    .bind(new.admin)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn find_project(db: &PgPool, id: Uuid) -> sqlx::Result<Option<ProjectRow>> {
    sqlx::query_as("SELECT * FROM projects WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The project with the identity's role in it, when the identity is a member.
pub async fn find_project_for_member(
    db: &PgPool,
    id: Uuid,
    identity_id: Uuid,
) -> sqlx::Result<Option<(ProjectRow, String)>> {
    #[derive(FromRow)]
    struct WithRole {
        #[sqlx(flatten)]
        project: ProjectRow,
        role: String,
    }
    let row: Option<WithRole> = sqlx::query_as(
        "SELECT p.*, m.role FROM projects p \
         JOIN project_memberships m ON m.project_id = p.id AND m.identity_id = $2 \
         WHERE p.id = $1",
    )
    .bind(id)
    .bind(identity_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.project, r.role)))
}

pub async fn list_member_projects(db: &PgPool, identity_id: Uuid) -> sqlx::Result<Vec<ProjectRow>> {
    sqlx::query_as(
        "SELECT p.* FROM projects p JOIN project_memberships m ON m.project_id = p.id \
         WHERE m.identity_id = $1 AND m.role <> 'no-access' ORDER BY p.created_at, p.id",
    )
    .bind(identity_id)
    .fetch_all(db)
    .await
}

pub async fn insert_environment(
    tx: &mut Transaction<'_, Postgres>,
    project_id: Uuid,
    name: &str,
    slug: &str,
    position: i32,
) -> sqlx::Result<EnvironmentRow> {
    sqlx::query_as(
        "INSERT INTO environments (id, project_id, name, slug, position) \
         VALUES ($1, $2, $3, $4, $5) RETURNING *",
    )
    .bind(Uuid::new_v4())
    .bind(project_id)
    .bind(name)
    .bind(slug)
    .bind(position)
    .fetch_one(&mut **tx)
    .await
}

pub async fn list_environments(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
) -> sqlx::Result<Vec<EnvironmentRow>> {
    sqlx::query_as("SELECT * FROM environments WHERE project_id = $1 ORDER BY position, created_at")
        .bind(project_id)
        .fetch_all(db)
        .await
}

pub async fn find_environment(
    db: &PgPool,
    project_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<EnvironmentRow>> {
    sqlx::query_as("SELECT * FROM environments WHERE project_id = $1 AND id = $2")
        .bind(project_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn environment_by_id(db: &PgPool, id: Uuid) -> sqlx::Result<EnvironmentRow> {
    sqlx::query_as("SELECT * FROM environments WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

pub async fn find_environment_by_slug(
    db: &PgPool,
    project_id: Uuid,
    slug: &str,
) -> sqlx::Result<Option<EnvironmentRow>> {
    sqlx::query_as("SELECT * FROM environments WHERE project_id = $1 AND slug = $2")
        .bind(project_id)
        .bind(slug)
        .fetch_optional(db)
        .await
}

pub async fn update_environment(
    db: &PgPool,
    id: Uuid,
    name: Option<&str>,
    slug: Option<&str>,
    position: Option<i32>,
) -> sqlx::Result<EnvironmentRow> {
    sqlx::query_as(
        "UPDATE environments SET name = coalesce($2, name), slug = coalesce($3, slug), \
         position = coalesce($4, position), updated_at = now() WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(name)
    .bind(slug)
    .bind(position)
    .fetch_one(db)
    .await
}

pub async fn delete_environment(db: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM environments WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

const MEMBERSHIP_SELECT: &str = "SELECT m.*, i.name AS identity_name FROM project_memberships m \
     JOIN identities i ON i.id = m.identity_id";

pub async fn find_membership(
    db: &PgPool,
    project_id: Uuid,
    identity_id: Uuid,
) -> sqlx::Result<Option<MembershipRow>> {
    sqlx::query_as(&format!(
        "{MEMBERSHIP_SELECT} WHERE m.project_id = $1 AND m.identity_id = $2"
    ))
    .bind(project_id)
    .bind(identity_id)
    .fetch_optional(db)
    .await
}

pub async fn list_memberships(db: &PgPool, project_id: Uuid) -> sqlx::Result<Vec<MembershipRow>> {
    sqlx::query_as(&format!(
        "{MEMBERSHIP_SELECT} WHERE m.project_id = $1 ORDER BY m.created_at, m.id"
    ))
    .bind(project_id)
    .fetch_all(db)
    .await
}

pub async fn insert_membership(
    db: &PgPool,
    project_id: Uuid,
    identity_id: Uuid,
    role: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO project_memberships (id, project_id, identity_id, role) VALUES ($1, $2, $3, $4)",
    )
    .bind(Uuid::new_v4())
    .bind(project_id)
    .bind(identity_id)
    .bind(role)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_membership_role(
    db: &PgPool,
    project_id: Uuid,
    identity_id: Uuid,
    role: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE project_memberships SET role = $3, updated_at = now() \
         WHERE project_id = $1 AND identity_id = $2",
    )
    .bind(project_id)
    .bind(identity_id)
    .bind(role)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_membership(
    db: &PgPool,
    project_id: Uuid,
    identity_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM project_memberships WHERE project_id = $1 AND identity_id = $2")
        .bind(project_id)
        .bind(identity_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count_admins(db: &PgPool, project_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM project_memberships WHERE project_id = $1 AND role = 'admin'",
    )
    .bind(project_id)
    .fetch_one(db)
    .await
}

// ---- folders -------------------------------------------------------------------------------

pub async fn find_folder_by_path(
    db: impl PgExecutor<'_>,
    env_id: Uuid,
    path: &str,
) -> sqlx::Result<Option<FolderRow>> {
    sqlx::query_as("SELECT * FROM folders WHERE env_id = $1 AND path = $2")
        .bind(env_id)
        .bind(path)
        .fetch_optional(db)
        .await
}

pub async fn find_folder(db: &PgPool, id: Uuid) -> sqlx::Result<Option<FolderRow>> {
    sqlx::query_as("SELECT * FROM folders WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Folders directly inside `parent_path` (or everywhere below it when `recursive`).
pub async fn list_folders(
    db: &PgPool,
    env_id: Uuid,
    parent_path: &str,
    recursive: bool,
) -> sqlx::Result<Vec<FolderRow>> {
    let prefix = if parent_path == "/" {
        "/".to_string()
    } else {
        format!("{parent_path}/")
    };
    sqlx::query_as(
        "SELECT * FROM folders WHERE env_id = $1 AND starts_with(path, $2) \
         AND ($3 OR position('/' IN substr(path, length($2) + 1)) = 0) ORDER BY path",
    )
    .bind(env_id)
    .bind(prefix)
    .bind(recursive)
    .fetch_all(db)
    .await
}

/// Creates the folder at `path` and any missing parents; returns the innermost one.
pub async fn ensure_folder_path(
    tx: &mut Transaction<'_, Postgres>,
    env_id: Uuid,
    path: &str,
) -> sqlx::Result<Option<FolderRow>> {
    let mut parent: Option<FolderRow> = None;
    let mut current = String::new();
    for name in path.split('/').filter(|s| !s.is_empty()) {
        current.push('/');
        current.push_str(name);
        let existing = find_folder_by_path(&mut **tx, env_id, &current).await?;
        let folder = match existing {
            Some(folder) => folder,
            None => {
                // Another request may create the same folder at the same moment: then its
                // row is the one (read after it commits), not a unique violation.
                let inserted: Option<FolderRow> = sqlx::query_as(
                    "INSERT INTO folders (id, env_id, parent_id, name, path) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (env_id, path) DO NOTHING RETURNING *",
                )
                .bind(Uuid::new_v4())
                .bind(env_id)
                .bind(parent.as_ref().map(|p| p.id))
                .bind(name)
                .bind(&current)
                .fetch_optional(&mut **tx)
                .await?;
                match inserted {
                    Some(folder) => folder,
                    None => find_folder_by_path(&mut **tx, env_id, &current)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)?,
                }
            }
        };
        parent = Some(folder);
    }
    Ok(parent)
}

/// Renames a folder, moving the paths of everything beneath it and of the secrets inside.
pub async fn rename_folder(
    db: &PgPool,
    folder: &FolderRow,
    new_name: &str,
) -> sqlx::Result<FolderRow> {
    let parent = folder.path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let new_path = format!("{parent}/{new_name}");
    let mut tx = db.begin().await?;
    for table in ["folders", "secrets"] {
        sqlx::query(&format!(
            "UPDATE {table} SET path = $3 || substr(path, length($2) + 1), updated_at = now() \
             WHERE env_id = $1 AND (path = $2 OR starts_with(path, $2 || '/'))"
        ))
        .bind(folder.env_id)
        .bind(&folder.path)
        .bind(&new_path)
        .execute(&mut *tx)
        .await?;
    }
    let row = sqlx::query_as("UPDATE folders SET name = $2 WHERE id = $1 RETURNING *")
        .bind(folder.id)
        .bind(new_name)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes a folder with its subfolders and the secrets inside them.
pub async fn delete_folder(db: &PgPool, folder: &FolderRow) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    for table in ["secrets", "folders"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE env_id = $1 AND (path = $2 OR starts_with(path, $2 || '/'))"
        ))
        .bind(folder.env_id)
        .bind(&folder.path)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Whether a rotation owns any secret at or below the path.
pub async fn has_rotated_secrets_under(
    db: &PgPool,
    env_id: Uuid,
    path: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM secrets WHERE env_id = $1 AND rotation_id IS NOT NULL \
         AND (path = $2 OR starts_with(path, $2 || '/')))",
    )
    .bind(env_id)
    .bind(path)
    .fetch_one(db)
    .await
}
