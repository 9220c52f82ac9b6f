//! Project webhooks: events go to an outbox inside the transaction of the change they report,
//! and the scheduler loop of any replica delivers them, signed like Infisical's
//! (`x-infisical-signature: t=<ms>;<hex hmac-sha256 of "<ms>.<body>">`), retrying with backoff.

use std::time::Duration;

use chrono::Utc;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::{FromRow, PgConnection, PgPool};
use uuid::Uuid;

use crate::access::project_key;
use crate::state::AppState;
use crate::store::projects;
use crate::store::rotations::RotationRow;

pub const ROTATION_FAILED: &str = "secrets.rotation-failed";
pub const ROTATION_SUCCEEDED: &str = "secrets.rotation-succeeded";
pub const ROTATION_UPCOMING: &str = "secrets.rotation-upcoming";
/// Deliveries given up after this many attempts.
pub const MAX_ATTEMPTS: i32 = 8;

pub fn key_aad(webhook_id: Uuid) -> String {
    format!("webhook-key:{webhook_id}")
}

/// Facts about a rotation event, for the payload.
pub struct RotationEvent<'a> {
    pub event: &'static str,
    pub rotation: &'a RotationRow,
    pub triggered_manually: bool,
    pub error_message: Option<&'a str>,
}

/// Writes the event for every enabled webhook of the project whose environment and path
/// cover the rotation's folder, in the caller's transaction.
pub async fn enqueue_rotation(db: &mut PgConnection, e: RotationEvent<'_>) -> sqlx::Result<()> {
    // One query tells whether anyone listens (most projects have no webhooks) and names the
    // environment and project for the payload.
    let (env_slug, env_name, project_name, listened): (String, String, String, bool) =
        sqlx::query_as(
            "SELECT e.slug, e.name, p.name, EXISTS (SELECT 1 FROM webhooks w \
               WHERE w.project_id = p.id AND w.env_id = e.id AND NOT w.is_disabled \
               AND ($3 = w.secret_path OR w.secret_path = '/' OR starts_with($3, w.secret_path || '/'))) \
             FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.id = $1 AND e.id = $2",
        )
        .bind(e.rotation.project_id)
        .bind(e.rotation.env_id)
        .bind(&e.rotation.folder_path)
        .fetch_one(&mut *db)
        .await?;
    if !listened {
        return Ok(());
    }
    let mut payload = json!({
        "event": e.event,
        "project": {
            "workspaceId": e.rotation.project_id,
            "projectId": e.rotation.project_id,
            "projectName": project_name,
            "environment": env_slug,
            "environmentName": env_name,
            "secretPath": e.rotation.folder_path,
            "rotationName": e.rotation.name,
            "triggeredManually": e.triggered_manually,
            "errorMessage": e.error_message.map(sanitize),
        },
        "timestamp": Utc::now().timestamp_millis(),
    });
    if e.event == ROTATION_UPCOMING {
        payload["project"]["nextRotationAt"] = json!(e.rotation.next_rotation_at);
    }
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event, payload) \
         SELECT gen_random_uuid(), w.id, $4, $5 FROM webhooks w \
         WHERE w.project_id = $1 AND w.env_id = $2 AND NOT w.is_disabled \
         AND ($3 = w.secret_path OR w.secret_path = '/' OR starts_with($3, w.secret_path || '/'))",
    )
    .bind(e.rotation.project_id)
    .bind(e.rotation.env_id)
    .bind(&e.rotation.folder_path)
    .bind(e.event)
    .bind(&payload)
    .execute(db)
    .await?;
    Ok(())
}

