//! A mock Auth0 tenant for `auth0-client-secret`: the token endpoint's client-credentials
//! grant and the Management API v2 calls a client-secret rotation makes (list clients, set a
//! client's secret, rotate it), on the shared mock harness (fault rules, latches, request
//! log), with a control API under `/__mock/`. Used by the tests and as `rotary mock auth0`.
//!
//! It follows Auth0's Authentication API reference (`POST /oauth/token`: a bad client or
//! secret is `401 access_denied "Unauthorized"`, a client without a grant for the audience
//! `403 access_denied`), and the Management API v2 reference (`GET /api/v2/clients` with
//! `page`/`per_page`/`include_totals`, `PATCH /api/v2/clients/{id}` with `client_secret`,
//! `POST /api/v2/clients/{id}/rotate-secret`, scopes `read:clients`, `update:clients`,
//! `update:client_keys`, its error object `{statusCode, error, message, errorCode}`). A secret
//! set by PATCH works at once, and the old one stops working at once. Not modelled: rate
//! limits (a fault rule returns a 429), client grants beyond one per client and audience,
//! other grant types, organizations, JWT-signed client authentication.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::Router;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::mock::harness::{
    bad, body, decode_form, dispatch, faults, patch_knobs, segments, serve, Harness, Mock, Reply,
    Req,
};

#[derive(Clone, Serialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub client_secret: String,
    /// The Management API scopes its client grant gives (none: no grant).
    pub scopes: Vec<String>,
    /// Auth0's "All Applications" entry.
    pub global: bool,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    pub latency_ms: u64,
    /// `expires_in` of the tokens it issues.
    pub token_lifetime_s: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            latency_ms: 0,
            token_lifetime_s: 86_400,
        }
    }
}

pub struct Tenant {
    pub base: String,
    pub clients: Vec<Client>,
    /// Issued Management API tokens: client id, scopes, expiry.
    pub tokens: HashMap<String, (String, Vec<String>, Instant)>,
    pub knobs: Knobs,
    pub rng: StdRng,
}

#[derive(Clone)]
pub struct MockAuth0(Arc<Shared>);

struct Shared {
    tenant: Mutex<Tenant>,
    harness: Harness,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect()
}

