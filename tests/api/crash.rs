//! Kill the server right after each journaled step of a rotation, restart it, and check the
//! run rolled forward: the mapped secrets authenticate, the active slot is what is mapped,
//! and the org holds no credential Rotary does not know. Needs the `crash-points` feature
//! (scripts/test.sh enables it); it never exists in release builds.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{fresh_database, ServerProcess};
use crate::rotations::{world_with, World};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const LEASE: &str = "1";

async fn world_on(server: &ServerProcess, url: &str) -> World {
    world_with(server.app(url).await).await
}

#[tokio::test]
async fn a_crash_after_any_step_is_rolled_forward_on_restart() {
    for (trigger, step) in [
        ("create", "retired"),
        ("create", "staged"),
        ("create", "activated"),
        ("manual", "retired"),
        ("manual", "staged"),
        ("manual", "activated"),
        ("manual", "published"),
    ] {
        let url = fresh_database().await;
        let env = [("ROTARY_RUN_LEASE_SECONDS", LEASE)];
        let first = ServerProcess::start(&url, KEY, &env);
        let mut w = world_on(&first, &url).await;
        if trigger == "manual" {
            w.create().await;
        }
        first.stop().await;

        // The crashing server dies mid-request, right after journaling `step`.
        let mut crashing = ServerProcess::start(&url, KEY, &[env[0], ("ROTARY_CRASH_AFTER", step)]);
        w.app.base = crashing.base.clone();
        let path = "/api/v2/secret-rotations/salesforce-oauth-credentials";
        let sent = if trigger == "create" {
            w.app
                .client
                .post(format!("{}{path}", w.app.base))
                .bearer_auth(&w.token)
                .json(&w.sample())
                .send()
                .await
        } else {
            let id = rotation_id(&w).await;
            w.app
                .client
                .post(format!("{}{path}/{id}/rotate-secrets", w.app.base))
                .bearer_auth(&w.token)
                .json(&json!({}))
                .send()
                .await
        };
        assert!(
            sent.is_err(),
            "{trigger}/{step}: the server died before answering"
        );
        assert_eq!(
            crashing.wait().await,
            Some(86),
            "{trigger}/{step}: exited at the crash point"
        );

        // After the lease runs out, a restarted server resumes the run from its journal.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let restarted = ServerProcess::start(&url, KEY, &env);
        w.app.base = restarted.base.clone();
        let id = wait_until_settled(&w).await;
        let runs = w.app.get(&format!("{path}/{id}/runs"), &w.token).await;
        assert_eq!(
            runs.body["runs"][0]["outcome"], "succeeded",
            "{trigger}/{step}: {}",
            runs.body
        );
        // A crash after publishing leaves nothing to resume.
        let attempts = if step == "published" { 1 } else { 2 };
        assert_eq!(
            runs.body["runs"][0]["attempts"], attempts,
            "{trigger}/{step}: resumed once"
        );
        w.assert_converged(&id).await;
        if trigger == "manual" {
            let g = w.generated(&id).await;
            assert_eq!(
                g["activeIndex"], 1,
                "{trigger}/{step}: exactly one rotation happened"
            );
        }
        let events = w.control(Method::GET, "events", Value::Null).await;
        let staged = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "staged")
            .count();
        let expected = if trigger == "create" { 1 } else { 2 };
        assert_eq!(
            staged, expected,
            "{trigger}/{step}: never a second credential for one run"
        );
        restarted.stop().await;
    }
}

async fn rotation_id(w: &World) -> String {
    let r = w
        .app
        .get(
            &format!("/api/v2/secret-rotations?projectId={}", w.project),
            &w.token,
        )
        .await;
    r.body["secretRotations"][0]["id"]
        .as_str()
        .expect("a published rotation")
        .to_string()
}

/// Waits for the rotation to be published with no open run; its id.
async fn wait_until_settled(w: &World) -> String {
    for _ in 0..100 {
        let r = w
            .app
            .get(
                &format!("/api/v2/secret-rotations?projectId={}", w.project),
                &w.token,
            )
            .await;
        if let Some(id) = r.body["secretRotations"][0]["id"].as_str() {
            let runs = w
                .app
                .get(
                    &format!("/api/v2/secret-rotations/salesforce-oauth-credentials/{id}/runs"),
                    &w.token,
                )
                .await;
            if runs.body["runs"]
                .as_array()
                .is_some_and(|runs| runs.iter().all(|r| r["outcome"] != "running"))
            {
                return id.to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the run did not settle after the restart");
}

/// With the default 60 s lease, a server killed mid-run is not waited for: its liveness lock
/// died with it, so the restarted server resumes the run at once, and a rotate-secrets sent
/// right after the restart succeeds within seconds (it was refused for up to 62 s before).
#[tokio::test]
async fn a_killed_workers_run_is_taken_over_at_once_not_after_its_lease() {
    let url = fresh_database().await;
    let first = ServerProcess::start(&url, KEY, &[]);
    let mut w = world_on(&first, &url).await;
    w.create().await;
    first.stop().await;
    let mut crashing = ServerProcess::start(&url, KEY, &[("ROTARY_CRASH_AFTER", "staged")]);
    w.app.base = crashing.base.clone();
    let id = rotation_id(&w).await;
    let path = "/api/v2/secret-rotations/salesforce-oauth-credentials";
    let sent = w
        .app
        .client
        .post(format!("{}{path}/{id}/rotate-secrets", w.app.base))
        .bearer_auth(&w.token)
        .json(&json!({}))
        .send()
        .await;
    assert!(sent.is_err(), "the server died before answering");
    assert_eq!(crashing.wait().await, Some(86));
    let lease: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM lease_expires_at - now())::float8 FROM rotation_runs WHERE outcome = 'running'",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert!(lease > 30.0, "the dead worker's lease still runs {lease} s");

    let restarted = ServerProcess::start(&url, KEY, &[]);
    w.app.base = restarted.base.clone();
    let started = std::time::Instant::now();
    loop {
        let r = w.rotate(&id).await;
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still refused after {:?}: {}",
            started.elapsed(),
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let runs = w.app.get(&format!("{path}/{id}/runs"), &w.token).await;
    let runs = runs.body["runs"].as_array().unwrap().clone();
    assert!(runs.iter().all(|r| r["outcome"] == "succeeded"), "{runs:?}");
    w.assert_converged(&id).await;
    restarted.stop().await;
}
