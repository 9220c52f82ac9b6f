//! `GET /metrics`: the process's counters and histograms (`crate::metrics`), and gauges
//! computed from the database at each scrape.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use sha2::Digest;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// At most this many `rotary_active_credential_age_seconds` series per scrape, the oldest
/// credentials first. One registered gauge per rotation grew without bound: with 100,000
/// rotations a scrape took 0.7 s, returned 9.8 MB and left the process at 120 MB, since the
/// registry never drops a gauge (nor that of a deleted rotation). These series are now written
/// straight from the query into each scrape; the totals cover the rest.
const MAX_AGE_SERIES: i64 = 1_000;

/// `/metrics` names every project's rotations: a scraper sends `ROTARY_METRICS_TOKEN`, a
/// person an org admin's access token. Anyone else gets 401 or 403.
async fn allow_scrape(state: &AppState, parts: &axum::http::request::Parts) -> ApiResult<()> {
    let Some(token) = crate::auth::bearer_token(parts) else {
        return Err(ApiError::unauthorized(
            "Missing token: send 'Authorization: Bearer <token>' with ROTARY_METRICS_TOKEN or an organization admin's access token",
        ));
    };
    if let Some(expected) = &state.metrics_token {
        use secrecy::ExposeSecret;
        let (a, b) = (
            sha2::Sha256::digest(expected.expose_secret().as_bytes()),
            sha2::Sha256::digest(token.as_bytes()),
        );
        if a == b {
            return Ok(());
        }
    }
    let row = crate::auth::check_token(state, token).await?;
    if row.org_role != "admin" {
        return Err(ApiError::forbidden("read", "metrics"));
    }
    Ok(())
}

#[utoipa::path(get, path = "/metrics", tag = "Health", security(("bearer" = [])),
    description = "Prometheus metrics: rotation runs by type, trigger and outcome; run duration; provider call latency and errors by operation; rotations due and overdue; scheduler lag; runs in flight; active credentials, the oldest one's age, and the age of each of the 1,000 oldest; HTTP requests. Needs ROTARY_METRICS_TOKEN or an organization admin's access token as the bearer token.",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn render(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> ApiResult<impl IntoResponse> {
    let (parts, _) = request.into_parts();
    allow_scrape(&state, &parts).await?;
    let (due, overdue, active, oldest): (i64, i64, i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE is_auto_rotation_enabled AND next_rotation_at <= now()), \
                count(*) FILTER (WHERE is_auto_rotation_enabled \
                                   AND next_rotation_at <= now() - make_interval(secs => $1)), \
                count(*), \
                extract(epoch FROM now() - min(last_rotated_at))::float8 \
         FROM secret_rotations WHERE lifecycle = 'active'",
    )
    .bind(crate::store::rotations::OVERDUE_AFTER_SECONDS)
    .fetch_one(&state.pool)
    .await?;
    metrics::gauge!("rotary_rotations_due").set(due as f64);
    metrics::gauge!("rotary_rotations_overdue").set(overdue as f64);
    metrics::gauge!("rotary_active_credentials").set(active as f64);
    metrics::gauge!("rotary_oldest_active_credential_age_seconds").set(oldest.unwrap_or(0.0));
    let ages: Vec<(Uuid, f64)> = sqlx::query_as(
        "SELECT id, extract(epoch FROM now() - last_rotated_at)::float8 FROM secret_rotations \
         WHERE lifecycle = 'active' AND last_rotated_at IS NOT NULL ORDER BY last_rotated_at LIMIT $1",
    )
    .bind(MAX_AGE_SERIES)
    .fetch_all(&state.pool)
    .await?;
    let mut text = crate::metrics::handle().render();
    text.push_str(&crate::metrics::age_series(&ages));
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text))
}
