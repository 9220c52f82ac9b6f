//! A mock of Microsoft's identity platform token endpoint and of the Microsoft Graph calls an
//! app-registration secret rotation makes, for `azure-client-secret`, on the shared mock
//! harness (fault rules, latches, request log), with a control API under `/__mock/`. One mock
//! serves many tenants (each test's own). Used by the tests and as `rotary mock azure`.
//!
//! It follows Microsoft's documentation: the v2.0 token endpoint's client-credentials grant
//! (`/{tenant}/oauth2/v2.0/token`, `scope=https://graph.microsoft.com/.default`, errors
//! `{error, error_description, error_codes}` with AADSTS codes: 90002 unknown tenant, 700016
//! unknown application, 7000215 invalid secret, 7000222 expired secret) and Graph v1.0
//! (`GET /applications` with `$top` and `@odata.nextLink`, `GET /applications/{id}`, `POST
//! …/addPassword` returning the `passwordCredential` with `secretText` once, `POST
//! …/removePassword`, errors `{error: {code, message, innerError}}`:
//! `Request_ResourceNotFound`, `Authorization_RequestDenied`, `InvalidAuthenticationToken`).
//! Eventual consistency: a new secret is refused by the token endpoint for
//! `new_secret_delay_ms` (0 by default), as Entra ID takes a while to replicate one.
//! Certificate credentials ("Microsoft identity platform application authentication
//! certificate credentials"): an app's uploaded certificates (`add_certificate`), and a
//! `client_assertion` JWT checked as Entra ID does: the certificate its `x5t` names, the RS256
//! signature by that certificate's key, `aud` = this token endpoint, `iss` = `sub` = the
//! client id, `nbf`/`exp` around now (AADSTS50027 malformed, 700027 signature or unknown key,
//! 700021 client id, 700023 audience, 700024 time range). Not modelled: `jti` replay, `x5c`,
//! PS256 and managing certificates through Graph (`keyCredentials`), delegated (user) tokens,
//! throttling (a fault rule gives a 429), `$select`/`$filter`, owners and
//! `Application.ReadWrite.OwnedBy`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::Router;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::mock::harness::{
    bad, body, decode_form, dispatch, faults, patch_knobs, segments, serve, Harness, Mock, Reply,
    Req,
};

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Password {
    pub key_id: Uuid,
    pub display_name: String,
    pub secret_text: String,
    pub start_date_time: DateTime<Utc>,
    pub end_date_time: DateTime<Utc>,
    #[serde(skip)]
    pub usable_from: Option<Instant>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// The object id (Graph's `id`).
    pub id: Uuid,
    /// The client id.
    pub app_id: Uuid,
    pub display_name: String,
    pub passwords: Vec<Password>,
    /// Whether its tokens carry `Application.ReadWrite.All` (it may manage other apps).
    pub may_manage_apps: bool,
    /// How long its new secrets are refused (beside the `new_secret_delay_ms` knob).
    #[serde(skip)]
    pub new_secret_delay_ms: u64,
    /// Uploaded certificates: (x5t, DER).
    #[serde(skip)]
    pub certificates: Vec<(String, Vec<u8>)>,
}

#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    pub latency_ms: u64,
    /// How long a new secret is refused by the token endpoint.
    pub new_secret_delay_ms: u64,
    /// Applications per page of `GET /applications` when the caller asks for more.
    pub page_size: usize,
}

pub struct Directory {
    pub tenants: HashMap<Uuid, Vec<Application>>,
    /// Graph tokens: tenant, client id, whether it may manage apps, expiry.
    pub tokens: HashMap<String, (Uuid, Uuid, bool, Instant)>,
    pub knobs: Knobs,
    pub rng: StdRng,
}

#[derive(Clone)]
pub struct MockAzure(Arc<Shared>);

struct Shared {
    directory: Mutex<Directory>,
    harness: Harness,
    base: String,
}

fn graph_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": {"code": code, "message": message,
                         "innerError": {"date": Utc::now().to_rfc3339(), "request-id": Uuid::new_v4(),
                                        "client-request-id": Uuid::new_v4()}}}),
    )
}