/// Queues `secrets.rotation-upcoming` for auto-rotations due within `lead` whose projects
/// have webhooks, once per scheduled time (at most `limit` per call). Replicas may run this at
/// once: the row lock and the `upcoming_notice_for` mark make each notice go out once.
pub async fn enqueue_upcoming(db: &PgPool, lead: Duration, limit: i64) -> sqlx::Result<usize> {
    let mut tx = db.begin().await?;
    let due: Vec<RotationRow> = sqlx::query_as(
        "WITH due AS ( \
           SELECT r.id FROM secret_rotations r \
           WHERE r.is_auto_rotation_enabled AND r.lifecycle = 'active' \
             AND r.next_rotation_at > now() \
             AND r.next_rotation_at <= now() + make_interval(secs => $1) \
             AND r.upcoming_notice_for IS DISTINCT FROM r.next_rotation_at \
             AND EXISTS (SELECT 1 FROM webhooks w WHERE w.project_id = r.project_id AND NOT w.is_disabled) \
           ORDER BY r.next_rotation_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED) \
         UPDATE secret_rotations r SET upcoming_notice_for = r.next_rotation_at FROM due \
         WHERE r.id = due.id \
         RETURNING r.*",
    )
    .bind(lead.as_secs_f64())
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    for rotation in &due {
        enqueue_rotation(
            &mut tx,
            RotationEvent {
                event: ROTATION_UPCOMING,
                rotation,
                triggered_manually: false,
                error_message: None,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// Infisical's webhook-safe error text: the category, never the provider's words.
pub fn sanitize(message: &str) -> String {
    let m = message.to_ascii_lowercase();
    let category = if m.contains("permission")
        || m.contains("unauthorized")
        || m.contains("authentication")
        || m.contains("refused the session")
        || m.contains("invalid_client")
    {
        Some("an authentication/authorization error")
    } else if m.contains("not found") || m.contains("no such resource") {
        Some("a not found error")
    } else if m.contains("limit") {
        Some("a rate limit error")
    } else if m.contains("timed out") || m.contains("timeout") {
        Some("a timeout error")
    } else if m.contains("connect") || m.contains("connection") {
        Some("a connection error")
    } else {
        None
    };
    match category {
        Some(c) => format!("Credential rotation failed due to {c}. Check the rotation status in the dashboard for more details."),
        None => "Credential rotation failed. Check the rotation status in the dashboard for more details.".into(),
    }
}

pub fn sign(key: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp};{}", hex::encode(mac.finalize().into_bytes()))
}

#[derive(FromRow)]
struct Due {
    id: Uuid,
    webhook_id: Uuid,
    payload: Value,
    attempts: i32,
    url: String,
    secret_key_ct: Option<Vec<u8>>,
    project_id: Uuid,
}

/// Sends one webhook request; `Err` says why it failed.
pub async fn send(
    state: &AppState,
    url: &str,
    signing_key: Option<&[u8]>,
    payload: &Value,
) -> Result<(), String> {
    // Checked on every send, not only when saved: see `url_guard` (names are checked by the
    // client's resolver when it connects).
    crate::providers::url_guard::check_literal(url, state.allow_internal_urls)?;
    let body = payload.to_string();
    let mut request = state
        .provider_http
        .post(url)
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10))
        .body(body.clone());
    if let Some(key) = signing_key {
        request = request.header(
            "x-infisical-signature",
            sign(key, Utc::now().timestamp_millis(), &body),
        );
    }
    match request.send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!(
            "the endpoint answered HTTP {}",
            r.status().as_u16()
        )),
        Err(e) => Err(format!(
            "the endpoint could not be reached: {}",
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                // The URL guard's refusal says what to do; other causes stay unnamed (an
                // answer that tells them apart would map internal ports).
                let reason = crate::providers::salesforce::client::transport_reason(&e);
                if reason.contains("ROTARY_ALLOW_INTERNAL_URLS") {
                    reason
                } else {
                    "connection failed".to_string()
                }
            }
        )),
    }
}

/// The webhook's signing key, `None` when it has none. A key that cannot be opened fails the
/// delivery: sending the event unsigned would let receivers accept forgeries.
async fn signing_key(
    state: &AppState,
    project_id: Uuid,
    webhook_id: Uuid,
    ct: &Option<Vec<u8>>,
) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, String> {
    let Some(ct) = ct.as_ref() else {
        return Ok(None);
    };
    let unreadable =
        || "the webhook's signing key could not be read; set the key again".to_string();
    let project = projects::find_project(&state.pool, project_id)
        .await
        .map_err(|_| unreadable())?
        .ok_or_else(unreadable)?;
    let key = project_key(state, &project).map_err(|_| unreadable())?;
    key.open(ct, &key_aad(webhook_id))
        .map(Some)
        .map_err(|_| unreadable())
}

/// Remembers how the webhook's last call went (shown as `lastStatus`).
pub async fn record_result(
    db: &sqlx::PgPool,
    webhook_id: Uuid,
    result: &Result<(), String>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE webhooks SET last_status = $2, last_run_error_message = $3 WHERE id = $1")
        .bind(webhook_id)
        .bind(if result.is_ok() { "success" } else { "failed" })
        .bind(result.as_ref().err())
        .execute(db)
        .await?;
    Ok(())
}

/// Delivers due events (called by the scheduler loop); how many were attempted.
pub async fn deliver_due(state: &AppState, limit: i64) -> sqlx::Result<usize> {
    let mut tx = state.pool.begin().await?;
    let due: Vec<Due> = sqlx::query_as(
        "SELECT d.id, d.webhook_id, d.payload, d.attempts, w.url, w.secret_key_ct, w.project_id \
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= now() \
         ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    // Claim them (push the next attempt out) before sending, so no other replica sends too.
    for d in &due {
        sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = now() + interval '60 seconds' WHERE id = $1")
            .bind(d.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let attempted = due.len();
    for d in due {
        let result = match signing_key(state, d.project_id, d.webhook_id, &d.secret_key_ct).await {
            Ok(key) => {
                send(
                    state,
                    &d.url,
                    key.as_deref().map(|k| k.as_slice()),
                    &d.payload,
                )
                .await
            }
            Err(e) => Err(e),
        };
        let attempts = d.attempts + 1;
        let (status, error, delay) = match &result {
            Ok(()) => ("delivered", None, 0.0),
            Err(e) if attempts >= MAX_ATTEMPTS => ("failed", Some(e.clone()), 0.0),
            Err(e) => ("pending", Some(e.clone()), 2f64.powi(attempts) * 1.0),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = $3, last_error = $4, \
             next_attempt_at = now() + make_interval(secs => $5), \
             delivered_at = CASE WHEN $2 = 'delivered' THEN now() END WHERE id = $1",
        )
        .bind(d.id)
        .bind(status)
        .bind(attempts)
        .bind(&error)
        .bind(delay)
        .execute(&state.pool)
        .await?;
        record_result(&state.pool, d.webhook_id, &result).await?;
    }
    Ok(attempted)
}
