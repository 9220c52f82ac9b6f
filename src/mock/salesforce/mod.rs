//! A mock Salesforce org that behaves like a real one on every endpoint a consumer-secret
//! rotation touches (../shared/reference/salesforce-api.md is its specification), with the
//! faults real orgs produce and a control API under `/__mock/`. Used by the tests, by the demo,
//! and on its own as `rotary mock-salesforce`.

mod control;
pub mod model;
pub mod rest;
pub mod soap;

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::Router;
use serde::Serialize;
use tokio::net::TcpListener;

use model::{Org, Seed};

pub use crate::mock::harness::{decode_form, faults, Logged, Reply, Req};
use crate::mock::harness::{dispatch, Harness};

pub struct Shared {
    pub org: Mutex<Org>,
    /// Fault rules, the request log and latches (`mock::harness`).
    pub harness: Harness,
    pub admin_token: Option<String>,
}

/// A running (or ready to run) mock org; cheap to clone.
#[derive(Clone)]
pub struct MockOrg(pub Arc<Shared>);

/// Ids and credentials of the seeded apps, printed on start.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeededApp {
    pub developer_name: String,
    pub id: String,
    pub consumer_id: String,
    pub key: String,
    pub secret: String,
}

impl MockOrg {
    /// An org answering at `instance_url`, loaded from `seed`.
    pub fn new(instance_url: &str, seed: &Seed, rng_seed: Option<u64>) -> Result<MockOrg, String> {
        let mut org = Org::new(instance_url, rng_seed);
        org.load(seed)?;
        Ok(MockOrg(Arc::new(Shared {
            org: Mutex::new(org),
            harness: Harness::default(),
            admin_token: None,
        })))
    }

    pub fn org(&self) -> std::sync::MutexGuard<'_, Org> {
        self.0.org.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn seeded_apps(&self) -> Vec<SeededApp> {
        self.org()
            .apps
            .iter()
            .filter_map(|a| {
                let c = a.consumers.first()?;
                Some(SeededApp {
                    developer_name: a.developer_name.clone(),
                    id: a.id.clone(),
                    consumer_id: c.id.clone(),
                    key: c.primary.key.clone(),
                    secret: c.primary.secret.clone(),
                })
            })
            .collect()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .fallback(|State(mock): State<MockOrg>, request: Request| dispatch(mock, request))
            .with_state(self.clone())
    }
}

/// Binds `listener`, serves the demo (or given) org there, and returns it with its base URL.
pub async fn spawn(
    listener: TcpListener,
    seed: Option<&Seed>,
    rng_seed: Option<u64>,
) -> std::io::Result<(MockOrg, String)> {
    let base = format!("http://{}", listener.local_addr()?);
    let seed = seed.cloned().unwrap_or_else(model::demo_seed);
    let org = MockOrg::new(&base, &seed, rng_seed).map_err(std::io::Error::other)?;
    let app = org.router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((org, base))
}

impl crate::mock::harness::Mock for MockOrg {
    fn harness(&self) -> &Harness {
        &self.0.harness
    }
    fn classify(&self, req: &Req) -> (&'static str, Option<String>) {
        classify(req)
    }
    fn latency_ms(&self) -> u64 {
        self.org().knobs.latency_ms
    }
    fn pick(&self, call: &faults::Call, phase: &str) -> Option<faults::Action> {
        let mut org = self.org();
        self.0
            .harness
            .pick(call, phase, &mut org.rng, model::same_id)
    }
    fn handle(&self, req: &Req, op: &str) -> Reply {
        let mut org = self.org();
        org.tick();
        handle(&mut org, req, op)
    }
    fn fault_body(&self, status: u16, op: &str) -> Reply {
        match op {
            "token" => Reply::json(
                status,
                serde_json::json!({"error": "unknown_error", "error_description": "retry your request"}),
            ),
            _ if op.starts_with("metadata") => {
                soap::fault("UNKNOWN_EXCEPTION", "An unexpected error occurred.")
            }
            _ => fault_json(status),
        }
    }
    async fn control(&self, req: Req) -> Reply {
        control::handle(self, req).await
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.org().now()
    }
}

fn fault_json(status: u16) -> Reply {
    match status {
        401 => rest::sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid"),
        403 => rest::sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        503 => rest::sf_error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable."),
        _ => rest::sf_error(
            status,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
        ),
    }
}

/// The operation a request performs and the app its path names.
fn classify(req: &Req) -> (&'static str, Option<String>) {
    let path = req.path.as_str();
    if path == "/services/oauth2/token" {
        return ("token", None);
    }
    if path == "/services/oauth2/revoke" {
        return ("revoke", None);
    }
    if path.starts_with("/services/Soap/m/") {
        return (soap::operation(&req.body), None);
    }
    match rest::parse_path(path) {
        Some((_, Some(resource))) => (resource.op(&req.method), resource.app().map(str::to_string)),
        _ => ("other", None),
    }
}

fn handle(org: &mut Org, req: &Req, op: &str) -> Reply {
    let path = req.path.as_str();
    match op {
        "token" if req.method == "POST" => rest::token(org, req),
        "revoke" if req.method == "POST" => rest::revoke(org, req),
        _ if path.starts_with("/services/Soap/m/") => {
            let version = path
                .trim_start_matches("/services/Soap/m/")
                .trim_end_matches('/')
                .split('.')
                .next()
                .and_then(|v| v.parse().ok());
            match (req.method.as_str(), version) {
                ("POST", Some(v)) => soap::handle(org, req, v),
                _ => rest::sf_error(404, "NOT_FOUND", "The requested resource does not exist"),
            }
        }
        _ if path == "/services/data" || path == "/services/data/" => rest::versions(),
        _ => match rest::parse_path(path) {
            Some((version, resource)) => rest::connect(org, req, version, resource),
            None => rest::sf_error(404, "NOT_FOUND", "The requested resource does not exist"),
        },
    }
}
