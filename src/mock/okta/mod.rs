//! A mock Okta org for `okta-client-secret`: the management API calls a client-secret
//! rotation makes (`users/me`, the apps list with `Link` paging, an app's client secrets:
//! list, create — with a secret of the caller's choosing or a generated one —, get,
//! activate, deactivate, delete) and the token endpoint that authenticates a client with its
//! secret, on the shared mock harness (fault rules, latches, request log) with a control API
//! under `/__mock/`. Used by the tests and on its own as `rotary mock okta`.
//!
//! It follows Okta's Management API reference ("Application Client Auth Credentials",
//! "Applications", "Users", the error object and its codes) and OAuth 2.0 reference (the
//! `/token` endpoint's errors). What Okta enforces and the mock does too: `SSWS` API tokens
//! (E0000011), at most two secrets per app (E0000001), a chosen secret of 14 to 100 URL-safe
//! characters [A: Okta's documented minimum is 14; the character set is inferred], an active
//! secret cannot be deleted, the last active one cannot be deactivated, only active secrets
//! authenticate. Not modelled: rate limits (a fault rule gives a 429), scopes of the API
//! token, OAuth for Okta itself, JWKs, authorization servers and their policies (a client
//! that authenticates gets a token).

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::mock::harness::{
    bad, body, dispatch, faults, patch_knobs, segments, serve, Harness, Mock, Reply, Req,
};

/// Okta's limit of client secrets per app.
pub const MAX_SECRETS: usize = 2;

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    pub id: String,
    pub client_secret: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    /// Also its OAuth `client_id` (Okta's OIDC apps share the two).
    pub id: String,
    pub label: String,
    /// `oidc_client` for an OIDC app; another value for the rest (a bookmark app, say).
    pub name: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub secrets: Vec<Secret>,
}

#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    /// Added to every call but the control API's.
    pub latency_ms: u64,
    /// Apps per page of `GET /api/v1/apps` when the caller asks for more.
    pub page_size: usize,
}

pub struct OktaOrg {
    pub base: String,
    pub tokens: Vec<String>,
    pub apps: Vec<App>,
    pub knobs: Knobs,
    pub rng: StdRng,
}

/// A running mock org; cheap to clone.
#[derive(Clone)]
pub struct MockOkta(Arc<Shared>);

struct Shared {
    org: Mutex<OktaOrg>,
    harness: Harness,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect()
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Okta's error object.
pub fn okta_error(status: u16, code: &str, summary: &str, causes: &[&str]) -> Reply {
    let link = code;
    Reply::json(
        status,
        json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": link,
            "errorId": format!("oae{}", uuid::Uuid::new_v4().simple()),
            "errorCauses": causes.iter().map(|c| json!({"errorSummary": c})).collect::<Vec<_>>(),
        }),
    )
}

fn not_found(id: &str, kind: &str) -> Reply {
    okta_error(
        404,
        "E0000007",
        &format!("Not found: Resource not found: {id} ({kind})"),
        &[],
    )
}

fn validation(field: &str, cause: &str) -> Reply {
    okta_error(
        400,
        "E0000001",
        &format!("Api validation failed: {field}"),
        &[cause],
    )
}

impl OktaOrg {
    fn app_json(&self, a: &App) -> Value {
        let apps = format!("{}/api/v1/apps/{}", self.base, a.id);
        json!({
            "id": a.id, "name": a.name, "label": a.label, "status": a.status,
            "signOnMode": if a.name == "oidc_client" { "OPENID_CONNECT" } else { "BOOKMARK" },
            "credentials": {"oauthClient": {"client_id": a.id, "autoKeyRotation": true,
                                            "token_endpoint_auth_method": "client_secret_basic"}},
            "_links": {"self": {"href": apps}},
        })
    }

