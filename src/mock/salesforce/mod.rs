//! A mock Salesforce org that behaves like a real one on every endpoint a consumer-secret
//! rotation touches (../shared/reference/salesforce-api.md is its specification), with the
//! faults real orgs produce and a control API under `/__mock/`. Used by the tests, by the demo,
//! and on its own as `rotary mock-salesforce`.

mod control;
pub mod faults;
pub mod model;
pub mod rest;
pub mod soap;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use model::{Org, Seed};

/// A request as the org's handlers see it.
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// A response before it becomes HTTP.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=UTF-8",
            body: body.to_string(),
            headers: vec![],
        }
    }
    pub fn json_text(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=UTF-8",
            body,
            headers: vec![],
        }
    }
    pub fn xml(status: u16, body: String) -> Reply {
        Reply {
            status,
            content_type: "text/xml;charset=UTF-8",
            body,
            headers: vec![],
        }
    }
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            content_type: "",
            body: String::new(),
            headers: vec![],
        }
    }

    fn into_response(self) -> Response {
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        if !self.content_type.is_empty() {
            builder = builder.header("content-type", self.content_type);
        }
        for (k, v) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                builder = builder.header(k.as_str(), v);
            }
        }
        builder
            .body(Body::from(self.body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

/// One entry of the request log. No bodies: they carry secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Logged {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub op: String,
    pub status: u16,
    pub latency_ms: f64,
    /// First 12 hex digits of the SHA-256 of the bearer token, if any.
    pub token_hash: Option<String>,
    pub fault: Option<String>,
}

pub struct Shared {
    pub org: Mutex<Org>,
    pub faults: Mutex<Vec<faults::Rule>>,
    pub log: Mutex<Vec<Logged>>,
    pub latches: Mutex<HashMap<String, Arc<Notify>>>,
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
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            latches: Mutex::new(HashMap::new()),
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
        Router::new().fallback(dispatch).with_state(self.clone())
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

pub fn decode_form(text: &str) -> BTreeMap<String, String> {
    crate::http::extract::query_map(text)
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
        .collect()
}

fn token_hash(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.split_once(' ').map(|(_, t)| t).unwrap_or(value);
    Some(hex::encode(&Sha256::digest(token.trim().as_bytes())[..6]))
}

/// Every request: route, fault rules (before), handler, fault rules (after), log.
async fn dispatch(State(mock): State<MockOrg>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 8 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let req = Req {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: decode_form(parts.uri.query().unwrap_or("")),
        headers: parts.headers,
        body,
    };
    if req.path.starts_with("/__mock/") || req.path == "/__mock" {
        return control::handle(&mock, req).await.into_response();
    }
    let (op, app) = classify(&req);
    let latency = mock.org().knobs.latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let call = faults::Call {
        op,
        method: &req.method,
        app: app.as_deref(),
    };
    let before = pick(&mock, &call, "before");
    let (reply, fault) = match before {
        Some(action) => (Some(apply_fault(&mock, &action, op).await), Some("before")),
        None => (None, None),
    };
    let (reply, fault) = match reply {
        Some(Some(reply)) => (reply, fault),
        Some(None) => return reset(),
        None => {
            let reply = {
                let mut org = mock.org();
                org.tick();
                handle(&mut org, &req, op)
            };
            match pick(&mock, &call, "after") {
                Some(action) => match apply_fault(&mock, &action, op).await {
                    Some(faulted) => (faulted, Some("after")),
                    None => return reset(),
                },
                None => (reply, None),
            }
        }
    };
    let status = reply.status;
    let mut log = mock.0.log.lock().unwrap_or_else(|e| e.into_inner());
    let seq = log.len() as u64 + 1;
    let at = mock.org().now();
    log.push(Logged {
        seq,
        at,
        method: req.method.clone(),
        path: req.path.clone(),
        op: op.to_string(),
        status,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        token_hash: token_hash(&req.headers),
        fault: fault.map(str::to_string),
    });
    drop(log);
    reply.into_response()
}

fn pick(mock: &MockOrg, call: &faults::Call, phase: &str) -> Option<faults::Action> {
    let mut rules = mock.0.faults.lock().unwrap_or_else(|e| e.into_inner());
    let mut org = mock.org();
    faults::pick(&mut rules, call, phase, &mut org.rng)
}

/// Carries out a fault's action: waits (latency, latch, hang), then the reply to send, or
/// `None` to drop the connection.
async fn apply_fault(mock: &MockOrg, action: &faults::Action, op: &str) -> Option<Reply> {
    if action.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(action.latency_ms)).await;
    }
    if let Some(name) = &action.latch {
        let notify = {
            let mut latches = mock.0.latches.lock().unwrap_or_else(|e| e.into_inner());
            latches
                .entry(name.clone())
                .or_insert_with(|| Arc::new(Notify::new()))
                .clone()
        };
        notify.notified().await;
    }
    if action.hang {
        std::future::pending::<()>().await;
    }
    if action.reset {
        return None;
    }
    let status = action.status.unwrap_or(500);
    let mut reply = match action.body.as_deref().unwrap_or("json") {
        "json" if op == "token" => Reply::json(
            status,
            serde_json::json!({"error": "unknown_error", "error_description": "retry your request"}),
        ),
        "json" if op.starts_with("metadata") => {
            soap::fault("UNKNOWN_EXCEPTION", "An unexpected error occurred.")
        }
        "json" => fault_json(status),
        "html" => Reply {
            status,
            content_type: "text/html;charset=UTF-8",
            body: "<html><body><h1>Service Unavailable</h1></body></html>".into(),
            headers: vec![],
        },
        "empty" => Reply::empty(status),
        literal => Reply {
            status,
            content_type: "application/json;charset=UTF-8",
            body: literal.to_string(),
            headers: vec![],
        },
    };
    reply.status = status;
    reply
        .headers
        .extend(action.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
    Some(reply)
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

/// Drops the connection without an answer: the client sees a reset. Unwinding the connection
/// task is how a handler can do that in hyper; `resume_unwind` skips the panic hook, so
/// nothing is printed.
fn reset() -> Response {
    std::panic::resume_unwind(Box::new("mock-salesforce: connection reset by fault rule"))
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
