//! What every mock provider shares: requests and replies, fault rules (`faults`), the request
//! log, latches, the connection reset, and the control API's generic routes
//! (`/__mock/faults`, `/__mock/latches/{name}/release`, `/__mock/requests`). A mock keeps its
//! own model and routes and calls `Harness` around each request (the Salesforce org's
//! `dispatch` is the example).

pub mod faults;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

/// What a mock provider gives the shared dispatcher (`dispatch`): its harness, how it names
/// a request's operation and target, its model's answer, and its error body for a fault.
pub trait Mock: Clone + Send + Sync + 'static {
    fn harness(&self) -> &Harness;
    /// The operation (`token`, `create_secret`…) and the target the path names (an app).
    fn classify(&self, req: &Req) -> (&'static str, Option<String>);
    /// Latency added to every provider call (the `latency_ms` knob).
    fn latency_ms(&self) -> u64;
    /// The first fault rule that fires (the mock's own random source and target matching).
    fn pick(&self, call: &faults::Call, phase: &str) -> Option<faults::Action>;
    /// The model's answer.
    fn handle(&self, req: &Req, op: &str) -> Reply;
    /// The body a fault rule's `"json"` answer has, in the provider's own error shape.
    fn fault_body(&self, status: u16, op: &str) -> Reply;
    /// The control API (`/__mock/…`).
    fn control(&self, req: Req) -> impl std::future::Future<Output = Reply> + Send;
    /// The time the request log records (a mock's clock may be virtual).
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Every request of a mock: control API, or route, fault rules (before), handler, fault
/// rules (after), log.
pub async fn dispatch<M: Mock>(mock: M, request: axum::extract::Request) -> Response {
    let started = std::time::Instant::now();
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
        return mock.control(req).await.into_response();
    }
    let (op, app) = mock.classify(&req);
    let latency = mock.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let call = faults::Call {
        op,
        method: &req.method,
        app: app.as_deref(),
    };
    let (reply, fault) = match mock.pick(&call, "before") {
        Some(action) => match apply_fault(&mock, &action, op).await {
            Some(reply) => (reply, Some("before")),
            None => return reset(),
        },
        None => {
            let reply = mock.handle(&req, op);
            match mock.pick(&call, "after") {
                Some(action) => match apply_fault(&mock, &action, op).await {
                    Some(faulted) => (faulted, Some("after")),
                    None => return reset(),
                },
                None => (reply, None),
            }
        }
    };
    mock.harness().record(Logged {
        seq: 0,
        at: mock.now(),
        method: req.method.clone(),
        path: req.path.clone(),
        op: op.to_string(),
        status: reply.status,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        token_hash: token_hash(&req.headers),
        fault: fault.map(str::to_string),
    });
    reply.into_response()
}