    fn secret_json(&self, app: &str, s: &Secret) -> Value {
        let href = format!(
            "{}/api/v1/apps/{app}/credentials/secrets/{}",
            self.base, s.id
        );
        let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(s.client_secret.as_bytes()));
        let next = if s.status == "ACTIVE" {
            "deactivate"
        } else {
            "activate"
        };
        let mut links = json!({ next: {"href": format!("{href}/lifecycle/{next}"), "hints": {"allow": ["POST"]}} });
        if s.status == "INACTIVE" {
            links["delete"] = json!({"href": href, "hints": {"allow": ["DELETE"]}});
        }
        json!({
            "id": s.id, "status": s.status, "client_secret": s.client_secret,
            "secret_hash": hash, "created": time(s.created), "lastUpdated": time(s.last_updated),
            "_links": links,
        })
    }

    fn app_mut(&mut self, id: &str) -> Option<&mut App> {
        self.apps.iter_mut().find(|a| a.id == id)
    }

    /// A new OIDC app with one active secret: its id and secret.
    pub fn add_app(&mut self, label: &str) -> (String, String) {
        let id = format!("0oa{}", random(&mut self.rng, 17));
        let secret = random(&mut self.rng, 40);
        let now = Utc::now();
        let first = Secret {
            id: format!("ocs{}", random(&mut self.rng, 17)),
            client_secret: secret.clone(),
            status: "ACTIVE".into(),
            created: now,
            last_updated: now,
        };
        self.apps.push(App {
            id: id.clone(),
            label: label.into(),
            name: "oidc_client".into(),
            status: "ACTIVE".into(),
            secrets: vec![first],
        });
        (id, secret)
    }

    /// A new API token (`00` and 40 characters, as Okta's).
    pub fn add_token(&mut self) -> String {
        let token = format!("00{}", random(&mut self.rng, 40));
        self.tokens.push(token.clone());
        token
    }

    /// Whether `client_id` authenticates with `secret` at the token endpoint.
    pub fn authenticates(&self, client_id: &str, secret: &str) -> bool {
        self.apps.iter().any(|a| {
            a.id == client_id
                && a.status == "ACTIVE"
                && a.secrets
                    .iter()
                    .any(|s| s.status == "ACTIVE" && s.client_secret == secret)
        })
    }
}

impl MockOkta {
    pub fn new(base: &str, rng_seed: Option<u64>) -> MockOkta {
        let rng = match rng_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        MockOkta(Arc::new(Shared {
            org: Mutex::new(OktaOrg {
                base: base.trim_end_matches('/').to_string(),
                tokens: vec![],
                apps: vec![],
                knobs: Knobs {
                    latency_ms: 0,
                    page_size: 200,
                },
                rng,
            }),
            harness: Harness::default(),
        }))
    }

    pub fn org(&self) -> std::sync::MutexGuard<'_, OktaOrg> {
        self.0.org.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn router(&self) -> Router {
        Router::new()
            .fallback(|State(mock): State<MockOkta>, request: Request| dispatch(mock, request))
            .with_state(self.clone())
    }

    /// Sets the status of the app's secret with `value` behind everyone's back (Okta's
    /// rules on the last active secret do not apply: an admin console can do it).
    pub fn set_status(&self, app: &str, value: &str, status: &str) {
        let mut org = self.org();
        if let Some(a) = org.app_mut(app) {
            for s in a.secrets.iter_mut().filter(|s| s.client_secret == value) {
                s.status = status.into();
            }
        }
    }

    /// Fault rules, latches and the request log.
    pub fn harness(&self) -> &Harness {
        &self.0.harness
    }

    /// An app's secrets (id, value, status), oldest first.
    pub fn secrets(&self, app: &str) -> Vec<Secret> {
        self.org()
            .apps
            .iter()
            .find(|a| a.id == app)
            .map(|a| a.secrets.clone())
            .unwrap_or_default()
    }
}

/// Binds `listener`, serves a mock org there with one API token, and returns it with its
/// base URL.
pub async fn spawn(listener: TcpListener) -> std::io::Result<(MockOkta, String)> {
    let base = format!("http://{}", listener.local_addr()?);
    let mock = MockOkta::new(&base, None);
    serve(listener, mock.router());
    Ok((mock, base))
}

/// The app id a path names: `/api/v1/apps/{id}/…`.
fn app_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/api/v1/apps/")?;
    Some(rest.split('/').next()?.to_string())
}

impl Mock for MockOkta {
    fn harness(&self) -> &Harness {
        &self.0.harness
    }

    fn classify(&self, req: &Req) -> (&'static str, Option<String>) {
        let m = req.method.as_str();
        let op = match (m, segments(&req.path).as_slice()) {
            ("POST", ["oauth2", "v1", "token"]) | ("POST", ["oauth2", _, "v1", "token"]) => "token",
            ("GET", ["api", "v1", "users", "me"]) => "users_me",
            ("GET", ["api", "v1", "apps"]) => "list_apps",
            ("GET", ["api", "v1", "apps", _]) => "get_app",
            ("GET", ["api", "v1", "apps", _, "credentials", "secrets"]) => "list_secrets",
            ("POST", ["api", "v1", "apps", _, "credentials", "secrets"]) => "create_secret",
            ("GET", ["api", "v1", "apps", _, "credentials", "secrets", _]) => "get_secret",
            ("DELETE", ["api", "v1", "apps", _, "credentials", "secrets", _]) => "delete_secret",
            (
                "POST",
                ["api", "v1", "apps", _, "credentials", "secrets", _, "lifecycle", "activate"],
            ) => "activate_secret",
            (
                "POST",
                ["api", "v1", "apps", _, "credentials", "secrets", _, "lifecycle", "deactivate"],
            ) => "deactivate_secret",
            _ => "other",
        };
        (op, app_of(&req.path))
    }

