//! The generic suite every rotation type passes (issue 14): `rotation_suite!(module, Target)`
//! instantiates the same tests for a type, which describes itself through `Target`: how to set
//! up its provider and connection, its create body, and how to tell whether a credential works
//! at the provider. Everything else goes through the HTTP API, as curl and the SDKs do.
//!
//! The tests: create and rotate twice (dual-phase: the previous credential keeps working); a
//! fault entering every phase label of a rotation (before and after each effect) leaves the
//! mapped credential working and no run open, and the next rotation succeeds; a crash right
//! after every phase label (a server process killed at the crash point, then restarted) rolls
//! forward; delete with and without both flags; check-credentials reports and never repairs;
//! a consumer logging in through 100 back-to-back rotations never fails (dual-phase); and no
//! secret the type handles (generated credentials and the connection's) is in any table
//! or the captured logs.

use std::future::Future;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{captured_logs, fresh_database, spawn_server, test_options, ServerProcess};
use crate::helpers::{Response, TestApp};

pub trait Target: Sized + Send + Sync {
    /// The type's slug (`salesforce-oauth-credentials`).
    const TYPE: &'static str;
    /// Dual-phase: the previous credential keeps working after a rotation.
    const DUAL_PHASE: bool;
    /// The `secretsMapping` this suite uses (field order of the type's `SECRETS`).
    const MAPPED: [&'static str; 2];

    /// Sets up the provider side and a connection in a new project, on the server `app`
    /// (whose database is `database_url`).
    fn on(app: TestApp, database_url: &str) -> impl Future<Output = Self> + Send;
    fn app(&self) -> &TestApp;
    fn app_mut(&mut self) -> &mut TestApp;
    fn token(&self) -> &str;
    fn project(&self) -> &str;
    /// A create body for a rotation named `name`, mapping to `MAPPED`.
    fn body(&self, name: &str) -> Value;
    /// The two values of a `generatedCredentials` item, in `MAPPED` order.
    fn pair(item: &Value) -> [String; 2];
    /// Whether a credential authenticates at the provider now.
    fn works(&self, pair: &[String; 2]) -> impl Future<Output = bool> + Send;
    /// Breaks the credential at the provider behind Rotary's back (check-credentials must
    /// then report it, and not repair it).
    fn spoil(&self, pair: &[String; 2]) -> impl Future<Output = ()> + Send;
    /// Undoes what `spoil` did to the provider itself, if a rotation cannot (Salesforce's
    /// switched-off app); nothing when the next rotation repairs it.
    fn mend(&self) -> impl Future<Output = ()> + Send;
    /// The connection's own secrets (for the leak scan).
    fn connection_secrets(&self) -> Vec<String>;
    /// Credentials the provider holds that are none of `known` (the slots) and none of the
    /// world's own: what a run left behind. Empty where the provider cannot be listed or a
    /// type only changes existing credentials.
    fn strays(&self, _known: &[[String; 2]]) -> impl Future<Output = Vec<String>> + Send {
        async { Vec::new() }
    }
}

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn base<T: Target>() -> String {
    format!("/api/v2/secret-rotations/{}", T::TYPE)
}

/// The labels of the type's phases, in order, `published` last.
fn labels<T: Target>() -> Vec<&'static str> {
    rotary::rotation::registry::by_slug(T::TYPE)
        .expect("a registered type")
        .phase_labels()
}

pub async fn world<T: Target>() -> T {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    T::on(app, &url).await
}

pub async fn create<T: Target>(t: &T, name: &str) -> String {
    let r = t.app().post(&base::<T>(), t.token(), t.body(name)).await;
    assert_eq!(r.status, 200, "create: {}", r.body);
    r.body["secretRotation"]["id"].as_str().unwrap().to_string()
}

pub async fn rotate<T: Target>(t: &T, id: &str) -> Response {
    t.app()
        .post(
            &format!("{}/{id}/rotate-secrets", base::<T>()),
            t.token(),
            json!({}),
        )
        .await
}

pub async fn mapped<T: Target>(t: &T) -> [String; 2] {
    let (a, b) = t.app().read_pair(t.token(), t.project(), T::MAPPED).await;
    [a, b]
}

