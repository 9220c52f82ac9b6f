//! The scheduler: due rotations rotate with no request, disabled ones never, failures retry
//! with backoff and then report `failed`, and replicas on one database rotate each due
//! rotation exactly once.

use std::time::Duration;

use reqwest::Method;
use rotary::config::Options;
use rotary::crypto::Key;
use rotary::rotation::scheduler::RetryPolicy;
use serde_json::{json, Value};

use crate::helpers::{fresh_database, spawn_server, test_options, ServerProcess};
use crate::rotations::{world_with, World};

const BASE: &str = "/api/v2/secret-rotations/salesforce-oauth-credentials";

fn options() -> Options {
    Options {
        rotation_dev_mode: true,
        lease_seconds: 2,
        retry: RetryPolicy {
            start: Duration::from_millis(500),
            attempts: 3,
        },
        ..test_options()
    }
}

async fn scheduled_world() -> World {
    let url = fresh_database().await;
    world_with(spawn_server(&url, Key::generate(), options(), true).await).await
}

async fn make_due(w: &World, id: &str) {
    sqlx::query("UPDATE secret_rotations SET next_rotation_at = now() WHERE id = $1::uuid")
        .bind(id)
        .execute(&w.app.pool)
        .await
        .unwrap();
}

async fn runs(w: &World, id: &str) -> Vec<Value> {
    w.app.get(&format!("{BASE}/{id}/runs"), &w.token).await.body["runs"]
        .as_array()
        .unwrap()
        .clone()
}

