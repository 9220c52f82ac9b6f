//! The engine's guarantees on their own, with the fake rotation type (`rotation::fake`, an
//! in-memory access-key provider): refusals before and after a phase's effect, a lost answer,
//! lease loss, settle and discard. Whatever happens, the mapped secrets authenticate, they are
//! the active slot, and no live key is one the rotation does not know. Needs `crash-points`.

use rotary::rotation::engine::{self, RunError};
use rotary::rotation::fake::{self, FakeFault};
use rotary::rotation::provider::Phase;
use rotary::store::rotations::{self, NewRotation};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

struct Fake {
    app: TestApp,
    token: String,
    project: String,
    id: Uuid,
}

impl Fake {
    fn state(&self) -> &rotary::AppState {
        self.app.state.as_ref().unwrap()
    }

    async fn run(&self, trigger: &str) -> Result<(), RunError> {
        let mut conn = self.app.pool.acquire().await.unwrap();
        let trigger = match trigger {
            "scheduled" => rotations::Trigger::Scheduled,
            _ => rotations::Trigger::Manual,
        };
        let run = rotations::insert_run(&mut conn, self.id, trigger, engine::worker_id(), 60)
            .await
            .unwrap()
            .expect("no open run");
        drop(conn);
        engine::execute(self.state(), run).await.map(|_| ())
    }

    async fn rotation(&self) -> Value {
        let row = rotations::find(&self.app.pool, self.id)
            .await
            .unwrap()
            .unwrap();
        json!({"status": row.rotation_status, "activeIndex": row.active_index, "lifecycle": row.lifecycle})
    }

    /// The mapped secrets as an application reads them.
    async fn mapped(&self) -> (String, String) {
        self.app
            .read_pair(&self.token, &self.project, ["FAKE_KEY_ID", "FAKE_SECRET"])
            .await
    }

    /// The slots, opened: (key ids, active index).
    async fn slots(&self) -> (Vec<(String, String)>, usize) {
        let row = rotations::find(&self.app.pool, self.id)
            .await
            .unwrap()
            .unwrap();
        let key = rotary::access::project_key_by_id(self.state(), row.project_id)
            .await
            .unwrap()
            .unwrap();
        let slots =
            rotary::rotation::journal::open_slots::<fake::FakeRotation>(&key, &row).unwrap();
        let items = slots
            .items
            .iter()
            .map(|k| {
                use secrecy::ExposeSecret;
                (k.key_id.clone(), k.secret.expose_secret().to_string())
            })
            .collect();
        (items, slots.active_index)
    }

    /// The invariants no failure may break.
    async fn assert_converged(&self, label: &str) {
        let (key_id, secret) = self.mapped().await;
        assert!(
            fake::authenticates(self.id, &key_id, &secret),
            "{label}: the mapped key authenticates"
        );
        let (slots, active) = self.slots().await;
        assert_eq!(
            slots[active],
            (key_id, secret),
            "{label}: mapped = active slot"
        );
        for live in fake::account(self.id).keys.keys() {
            assert!(
                slots.iter().any(|(k, _)| k == live),
                "{label}: a live key nobody knows: {live}"
            );
        }
        assert_eq!(
            self.app
                .count("rotation_runs WHERE outcome = 'running'")
                .await,
            0,
            "{label}: a run was left open"
        );
    }
}