pub async fn generated<T: Target>(t: &T, id: &str) -> (Vec<[String; 2]>, usize) {
    let r = t
        .app()
        .get(
            &format!("{}/{id}/generated-credentials", base::<T>()),
            t.token(),
        )
        .await;
    assert_eq!(r.status, 200, "generated-credentials: {}", r.body);
    let items = r.body["generatedCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(T::pair)
        .collect();
    (items, r.body["activeIndex"].as_u64().unwrap() as usize)
}

async fn open_runs(app: &TestApp) -> i64 {
    app.count("rotation_runs WHERE outcome = 'running'").await
}

/// What no failure may break: the mapped credential works, it is the active slot, no run
/// is left open.
pub async fn assert_converged<T: Target>(t: &T, id: &str, label: &str) {
    let now = mapped(t).await;
    assert!(t.works(&now).await, "{label}: the mapped credential works");
    let (slots, active) = generated(t, id).await;
    assert_eq!(slots[active], now, "{label}: mapped = the active slot");
    assert_eq!(open_runs(t.app()).await, 0, "{label}: a run was left open");
    assert_eq!(
        t.strays(&slots).await,
        Vec::<String>::new(),
        "{label}: the provider holds credentials no slot knows"
    );
}

/// For a type whose provider is a mock on the harness (fault rules by operation): for each
/// provider call in `ops`, a rotation with a 503 before it (the run retries the phase and
/// succeeds), a 503 after its effect (the retried phase must not trip over its own effect: it
/// succeeds too), and a 400 before it (the run may fail: abandoned or rolled forward); after each, what no failure may break
/// (`assert_converged`), and the next rotation succeeds. `rule` adds a fault rule, or with
/// `None` clears them.
pub async fn a_fault_at_any_provider_call_keeps_the_invariants<T: Target>(
    t: &T,
    id: &str,
    ops: &[&str],
    rule: impl Fn(Option<Value>),
) {
    for op in ops {
        for (phase, status) in [("before", 503), ("after", 503), ("before", 400)] {
            let label = format!("{status} {phase} {op}");
            rule(Some(json!({"id": label, "match": {"op": op, "times": 1},
                              "phase": phase, "action": {"status": status}})));
            let r = rotate(t, id).await;
            rule(None);
            // One transient failure is retried within the run, and the retry must not trip
            // over the effect it already had; a refusal may fail the run.
            if status == 503 {
                assert_eq!(r.status, 200, "{label}: {}", r.body);
            } else {
                assert!(
                    r.status == 200 || r.status.is_server_error(),
                    "{label}: {} {}",
                    r.status,
                    r.body
                );
            }
            assert_converged(t, id, &label).await;
            let r = rotate(t, id).await;
            assert_eq!(r.status, 200, "{label}, the next rotation: {}", r.body);
            assert_converged(t, id, &format!("{label}, the next rotation")).await;
        }
    }
}

pub async fn create_and_rotate_twice<T: Target>() {
    let t: T = world().await;
    let id = create(&t, "suite").await;
    assert_converged(&t, &id, "create").await;
    let mut previous = mapped(&t).await;
    for round in 1..=2 {
        let r = rotate(&t, &id).await;
        assert_eq!(r.status, 200, "rotate {round}: {}", r.body);
        assert_eq!(r.body["secretRotation"]["rotationStatus"], "success");
        let now = mapped(&t).await;
        assert_ne!(now, previous, "rotate {round}: a new credential is mapped");
        assert_converged(&t, &id, &format!("rotate {round}")).await;
        assert_eq!(
            t.works(&previous).await,
            T::DUAL_PHASE,
            "rotate {round}: the previous credential keeps working exactly when dual-phase"
        );
        previous = now;
    }
    let runs = t
        .app()
        .get(&format!("{}/{id}/runs", base::<T>()), t.token())
        .await;
    let runs = runs.body["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs
        .iter()
        .all(|r| r["outcome"] == "succeeded" && r["step"] == "published"));
}

pub async fn a_fault_entering_any_phase_keeps_the_mapped_credential_working<T: Target>() {
    use rotary::rotation::engine::faults::{self, Fault};
    let t: T = world().await;
    // Fault rules are per rotation name, process-wide: a name no other test uses.
    let name = format!(
        "suite-faults-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let id = create(&t, &name).await;
    for label in labels::<T>() {
        for fault in [Fault::Panic, Fault::PermanentDbError] {
            let before = mapped(&t).await;
            faults::inject(&name, label, fault);
            let r = rotate(&t, &id).await;
            faults::clear(&name);
            if T::DUAL_PHASE || r.status != 200 {
                assert!(
                    r.status.is_server_error() || r.status.is_client_error(),
                    "{label}/{fault:?}: the rotation fails: {}",
                    r.body
                );
            } else {
                // Single-phase past the change: published, saying which step it skipped.
                let message = r.body["secretRotation"]["lastRotationMessage"].to_string();
                assert!(
                    message.contains("Published without finishing"),
                    "{label}/{fault:?}: {message}"
                );
            }
            let text = r.body["message"].to_string();
            assert!(
                !text.contains("fault injected"),
                "{label}/{fault:?}: no internal text in the answer: {text}"
            );
            assert_eq!(
                open_runs(t.app()).await,
                0,
                "{label}/{fault:?}: no run open"
            );
            let now = mapped(&t).await;
            if T::DUAL_PHASE {
                assert_eq!(
                    now, before,
                    "{label}/{fault:?}: the mapped secrets are unchanged"
                );
                assert!(
                    t.works(&now).await,
                    "{label}/{fault:?}: the mapped credential still works"
                );
            } else if !t.works(&now).await {
                // Single-phase: past the change the old credential is gone and the run
                // publishes the new one whatever step failed; only a failing publish itself
                // leaves the mapped credential dead (the next rotation repairs it).
                assert_eq!(
                    label, "published",
                    "{label}/{fault:?}: the mapped credential works (published past the failed step)"
                );
            }
            let (slots, _) = generated(&t, &id).await;
            assert_eq!(
                t.strays(&slots).await,
                Vec::<String>::new(),
                "{label}/{fault:?}: the failed run left a credential behind"
            );
            let r = rotate(&t, &id).await;
            assert_eq!(
                r.status, 200,
                "{label}/{fault:?}: rotates again: {}",
                r.body
            );
            assert_converged(&t, &id, &format!("{label}/{fault:?}")).await;
        }
    }
}

pub async fn a_crash_after_any_phase_rolls_forward<T: Target>() {
    for label in labels::<T>() {
        let url = fresh_database().await;
        let env = [("ROTARY_RUN_LEASE_SECONDS", "1")];
        let first = ServerProcess::start(&url, KEY, &env);
        let mut t = T::on(first.app(&url).await, &url).await;
        let id = create(&t, "suite-crash").await;
        let before = mapped(&t).await;
        first.stop().await;

        let mut crashing =
            ServerProcess::start(&url, KEY, &[env[0], ("ROTARY_CRASH_AFTER", label)]);
        t.app_mut().base = crashing.base.clone();
        let sent = t
            .app()
            .client
            .post(format!(
                "{}{}/{id}/rotate-secrets",
                t.app().base,
                base::<T>()
            ))
            .bearer_auth(t.token())
            .json(&json!({}))
            .send()
            .await;
        assert!(sent.is_err(), "{label}: the server died before answering");
        assert_eq!(
            crashing.wait().await,
            Some(86),
            "{label}: exited at the crash point"
        );
        if T::DUAL_PHASE {
            assert!(
                t.works(&before).await,
                "{label}: consumers keep working while the run waits"
            );
        }

        // After the lease runs out, a restarted server resumes the run from its journal.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let restarted = ServerProcess::start(&url, KEY, &env);
        t.app_mut().base = restarted.base.clone();
        let mut settled = false;
        for _ in 0..100 {
            if open_runs(t.app()).await == 0 {
                settled = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(settled, "{label}: the run did not settle after the restart");
        let runs = t
            .app()
            .get(&format!("{}/{id}/runs", base::<T>()), t.token())
            .await;
        assert_eq!(
            runs.body["runs"][0]["outcome"], "succeeded",
            "{label}: {}",
            runs.body
        );
        assert_converged(&t, &id, label).await;
        let (_, active) = generated(&t, &id).await;
        assert_eq!(active, 1, "{label}: exactly one rotation happened");
        restarted.stop().await;
    }
}

pub async fn delete_with_and_without_both_flags<T: Target>() {
    for (delete_secrets, revoke) in [(false, false), (true, false), (false, true), (true, true)] {
        // A world each: a revoke can take the provider's app down with it (Salesforce).
        let t: T = world().await;
        let label = format!("deleteSecrets={delete_secrets} revokeGeneratedCredentials={revoke}");
        let id = create(&t, "suite-delete").await;
        let r = rotate(&t, &id).await;
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        let (slots, active) = generated(&t, &id).await;
        assert_eq!(active, 1);
        let r = t
            .app()
            .delete(
                &format!(
                    "{}/{id}?deleteSecrets={delete_secrets}&revokeGeneratedCredentials={revoke}",
                    base::<T>()
                ),
                t.token(),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{label}: {}", r.body);
        assert_eq!(r.body["secretRotation"]["id"], json!(id));
        let left = mapped(&t).await;
        if delete_secrets {
            assert_eq!(
                left,
                [String::new(), String::new()],
                "{label}: the secrets went"
            );
        } else {
            assert_eq!(
                left, slots[1],
                "{label}: the secrets stay, with the last credential"
            );
            let r = t
                .app()
                .delete(
                    &format!("/api/v3/secrets/raw/{}", T::MAPPED[0]),
                    t.token(),
                    Some(json!({"workspaceId": t.project(), "environment": "dev", "secretPath": "/", "type": "shared"})),
                )
                .await;
            assert_eq!(r.status, 200, "{label}: an ordinary secret now: {}", r.body);
        }
        if revoke {
            for slot in &slots {
                assert!(
                    !t.works(slot).await,
                    "{label}: a revoked credential still works"
                );
            }
        } else {
            assert!(
                t.works(&slots[1]).await,
                "{label}: the last credential still works"
            );
        }
        assert_eq!(
            t.app().count("secret_rotations").await,
            0,
            "{label}: the rotation is gone"
        );
        assert_eq!(open_runs(t.app()).await, 0, "{label}");
    }
}

pub async fn check_credentials_reports_and_never_repairs<T: Target>() {
    let t: T = world().await;
    let id = create(&t, "suite-check").await;
    let check = || async {
        t.app()
            .post(
                &format!("{}/{id}/check-credentials", base::<T>()),
                t.token(),
                json!({}),
            )
            .await
    };
    let r = check().await;
    assert_eq!(r.status, 204, "{}", r.body);
    let active = mapped(&t).await;
    t.spoil(&active).await;
    for _ in 0..2 {
        let r = check().await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body["message"].is_string(), "{}", r.body);
    }
    assert!(
        !t.works(&active).await,
        "check-credentials did not repair it"
    );
    assert_eq!(mapped(&t).await, active, "nor touch the mapped secrets");
    // A rotation repairs it.
    t.mend().await;
    let r = rotate(&t, &id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_converged(&t, &id, "after the repair").await;
    let r = check().await;
    assert_eq!(r.status, 204, "{}", r.body);
}

pub async fn no_secret_is_stored_or_logged_in_plaintext<T: Target>() {
    let t: T = world().await;
    let id = create(&t, "suite-leaks").await;
    rotate(&t, &id).await;
    rotate(&t, &id).await;
    let (slots, _) = generated(&t, &id).await;
    // The secret half of each credential (a username or key id is not secret).
    let mut secrets: Vec<String> = slots.iter().map(|[_, secret]| secret.clone()).collect();
    secrets.extend(t.connection_secrets());
    assert!(secrets.iter().all(|s| s.len() >= 8), "{secrets:?}");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&t.app().pool)
    .await
    .unwrap();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM {table} t"))
                .fetch_all(&t.app().pool)
                .await
                .unwrap();
        for row in rows {
            for secret in &secrets {
                assert!(
                    !row.contains(secret.as_str()),
                    "{table} holds a secret in plaintext"
                );
            }
        }
    }
    let logs = captured_logs();
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret was logged (its position: {:?})",
            logs.find(secret.as_str())
        );
    }
}

/// What dual-phase promises: a credential read from the mapped secrets keeps working until
/// the rotation after the next one starts (that one retires it, and may change it before it
/// publishes). A consumer reads and logs in while 100 rotations run back to back; a failed
/// login counts only when that rotation had not started. Single-phase types have no such
/// promise: for them the failed logins measure the window in which the old credential is dead
/// and the new one not yet published, and are reported.
pub async fn a_consumer_keeps_logging_in_through_100_rotations<T: Target + 'static>() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let t = Arc::new(world::<T>().await);
    let id = create(&*t, "suite-consumer").await;
    let rotation: uuid::Uuid = id.parse().unwrap();
    // Runs that published, and runs that started (one at a time here: run n+1 starts
    // after run n published).
    let count = move |t: Arc<T>, which: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!(
            "SELECT count(*) FROM rotation_runs WHERE rotation_id = $1 {which}"
        ))
        .bind(rotation)
        .fetch_one(&t.app().pool)
        .await
        .unwrap()
    };
    let published = move |t: Arc<T>| count(t, "AND outcome = 'succeeded'");
    let started = move |t: Arc<T>| count(t, "");
    let stop = Arc::new(AtomicBool::new(false));
    let consumer = {
        let (t, stop) = (t.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut logins, mut outlived, mut failures) = (0u32, 0u32, Vec::new());
            while !stop.load(Ordering::SeqCst) {
                let before = published(t.clone()).await;
                let pair = mapped(&*t).await;
                if published(t.clone()).await != before {
                    continue; // which run published what was read is not known: skip it
                }
                let login = std::time::Instant::now();
                if t.works(&pair).await {
                    logins += 1;
                } else if started(t.clone()).await >= before + 2 {
                    outlived += 1;
                } else {
                    failures.push((pair[0].clone(), login.elapsed()));
                }
            }
            (logins, outlived, failures)
        })
    };
    let clock = std::time::Instant::now();
    for i in 0..100 {
        let r = rotate(&*t, &id).await;
        assert_eq!(r.status, 200, "rotation {i}: {}", r.body);
    }
    let elapsed = clock.elapsed();
    stop.store(true, Ordering::SeqCst);
    let (logins, outlived, failures) = consumer.await.unwrap();
    eprintln!(
        "{}: 100 rotations in {elapsed:?}; consumer: {logins} logins, {outlived} outlived by the rotation after the next, {} failed",
        T::TYPE,
        failures.len()
    );
    if !T::DUAL_PHASE {
        // The share of logins that failed, over the time a rotation took: about how long
        // each rotation leaves consumers with a dead credential.
        let tried = logins as f64 + failures.len() as f64;
        eprintln!(
            "{}: single-phase window ~ {:.0} ms per rotation ({:.0}% of logins failed)",
            T::TYPE,
            failures.len() as f64 / tried * elapsed.as_secs_f64() * 10.0,
            failures.len() as f64 / tried * 100.0
        );
    }
    if T::DUAL_PHASE {
        assert!(
            failures.is_empty(),
            "{} logins failed before the rotation after the next had started: {failures:?}",
            failures.len()
        );
    }
    assert!(logins > 20, "only {logins} logins");
    assert_converged(&*t, &id, "after 100").await;
}

