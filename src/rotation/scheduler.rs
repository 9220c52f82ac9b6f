//! The scheduler: every `serve` process runs one. It polls Postgres about once a second for
//! rotations that are due (and for runs whose worker died or whose retry time came), claims
//! them with `FOR UPDATE SKIP LOCKED`, and executes them with bounded concurrency, globally
//! and per app connection. Any number of replicas can run against one database: claims never
//! overlap, and the fenced lease makes every run finish exactly once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

use crate::rotation::engine::{self, worker_id};
use crate::rotation::registry;
use crate::state::AppState;
use crate::store::rotations;

pub use crate::config::{RetryPolicy, SchedulerConfig};

/// Runs the scheduler until the process ends.
pub fn spawn(state: AppState, config: SchedulerConfig) -> tokio::task::JoinHandle<()> {
    // Webhook deliveries have their own loop: a slow endpoint never delays a rotation.
    tokio::spawn({
        let state = state.clone();
        let interval = config.poll_interval;
        let notice = config.upcoming_notice;
        async move {
            loop {
                if !notice.is_zero() {
                    if let Err(e) =
                        crate::webhooks::enqueue_upcoming(&state.pool, notice, 256).await
                    {
                        tracing::warn!(error = %e, "queueing upcoming-rotation notices failed");
                    }
                }
                if let Err(e) = crate::webhooks::deliver_due(&state, 32).await {
                    tracing::warn!(error = %e, "webhook delivery failed");
                }
                tokio::time::sleep(interval).await;
            }
        }
    });
    tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(config.concurrency));
        // A finished run wakes the loop at once, so its slot is refilled without waiting for
        // the next poll: in a burst, the poll interval would otherwise cap each slot at one
        // run per interval.
        let wake = Arc::new(Notify::new());
        loop {
            let mut pause = config.poll_interval;
            match tick(&state, &config, &slots, &wake).await {
                // Sleep until the next rotation is due when that comes before the next poll,
                // so it starts on time rather than up to a poll interval late.
                Ok(Some(until_next)) => pause = pause.min(until_next),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "scheduler tick failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = wake.notified() => {}
            }
        }
    })
}

/// One pass: take over runs whose lease expired, then claim due rotations, as far as free
/// slots allow. With slots still free, returns how long until the next rotation is due.
async fn tick(
    state: &AppState,
    config: &SchedulerConfig,
    slots: &Arc<Semaphore>,
    wake: &Arc<Notify>,
) -> Result<Option<Duration>, sqlx::Error> {
    for rotation_id in
        rotations::orphaned_rotations(&state.pool, worker_id(), &registry::slugs()).await?
    {
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            return Ok(None);
        };
        match rotations::take_over_expired(
            &state.pool,
            rotation_id,
            worker_id(),
            state.lease_seconds,
        )
        .await?
        {
            Some(run) => {
                let (state, wake) = (state.clone(), wake.clone());
                tokio::spawn(async move {
                    finish(&state, run, None).await;
                    drop(permit);
                    wake.notify_one();
                });
            }
            None => drop(permit),
        }
    }
    let free = slots.available_permits();
    for (run, rotation) in rotations::claim_due(
        &state.pool,
        worker_id(),
        state.lease_seconds,
        free,
        config.per_connection,
        &registry::slugs(),
    )
    .await?
    {
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            break;
        };
        let (state, wake) = (state.clone(), wake.clone());
        tokio::spawn(async move {
            finish(&state, run, Some(rotation)).await;
            drop(permit);
            wake.notify_one();
        });
    }
    if slots.available_permits() == 0 {
        return Ok(None);
    }
    Ok(rotations::seconds_until_next_due(&state.pool)
        .await?
        .map(|s| Duration::from_secs_f64(s.max(0.005))))
}

async fn finish(
    state: &AppState,
    run: rotations::RunRow,
    rotation: Option<rotations::RotationRow>,
) {
    let rotation_id = run.rotation_id;
    let (run_id, trigger) = (run.id, run.trigger);
    let result = engine::execute_claimed(state, run, rotation).await;
    let (outcome, message) = match &result {
        Ok(_) => ("success", None),
        Err(engine::RunError::Abandoned(m)) | Err(engine::RunError::Settled(m)) => {
            ("failure", Some(m.clone()))
        }
        Err(engine::RunError::Interrupted(m)) => (
            "failure",
            Some(format!("{m} (the rotation will be re-attempted shortly)")),
        ),
    };
    // Scheduled runs are audited here, with Rotary itself as the actor.
    if trigger == rotations::Trigger::Scheduled {
        let row = match &result {
            Ok(row) => Some(row.clone()),
            Err(_) => rotations::find(&state.pool, rotation_id)
                .await
                .ok()
                .flatten(),
        };
        if let Some(row) = row {
            crate::audit::rotation(
                &state.pool,
                crate::audit::Actor::Platform,
                &row,
                "SECRET_ROTATION_ROTATE_SECRETS",
                outcome,
                serde_json::json!({"jobId": run_id, "message": message}),
            )
            .await;
        }
    }
    match result {
        Ok(_) => tracing::info!(%rotation_id, "scheduled rotation finished"),
        Err(e) => {
            tracing::warn!(%rotation_id, error = e.message(), "scheduled rotation did not finish")
        }
    }
    if trigger == rotations::Trigger::Create {
        engine::cleanup_failed_creation(state, rotation_id).await;
    }
}