    fn latency_ms(&self) -> u64 {
        self.org().knobs.latency_ms
    }

    fn pick(&self, call: &faults::Call, phase: &str) -> Option<faults::Action> {
        let mut org = self.org();
        self.0
            .harness
            .pick(call, phase, &mut org.rng, |a, b| a == b)
    }

    fn handle(&self, req: &Req, op: &str) -> Reply {
        let mut org = self.org();
        if op == "token" {
            return token(&org, req);
        }
        let given = req.header("authorization").unwrap_or_default();
        let authorized = given
            .strip_prefix("SSWS ")
            .is_some_and(|t| org.tokens.iter().any(|k| k == t.trim()));
        if !authorized {
            return okta_error(401, "E0000011", "Invalid token provided", &[]);
        }
        let parts = segments(&req.path);
        match (op, parts.as_slice()) {
            ("users_me", _) => Reply::json(
                200,
                json!({"id": "00u1rotaryadmin", "status": "ACTIVE",
                       "profile": {"login": "admin@rotary.test", "email": "admin@rotary.test"}}),
            ),
            ("list_apps", _) => list_apps(&org, req),
            ("get_app", [_, _, _, id]) => match org.apps.iter().find(|a| a.id == *id) {
                Some(a) => Reply::json(200, org.app_json(a)),
                None => not_found(id, "AppInstance"),
            },
            (_, [_, _, _, app, _, _, rest @ ..]) => secrets(&mut org, req, op, app, rest),
            _ => okta_error(
                404,
                "E0000022",
                "The endpoint does not support the provided HTTP method",
                &[],
            ),
        }
    }

    fn fault_body(&self, status: u16, op: &str) -> Reply {
        match (op, status) {
            ("token", _) => Reply::json(
                status,
                json!({"error": "server_error", "error_description": "An unexpected error occurred."}),
            ),
            (_, 401) => okta_error(401, "E0000011", "Invalid token provided", &[]),
            (_, 403) => okta_error(
                403,
                "E0000006",
                "You do not have permission to perform the requested action",
                &[],
            ),
            (_, 429) => okta_error(
                429,
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
                &[],
            ),
            _ => okta_error(
                status,
                "E0000009",
                "Internal Server Error",
                &["An unexpected error occurred."],
            ),
        }
    }

    async fn control(&self, req: Req) -> Reply {
        let path = req.path.trim_start_matches("/__mock").to_string();
        let segments = segments(&path);
        if let Some(reply) = self.0.harness.control(&req, &segments) {
            return reply;
        }
        let mut org = self.org();
        match (req.method.as_str(), segments.as_slice()) {
            ("GET", ["state"]) => Reply::json(
                200,
                json!({"apps": org.apps, "tokens": org.tokens.len(), "knobs": org.knobs}),
            ),
            ("POST", ["tokens"]) => Reply::json(200, json!({"apiToken": org.add_token()})),
            ("POST", ["apps"]) => match body::<NewApp>(&req) {
                Ok(new) => {
                    let (id, secret) = org.add_app(&new.label);
                    Reply::json(200, json!({"id": id, "clientSecret": secret}))
                }
                Err(e) => e,
            },
            ("PATCH", ["knobs"]) => patch_knobs(&mut org.knobs, &req),
            _ => bad(format!("no control route {} {}", req.method, req.path)),
        }
    }
}

#[derive(Deserialize)]
struct NewApp {
    #[serde(default = "default_label")]
    label: String,
}

fn default_label() -> String {
    "Rotated app".into()
}

/// `GET /api/v1/apps?limit=&after=`: pages with a `Link: <…>; rel="next"` header.
fn list_apps(org: &OktaOrg, req: &Req) -> Reply {
    let limit: usize = req
        .query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20)
        .clamp(1, 200)
        .min(org.knobs.page_size.max(1));
    let start = req
        .query
        .get("after")
        .and_then(|after| org.apps.iter().position(|a| &a.id == after))
        .map_or(0, |i| i + 1);
    let page: Vec<Value> = org
        .apps
        .iter()
        .skip(start)
        .take(limit)
        .map(|a| org.app_json(a))
        .collect();
    let mut reply = Reply::json(200, Value::Array(page.clone()));
    let self_link = format!("<{}/api/v1/apps?limit={limit}>; rel=\"self\"", org.base);
    reply.headers.push(("link".into(), self_link));
    if start + page.len() < org.apps.len() {
        let last = &org.apps[start + page.len() - 1].id;
        reply.headers.push((
            "link".into(),
            format!(
                "<{}/api/v1/apps?after={last}&limit={limit}>; rel=\"next\"",
                org.base
            ),
        ));
    }
    reply
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewSecret {
    client_secret: Option<String>,
    status: Option<String>,
}