/// Polls until `done` holds for the run list (up to 15 s).
async fn wait_for(w: &World, id: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..150 {
        let list = runs(w, id).await;
        if done(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out; runs: {:?}", runs(w, id).await);
}

#[tokio::test]
async fn a_due_rotation_rotates_within_seconds_with_no_request() {
    let w = scheduled_world().await;
    let id = w.create().await;
    let before = w.mapped().await;
    make_due(&w, &id).await;
    let started = std::time::Instant::now();
    let list = wait_for(&w, &id, |r| {
        r.first()
            .is_some_and(|r| r["trigger"] == "scheduled" && r["outcome"] == "succeeded")
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "rotated {:?} after it was due",
        started.elapsed()
    );
    assert_eq!(list.len(), 2);
    let rot = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body["secretRotation"].clone();
    assert_eq!(rot["isLastRotationManual"], false);
    assert_eq!(rot["activeIndex"], 1);
    let next: chrono::DateTime<chrono::Utc> =
        rot["nextRotationAt"].as_str().unwrap().parse().unwrap();
    assert!(
        next > chrono::Utc::now(),
        "the next rotation is in the future"
    );
    assert_ne!(w.mapped().await, before);
    w.assert_converged(&id).await;
    let logs = w
        .app
        .get(
            &format!(
                "/api/v1/workspace/{}/audit-logs?eventType=SECRET_ROTATION_ROTATE_SECRETS",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(
        logs.body["auditLogs"][0]["actor"]["type"], "platform",
        "scheduled runs are Rotary's own: {}",
        logs.body
    );
    assert_eq!(logs.body["auditLogs"][0]["outcome"], "success");
}

#[tokio::test]
async fn disabled_rotations_are_never_scheduled_and_patch_takes_effect_at_once() {
    let w = scheduled_world().await;
    let id = w.create().await;
    let r = w
        .app
        .patch(
            &format!("{BASE}/{id}"),
            &w.token,
            json!({"isAutoRotationEnabled": false}),
        )
        .await;
    assert_eq!(r.body["secretRotation"]["nextRotationAt"], Value::Null);
    make_due(&w, &id).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(runs(&w, &id).await.len(), 1, "only the creation ran");

    // Re-enabling recomputes nextRotationAt; making it due rotates at once.
    let r = w
        .app
        .patch(
            &format!("{BASE}/{id}"),
            &w.token,
            json!({"isAutoRotationEnabled": true}),
        )
        .await;
    assert!(r.body["secretRotation"]["nextRotationAt"].is_string());
    make_due(&w, &id).await;
    wait_for(&w, &id, |r| r.len() == 2 && r[0]["outcome"] == "succeeded").await;
}

/// Rotations with an open run (another worker's, or one waiting to retry) are still due and
/// come first in due order; however many there are, the claim looks past them.
#[tokio::test]
async fn a_due_rotation_behind_many_open_runs_is_still_claimed() {
    let url = fresh_database().await;
    let mut opts = options();
    opts.scheduler.concurrency = 1; // the claim reads 8 candidates per free slot
    let w = world_with(spawn_server(&url, Key::generate(), opts, true).await).await;
    let id = w.create().await;
    // 20 copies due an hour earlier, on another connection (so no cap is reached), each with
    // a run another worker holds.
    sqlx::query(
        "INSERT INTO app_connections (id, org_id, project_id, app, method, name, public_config, credentials_ct) \
         SELECT (md5('other'))::uuid, org_id, project_id, app, method, 'other', public_config, credentials_ct \
         FROM app_connections LIMIT 1",
    )
    .execute(&w.app.pool)
    .await
    .unwrap();
    sqlx::query(
        "WITH copies AS (INSERT INTO secret_rotations (id, org_id, project_id, env_id, folder_path, folder_id, \
           type, name, connection_id, parameters, secrets_mapping, is_auto_rotation_enabled, rotation_interval, \
           rotate_at_hours, rotate_at_minutes, lifecycle, next_rotation_at) \
         SELECT gen_random_uuid(), org_id, project_id, env_id, folder_path, folder_id, type, 'copy-' || i, \
           (md5('other'))::uuid, parameters, jsonb_build_object('consumerKey', 'K' || i, 'consumerSecret', 'S' || i), \
           true, rotation_interval, 0, 0, 'active', now() - interval '1 hour' \
         FROM secret_rotations, generate_series(1, 20) AS i WHERE id = $1::uuid RETURNING id) \
         INSERT INTO rotation_runs (id, rotation_id, trigger, lease_owner, lease_expires_at) \
         SELECT gen_random_uuid(), id, 'scheduled', 'another-worker', now() + interval '1 hour' FROM copies",
    )
    .bind(&id)
    .execute(&w.app.pool)
    .await
    .unwrap();
    make_due(&w, &id).await;
    wait_for(&w, &id, |r| {
        r.first()
            .is_some_and(|r| r["trigger"] == "scheduled" && r["outcome"] == "succeeded")
    })
    .await;
}

#[tokio::test]
async fn a_failing_scheduled_rotation_retries_with_backoff_then_reports_failed() {
    let w = scheduled_world().await;
    let id = w.create().await;
    let before = w.mapped().await;
    w.control(
        Method::PATCH,
        "users/rotary-runas@demo.example",
        json!({"viewClientSecret": false}),
    )
    .await;
    make_due(&w, &id).await;
    let list = wait_for(&w, &id, |r| {
        r.first()
            .is_some_and(|r| r["trigger"] == "scheduled" && r["outcome"] == "failed")
    })
    .await;
    assert_eq!(
        list[0]["attempts"], 3,
        "the retry budget was spent: {:?}",
        list[0]
    );
    let rot = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body["secretRotation"].clone();
    assert_eq!(rot["rotationStatus"], "failed");
    assert!(rot["lastRotationMessage"]
        .as_str()
        .unwrap()
        .contains("View Client Secret"));
    // Dev mode: "tomorrow at rotateAt" is the next minute.
    let next: chrono::DateTime<chrono::Utc> =
        rot["nextRotationAt"].as_str().unwrap().parse().unwrap();
    assert!(
        next > chrono::Utc::now() && next < chrono::Utc::now() + chrono::Duration::seconds(61),
        "{next}"
    );
    assert_eq!(
        w.mapped().await,
        before,
        "the published credential is untouched"
    );
    w.assert_converged(&id).await;
}

/// Seeds `n` apps in the mock org and creates one rotation for each (a consumer can only be
/// rotated by one rotation), `parallel` creations at a time; their ids.
async fn many_rotations(w: &World, n: usize, parallel: usize) -> Vec<String> {
    let apps: Vec<Value> = (0..n)
        .map(|i| json!({"developerName": format!("App_{i}"), "runAs": "rotary-runas@demo.example"}))
        .chain([
            json!({"developerName": "Rotary_Connector", "runAs": "rotary-runas@demo.example",
                       "consumers": [{"key": w.connector.key, "secret": w.connector.secret}]}),
        ])
        .collect();
    let seeded = w
        .control(
            Method::POST,
            "seed",
            json!({"users": [{"username": "rotary-runas@demo.example"}], "apps": apps}),
        )
        .await;
    let bodies: Vec<Value> = seeded["apps"].as_array().unwrap()[..n]
        .iter()
        .enumerate()
        .map(|(i, app)| {
            let mut body = w.sample();
            body["name"] = json!(format!("rotation-{i}"));
            body["parameters"] = json!({"appId": app["id"], "appName": app["developerName"]});
            body["secretsMapping"] =
                json!({"consumerKey": format!("KEY_{i}"), "consumerSecret": format!("SECRET_{i}")});
            body
        })
        .collect();
    let mut ids = Vec::new();
    for chunk in bodies.chunks(parallel) {
        let mut set = tokio::task::JoinSet::new();
        for (i, body) in chunk.iter().cloned().enumerate() {
            let (client, base, token) = (w.app.client.clone(), w.app.base.clone(), w.token.clone());
            set.spawn(async move {
                let r = client
                    .post(format!("{base}{BASE}"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let body: Value = r.json().await.unwrap();
                (
                    i,
                    body["secretRotation"]["id"].as_str().unwrap().to_string(),
                )
            });
        }
        let mut chunk_ids = set.join_all().await;
        chunk_ids.sort();
        ids.extend(chunk_ids.into_iter().map(|(_, id)| id));
    }
    ids
}

/// Waits (up to `seconds`) until `n` scheduled runs succeeded.
async fn wait_for_scheduled(pool: &sqlx::PgPool, n: usize, seconds: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rotation_runs WHERE trigger = 'scheduled' AND outcome = 'succeeded'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if done as usize >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {done} of {n} rotated"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Each rotation has exactly one scheduled run, every run succeeded, and a sample of the
/// rotations' active credentials authenticate.
async fn assert_rotated_exactly_once(w: &World, ids: &[String]) {
    let per_rotation: Vec<(i64,)> = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE trigger = 'scheduled') FROM rotation_runs GROUP BY rotation_id",
    )
    .fetch_all(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(per_rotation.len(), ids.len());
    assert!(
        per_rotation.iter().all(|(n,)| *n == 1),
        "each rotated exactly once: {per_rotation:?}"
    );
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rotation_runs WHERE outcome <> 'succeeded'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!(failed, 0);
    for (i, id) in ids.iter().enumerate().step_by(7) {
        let g = w.generated(id).await;
        let active = &g["generatedCredentials"][g["activeIndex"].as_u64().unwrap() as usize];
        let works = w
            .authenticates(
                active["consumerKey"].as_str().unwrap(),
                active["consumerSecret"].as_str().unwrap(),
            )
            .await;
        assert!(works, "rotation {i}'s active credential authenticates");
    }
}

#[tokio::test]
async fn three_replicas_rotate_each_due_rotation_exactly_once() {
    const N: usize = 40;
    let url = fresh_database().await;
    let key = Key::generate();
    let first = spawn_server(&url, key.clone(), options(), false).await;
    let w = world_with(first).await;
    let ids = many_rotations(&w, N, 1).await;
    sqlx::query("UPDATE secret_rotations SET next_rotation_at = now()")
        .execute(&w.app.pool)
        .await
        .unwrap();
    for _ in 0..3 {
        spawn_server(&url, key.clone(), options(), true).await;
    }
    wait_for_scheduled(&w.app.pool, N, 30).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_rotated_exactly_once(&w, &ids).await;
}

#[tokio::test]
async fn when_a_replica_is_killed_mid_run_the_others_finish_its_runs() {
    const N: usize = 200;
    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let url = fresh_database().await;
    let env = [
        ("ROTARY_RUN_LEASE_SECONDS", "2"),
        ("ROTARY_SCHEDULER_PER_CONNECTION", "200"),
    ];
    let mut doomed = ServerProcess::start(&url, KEY, &env);
    let w = world_with(doomed.app(&url).await).await;
    let ids = many_rotations(&w, N, 8).await;
    let others = [
        ServerProcess::start(&url, KEY, &env),
        ServerProcess::start(&url, KEY, &env),
    ];
    // Every provider call takes 100 ms, so runs are long enough to be cut in the middle.
    w.control(Method::PATCH, "knobs", json!({"latency_ms": 100}))
        .await;
    sqlx::query("UPDATE secret_rotations SET next_rotation_at = now()")
        .execute(&w.app.pool)
        .await
        .unwrap();

    // Kill -9 the first replica while it holds runs.
    let owner = format!("{}-%", doomed.child.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let held: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM rotation_runs WHERE outcome = 'running' AND lease_owner LIKE $1",
        )
        .bind(&owner)
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
        if held > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replica never held a run"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.child.kill().unwrap();
    doomed.wait().await;

    let mut w = w;
    w.app.base = others[0].base.clone();
    wait_for_scheduled(&w.app.pool, N, 90).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_rotated_exactly_once(&w, &ids).await;
    let taken_over: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rotation_runs WHERE trigger = 'scheduled' AND fence > 1",
    )
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert!(taken_over > 0, "the killed replica's runs were taken over");
    let killed_finished: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rotation_runs WHERE lease_owner LIKE $1 AND outcome = 'running'",
    )
    .bind(&owner)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    assert_eq!(killed_finished, 0, "no run is left with the dead replica");
}

/// A rotation of a type this binary does not know (written by a newer replica during a
/// rolling upgrade) is never claimed or taken over here, so it is never failed here either.
#[tokio::test]
async fn rotations_of_unknown_types_are_left_to_replicas_that_know_them() {
    let w = scheduled_world().await;
    let id = w.create().await;
    // A dead worker's open run of it, and it is due.
    sqlx::query("UPDATE secret_rotations SET type = 'from-a-newer-release', next_rotation_at = now() - interval '1 minute' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&w.app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO rotation_runs (id, rotation_id, trigger, lease_owner, lease_expires_at) \
         VALUES (gen_random_uuid(), $1::uuid, 'scheduled', 'gone-worker', now() - interval '1 minute')",
    )
    .bind(&id)
    .execute(&w.app.pool)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (attempts, outcome): (i32, String) =
        sqlx::query_as("SELECT attempts, outcome FROM rotation_runs WHERE rotation_id = $1::uuid AND trigger = 'scheduled'")
            .bind(&id)
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!((attempts, outcome.as_str()), (1, "running"));
    assert_eq!(
        w.app
            .count("rotation_runs WHERE trigger = 'scheduled'")
            .await,
        1
    );
}