fn token_error(status: u16, error: &str, code: u32, text: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": format!("AADSTS{code}: {text} Trace ID: {} Correlation ID: {} Timestamp: {}", Uuid::new_v4(), Uuid::new_v4(), Utc::now().format("%Y-%m-%d %H:%M:%SZ")),
               "error_codes": [code], "timestamp": Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string(),
               "trace_id": Uuid::new_v4(), "correlation_id": Uuid::new_v4()}),
    )
}

impl Directory {
    /// A new tenant: its id.
    pub fn add_tenant(&mut self) -> Uuid {
        let id = Uuid::new_v4();
        self.tenants.insert(id, Vec::new());
        id
    }

    /// A new application registration in `tenant` with one secret: (object id, client id,
    /// secret).
    pub fn add_app(
        &mut self,
        tenant: Uuid,
        name: &str,
        may_manage_apps: bool,
    ) -> (Uuid, Uuid, String) {
        let secret: String = (0..40)
            .map(|_| {
                const CHARS: &[u8] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
                CHARS[self.rng.gen_range(0..CHARS.len())] as char
            })
            .collect();
        let now = Utc::now();
        let app = Application {
            id: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            display_name: name.into(),
            passwords: vec![Password {
                key_id: Uuid::new_v4(),
                display_name: "initial".into(),
                secret_text: secret.clone(),
                start_date_time: now,
                end_date_time: now + chrono::Duration::days(365),
                usable_from: None,
            }],
            may_manage_apps,
            new_secret_delay_ms: 0,
            certificates: Vec::new(),
        };
        let ids = (app.id, app.app_id);
        self.tenants.entry(tenant).or_default().push(app);
        (ids.0, ids.1, secret)
    }

    /// Uploads a PEM certificate to an app registration (as the portal does): its `x5t`.
    pub fn add_certificate(&mut self, tenant: Uuid, object_id: Uuid, pem: &str) -> String {
        let der =
            crate::providers::azure::assertion::certificate_der(pem).expect("a PEM certificate");
        let x5t = crate::providers::azure::assertion::thumbprint(&der);
        let app = self
            .tenants
            .get_mut(&tenant)
            .and_then(|apps| apps.iter_mut().find(|a| a.id == object_id))
            .expect("the app registration");
        app.certificates.push((x5t.clone(), der));
        x5t
    }

    pub fn app(&self, tenant: Uuid, object_id: Uuid) -> Option<&Application> {
        self.tenants
            .get(&tenant)?
            .iter()
            .find(|a| a.id == object_id)
    }

    /// Whether `client_id` gets a token in `tenant` with `secret` now.
    pub fn authenticates(&self, tenant: Uuid, client_id: &str, secret: &str) -> bool {
        let now = Instant::now();
        self.tenants.get(&tenant).is_some_and(|apps| {
            apps.iter().any(|a| {
                a.app_id.to_string() == client_id
                    && a.passwords.iter().any(|p| {
                        p.secret_text == secret
                            && p.end_date_time > Utc::now()
                            && p.usable_from.is_none_or(|t| t <= now)
                    })
            })
        })
    }
}

impl MockAzure {
    pub fn new(base: &str) -> MockAzure {
        MockAzure(Arc::new(Shared {
            directory: Mutex::new(Directory {
                tenants: HashMap::new(),
                tokens: HashMap::new(),
                knobs: Knobs {
                    page_size: 100,
                    ..Knobs::default()
                },
                rng: StdRng::from_entropy(),
            }),
            harness: Harness::default(),
            base: base.trim_end_matches('/').to_string(),
        }))
    }

    pub fn directory(&self) -> std::sync::MutexGuard<'_, Directory> {
        self.0.directory.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn harness(&self) -> &Harness {
        &self.0.harness
    }

    pub fn router(&self) -> Router {
        Router::new()
            .fallback(|State(mock): State<MockAzure>, request: Request| dispatch(mock, request))
            .with_state(self.clone())
    }
}

/// Serves the mock on `listener` (token endpoint and Graph on the same base URL): it and
/// that URL.
pub async fn spawn(listener: TcpListener) -> std::io::Result<(MockAzure, String)> {
    let base = format!("http://{}", listener.local_addr()?);
    let mock = MockAzure::new(&base);
    serve(listener, mock.router());
    Ok((mock, base))
}