/// A project with a fake connection and a fake rotation, created (first key published).
async fn fake_world() -> Fake {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Fake").await;
    let project_id = Uuid::parse_str(&project).unwrap();
    let (org_id, env_id): (Uuid, Uuid) = sqlx::query_as(
        "SELECT p.org_id, e.id FROM projects p JOIN environments e ON e.project_id = p.id WHERE p.id = $1 AND e.slug = 'dev'",
    )
    .bind(project_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let connection = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO app_connections (id, org_id, project_id, app, method, name, public_config, credentials_ct) \
         VALUES ($1, $2, $3, 'fake', 'none', 'fake', '{}', '\\x00')",
    )
    .bind(connection)
    .bind(org_id)
    .bind(project_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let id = Uuid::new_v4();
    let new = NewRotation {
        id,
        org_id,
        project_id,
        env_id,
        folder_path: "/".into(),
        folder_id: env_id,
        rotation_type: fake::TYPE.into(),
        name: format!("fake-{}", id.simple()),
        description: None,
        connection_id: connection,
        parameters: json!({}),
        secrets_mapping: json!({"keyId": "FAKE_KEY_ID", "secret": "FAKE_SECRET"}),
        is_auto_rotation_enabled: false,
        rotation_interval: 30,
        rotate_at_hours: 0,
        rotate_at_minutes: 0,
        targets: vec![],
    };
    let run = {
        let mut tx = app.pool.begin().await.unwrap();
        let run = rotations::insert_creating(&mut tx, &new, engine::worker_id(), 60)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        run
    };
    let w = Fake {
        app,
        token,
        project,
        id,
    };
    engine::execute(w.state(), run).await.unwrap();
    w.assert_converged("create").await;
    w
}

#[tokio::test]
async fn rotations_flip_slots_keep_the_previous_key_and_retire_the_one_before() {
    let w = fake_world().await;
    let first = w.mapped().await;
    w.run("manual").await.unwrap();
    w.assert_converged("rotation 1").await;
    let second = w.mapped().await;
    assert_ne!(first, second);
    // Dual-phase: the previous key still authenticates for consumers that cached it.
    assert!(fake::authenticates(w.id, &first.0, &first.1));
    w.run("manual").await.unwrap();
    w.assert_converged("rotation 2").await;
    assert!(!fake::authenticates(w.id, &first.0, &first.1), "retired");
    assert!(fake::authenticates(w.id, &second.0, &second.1));
    assert_eq!(w.slots().await.1, 0);
}

#[tokio::test]
async fn a_refusal_in_any_phase_abandons_and_discards_what_was_issued() {
    let w = fake_world().await;
    for phase in [Phase::Retired, Phase::Issued, Phase::Verified] {
        let label = format!("refusal in {phase:?}");
        let before = (w.mapped().await, w.slots().await);
        fake::set_fault(w.id, phase, Some(FakeFault::Refuse));
        let result = w.run("manual").await;
        fake::set_fault(w.id, phase, None);
        match result {
            Err(RunError::Abandoned(message)) => {
                assert!(
                    message.contains("the fake provider refuses"),
                    "{label}: {message}"
                )
            }
            other => panic!("{label}: {other:?}"),
        }
        assert_eq!((w.mapped().await, w.slots().await), before, "{label}");
        assert_eq!(w.rotation().await["status"], "failed", "{label}");
        w.assert_converged(&label).await;
    }
    w.run("manual").await.unwrap();
    w.assert_converged("after the refusals").await;
}

#[tokio::test]
async fn transient_failures_and_a_lost_answer_are_retried_in_the_run_without_leaking_a_key() {
    let w = fake_world().await;
    fake::set_fault(w.id, Phase::Retired, Some(FakeFault::TransientTimes(2)));
    w.run("manual").await.unwrap();
    w.assert_converged("transient retire").await;
    // The key is minted but the answer lost: the retry finds the orphan, removes it, mints again.
    let minted = fake::account(w.id).minted;
    fake::set_fault(w.id, Phase::Issued, Some(FakeFault::LoseAnswer));
    w.run("manual").await.unwrap();
    w.assert_converged("lost answer").await;
    assert_eq!(fake::account(w.id).minted, minted + 2);
}

#[tokio::test]
async fn a_lost_lease_stops_the_worker_and_the_next_one_resumes_from_the_journal() {
    let w = fake_world().await;
    let before = w.mapped().await;
    let minted = fake::account(w.id).minted;
    // Another worker takes the run over while it verifies: this one's publish is refused.
    fake::set_fault(w.id, Phase::Verified, Some(FakeFault::StealLease));
    match w.run("manual").await {
        Err(RunError::Interrupted(m)) => assert_eq!(m, "another worker took this run over"),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.mapped().await, before, "nothing was published");
    // The run's lease ends; a worker takes it over and finishes it with the journaled key.
    sqlx::query("UPDATE rotation_runs SET lease_expires_at = now() - interval '1 second' WHERE outcome = 'running'")
        .execute(&w.app.pool)
        .await
        .unwrap();
    let run = rotations::take_over_expired(&w.app.pool, w.id, engine::worker_id(), 60)
        .await
        .unwrap()
        .expect("taken over");
    engine::execute(w.state(), run).await.unwrap();
    w.assert_converged("resumed").await;
    assert_ne!(w.mapped().await, before);
    assert_eq!(
        fake::account(w.id).minted,
        minted + 1,
        "the resumed run minted nothing"
    );
}

/// This type's point of no return is publishing itself (nothing uses a new key before), so a
/// permanent failure to publish abandons the run and discards the key; types that switch the
/// provider earlier settle instead (tests/api/engine_faults.rs, with Salesforce).
#[tokio::test]
async fn a_permanent_failure_to_publish_abandons_and_discards_when_nothing_used_the_key() {
    let w = fake_world().await;
    let name = rotations::find(&w.app.pool, w.id)
        .await
        .unwrap()
        .unwrap()
        .name;
    let before = (w.mapped().await, w.slots().await);
    rotary::rotation::engine::faults::inject(
        &name,
        "published",
        rotary::rotation::engine::faults::Fault::PermanentDbError,
    );
    let result = w.run("manual").await;
    rotary::rotation::engine::faults::clear(&name);
    match result {
        Err(RunError::Abandoned(m)) => {
            assert!(m.contains("the database could not record this step"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((w.mapped().await, w.slots().await), before);
    assert_eq!(
        fake::account(w.id).keys.len(),
        1,
        "the new key was discarded"
    );
    assert_eq!(w.rotation().await["status"], "failed");
    w.assert_converged("abandoned at publish").await;
    w.run("manual").await.unwrap();
    w.assert_converged("after it").await;
}

#[tokio::test]
async fn a_scheduled_run_that_fails_waits_for_its_retry_and_keeps_what_it_issued() {
    let w = fake_world().await;
    let before = w.mapped().await;
    fake::set_fault(w.id, Phase::Verified, Some(FakeFault::Refuse));
    match w.run("scheduled").await {
        Err(RunError::Interrupted(m)) => assert!(m.contains("the fake provider refuses"), "{m}"),
        other => panic!("{other:?}"),
    }
    fake::set_fault(w.id, Phase::Verified, None);
    // Waiting for its retry: nobody holds it, and its issued key is still there to resume with.
    let (owner, phase): (Option<String>, i16) =
        sqlx::query_as("SELECT lease_owner, phase FROM rotation_runs WHERE outcome = 'running'")
            .fetch_one(&w.app.pool)
            .await
            .unwrap();
    assert_eq!((owner, phase), (None, Phase::Issued.ordinal()));
    assert_eq!(fake::account(w.id).keys.len(), 2);
    assert_eq!(w.mapped().await, before);
}
