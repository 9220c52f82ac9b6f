//! Project webhooks: signed deliveries from the outbox, once each, retried when the endpoint
//! fails, with Infisical's payload for rotation failures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, fresh_database, spawn_server, test_options};
use crate::rotations::{world_with, World};

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    fail_first: Arc<Mutex<usize>>,
}

async fn receiver(fail_first: usize) -> (Receiver, String) {
    let r = Receiver {
        fail_first: Arc::new(Mutex::new(fail_first)),
        ..Default::default()
    };
    let state = r.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let mut fail = state.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                state.got.lock().unwrap().push((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

/// A world whose server sends no `secrets.rotation-upcoming` events: the tests that count
/// events would otherwise see one whenever they run within an hour of the rotation's next
/// time (midnight UTC for the sample body).
const NO_UPCOMING: &[(&str, &str)] = &[("ROTARY_WEBHOOK_UPCOMING_SECONDS", "0")];

async fn world() -> World {
    let url = fresh_database().await;
    let mut options = test_options();
    options.scheduler.upcoming_notice = Duration::ZERO;
    world_with(spawn_server(&url, rotary::crypto::Key::generate(), options, true).await).await
}

impl Receiver {
    async fn wait_for(&self, n: usize) -> Vec<(HeaderMap, Value)> {
        for _ in 0..100 {
            if self.got.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(h, b)| (h.clone(), serde_json::from_str(b).unwrap()))
            .collect()
    }
}

/// Creates a webhook for the world's project (dev, `/`), signed when `key` is given; its id.
async fn add_webhook(w: &World, url: &str, key: Option<&str>) -> String {
    let mut body = json!({"workspaceId": w.project, "environment": "dev", "webhookUrl": url});
    if let Some(key) = key {
        body["webhookSecretKey"] = json!(key);
    }
    let r = w.app.post("/api/v1/webhooks", &w.token, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["webhook"]["id"].as_str().unwrap().to_string()
}

fn verify(headers: &HeaderMap, body: &Value, key: &str) {
    let header = headers["x-infisical-signature"].to_str().unwrap();
    let (t, _) = header.split_once(';').unwrap();
    let t: i64 = t.trim_start_matches("t=").parse().unwrap();
    assert_eq!(
        rotary::webhooks::sign(key.as_bytes(), t, &body.to_string()),
        header,
        "the signature verifies"
    );
}

#[tokio::test]
async fn rotation_events_arrive_signed_and_once() {
    let w = world().await;
    let (rx, url) = receiver(0).await;
    let r = w
        .app
        .post("/api/v1/webhooks", &w.token, json!({"workspaceId": w.project, "environment": "dev", "webhookUrl": url, "webhookSecretKey": "s3cret", "secretPath": "/"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"], "Successfully created webhook");
    assert_eq!(r.body["webhook"]["hasSecretKey"], true);
    assert!(!r.body.to_string().contains("s3cret"));
    let id = w.create().await;
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].1["event"], "secrets.rotation-succeeded");
    verify(&got[0].0, &got[0].1, "s3cret");
    assert_eq!(
        got[0].1["project"]["rotationName"],
        "my-salesforce-rotation"
    );
    assert_eq!(got[0].1["project"]["environment"], "dev");
    assert_eq!(got[0].1["project"]["triggeredManually"], true);

    w.control(
        Method::PATCH,
        "users/rotary-runas@demo.example",
        json!({"viewClientSecret": false}),
    )
    .await;
    assert_eq!(w.rotate(&id).await.status, 500);
    let got = rx.wait_for(2).await;
    let failed = &got[1].1;
    assert_eq!(failed["event"], "secrets.rotation-failed");
    assert_eq!(
        failed["project"]["errorMessage"],
        "Credential rotation failed due to an authentication/authorization error. Check the rotation status in the dashboard for more details."
    );
    verify(&got[1].0, failed, "s3cret");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let events: Vec<String> = rx.got.lock().unwrap().iter().map(|g| g.1.clone()).collect();
    assert_eq!(events.len(), 2, "each event once: {events:?}");
    let delivered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(delivered, 2);
}

#[tokio::test]
async fn a_failing_endpoint_gets_the_event_again_later() {
    let w = world().await;
    let (rx, url) = receiver(1).await;
    add_webhook(&w, &url, None).await;
    w.create().await;
    let got = rx.wait_for(1).await;
    assert_eq!(got.len(), 1, "delivered on the second attempt");
    assert!(
        got[0].0.get("x-infisical-signature").is_none(),
        "unsigned without a key"
    );
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM webhook_deliveries")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 2);
}

#[tokio::test]
async fn webhook_api_test_update_delete_and_refusals() {
    let w = world().await;
    let (rx, url) = receiver(0).await;
    let id = add_webhook(&w, &url, Some("k")).await;
    let r = w
        .app
        .post(&format!("/api/v1/webhooks/{id}/test"), &w.token, json!({}))
        .await;
    assert_eq!(r.body, json!({"message": "Successfully tested webhook"}));
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].1["event"], "test");
    verify(&got[0].0, &got[0].1, "k");
    let r = w
        .app
        .get(
            &format!("/api/v1/webhooks?workspaceId={}", w.project),
            &w.token,
        )
        .await;
    assert_eq!(r.body["webhooks"][0]["lastStatus"], "success");
    let r = w
        .app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &w.token,
            json!({"isDisabled": true}),
        )
        .await;
    assert_eq!(r.body["webhook"]["isDisabled"], true);
    w.create().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rx.got.lock().unwrap().len(),
        1,
        "a disabled webhook gets nothing"
    );
    let r = w
        .app
        .delete(&format!("/api/v1/webhooks/{id}"), &w.token, None)
        .await;
    assert_eq!(r.body["message"], "Successfully deleted webhook");
    let r = w
        .app
        .post(&format!("/api/v1/webhooks/{id}/test"), &w.token, json!({}))
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Webhook with ID '{id}' not found")),
    );

    let r = w
        .app
        .post(
            "/api/v1/webhooks",
            &w.token,
            json!({"workspaceId": w.project, "environment": "dev", "webhookUrl": "ftp://x"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let dead_id = add_webhook(&w, "http://127.0.0.1:9/hook", None).await;
    let r = w
        .app
        .post(
            &format!("/api/v1/webhooks/{dead_id}/test"),
            &w.token,
            json!({}),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Webhook test failed: the endpoint could not be reached: connection failed"),
    );
    let (viewer_id, viewer) = w.app.new_identity(&w.token, "viewer", "member").await;
    w.app
        .add_member(&w.token, &w.project, &viewer_id, "member")
        .await;
    let r = w
        .app
        .post(
            "/api/v1/webhooks",
            &viewer,
            json!({"workspaceId": w.project, "environment": "dev", "webhookUrl": url}),
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to create on webhooks"),
    );
    let r = w
        .app
        .get(
            &format!("/api/v1/webhooks?workspaceId={}", w.project),
            &viewer,
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn an_upcoming_rotation_is_announced_once_per_scheduled_time() {
    let url = fresh_database().await;
    let mut options = test_options();
    options.scheduler.upcoming_notice = Duration::from_secs(2 * 3600);
    let w =
        world_with(spawn_server(&url, rotary::crypto::Key::generate(), options, true).await).await;
    let (rx, hook) = receiver(0).await;
    add_webhook(&w, &hook, Some("k")).await;
    let id = w.create().await;
    assert_eq!(
        rx.wait_for(1).await[0].1["event"],
        "secrets.rotation-succeeded"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        rx.got.lock().unwrap().len(),
        1,
        "30 days away: no notice yet"
    );

    let mut announced = Vec::new();
    for minutes in [60, 30] {
        // As if the rotation's time had come near (or a PATCH had moved it).
        let at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
            "UPDATE secret_rotations SET next_rotation_at = date_trunc('second', now()) + make_interval(mins => $2) \
             WHERE id = $1::uuid RETURNING next_rotation_at",
        )
        .bind(&id)
        .bind(minutes)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
        let got = rx.wait_for(announced.len() + 2).await;
        let notice = &got.last().unwrap().1;
        assert_eq!(notice["event"], "secrets.rotation-upcoming");
        verify(&got.last().unwrap().0, notice, "k");
        assert_eq!(notice["project"]["rotationName"], "my-salesforce-rotation");
        assert_eq!(notice["project"]["triggeredManually"], false);
        assert_eq!(
            notice["project"]["nextRotationAt"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
            at
        );
        announced.push(at);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        rx.got.lock().unwrap().len(),
        3,
        "one notice per scheduled time"
    );

    // Auto-rotation off: nothing is announced.
    let r = w
        .app
        .patch(
            &format!("/api/v2/secret-rotations/salesforce-oauth-credentials/{id}"),
            &w.token,
            json!({"isAutoRotationEnabled": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    sqlx::query("UPDATE secret_rotations SET next_rotation_at = now() + interval '10 minutes' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&w.app.pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        rx.got.lock().unwrap().len(),
        3,
        "disabled rotations are not announced"
    );
}

#[tokio::test]
async fn an_unreadable_signing_key_fails_the_delivery_instead_of_sending_unsigned() {
    let w = world().await;
    let (rx, url) = receiver(0).await;
    add_webhook(&w, &url, Some("k")).await;
    sqlx::query("UPDATE webhooks SET secret_key_ct = 'garbage'::bytea")
        .execute(&w.app.pool)
        .await
        .unwrap();
    w.create().await;
    let mut error: Option<String> = None;
    for _ in 0..50 {
        error = sqlx::query_scalar("SELECT last_error FROM webhook_deliveries")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
        if error.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        error.as_deref(),
        Some("the webhook's signing key could not be read; set the key again")
    );
    assert!(
        rx.got.lock().unwrap().is_empty(),
        "nothing went out unsigned"
    );
}

#[tokio::test]
async fn an_event_queued_before_a_crash_is_delivered_once_by_the_next_server() {
    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let url = fresh_database().await;
    let mut first = crate::helpers::ServerProcess::start(&url, KEY, NO_UPCOMING);
    let mut w = world_with(first.app(&url).await).await;
    // The endpoint refuses the first attempt, so the event is still pending when the server dies.
    let (rx, hook) = receiver(1).await;
    add_webhook(&w, &hook, Some("k")).await;
    w.create().await;
    for _ in 0..100 {
        if *rx.fail_first.lock().unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *rx.fail_first.lock().unwrap(),
        0,
        "the first attempt was made"
    );
    // ...and recorded as failed (retry in 2 s): killed between the attempt and that record, the
    // event would wait out its 60 s claim, which is another test's matter.
    for _ in 0..100 {
        let attempts: Option<i32> =
            sqlx::query_scalar("SELECT max(attempts) FROM webhook_deliveries")
                .fetch_one(&w.app.pool)
                .await
                .unwrap();
        if attempts == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().unwrap();
    first.wait().await;
    assert!(rx.got.lock().unwrap().is_empty());

    let second = crate::helpers::ServerProcess::start(&url, KEY, NO_UPCOMING);
    w.app.base = second.base.clone();
    let got = rx.wait_for(1).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["event"], "secrets.rotation-succeeded");
    verify(&got[0].0, &got[0].1, "k");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.got.lock().unwrap().len(), 1, "delivered once");
}