impl Mock for MockAzure {
    fn harness(&self) -> &Harness {
        &self.0.harness
    }

    fn classify(&self, req: &Req) -> (&'static str, Option<String>) {
        let parts = segments(&req.path);
        let op = match (req.method.as_str(), parts.as_slice()) {
            ("POST", [_, "oauth2", "v2.0", "token"]) => "token",
            ("GET", ["v1.0", "applications"]) => "list_applications",
            ("GET", ["v1.0", "applications", _]) => "get_application",
            ("POST", ["v1.0", "applications", _, "addPassword"]) => "add_password",
            ("POST", ["v1.0", "applications", _, "removePassword"]) => "remove_password",
            _ => "other",
        };
        let target = match parts.as_slice() {
            ["v1.0", "applications", id, ..] => Some(id.to_string()),
            _ => None,
        };
        (op, target)
    }

    fn latency_ms(&self) -> u64 {
        self.directory().knobs.latency_ms
    }

    fn pick(&self, call: &faults::Call, phase: &str) -> Option<faults::Action> {
        let mut d = self.directory();
        self.0.harness.pick(call, phase, &mut d.rng, |a, b| a == b)
    }

    fn handle(&self, req: &Req, op: &str) -> Reply {
        let mut d = self.directory();
        if op == "token" {
            return token(&mut d, req, &self.0.base);
        }
        let bearer = req
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer ").map(|s| s.trim().to_string()));
        let Some((tenant, _client, may_manage, expiry)) =
            bearer.and_then(|b| d.tokens.get(&b).cloned())
        else {
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid audience.",
            );
        };
        if expiry <= Instant::now() {
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            );
        }
        let parts = segments(&req.path);
        let object_id = parts.get(2).and_then(|id| id.parse::<Uuid>().ok());
        let missing = |id: &str| {
            graph_error(404, "Request_ResourceNotFound", &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."))
        };
        let denied = || {
            graph_error(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        };
        let knob_delay = d.knobs.new_secret_delay_ms;
        match op {
            "list_applications" => {
                if !may_manage {
                    return denied();
                }
                let apps = d.tenants.get(&tenant).cloned().unwrap_or_default();
                let top = req
                    .query
                    .get("$top")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(100)
                    .clamp(1, 999)
                    .min(d.knobs.page_size.max(1));
                let skip: usize = req
                    .query
                    .get("$skiptoken")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let page: Vec<Value> = apps.iter().skip(skip).take(top).map(app_json).collect();
                let mut out = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications", "value": page});
                if skip + top < apps.len() {
                    out["@odata.nextLink"] = json!(format!(
                        "{}/v1.0/applications?$top={top}&$skiptoken={}",
                        self.0.base,
                        skip + top
                    ));
                }
                Reply::json(200, out)
            }
            "get_application" | "add_password" | "remove_password" => {
                let raw = parts.get(2).copied().unwrap_or_default();
                let Some(object_id) = object_id else {
                    return graph_error(
                        400,
                        "Request_BadRequest",
                        &format!("Invalid object identifier '{raw}'."),
                    );
                };
                if !may_manage {
                    return denied();
                }
                let Some(app) = d
                    .tenants
                    .get_mut(&tenant)
                    .and_then(|apps| apps.iter_mut().find(|a| a.id == object_id))
                else {
                    return missing(raw);
                };
                match op {
                    "get_application" => Reply::json(200, app_json(app)),
                    "add_password" => {
                        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                        let p = &body["passwordCredential"];
                        let now = Utc::now();
                        let end = match p.get("endDateTime").and_then(Value::as_str) {
                            Some(t) => match DateTime::parse_from_rfc3339(t) {
                                Ok(t) => t.with_timezone(&Utc),
                                Err(_) => return graph_error(400, "Request_BadRequest", "Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'."),
                            },
                            None => now + chrono::Duration::days(730),
                        };
                        let secret: String = {
                            let raw = Uuid::new_v4().simple().to_string()
                                + &Uuid::new_v4().simple().to_string();
                            format!("{}~{}", &raw[..3], &raw[3..40])
                        };
                        let delay = knob_delay.max(app.new_secret_delay_ms);
                        let password = Password {
                            key_id: Uuid::new_v4(),
                            display_name: p["displayName"].as_str().unwrap_or_default().to_string(),
                            secret_text: secret,
                            start_date_time: now,
                            end_date_time: end,
                            usable_from: (delay > 0)
                                .then(|| Instant::now() + Duration::from_millis(delay)),
                        };
                        let app = d
                            .tenants
                            .get_mut(&tenant)
                            .and_then(|apps| apps.iter_mut().find(|a| a.id == object_id))
                            .expect("found above");
                        app.passwords.push(password.clone());
                        Reply::json(
                            200,
                            json!({
                            "customKeyIdentifier": null, "displayName": password.display_name,
                            "endDateTime": password.end_date_time.to_rfc3339(), "hint": &password.secret_text[..3],
                            "keyId": password.key_id, "secretText": password.secret_text,
                            "startDateTime": password.start_date_time.to_rfc3339()}),
                        )
                    }
                    _ => {
                        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                        let Some(key) = body["keyId"].as_str().and_then(|k| k.parse::<Uuid>().ok())
                        else {
                            return graph_error(
                                400,
                                "Request_BadRequest",
                                "Invalid value specified for property 'keyId'.",
                            );
                        };
                        let before = app.passwords.len();
                        app.passwords.retain(|p| p.key_id != key);
                        if app.passwords.len() == before {
                            return graph_error(
                                400,
                                "Request_BadRequest",
                                &format!("No password credential found with keyId '{key}'."),
                            );
                        }
                        Reply::empty(204)
                    }
                }
            }
            _ => graph_error(
                400,
                "BadRequest",
                &format!(
                    "Resource not found for the segment '{}'.",
                    parts.last().unwrap_or(&"")
                ),
            ),
        }
    }

    fn fault_body(&self, status: u16, op: &str) -> Reply {
        match (op, status) {
            ("token", _) => token_error(status, "temporarily_unavailable", 50031, "The server is temporarily unavailable."),
            (_, 429) => graph_error(429, "TooManyRequests", "Too many requests."),
            (_, 409) => graph_error(409, "Request_MultipleObjectsWithSameKeyValue", "Another object with the same value for property keyId already exists; concurrent requests."),
            (_, 503) => graph_error(503, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
            _ => graph_error(status, "generalException", "An unexpected error occurred."),
        }
    }

    async fn control(&self, req: Req) -> Reply {
        let path = req.path.trim_start_matches("/__mock").to_string();
        let segments = segments(&path);
        if let Some(reply) = self.0.harness.control(&req, &segments) {
            return reply;
        }
        let mut d = self.directory();
        match (req.method.as_str(), segments.as_slice()) {
            ("GET", ["state"]) => Reply::json(200, json!({"tenants": d.tenants, "knobs": d.knobs})),
            ("POST", ["tenants"]) => {
                let tenant = d.add_tenant();
                let (_, manager, secret) = d.add_app(tenant, "Rotary", true);
                Reply::json(
                    200,
                    json!({"tenantId": tenant, "clientId": manager, "clientSecret": secret}),
                )
            }
            ("POST", ["tenants", tenant, "applications"]) => {
                match (tenant.parse::<Uuid>(), body::<Value>(&req)) {
                    (Ok(tenant), Ok(new)) => {
                        let name = new["displayName"]
                            .as_str()
                            .unwrap_or("Rotated app")
                            .to_string();
                        let (id, app_id, secret) = d.add_app(tenant, &name, false);
                        Reply::json(
                            200,
                            json!({"objectId": id, "clientId": app_id, "clientSecret": secret}),
                        )
                    }
                    (Err(_), _) => bad("the tenant is not a UUID"),
                    (_, Err(e)) => e,
                }
            }
            ("PATCH", ["knobs"]) => patch_knobs(&mut d.knobs, &req),
            _ => bad(format!("no control route {} {}", req.method, req.path)),
        }
    }
}

fn app_json(a: &Application) -> Value {
    json!({
        "id": a.id, "appId": a.app_id, "displayName": a.display_name,
        "passwordCredentials": a.passwords.iter().map(|p| json!({
            "customKeyIdentifier": null, "displayName": p.display_name,
            "endDateTime": p.end_date_time.to_rfc3339(), "hint": &p.secret_text[..3.min(p.secret_text.len())],
            "keyId": p.key_id, "secretText": null, "startDateTime": p.start_date_time.to_rfc3339()})).collect::<Vec<_>>(),
    })
}

/// `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant with a client secret.
fn token(d: &mut Directory, req: &Req, base: &str) -> Reply {
    let form = decode_form(&String::from_utf8_lossy(&req.body));
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let raw_tenant = segments(&req.path)
        .first()
        .copied()
        .unwrap_or_default()
        .to_string();
    let Some(tenant) = raw_tenant
        .parse::<Uuid>()
        .ok()
        .filter(|t| d.tenants.contains_key(t))
    else {
        return token_error(400, "invalid_tenant", 90002, &format!("Tenant '{raw_tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
    };
    if get("grant_type") != "client_credentials" {
        return token_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if get("scope") != GRAPH_SCOPE {
        return token_error(400, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).");
    }
    let client_id = get("client_id");
    let Some(app) = d.tenants[&tenant]
        .iter()
        .find(|a| a.app_id.to_string() == client_id)
        .cloned()
    else {
        return token_error(400, "unauthorized_client", 700016, &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."));
    };
    if form.contains_key("client_assertion_type") || form.contains_key("client_assertion") {
        let audience = format!("{}/{tenant}/oauth2/v2.0/token", base);
        if let Err((code, text)) = check_assertion(&app, &form, &client_id, &audience) {
            return token_error(401, "invalid_client", code, &text);
        }
        return issue_token(d, tenant, &app);
    }
    let secret = get("client_secret");
    if !d.authenticates(tenant, &client_id, &secret) {
        let expired = app
            .passwords
            .iter()
            .any(|p| p.secret_text == secret && p.end_date_time <= Utc::now());
        return if expired {
            token_error(
                401,
                "invalid_client",
                7000222,
                &format!("The provided client secret keys for app '{client_id}' are expired."),
            )
        } else {
            token_error(401, "invalid_client", 7000215, &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."))
        };
    }
    issue_token(d, tenant, &app)
}

/// A Graph access token for `app`.
fn issue_token(d: &mut Directory, tenant: Uuid, app: &Application) -> Reply {
    let access = format!("eyJ0{}", Uuid::new_v4().simple());
    d.tokens.insert(
        access.clone(),
        (
            tenant,
            app.app_id,
            app.may_manage_apps,
            Instant::now() + Duration::from_secs(3599),
        ),
    );
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access}),
    )
}

/// Entra ID's checks of a certificate credential's client assertion: the AADSTS code and text
/// of the first that fails.
fn check_assertion(
    app: &Application,
    form: &std::collections::BTreeMap<String, String>,
    client_id: &str,
    audience: &str,
) -> Result<(), (u32, String)> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let malformed = || (50027, "JWT token is invalid or malformed.".to_string());
    if form.get("client_assertion_type").map(String::as_str)
        != Some(crate::providers::azure::assertion::ASSERTION_TYPE)
    {
        return Err((
            50027,
            "The client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.".into(),
        ));
    }
    let jwt = form.get("client_assertion").ok_or_else(malformed)?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err(malformed());
    };
    let decode = |part: &str| -> Result<Vec<u8>, (u32, String)> {
        URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())
    };
    let header: Value = serde_json::from_slice(&decode(header)?).map_err(|_| malformed())?;
    let claims_json: Value = serde_json::from_slice(&decode(claims)?).map_err(|_| malformed())?;
    let signature = decode(signature)?;
    if header["alg"] != "RS256" {
        return Err(malformed());
    }
    let x5t = header["x5t"].as_str().unwrap_or_default();
    let Some((_, der)) = app.certificates.iter().find(|(t, _)| t == x5t) else {
        return Err((700027, format!("Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{x5t}']")));
    };
    let cert_der = rustls_pki_types::CertificateDer::from(der.as_slice());
    let cert = webpki::EndEntityCert::try_from(&cert_der).map_err(|_| malformed())?;
    let signed = &jwt[..jwt.rfind('.').unwrap_or(0)];
    if cert
        .verify_signature(
            webpki::ring::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &signature,
        )
        .is_err()
    {
        return Err((700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value.]".into()));
    }
    if claims_json["iss"] != client_id || claims_json["sub"] != client_id {
        return Err((
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.".into(),
        ));
    }
    if claims_json["aud"] != audience {
        return Err((
            700023,
            "Client assertion audience claim does not match Realm issuer.".into(),
        ));
    }
    let now = Utc::now().timestamp();
    let nbf = claims_json["nbf"].as_i64().unwrap_or(i64::MAX);
    let exp = claims_json["exp"].as_i64().unwrap_or(0);
    // Entra ID allows five minutes of clock skew.
    if nbf > now + 300 || exp <= now - 300 {
        return Err((
            700024,
            "Client assertion is not within its valid time range.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::azure::assertion::{ClientCertificate, ASSERTION_TYPE};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const CERT: &str = include_str!("../../../tests/fixtures/azure-test-cert-1.pem");
    const KEY: &str = include_str!("../../../tests/fixtures/azure-test-key-1.pem");
    const OTHER_CERT: &str = include_str!("../../../tests/fixtures/azure-test-cert-2.pem");
    const OTHER_KEY: &str = include_str!("../../../tests/fixtures/azure-test-key-2.pem");
    const AUD: &str = "http://login.test/t/oauth2/v2.0/token";

    fn app() -> Application {
        let der = crate::providers::azure::assertion::certificate_der(CERT).unwrap();
        Application {
            id: Uuid::new_v4(),
            app_id: Uuid::new_v4(),
            display_name: "app".into(),
            passwords: vec![],
            may_manage_apps: true,
            new_secret_delay_ms: 0,
            certificates: vec![(crate::providers::azure::assertion::thumbprint(&der), der)],
        }
    }

    fn form(jwt: &str) -> std::collections::BTreeMap<String, String> {
        [
            (
                "client_assertion_type".to_string(),
                ASSERTION_TYPE.to_string(),
            ),
            ("client_assertion".to_string(), jwt.to_string()),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn an_assertion_is_checked_as_entra_id_checks_it() {
        let app = app();
        let id = app.app_id.to_string();
        let good = ClientCertificate::parse(CERT, KEY)
            .unwrap()
            .assertion(&id, AUD)
            .unwrap();
        assert_eq!(check_assertion(&app, &form(&good), &id, AUD), Ok(()));
        let code = |jwt: &str, id: &str, aud: &str| {
            check_assertion(&app, &form(jwt), id, aud).unwrap_err().0
        };
        assert_eq!(code(&good, &id, "http://elsewhere/token"), 700023);
        assert_eq!(code(&good, &Uuid::new_v4().to_string(), AUD), 700021);
        assert_eq!(code("a.b", &id, AUD), 50027);
        // Another certificate's assertion: its key is not the app's.
        let other = ClientCertificate::parse(OTHER_CERT, OTHER_KEY)
            .unwrap()
            .assertion(&id, AUD)
            .unwrap();
        assert_eq!(code(&other, &id, AUD), 700027);
        // Signed by the other key under the app certificate's x5t; and changed claims.
        let parts: Vec<&str> = other.split('.').collect();
        let header = URL_SAFE_NO_PAD.encode(
            json!({"alg": "RS256", "typ": "JWT", "x5t": app.certificates[0].0}).to_string(),
        );
        assert_eq!(
            code(&format!("{header}.{}.{}", parts[1], parts[2]), &id, AUD),
            700027
        );
        let good_parts: Vec<&str> = good.split('.').collect();
        let claims = URL_SAFE_NO_PAD.encode(
            json!({"aud": AUD, "iss": id, "sub": id, "nbf": 0, "exp": i64::MAX}).to_string(),
        );
        assert_eq!(
            code(
                &format!("{}.{claims}.{}", good_parts[0], good_parts[2]),
                &id,
                AUD
            ),
            700027
        );
    }
}
