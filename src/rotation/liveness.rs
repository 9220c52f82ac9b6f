//! Whether a run's worker is still alive. Every serving process holds a session-level advisory
//! lock named after its worker id for its whole life; Postgres releases it the moment the
//! process (or its connection) dies. A run whose lease holder no longer holds that lock is
//! taken over at once, instead of after the lease runs out (a kill -9 used to leave a rotation
//! refusing rotate-secrets for up to the 60 s lease). Leases still cover a worker that is
//! alive but hung, and fencing still refuses a worker that comes back.

use std::time::Duration;

use sqlx::Connection;

use crate::rotation::engine::worker_id;
use crate::state::AppState;

pub use crate::store::rotations::{HOLDER_GONE, LOCK_NAMESPACE};

/// How often the lock's connection is checked (and re-opened with the lock when it broke).
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Takes this worker's lock on a connection of its own, then keeps it for the life of the
/// process. Called once per server; a second call for the same state does nothing.
pub async fn hold(state: &AppState) {
    if state
        .liveness_held
        .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        return;
    }
    let mut conn = lock(state).await;
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let alive = match conn.as_mut() {
                Some(c) => c.ping().await.is_ok(),
                None => false,
            };
            if !alive {
                tracing::warn!("the worker's liveness lock was lost; taking it again");
                conn = lock(&state).await;
            }
        }
    });
}

/// A connection outside the pool that holds this worker's lock; `None` when the database
/// cannot be reached now (the next check tries again).
async fn lock(state: &AppState) -> Option<sqlx::PgConnection> {
    let mut conn = match state.pool.acquire().await {
        Ok(conn) => conn.detach(),
        Err(e) => {
            tracing::warn!(error = %e, "no connection for the worker's liveness lock");
            return None;
        }
    };
    // Another server in this process (tests run replicas side by side) may hold it already:
    // the process is alive either way.
    match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1, hashtext($2))")
        .bind(LOCK_NAMESPACE)
        .bind(worker_id())
        .fetch_one(&mut conn)
        .await
    {
        Ok(_) => Some(conn),
        Err(e) => {
            tracing::warn!(error = %e, "taking the worker's liveness lock");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_query_names_the_lock_namespace() {
        assert!(super::HOLDER_GONE.contains(&format!("{}::oid", super::LOCK_NAMESPACE)));
    }
}