/// `…/apps/{app}/credentials/secrets[/{id}[/lifecycle/{activate|deactivate}]]`.
fn secrets(org: &mut OktaOrg, req: &Req, op: &str, app: &str, rest: &[&str]) -> Reply {
    let Some(index) = org.apps.iter().position(|a| a.id == app) else {
        return not_found(app, "AppInstance");
    };
    let secret_id = rest.first().copied().unwrap_or_default();
    match op {
        "list_secrets" => {
            let a = &org.apps[index];
            let list: Vec<Value> = a.secrets.iter().map(|s| org.secret_json(app, s)).collect();
            Reply::json(200, Value::Array(list))
        }
        "create_secret" => {
            let new: NewSecret = if req.body.is_empty() {
                NewSecret::default()
            } else {
                match serde_json::from_slice(&req.body) {
                    Ok(b) => b,
                    Err(_) => {
                        return okta_error(
                            400,
                            "E0000003",
                            "The request body was not well-formed.",
                            &[],
                        )
                    }
                }
            };
            if org.apps[index].secrets.len() >= MAX_SECRETS {
                return validation(
                    "client_secret",
                    "You can't create more than two client secrets for an app. Delete an inactive secret first.",
                );
            }
            let status = new.status.unwrap_or_else(|| "ACTIVE".into());
            if status != "ACTIVE" && status != "INACTIVE" {
                return validation("status", "status must be ACTIVE or INACTIVE");
            }
            let value = match new.client_secret {
                Some(v) => {
                    let ok_chars = v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
                    if !(14..=100).contains(&v.len()) || !ok_chars {
                        return validation(
                            "client_secret",
                            "client_secret must be between 14 and 100 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'.",
                        );
                    }
                    if org.apps[index].secrets.iter().any(|s| s.client_secret == v) {
                        return validation(
                            "client_secret",
                            "The client secret is already in use by this app.",
                        );
                    }
                    v
                }
                None => random(&mut org.rng, 64),
            };
            let now = Utc::now();
            let secret = Secret {
                id: format!("ocs{}", random(&mut org.rng, 17)),
                client_secret: value,
                status,
                created: now,
                last_updated: now,
            };
            let body = org.secret_json(app, &secret);
            org.apps[index].secrets.push(secret);
            Reply::json(201, body)
        }
        "get_secret" | "delete_secret" | "activate_secret" | "deactivate_secret" => {
            let Some(at) = org.apps[index]
                .secrets
                .iter()
                .position(|s| s.id == secret_id)
            else {
                return not_found(secret_id, "OAuth2ClientSecret");
            };
            let a = org.app_mut(app).expect("found above");
            match op {
                "get_secret" => {
                    let s = a.secrets[at].clone();
                    Reply::json(200, org.secret_json(app, &s))
                }
                "delete_secret" => {
                    if a.secrets[at].status == "ACTIVE" {
                        return validation(
                            "id",
                            "You can't delete an active client secret. Deactivate it first.",
                        );
                    }
                    a.secrets.remove(at);
                    Reply::empty(204)
                }
                _ => {
                    let activate = op == "activate_secret";
                    let others_active = a
                        .secrets
                        .iter()
                        .enumerate()
                        .any(|(i, s)| i != at && s.status == "ACTIVE");
                    if !activate && !others_active {
                        return validation(
                            "status",
                            "You can't deactivate the only active client secret of an app.",
                        );
                    }
                    let s = &mut a.secrets[at];
                    s.status = if activate { "ACTIVE" } else { "INACTIVE" }.into();
                    s.last_updated = Utc::now();
                    let s = s.clone();
                    Reply::json(200, org.secret_json(app, &s))
                }
            }
        }
        _ => okta_error(
            404,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
            &[],
        ),
    }
}

/// `POST /oauth2[/{server}]/v1/token`: client authentication with `client_secret_basic` or
/// `client_secret_post`, then the client-credentials grant.
fn token(org: &OktaOrg, req: &Req) -> Reply {
    let form = crate::mock::harness::decode_form(&String::from_utf8_lossy(&req.body));
    let basic = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic ").map(str::to_string))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if !org.authenticates(&id, &secret) {
        return Reply::json(
            401,
            json!({"error": "invalid_client",
                   "error_description": "The client secret supplied for a confidential client is invalid."}),
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Reply::json(
            400,
            json!({"error": "unsupported_grant_type",
                   "error_description": "The authorization grant type is not supported by the authorization server."}),
        );
    }
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3600,
               "access_token": format!("eyJ{}", uuid::Uuid::new_v4().simple()),
               "scope": form.get("scope").cloned().unwrap_or_else(|| "rotary".into())}),
    )
}
