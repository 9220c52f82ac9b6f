//! A proxy in front of moto's AWS server that fails chosen calls before or after moto has
//! done them, and adds latency: moto has no fault injection of its own. A call is named by its
//! `Action` (`CreateAccessKey`, `GetCallerIdentity`…), as the IAM and STS query protocols send
//! it. Requests pass through unchanged, Host header included, so their SigV4 signatures still
//! hold and moto checks them. A fault answers in AWS's error shape.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Clone)]
struct Rule {
    id: String,
    op: String,
    phase: String,
    status: u16,
    times: u32,
}

#[derive(Clone)]
pub struct FaultProxy {
    pub url: String,
    upstream: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    pub latency_ms: Arc<AtomicU64>,
    http: reqwest::Client,
}

impl FaultProxy {
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = FaultProxy {
            url: format!("http://{}", listener.local_addr().unwrap()),
            upstream: upstream.trim_end_matches('/').to_string(),
            rules: Default::default(),
            latency_ms: Default::default(),
            http: reqwest::Client::new(),
        };
        let state = proxy.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let proxy = state.clone();
                async move { proxy.forward(method, uri, headers, body).await }
            },
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        proxy
    }

    /// Adds a rule in the generic suite's shape (`{"id", "match": {"op", "times"}, "phase",
    /// "action": {"status"}}`), or with `None` clears them.
    pub fn rule(&self, rule: Option<Value>) {
        let mut rules = self.rules.lock().unwrap();
        match rule {
            Some(r) => rules.push(Rule {
                id: r["id"].as_str().unwrap_or_default().to_string(),
                op: r["match"]["op"].as_str().unwrap().to_string(),
                phase: r["phase"].as_str().unwrap().to_string(),
                status: r["action"]["status"].as_u64().unwrap() as u16,
                times: r["match"]["times"].as_u64().unwrap_or(1) as u32,
            }),
            None => rules.clear(),
        }
    }

    /// The first rule for `op` at `phase` that has times left (used up by this call).
    fn fires(&self, op: &str, phase: &str) -> Option<Rule> {
        let mut rules = self.rules.lock().unwrap();
        let rule = rules
            .iter_mut()
            .find(|r| r.op == op && r.phase == phase && r.times > 0)?;
        rule.times -= 1;
        Some(rule.clone())
    }

    async fn forward(&self, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        let op = url::form_urlencoded::parse(&body)
            .chain(url::form_urlencoded::parse(
                uri.query().unwrap_or_default().as_bytes(),
            ))
            .find(|(k, _)| k == "Action")
            .map(|(_, v)| v.to_string())
            .unwrap_or_default();
        let latency = self.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if let Some(rule) = self.fires(&op, "before") {
            return fault(&rule);
        }
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.upstream))
            .body(body);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let answer = match request.send().await {
            Ok(a) => a,
            Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
        };
        if let Some(rule) = self.fires(&op, "after") {
            return fault(&rule);
        }
        let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
        let content_type = answer
            .headers()
            .get("content-type")
            .cloned()
            .unwrap_or_else(|| "text/xml".parse().unwrap());
        let body = answer.bytes().await.unwrap_or_default();
        (status, [("content-type", content_type)], body).into_response()
    }
}

/// AWS's error shape for the query protocols.
fn fault(rule: &Rule) -> Response {
    let code = match rule.status {
        503 => "ServiceUnavailable",
        500 => "ServiceFailure",
        _ => "ValidationError",
    };
    let body = format!(
        "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>injected by the test proxy: {}</Message></Error><RequestId>fault</RequestId></ErrorResponse>",
        rule.id
    );
    (
        StatusCode::from_u16(rule.status).unwrap(),
        [("content-type", "text/xml")],
        body,
    )
        .into_response()
}
