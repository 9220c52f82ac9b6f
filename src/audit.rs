//! The audit log: every create, update, delete, rotation (manual and scheduled), credential
//! read and check of a secret rotation, with its actor and outcome. Writing it never fails the
//! action it records: a failed write is logged instead.

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::Auth;

pub enum Actor<'a> {
    Identity(&'a Auth),
    /// Rotary itself (the scheduler).
    Platform,
}

pub struct Event<'a> {
    pub org_id: Uuid,
    pub project_id: Uuid,
    pub actor: Actor<'a>,
    /// Infisical's event names, e.g. `SECRET_ROTATION_ROTATE_SECRETS`.
    pub event_type: &'static str,
    /// `success` or `failure`.
    pub outcome: &'static str,
    pub metadata: Value,
}

pub async fn record(db: &PgPool, event: Event<'_>) {
    let (actor_type, actor_id, actor_name) = match event.actor {
        Actor::Identity(auth) => (
            "identity",
            Some(auth.identity_id),
            Some(auth.identity_name.clone()),
        ),
        Actor::Platform => ("platform", None, None),
    };
    let result = sqlx::query(
        "INSERT INTO audit_logs (id, org_id, project_id, actor_type, actor_id, actor_name, event_type, outcome, metadata) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::new_v4())
    .bind(event.org_id)
    .bind(event.project_id)
    .bind(actor_type)
    .bind(actor_id)
    .bind(actor_name)
    .bind(event.event_type)
    .bind(event.outcome)
    .bind(&event.metadata)
    .execute(db)
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, event = event.event_type, "could not write the audit log");
    }
}

/// An entry about a rotation: its id, type, name, path, environment and connection, plus
/// `extra`.
pub async fn rotation(
    db: &PgPool,
    actor: Actor<'_>,
    row: &crate::store::rotations::RotationRow,
    event_type: &'static str,
    outcome: &'static str,
    extra: Value,
) {
    let mut metadata = json!({
        "rotationId": row.id,
        "type": row.rotation_type,
        "name": row.name,
        "secretPath": row.folder_path,
        "environmentId": row.env_id,
        "connectionId": row.connection_id,
    });
    if let (Some(m), Value::Object(extra)) = (metadata.as_object_mut(), extra) {
        m.extend(extra);
    }
    record(
        db,
        Event {
            org_id: row.org_id,
            project_id: row.project_id,
            actor,
            event_type,
            outcome,
            metadata,
        },
    )
    .await;
}