/// The Management API's error object.
fn api_error(status: u16, error: &str, message: &str, code: &str) -> Reply {
    Reply::json(
        status,
        json!({"statusCode": status, "error": error, "message": message, "errorCode": code}),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

impl Tenant {
    /// The Management API's identifier (the connection's `audience`).
    pub fn audience(&self) -> String {
        format!("{}/api/v2/", self.base)
    }

    /// A new client: its id and secret. `scopes` empty: no grant for the Management API.
    pub fn add_client(&mut self, name: &str, scopes: &[&str]) -> (String, String) {
        let id = random(&mut self.rng, 32);
        let secret = random(&mut self.rng, 64);
        self.clients.push(Client {
            client_id: id.clone(),
            name: name.into(),
            client_secret: secret.clone(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            global: false,
        });
        (id, secret)
    }

    /// Whether `id` authenticates with `secret` at the token endpoint.
    pub fn authenticates(&self, id: &str, secret: &str) -> bool {
        self.clients
            .iter()
            .any(|c| !c.global && c.client_id == id && c.client_secret == secret)
    }

    fn client_json(c: &Client, with_secret: bool) -> Value {
        let mut v = json!({"client_id": c.client_id, "name": c.name, "global": c.global,
                           "app_type": if c.global { "" } else { "non_interactive" },
                           "tenant": "rotary", "is_first_party": true,
                           "grant_types": ["client_credentials"]});
        if with_secret {
            v["client_secret"] = json!(c.client_secret);
        }
        v
    }
}

impl MockAuth0 {
    pub fn new(base: &str) -> MockAuth0 {
        let mut tenant = Tenant {
            base: base.trim_end_matches('/').to_string(),
            clients: vec![],
            tokens: HashMap::new(),
            knobs: Knobs::default(),
            rng: StdRng::from_entropy(),
        };
        let id = random(&mut tenant.rng, 32);
        tenant.clients.push(Client {
            client_id: id,
            name: "All Applications".into(),
            client_secret: String::new(),
            scopes: vec![],
            global: true,
        });
        MockAuth0(Arc::new(Shared {
            tenant: Mutex::new(tenant),
            harness: Harness::default(),
        }))
    }

    pub fn tenant(&self) -> std::sync::MutexGuard<'_, Tenant> {
        self.0.tenant.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn harness(&self) -> &Harness {
        &self.0.harness
    }

    pub fn router(&self) -> Router {
        Router::new()
            .fallback(|State(mock): State<MockAuth0>, request: Request| dispatch(mock, request))
            .with_state(self.clone())
    }
}

/// Serves a mock tenant on `listener`: it and its base URL.
pub async fn spawn(listener: TcpListener) -> std::io::Result<(MockAuth0, String)> {
    let base = format!("http://{}", listener.local_addr()?);
    let mock = MockAuth0::new(&base);
    serve(listener, mock.router());
    Ok((mock, base))
}

impl Mock for MockAuth0 {
    fn harness(&self) -> &Harness {
        &self.0.harness
    }

    fn classify(&self, req: &Req) -> (&'static str, Option<String>) {
        let parts = segments(&req.path);
        let op = match (req.method.as_str(), parts.as_slice()) {
            ("POST", ["oauth", "token"]) => "token",
            ("GET", ["api", "v2", "clients"]) => "list_clients",
            ("GET", ["api", "v2", "clients", _]) => "get_client",
            ("PATCH", ["api", "v2", "clients", _]) => "update_client",
            ("POST", ["api", "v2", "clients", _, "rotate-secret"]) => "rotate_secret",
            _ => "other",
        };
        let target = match parts.as_slice() {
            ["api", "v2", "clients", id, ..] => Some(id.to_string()),
            _ => None,
        };
        (op, target)
    }

    fn latency_ms(&self) -> u64 {
        self.tenant().knobs.latency_ms
    }

    fn pick(&self, call: &faults::Call, phase: &str) -> Option<faults::Action> {
        let mut t = self.tenant();
        self.0.harness.pick(call, phase, &mut t.rng, |a, b| a == b)
    }

    fn handle(&self, req: &Req, op: &str) -> Reply {
        let mut t = self.tenant();
        if op == "token" {
            return token(&mut t, req);
        }
        let bearer = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer ").map(|s| s.trim().to_string()));
        let scopes = match bearer.and_then(|b| t.tokens.get(&b).cloned()) {
            Some((_, scopes, expiry)) if expiry > Instant::now() => scopes,
            Some(_) => {
                return api_error(
                    401,
                    "Unauthorized",
                    "Expired token received for JSON Web Token validation",
                    "invalid_token",
                )
            }
            None => return api_error(401, "Unauthorized", "Invalid token", "invalid_token"),
        };
        let needs = |any: &[&str]| -> Option<Reply> {
            (!any.iter().any(|s| scopes.iter().any(|h| h == s))).then(|| {
                api_error(
                    403,
                    "Forbidden",
                    &format!("Insufficient scope, expected any of: {}", any.join(",")),
                    "insufficient_scope",
                )
            })
        };
        let parts = segments(&req.path);
        let id = parts.get(3).copied().unwrap_or_default();
        let missing = || {
            api_error(
                404,
                "Not Found",
                "The client does not exist",
                "inexistent_client",
            )
        };
        match op {
            "list_clients" => {
                if let Some(refused) = needs(&["read:clients"]) {
                    return refused;
                }
                let per_page: usize = req
                    .query
                    .get("per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(50)
                    .clamp(1, 100);
                let page: usize = req
                    .query
                    .get("page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                let items: Vec<Value> = t
                    .clients
                    .iter()
                    .skip(page * per_page)
                    .take(per_page)
                    .map(|c| Tenant::client_json(c, false))
                    .collect();
                if req.query.get("include_totals").map(String::as_str) == Some("true") {
                    Reply::json(
                        200,
                        json!({"start": page * per_page, "limit": per_page,
                                            "length": items.len(), "total": t.clients.len(), "clients": items}),
                    )
                } else {
                    Reply::json(200, Value::Array(items))
                }
            }
            "get_client" => {
                if let Some(refused) = needs(&["read:clients"]) {
                    return refused;
                }
                match t.clients.iter().find(|c| c.client_id == id) {
                    Some(c) => Reply::json(200, Tenant::client_json(c, false)),
                    None => missing(),
                }
            }
            "update_client" => {
                let patch: Value =
                    match serde_json::from_slice(&req.body) {
                        Ok(v @ Value::Object(_)) => v,
                        _ => return api_error(
                            400,
                            "Bad Request",
                            "Payload validation error: 'Expected type object but found type null'.",
                            "invalid_body",
                        ),
                    };
                let touches_secret = patch.get("client_secret").is_some();
                let scope: &[&str] = if touches_secret {
                    &["update:clients", "update:client_keys"]
                } else {
                    &["update:clients"]
                };
                if let Some(refused) = needs(scope) {
                    return refused;
                }
                let Some(index) = t
                    .clients
                    .iter()
                    .position(|c| c.client_id == id && !c.global)
                else {
                    return missing();
                };
                if let Some(secret) = patch.get("client_secret") {
                    match secret.as_str() {
                        Some(s) if s.len() >= 16 => t.clients[index].client_secret = s.to_string(),
                        _ => return api_error(400, "Bad Request", "Payload validation error: 'String is too short (0 chars), minimum 16' on property client_secret (The secret used to sign tokens for the client).", "invalid_body"),
                    }
                }
                if let Some(name) = patch.get("name").and_then(Value::as_str) {
                    t.clients[index].name = name.to_string();
                }
                Reply::json(200, Tenant::client_json(&t.clients[index], true))
            }
            "rotate_secret" => {
                if let Some(refused) = needs(&["update:client_keys"]) {
                    return refused;
                }
                let Some(index) = t
                    .clients
                    .iter()
                    .position(|c| c.client_id == id && !c.global)
                else {
                    return missing();
                };
                let secret = random(&mut t.rng, 64);
                t.clients[index].client_secret = secret;
                Reply::json(200, Tenant::client_json(&t.clients[index], true))
            }
            _ => api_error(404, "Not Found", "Not Found", "not_found"),
        }
    }

    fn fault_body(&self, status: u16, op: &str) -> Reply {
        match (op, status) {
            ("token", _) => oauth_error(status, "server_error", "Something went wrong"),
            (_, 429) => api_error(
                429,
                "Too Many Requests",
                "Global limit has been reached",
                "too_many_requests",
            ),
            (_, 503) => api_error(
                503,
                "Service Unavailable",
                "The service is temporarily unavailable",
                "service_unavailable",
            ),
            _ => api_error(
                status,
                "Internal Server Error",
                "Internal Server Error",
                "internal_error",
            ),
        }
    }

    async fn control(&self, req: Req) -> Reply {
        let path = req.path.trim_start_matches("/__mock").to_string();
        let segments = segments(&path);
        if let Some(reply) = self.0.harness.control(&req, &segments) {
            return reply;
        }
        let mut t = self.tenant();
        match (req.method.as_str(), segments.as_slice()) {
            ("GET", ["state"]) => Reply::json(
                200,
                json!({"audience": t.audience(), "clients": t.clients, "knobs": t.knobs}),
            ),
            ("POST", ["clients"]) => match body::<NewClient>(&req) {
                Ok(new) => {
                    let scopes: Vec<&str> = new.scopes.iter().map(String::as_str).collect();
                    let (id, secret) = t.add_client(&new.name, &scopes);
                    Reply::json(200, json!({"clientId": id, "clientSecret": secret}))
                }
                Err(e) => e,
            },
            ("PATCH", ["knobs"]) => patch_knobs(&mut t.knobs, &req),
            _ => bad(format!("no control route {} {}", req.method, req.path)),
        }
    }
}

#[derive(Deserialize)]
struct NewClient {
    #[serde(default = "default_name")]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

fn default_name() -> String {
    "Rotated app".into()
}

/// `POST /oauth/token` (form or JSON): the client-credentials grant.
fn token(t: &mut Tenant, req: &Req) -> Reply {
    let json_body = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"));
    let form: HashMap<String, String> = if json_body {
        serde_json::from_slice::<HashMap<String, Value>>(&req.body)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
            .collect()
    } else {
        decode_form(&String::from_utf8_lossy(&req.body))
            .into_iter()
            .collect()
    };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("grant_type") != "client_credentials" {
        return oauth_error(403, "unsupported_grant_type", "Unsupported grant type");
    }
    let (id, secret) = (get("client_id"), get("client_secret"));
    if !t.authenticates(&id, &secret) {
        return oauth_error(401, "access_denied", "Unauthorized");
    }
    let audience = get("audience");
    if audience != t.audience() {
        return oauth_error(
            403,
            "access_denied",
            &format!("Service not found: {audience}"),
        );
    }
    let scopes = t
        .clients
        .iter()
        .find(|c| c.client_id == id)
        .map(|c| c.scopes.clone())
        .unwrap_or_default();
    if scopes.is_empty() {
        return oauth_error(
            403,
            "access_denied",
            &format!("Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants"),
        );
    }
    let access = format!("eyJ{}", random(&mut t.rng, 40));
    let lifetime = t.knobs.token_lifetime_s;
    t.tokens.insert(
        access.clone(),
        (
            id,
            scopes.clone(),
            Instant::now() + Duration::from_secs(lifetime),
        ),
    );
    Reply::json(
        200,
        json!({"access_token": access, "scope": scopes.join(" "), "expires_in": lifetime, "token_type": "Bearer"}),
    )
}