/// Carries out a fault's action: waits (latency, latch, hang), then the reply to send, or
/// `None` to drop the connection.
async fn apply_fault<M: Mock>(mock: &M, action: &faults::Action, op: &str) -> Option<Reply> {
    if !mock.harness().wait(action).await {
        return None;
    }
    let status = action.status.unwrap_or(500);
    let mut reply = match action.body.as_deref().unwrap_or("json") {
        "json" => mock.fault_body(status, op),
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

    pub fn into_response(self) -> Response {
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

/// Fault rules, the request log and latches, behind one lock each.
#[derive(Default)]
pub struct Harness {
    pub faults: Mutex<Vec<faults::Rule>>,
    pub log: Mutex<Vec<Logged>>,
    pub latches: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Harness {
    /// The first rule that fires for `call` in `phase` (see `faults::pick`).
    pub fn pick(
        &self,
        call: &faults::Call,
        phase: &str,
        rng: &mut impl rand::Rng,
        same_target: fn(&str, &str) -> bool,
    ) -> Option<faults::Action> {
        let mut rules = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        faults::pick(&mut rules, call, phase, rng, same_target)
    }

    /// Waits as `action` says (latency, a latch until it is released, a hang forever); false
    /// when the connection is to be reset instead of answered.
    pub async fn wait(&self, action: &faults::Action) -> bool {
        if action.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(action.latency_ms)).await;
        }
        if let Some(name) = &action.latch {
            self.latch(name).notified().await;
        }
        if action.hang {
            std::future::pending::<()>().await;
        }
        !action.reset
    }

    fn latch(&self, name: &str) -> Arc<Notify> {
        self.latches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// The request log so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Appends to the request log (its `seq` is set here).
    pub fn record(&self, mut entry: Logged) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        entry.seq = log.len() as u64 + 1;
        log.push(entry);
    }

    /// The control API's generic routes, or `None` when `segments` (the path after
    /// `/__mock/`) names none of them.
    pub fn control(&self, req: &Req, segments: &[&str]) -> Option<Reply> {
        let reply = match (req.method.as_str(), segments) {
            ("GET", ["faults"]) => Ok(self.rules()),
            ("PUT", ["faults"]) => body::<Vec<faults::Rule>>(req).map(|rules| {
                *self.faults.lock().unwrap_or_else(|e| e.into_inner()) = rules;
                self.rules()
            }),
            ("POST", ["faults"]) => body::<faults::Rule>(req).map(|rule| {
                self.faults
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(rule);
                self.rules()
            }),
            ("DELETE", ["faults"]) => {
                self.faults
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clear();
                Ok(Reply::json(200, json!([])))
            }
            ("POST", ["latches", name, "release"]) => {
                let notify = self.latch(name);
                notify.notify_waiters();
                notify.notify_one();
                Ok(Reply::json(200, json!({"released": name})))
            }
            ("GET", ["requests"]) => {
                let since: u64 = req
                    .query
                    .get("since")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
                let items: Vec<_> = log.iter().filter(|l| l.seq > since).cloned().collect();
                Ok(Reply::json(
                    200,
                    serde_json::to_value(items).unwrap_or_default(),
                ))
            }
            _ => return None,
        };
        Some(reply.unwrap_or_else(|e| e))
    }

    fn rules(&self) -> Reply {
        Reply::json(
            200,
            serde_json::to_value(&*self.faults.lock().unwrap_or_else(|e| e.into_inner()))
                .unwrap_or_default(),
        )
    }
}

/// A path's segments, without empty ones (`/api/v1/apps/` → `["api", "v1", "apps"]`).
pub fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// `PATCH /__mock/knobs`: the body's fields replace the knobs' (a field the knobs do not
/// have is ignored, a value of the wrong type refused); the knobs as they are now.
pub fn patch_knobs<K: Serialize + for<'de> Deserialize<'de>>(knobs: &mut K, req: &Req) -> Reply {
    let patch = match body::<Value>(req) {
        Ok(patch) => patch,
        Err(e) => return e,
    };
    let mut current = serde_json::to_value(&*knobs).unwrap_or_default();
    if let (Some(c), Some(p)) = (current.as_object_mut(), patch.as_object()) {
        c.extend(p.clone());
    }
    match serde_json::from_value(current) {
        Ok(new) => {
            *knobs = new;
            Reply::json(200, serde_json::to_value(&*knobs).unwrap_or_default())
        }
        Err(e) => bad(e.to_string()),
    }
}

/// Serves `router` on `listener` in the background (a mock's `spawn`).
pub fn serve(listener: tokio::net::TcpListener, router: axum::Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// A control API error: `{"error": message}` with 400.
pub fn bad(message: impl Into<String>) -> Reply {
    Reply::json(400, json!({"error": message.into()}))
}

/// A control API body (an empty one reads as `{}`).
pub fn body<T: for<'de> Deserialize<'de>>(req: &Req) -> Result<T, Reply> {
    let bytes: &[u8] = if req.body.is_empty() {
        b"{}"
    } else {
        &req.body
    };
    serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON body: {e}")))
}

pub fn decode_form(text: &str) -> BTreeMap<String, String> {
    crate::http::extract::query_map(text)
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// First 12 hex digits of the SHA-256 of the request's bearer token, for the log.
pub fn token_hash(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.split_once(' ').map(|(_, t)| t).unwrap_or(value);
    Some(hex::encode(&Sha256::digest(token.trim().as_bytes())[..6]))
}

/// Drops the connection without an answer: the client sees a reset. Unwinding the connection
/// task is how a handler can do that in hyper; `resume_unwind` skips the panic hook, so
/// nothing is printed.
pub fn reset() -> Response {
    std::panic::resume_unwind(Box::new("mock: connection reset by fault rule"))
}
