//! A run can never stick: a panic or a permanent database error entering any step ends the
//! run. Before the point of no return (Salesforce's PATCH rotate) it is abandoned and what it
//! staged is removed; after it the run *settles*: the new credential is recorded in the
//! rotation's slots, the mapped secrets keep the previous one (which still works), and the
//! rotation stays visible, deletable and rotatable. Needs the `crash-points` feature.

use reqwest::Method;
use rotary::rotation::engine::faults::{self, Fault};
use serde_json::{json, Value};

use crate::rotations::{world, World};

const BASE: &str = "/api/v2/secret-rotations/salesforce-oauth-credentials";
const STEPS: [&str; 4] = ["retired", "staged", "activated", "published"];
const FAULTS: [Fault; 2] = [Fault::Panic, Fault::PermanentDbError];

/// No open run is left, and no run's lease is still being renewed.
async fn no_open_run(w: &World, label: &str) {
    assert_eq!(
        w.app.count("rotation_runs WHERE outcome = 'running'").await,
        0,
        "{label}: a run was left open"
    );
}

/// The answer names neither the injected fault nor any database text.
fn plain_message(body: &Value, label: &str) {
    let message = body["message"].as_str().unwrap_or_default();
    for leak in ["fault injected", "panicked", "database error", "SQLSTATE"] {
        assert!(!message.contains(leak), "{label}: {message}");
    }
}

/// Every credential of the app that authenticates is one the rotation knows (or one of
/// `earlier`, left by rotations the test deleted).
async fn nothing_orphaned(w: &World, id: Option<&str>, earlier: &[String], label: &str) {
    let mut known = vec![w.billing.key.clone()];
    known.extend(earlier.iter().cloned());
    if let Some(id) = id {
        for c in w.generated(id).await["generatedCredentials"]
            .as_array()
            .unwrap()
        {
            known.push(c["consumerKey"].as_str().unwrap().to_string());
        }
    }
    let creds = w
        .control(
            Method::GET,
            &format!("apps/{}/credentials", w.billing.id),
            Value::Null,
        )
        .await;
    for c in creds.as_array().unwrap() {
        if c["authenticates"] == true {
            let key = c["key"].as_str().unwrap();
            assert!(
                known.iter().any(|k| k == key),
                "{label}: a live credential nobody knows: {c}"
            );
        }
    }
}

#[tokio::test]
async fn a_fault_entering_any_step_of_a_create_ends_the_run() {
    let w = world().await;
    let mut earlier = Vec::new();
    for step in STEPS {
        for fault in FAULTS {
            let label = format!("create, {fault:?} entering {step}");
            let name = format!("fault-{}", uuid::Uuid::new_v4().simple());
            faults::inject(&name, step, fault);
            let mut body = w.sample();
            body["name"] = json!(name);
            let r = w.app.post(BASE, &w.token, body).await;
            faults::clear(&name);
            plain_message(&r.body, &label);
            no_open_run(&w, &label).await;
            if step != "published" {
                // Abandoned: nothing was created, nothing is left at Salesforce.
                assert_eq!(r.status, 400, "{label}: {}", r.body);
                assert_eq!(w.app.count("secret_rotations").await, 0, "{label}");
                nothing_orphaned(&w, None, &earlier, &label).await;
                continue;
            }
            // Settled: visible, failed, its one slot holds the credential now live.
            assert_eq!(r.status, 500, "{label}: {}", r.body);
            let listed = w
                .app
                .get(&format!("{BASE}?projectId={}", w.project), &w.token)
                .await;
            let rotation = listed.body["secretRotations"][0].clone();
            assert_eq!(rotation["name"], json!(name), "{label}: {}", listed.body);
            assert_eq!(rotation["rotationStatus"], "failed", "{label}");
            let id = rotation["id"].as_str().unwrap().to_string();
            let generated = w.generated(&id).await;
            let slot = &generated["generatedCredentials"][0];
            assert!(
                w.authenticates(
                    slot["consumerKey"].as_str().unwrap(),
                    slot["consumerSecret"].as_str().unwrap()
                )
                .await,
                "{label}"
            );
            nothing_orphaned(&w, Some(&id), &earlier, &label).await;
            // Once the cause is gone it rotates and publishes, and it can be deleted.
            assert_eq!(w.rotate(&id).await.status, 200, "{label}");
            w.assert_converged(&id).await;
            for c in w.generated(&id).await["generatedCredentials"]
                .as_array()
                .unwrap()
            {
                earlier.push(c["consumerKey"].as_str().unwrap().to_string());
            }
            let r = w
                .app
                .delete(&format!("{BASE}/{id}?deleteSecrets=true"), &w.token, None)
                .await;
            assert_eq!(r.status, 200, "{label}: {}", r.body);
        }
    }
}

#[tokio::test]
async fn a_fault_entering_any_step_of_a_rotate_ends_the_run_and_keeps_consumers_working() {
    let w = world().await;
    let id = w.create().await;
    for step in STEPS {
        for fault in FAULTS {
            let label = format!("rotate, {fault:?} entering {step}");
            let before = w.generated(&id).await;
            let mapped = w.mapped().await;
            faults::inject("my-salesforce-rotation", step, fault);
            let r = w.rotate(&id).await;
            faults::clear("my-salesforce-rotation");
            assert_eq!(r.status, 500, "{label}: {}", r.body);
            plain_message(&r.body, &label);
            no_open_run(&w, &label).await;
            let rotation = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body;
            assert_eq!(
                rotation["secretRotation"]["rotationStatus"], "failed",
                "{label}"
            );
            // The mapped secrets did not move and still authenticate.
            assert_eq!(w.mapped().await, mapped, "{label}");
            assert!(w.authenticates(&mapped.0, &mapped.1).await, "{label}");
            let after = w.generated(&id).await;
            assert_eq!(after["activeIndex"], before["activeIndex"], "{label}");
            let mut settled = None;
            if step == "published" {
                // Settled: the inactive slot holds the new, live credential.
                let inactive = 1 - after["activeIndex"].as_u64().unwrap() as usize;
                let slot = &after["generatedCredentials"][inactive];
                settled = slot["consumerKey"].as_str().map(str::to_string);
                assert!(
                    w.authenticates(
                        slot["consumerKey"].as_str().unwrap(),
                        slot["consumerSecret"].as_str().unwrap()
                    )
                    .await,
                    "{label}"
                );
            } else {
                assert_eq!(after, before, "{label}: the slots changed");
            }
            nothing_orphaned(&w, Some(&id), &[], &label).await;
            // And the next rotation works; after a settled run it publishes the credential
            // that run left live (the previous one stays, as after any rotation).
            assert_eq!(w.rotate(&id).await.status, 200, "{label}");
            w.assert_converged(&id).await;
            if let Some(key) = settled {
                assert_eq!(w.mapped().await.0, key, "{label}");
                assert!(w.authenticates(&mapped.0, &mapped.1).await, "{label}");
            }
        }
    }
}
