//! What a web UI on another origin needs: the dashboard summary of a project's rotations, and
//! CORS for the origins the operator allows (none by default).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, fresh_database, redact, spawn_server, test_options};
use crate::rotations::world;

/// A copy of rotation `source` named `name`, with the given state (set up in SQL: the mock
/// org has one app to rotate).
async fn copy_rotation(
    pool: &sqlx::PgPool,
    source: &str,
    name: &str,
    auto: bool,
    status: &str,
    message: Option<&str>,
    next_in_seconds: i64,
) {
    sqlx::query(
        "INSERT INTO secret_rotations (id, org_id, project_id, env_id, folder_path, folder_id, type, name,
             connection_id, parameters, secrets_mapping, is_auto_rotation_enabled, rotation_interval,
             rotate_at_hours, rotate_at_minutes, lifecycle, generated_credentials_ct, rotation_status,
             last_rotation_message, next_rotation_at)
         SELECT gen_random_uuid(), org_id, project_id, env_id, folder_path, folder_id, type, $2,
             connection_id, parameters, jsonb_build_object('consumerKey', $2 || '_KEY', 'consumerSecret', $2 || '_SECRET'),
             $3, 30, 0, 0, 'active', generated_credentials_ct, $4, $5, now() + make_interval(secs => $6)
         FROM secret_rotations WHERE id = $1::uuid",
    )
    .bind(source)
    .bind(name)
    .bind(auto)
    .bind(status)
    .bind(message)
    .bind(next_in_seconds as f64)
    .execute(pool)
    .await
    .unwrap();
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_summary_counts_rotations_by_status_and_lists_what_needs_attention() {
    let w = world().await;
    let id = w.create().await;
    let pool = &w.app.pool;
    copy_rotation(
        pool,
        &id,
        "billing-failed",
        true,
        "failed",
        Some("Salesforce refused the staged credential"),
        2 * 86400,
    )
    .await;
    copy_rotation(pool, &id, "billing-overdue", true, "success", None, -3600).await;
    copy_rotation(pool, &id, "billing-manual", false, "success", None, 3600).await;
    let path = format!("/api/v1/workspace/{}/secret-rotations/summary", w.project);

    let r = w.app.get(&format!("{path}?limit=2"), &w.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = &r.body["summary"];
    assert_eq!(s["projectId"], json!(w.project));
    assert_eq!(
        s["counts"],
        json!({"total": 4, "success": 3, "failed": 1, "rotating": 0,
               "autoRotationDisabled": 1, "due": 1, "overdue": 1})
    );
    // Soonest first: an hour overdue, two days out, (the sample's 30 days: cut by the limit).
    assert_eq!(names(&s["nextDue"]), ["billing-overdue", "billing-failed"]);
    assert_eq!(names(&s["overdue"]), ["billing-overdue"]);
    assert_eq!(
        redact(
            &s["failed"],
            &[
                "id",
                "nextRotationAt",
                "lastRotatedAt",
                "lastRotationAttemptedAt"
            ]
        ),
        json!([{
            "id": "<id>",
            "name": "billing-failed",
            "type": "salesforce-oauth-credentials",
            "environment": "dev",
            "secretPath": "/",
            "rotationStatus": "failed",
            "isAutoRotationEnabled": true,
            "nextRotationAt": "<nextRotationAt>",
            "lastRotatedAt": "<lastRotatedAt>",
            "lastRotationAttemptedAt": "<lastRotationAttemptedAt>",
            "lastRotationMessage": "Salesforce refused the staged credential"
        }])
    );
    // The default limit is 5: all three auto-rotating ones.
    let r = w.app.get(&path, &w.token).await;
    assert_eq!(r.body["summary"]["nextDue"].as_array().unwrap().len(), 3);

    let r = w.app.get(&format!("{path}?limit=0"), &w.token).await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "too_big", "message": "limit must be between 1 and 100", "path": ["limit"]}]),
    );
    // An identity outside the project learns nothing of it.
    let (_, outsider) = w.app.new_identity(&w.token, "outsider", "member").await;
    let r = w.app.get(&path, &outsider).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Project with ID '{}' not found", w.project)),
    );
}

/// A preflight and a call from `origin`; the Access-Control-Allow-Origin of each.
async fn cors_headers(base: &str, origin: &str, token: &str) -> (Option<String>, Option<String>) {
    let client = reqwest::Client::new();
    let allow = |r: &reqwest::Response| {
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let preflight = client
        .request(Method::OPTIONS, format!("{base}/api/v1/workspace"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    let call = client
        .get(format!("{base}/api/v1/workspace"))
        .header("Origin", origin)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (allow(&preflight), allow(&call))
}

#[tokio::test]
async fn cors_answers_only_the_origins_the_operator_allows() {
    let url = fresh_database().await;
    let key = rotary::crypto::Key::generate();
    let plain = spawn_server(&url, key.clone(), test_options(), false).await;
    let mut options = test_options();
    options.cors_origins =
        rotary::config::CorsOrigins::List(vec!["https://console.example.com".into()]);
    let open = spawn_server(&url, key, options, false).await;
    let token = plain.admin_token().await;

    // None by default.
    assert_eq!(
        cors_headers(&plain.base, "https://console.example.com", &token).await,
        (None, None)
    );
    // The allowed origin, on the preflight and on the call (errors too, so a UI can read them).
    let allowed = Some("https://console.example.com".to_string());
    assert_eq!(
        cors_headers(&open.base, "https://console.example.com", &token).await,
        (allowed.clone(), allowed.clone())
    );
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/workspace", open.base))
        .header("Origin", "https://console.example.com")
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://console.example.com"
    );
    // Any other origin gets nothing.
    assert_eq!(
        cors_headers(&open.base, "https://evil.example.com", &token).await,
        (None, None)
    );
}