/// The suite's tests for one type, as a module of `#[tokio::test]`s.
#[macro_export]
macro_rules! rotation_suite {
    ($module:ident, $target:ty) => {
        mod $module {
            use $crate::suite;

            #[tokio::test]
            async fn create_and_rotate_twice() {
                suite::create_and_rotate_twice::<$target>().await
            }

            #[tokio::test]
            async fn a_fault_entering_any_phase_keeps_the_mapped_credential_working() {
                suite::a_fault_entering_any_phase_keeps_the_mapped_credential_working::<$target>()
                    .await
            }

            #[tokio::test]
            async fn a_crash_after_any_phase_rolls_forward() {
                suite::a_crash_after_any_phase_rolls_forward::<$target>().await
            }

            #[tokio::test]
            async fn delete_with_and_without_both_flags() {
                suite::delete_with_and_without_both_flags::<$target>().await
            }

            #[tokio::test]
            async fn check_credentials_reports_and_never_repairs() {
                suite::check_credentials_reports_and_never_repairs::<$target>().await
            }

            #[tokio::test]
            async fn a_consumer_keeps_logging_in_through_100_rotations() {
                suite::a_consumer_keeps_logging_in_through_100_rotations::<$target>().await
            }

            #[tokio::test]
            async fn no_secret_is_stored_or_logged_in_plaintext() {
                suite::no_secret_is_stored_or_logged_in_plaintext::<$target>().await
            }
        }
    };
}
