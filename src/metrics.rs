//! Prometheus metrics: counters and histograms recorded where things happen (runs, provider
//! calls, HTTP requests, scheduler claims), and gauges computed from the database when
//! `/metrics` is scraped (`http::metrics`: rotations due and overdue, active credentials and
//! their age).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use uuid::Uuid;

const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The process's recorder, installed on first use (once per process, shared by every server
/// the process runs, as tests do).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .expect("the buckets are valid")
            .install_recorder()
            .expect("no other metrics recorder is installed")
    })
}

/// Records one provider call.
pub fn provider_call(
    provider: &'static str,
    operation: &'static str,
    started: std::time::Instant,
    ok: bool,
) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::histogram!("rotary_provider_call_duration_seconds", "provider" => provider, "operation" => operation, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
    if !ok {
        metrics::counter!("rotary_provider_errors_total", "provider" => provider, "operation" => operation).increment(1);
    }
}

/// Records the end of a rotation run.
pub fn run_finished(
    rotation_type: &str,
    trigger: &str,
    outcome: &'static str,
    started: std::time::Instant,
) {
    metrics::counter!("rotary_rotation_runs_total", "type" => rotation_type.to_string(), "trigger" => trigger.to_string(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("rotary_rotation_run_duration_seconds", "type" => rotation_type.to_string(), "trigger" => trigger.to_string())
        .record(started.elapsed().as_secs_f64());
}

/// `rotary_active_credential_age_seconds`, one series per rotation given, in Prometheus text.
pub fn age_series(ages: &[(Uuid, f64)]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(160 + ages.len() * 90);
    text.push_str(
        "# HELP rotary_active_credential_age_seconds Seconds since the rotation's active credential was issued (the oldest credentials only)\n\
         # TYPE rotary_active_credential_age_seconds gauge\n",
    );
    for (id, age) in ages {
        let _ = writeln!(
            text,
            "rotary_active_credential_age_seconds{{rotation_id=\"{id}\"}} {age}"
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_series_are_prometheus_text() {
        let id = Uuid::nil();
        assert_eq!(
            age_series(&[(id, 12.5)]),
            "# HELP rotary_active_credential_age_seconds Seconds since the rotation's active credential was issued (the oldest credentials only)\n\
             # TYPE rotary_active_credential_age_seconds gauge\n\
             rotary_active_credential_age_seconds{rotation_id=\"00000000-0000-0000-0000-000000000000\"} 12.5\n"
        );
    }
}
