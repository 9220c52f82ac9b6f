//! Regression tests of the security and robustness findings (issue 15,
//! ../shared/reference/security-findings.md): each names the defect it holds, D1 to D22.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};
use crate::rotations::{world, World};

const BASE: &str = "/api/v2/secret-rotations/salesforce-oauth-credentials";

/// What the mock org has seen, as one string (to check that nothing reached it).
async fn org_events(w: &World) -> usize {
    w.control(Method::GET, "events", Value::Null)
        .await
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

/// Every refusal of a create: 422 or 400 in the error shape, no rotation, no secret, and no
/// call to Salesforce.
async fn refused_create(w: &World, body: Value, status: u16) -> Value {
    let events = org_events(w).await;
    let r = w.app.post(BASE, &w.token, body.clone()).await;
    assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
    assert_eq!(w.app.count("secret_rotations").await, 0, "{body}");
    assert_eq!(w.app.count("rotation_runs").await, 0, "{body}");
    assert_eq!(w.app.count("secrets").await, 0, "{body}");
    assert_eq!(org_events(w).await, events, "{body}: Salesforce was called");
    r.body
}

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut body;
    for p in &path[..path.len() - 1] {
        at = &mut at[*p];
    }
    at[path[path.len() - 1]] = value;
    body
}

#[tokio::test]
async fn d1_an_unbounded_rotation_interval_is_refused_before_salesforce() {
    let w = world().await;
    for interval in [
        json!(100000000),
        json!(2147483647),
        json!(1099511627776u64),
        json!(1e20),
        json!(1e308),
        json!(36501),
    ] {
        let body = refused_create(&w, with(w.sample(), &["rotationInterval"], interval), 422).await;
        assert_eq!(
            body["message"][0]["path"],
            json!(["rotationInterval"]),
            "{body}"
        );
        assert_eq!(body["message"][0]["code"], "too_big", "{body}");
    }
    // The largest accepted one schedules (100 years), and PATCH has the same bound.
    let id = w
        .app
        .post(
            BASE,
            &w.token,
            with(w.sample(), &["rotationInterval"], json!(36500)),
        )
        .await;
    assert_eq!(id.status, 200, "{}", id.body);
    let id = id.body["secretRotation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body;
    assert!(before["secretRotation"]["nextRotationAt"].is_string());
    let r = w
        .app
        .patch(
            &format!("{BASE}/{id}"),
            &w.token,
            json!({"rotationInterval": 100000000}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let after = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body;
    assert_eq!(before, after);
}

#[tokio::test]
async fn d2_d15_mapped_names_follow_the_secret_name_rules() {
    let w = world().await;
    let long: String = "K".repeat(3000);
    for (name, code) in [
        (long.as_str(), "too_big"),
        (&"K".repeat(257), "too_big"),
        ("HAS SPACE", "custom"),
        ("NL\nX", "custom"),
        ("TAB\tX", "custom"),
        ("A/B", "custom"),
        ("A:B", "custom"),
    ] {
        let body = refused_create(
            &w,
            with(w.sample(), &["secretsMapping", "consumerKey"], json!(name)),
            422,
        )
        .await;
        assert_eq!(
            body["message"][0]["path"],
            json!(["secretsMapping", "consumerKey"]),
            "{name}: {body}"
        );
        assert_eq!(body["message"][0]["code"], code, "{name}: {body}");
    }
    // 256 characters is the limit, as for the secrets API.
    let ok = with(
        w.sample(),
        &["secretsMapping", "consumerKey"],
        json!("K".repeat(256)),
    );
    assert_eq!(w.app.post(BASE, &w.token, ok).await.status, 200);
}

#[tokio::test]
async fn d16_secret_names_cannot_hold_a_slash_or_colon() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Names").await;
    for name in ["..%2F..%2Fetc", "a%2Fb", "a:b"] {
        let r = app
            .post(
                &format!("/api/v3/secrets/raw/{name}"),
                &token,
                json!({"workspaceId": project, "environment": "dev", "secretValue": "v"}),
            )
            .await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": "custom", "path": ["secretName"], "message": "Secret name cannot contain colon or forward slash."}]),
        );
    }
    assert_eq!(app.count("secrets").await, 0);
}

#[tokio::test]
async fn d9_audit_log_dates_outside_the_calendar_are_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Audit").await;
    for (field, date) in [
        ("startDate", "-5000-01-01T00:00:00Z"),
        ("endDate", "%2B20000-01-01T00:00:00Z"),
    ] {
        let r = app
            .get(
                &format!("/api/v1/workspace/{project}/audit-logs?{field}={date}"),
                &token,
            )
            .await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": "invalid_date", "path": [field], "message": format!("{field} must be a date between the years 1 and 9999")}]),
        );
    }
}

#[tokio::test]
async fn d10_folder_paths_past_1024_characters_are_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Deep").await;
    let deep = format!("/{}", vec!["f".repeat(64); 45].join("/"));
    let r = app
        .post(
            "/api/v2/folders",
            &token,
            json!({"projectId": project, "environment": "dev", "name": "leaf", "path": deep}),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "too_big", "path": ["path"], "message": "Folder paths can be at most 1024 characters long"}]),
    );
    assert_eq!(app.count("folders").await, 0);
}

#[tokio::test]
async fn d14_an_app_id_that_is_not_a_salesforce_id_never_reaches_a_url() {
    let w = world().await;
    for app_id in [
        "../../../../../services/data/v62.0/sobjects/Account#",
        "0xIAAAAAAAAAAAA/x",
        "0xIAAAAAAAAAAAAA?",
        "0xIAAAAAAAAAAAAAAAAA",
    ] {
        let body = refused_create(
            &w,
            with(w.sample(), &["parameters", "appId"], json!(app_id)),
            422,
        )
        .await;
        assert_eq!(
            body["message"],
            json!([{"code": "invalid_string", "path": ["parameters", "appId"], "message": "App Identifier must be a Salesforce id: 15 or 18 letters and digits"}]),
            "{app_id}"
        );
    }
}

#[tokio::test]
async fn d21_a_rotate_that_loses_the_race_with_a_delete_answers_404() {
    let w = world().await;
    let id = w.create().await;
    // Hold the rotate at its first Salesforce call (its run is open by then), and let the
    // delete it raced remove the rotation, as a delete that passed its in-flight check a
    // moment earlier does.
    w.control(Method::PUT, "faults", json!([{"id": "l", "match": {"op": "list_consumers"}, "action": {"latch": "hold"}, "phase": "before"}])).await;
    let rotate = {
        let (app, token, id) = (w.app.base.clone(), w.token.clone(), id.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{app}{BASE}/{id}/rotate-secrets"))
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
        })
    };
    for _ in 0..100 {
        if w.app.count("rotation_runs WHERE outcome = 'running'").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sqlx::query("DELETE FROM secret_rotations WHERE id = $1::uuid")
        .bind(&id)
        .execute(&w.app.pool)
        .await
        .unwrap();
    w.control(Method::DELETE, "faults", Value::Null).await;
    w.control(Method::POST, "latches/hold/release", Value::Null)
        .await;
    let r = rotate.await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_error(
        &crate::helpers::Response {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body,
        },
        404,
        "NotFound",
        json!(format!(
            "Secret Rotation with ID \"{id}\" was deleted before it could be rotated"
        )),
    );
}

/// Twenty requests at once that all pass the "already exists" check: one wins, the others get
/// that check's 400, none a 500.
async fn race(label: &str, send: impl Fn() -> tokio::task::JoinHandle<u16>) {
    let handles: Vec<_> = (0..20).map(|_| send()).collect();
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{label}: {statuses:?}"
    );
    assert!(statuses.contains(&200), "{label}: {statuses:?}");
}

#[tokio::test]
async fn d5_parallel_duplicates_get_the_400_of_the_check_never_a_500() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Races").await;
    let (base, client) = (app.base.clone(), app.client.clone());
    let post = |path: String, body: Value| {
        let (base, client, token) = (base.clone(), client.clone(), token.clone());
        move || {
            let (base, client, token, path, body) = (
                base.clone(),
                client.clone(),
                token.clone(),
                path.clone(),
                body.clone(),
            );
            tokio::spawn(async move {
                client
                    .post(format!("{base}{path}"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        }
    };
    race(
        "project",
        post(
            "/api/v2/workspace".into(),
            json!({"projectName": "dup", "slug": "dup-slug"}),
        ),
    )
    .await;
    race(
        "environment",
        post(
            format!("/api/v1/workspace/{project}/environments"),
            json!({"name": "QA", "slug": "qa"}),
        ),
    )
    .await;
    race(
        "nested folder",
        post(
            "/api/v2/folders".into(),
            json!({"projectId": project, "environment": "dev", "name": "leaf", "path": "/a/b/c"}),
        ),
    )
    .await;
    let (identity, _) = app.new_identity(&token, "joiner", "member").await;
    race(
        "membership",
        post(
            format!("/api/v2/workspace/{project}/identity-memberships/{identity}"),
            json!({"role": "viewer"}),
        ),
    )
    .await;
    let r = app
        .post(
            "/api/v1/identities",
            &token,
            json!({"name": "bare", "role": "member"}),
        )
        .await;
    let bare = r.body["identity"]["id"].as_str().unwrap().to_string();
    race(
        "universal auth",
        post(
            format!("/api/v1/auth/universal-auth/identities/{bare}"),
            json!({}),
        ),
    )
    .await;
}
