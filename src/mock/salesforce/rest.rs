//! The OAuth token endpoint and the Connect REST resources for External Client App OAuth
//! credentials (reference sections 1–3), as pure functions of the org state and a request.

use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::model::{same_id, Org, Retired, Session, Staged, StagedState, STAGED_LIFETIME_DAYS};
use super::{Reply, Req};

const MIN_VERSION: u32 = 59;
const MAX_VERSION: u32 = 66;

/// What a path under `/services/data/vNN.0/` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Usage,
    Consumers {
        app: String,
    },
    Consumer {
        app: String,
        consumer: String,
    },
    StagedList {
        app: String,
        consumer: String,
    },
    StagedItem {
        app: String,
        consumer: String,
        id: String,
    },
}

impl Resource {
    pub fn app(&self) -> Option<&str> {
        match self {
            Resource::Usage => None,
            Resource::Consumers { app }
            | Resource::Consumer { app, .. }
            | Resource::StagedList { app, .. }
            | Resource::StagedItem { app, .. } => Some(app),
        }
    }

    /// The operation name used by fault rules and the request log.
    pub fn op(&self, method: &str) -> &'static str {
        match (self, method) {
            (Resource::Usage, _) => "usage",
            (Resource::Consumers { .. }, _) => "list_consumers",
            (Resource::Consumer { .. }, _) => "get_consumer",
            (Resource::StagedList { .. }, "POST") => "post_staged",
            (Resource::StagedList { .. }, _) => "get_staged",
            (Resource::StagedItem { .. }, "PATCH") => "rotate",
            (Resource::StagedItem { .. }, "DELETE") => "delete_staged",
            (Resource::StagedItem { .. }, _) => "get_staged_id",
        }
    }

    fn min_version(&self) -> u32 {
        match self {
            Resource::Usage => 59,
            Resource::Consumers { .. } | Resource::Consumer { .. } => 60,
            _ => 65,
        }
    }

    fn allowed(&self) -> &'static str {
        match self {
            Resource::StagedList { .. } => "GET,HEAD,POST",
            Resource::StagedItem { .. } => "GET,HEAD,PATCH,DELETE",
            _ => "GET,HEAD",
        }
    }
}

/// Parses `/services/data/v65.0/apps/oauth/...` into (version, resource).
pub fn parse_path(path: &str) -> Option<(u32, Option<Resource>)> {
    let rest = path.strip_prefix("/services/data/v")?;
    let (version, rest) = rest.split_once('/').unwrap_or((rest, ""));
    let version: u32 = version.strip_suffix(".0")?.parse().ok()?;
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let resource = match parts.as_slice() {
        ["apps", "oauth", "usage"] => Some(Resource::Usage),
        ["apps", "oauth", "credentials", app] => Some(Resource::Consumers {
            app: app.to_string(),
        }),
        ["apps", "oauth", "credentials", app, consumer] => Some(Resource::Consumer {
            app: app.to_string(),
            consumer: consumer.to_string(),
        }),
        ["apps", "oauth", "credentials", app, consumer, "staged"] => Some(Resource::StagedList {
            app: app.to_string(),
            consumer: consumer.to_string(),
        }),
        ["apps", "oauth", "credentials", app, consumer, "staged", id] => {
            Some(Resource::StagedItem {
                app: app.to_string(),
                consumer: consumer.to_string(),
                id: id.to_string(),
            })
        }
        _ => None,
    };
    Some((version, resource))
}

pub fn sf_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(status, json!([{"message": message, "errorCode": code}]))
}

fn not_found() -> Reply {
    sf_error(404, "NOT_FOUND", "The requested resource does not exist")
}

fn oauth_error(org: &Org, error: &str, description: &str) -> Reply {
    Reply::json(
        org.knobs.token_error_status,
        json!({"error": error, "error_description": description}),
    )
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ---- token endpoint ------------------------------------------------------------------------

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    signature: String,
    scope: String,
    instance_url: String,
    id: String,
    token_type: String,
    issued_at: String,
}

fn form(body: &[u8]) -> std::collections::BTreeMap<String, String> {
    super::decode_form(&String::from_utf8_lossy(body))
}

/// `POST /services/oauth2/token` with the client-credentials grant.
pub fn token(org: &mut Org, req: &Req) -> Reply {
    let content_type = req
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        return oauth_error(org, "unsupported_grant_type", "grant type not supported");
    }
    let body = form(&req.body);
    let grant = body
        .get("grant_type")
        .or_else(|| req.query.get("grant_type"));
    if grant.map(String::as_str) != Some("client_credentials") {
        return oauth_error(org, "unsupported_grant_type", "grant type not supported");
    }
    let host = req.header("host").unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default();
    if host == "login.salesforce.com" || host == "test.salesforce.com" {
        return oauth_error(org, "invalid_grant", "request not supported on this domain");
    }
    let basic = req.header("authorization").and_then(|v| {
        let encoded = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (k, s) = text.split_once(':')?;
        Some((k.to_string(), s.to_string()))
    });
    let (key, secret) = match basic {
        Some(pair) => pair,
        None => (
            body.get("client_id").cloned().unwrap_or_default(),
            body.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    match authenticate(org, &key, &secret) {
        Ok(session) => mint(org, session, &secret),
        Err((error, description)) => oauth_error(org, &error, &description),
    }
}

/// Checks a key and secret the way the token endpoint does (reference 5.2 order); on success
/// the session it would open.
pub fn authenticate(org: &Org, key: &str, secret: &str) -> Result<Session, (String, String)> {
    let fail = |e: &str, d: &str| Err((e.to_string(), d.to_string()));
    let Some((app, consumer, cred)) = org.find_key(key) else {
        return fail("invalid_client_id", "client identifier invalid");
    };
    if !app.oauth_enabled || !app.plugins_enabled {
        return if org.knobs.oauth_disabled_token_error == "invalid_client" {
            fail("invalid_client", "app must be installed into org")
        } else {
            fail("invalid_client_id", "client identifier invalid")
        };
    }
    if cred.secret != secret {
        return fail("invalid_client", "invalid client credentials");
    }
    if !app.cc_flow_enabled {
        let error = if org.knobs.cc_flow_disabled_error == "invalid_client" {
            "invalid_client"
        } else {
            "invalid_grant"
        };
        return fail(error, "client credentials flow not enabled");
    }
    let Some(user) = app
        .run_as
        .as_ref()
        .and_then(|u| org.users.get(u))
        .filter(|u| u.active)
    else {
        return fail("invalid_grant", "no client credentials user enabled");
    };
    let now = org.now();
    Ok(Session {
        user: user.id.clone(),
        app: app.id.clone(),
        consumer: consumer.id.clone(),
        via_key: key.to_string(),
        issued_at: now,
        last_used: now,
        timeout_min: org.session_timeout(app),
        revoked: false,
    })
}

fn mint(org: &mut Org, session: Session, secret: &str) -> Reply {
    let now = session.issued_at;
    let existing = org.knobs.reuse_tokens.then(|| {
        org.sessions
            .iter()
            .find(|(_, s)| s.via_key == session.via_key && !s.revoked && !expired(org, s))
            .map(|(t, _)| t.clone())
    });
    let token = match existing.flatten() {
        Some(token) => token,
        None => {
            let token = if org.knobs.jwt_access_tokens {
                let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
                    "{{\"sub\":\"{}\",\"iat\":{}}}",
                    session.user,
                    now.timestamp()
                ));
                format!("eyJhbGciOiJSUzI1NiJ9.{claims}.{}", org.new_secret())
            } else {
                let (a, b) = (org.new_secret(), org.new_secret());
                format!("{}!AQ{a}{b}", org.id)
            };
            org.sessions.insert(token.clone(), session.clone());
            token
        }
    };
    let identity_host = org
        .knobs
        .identity_host
        .clone()
        .unwrap_or_else(|| "https://login.salesforce.com".to_string());
    let id = format!("{identity_host}/id/{}/{}", org.id, session.user);
    let issued_at = now.timestamp_millis().to_string();
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{id}{issued_at}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let body = TokenResponse {
        access_token: token,
        signature,
        scope: "api".into(),
        instance_url: org.instance_url.clone(),
        id,
        token_type: "Bearer".into(),
        issued_at,
    };
    // Serialized from the struct, not a map, to keep Salesforce's field order.
    Reply::json_text(200, serde_json::to_string(&body).unwrap_or_default())
}

fn expired(org: &Org, s: &Session) -> bool {
    let since = if org.knobs.session_mode == "absolute" {
        s.issued_at
    } else {
        s.last_used
    };
    org.now() >= since + Duration::minutes(s.timeout_min)
}

/// `POST /services/oauth2/revoke` with `token=…`.
pub fn revoke(org: &mut Org, req: &Req) -> Reply {
    let body = form(&req.body);
    let token = body
        .get("token")
        .or_else(|| req.query.get("token"))
        .cloned()
        .unwrap_or_default();
    match org.sessions.get_mut(&token) {
        Some(s) if !s.revoked => {
            s.revoked = true;
            Reply::empty(200)
        }
        _ => Reply::json(
            400,
            json!({"error": "invalid_token", "error_description": "invalid token"}),
        ),
    }
}

/// The session behind a bearer token, refreshed (sliding expiry), or the 401 Salesforce sends.
pub fn session_for(org: &mut Org, token: Option<&str>) -> Result<Session, Reply> {
    let Some(token) = token else {
        return Err(sf_error(401, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE"));
    };
    let now = org.now();
    let valid = match org.sessions.get(token) {
        Some(s) => !s.revoked && !expired(org, s),
        None => false,
    };
    if !valid {
        return Err(sf_error(
            401,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        ));
    }
    let session = org.sessions.get_mut(token).expect("checked above");
    session.last_used = now;
    Ok(session.clone())
}

// ---- Connect resources ---------------------------------------------------------------------

fn valid_id(id: &str, prefix: &str) -> bool {
    (id.len() == 15 || id.len() == 18)
        && id.starts_with(prefix)
        && id.chars().all(|c| c.is_ascii_alphanumeric())
}

pub fn connect(org: &mut Org, req: &Req, version: u32, resource: Option<Resource>) -> Reply {
    let token = req.header("authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("OAuth "))
            .map(|t| t.trim().to_string())
    });
    let session = match session_for(org, token.as_deref()) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let Some(resource) = resource
        .filter(|r| (MIN_VERSION..=MAX_VERSION).contains(&version) && version >= r.min_version())
    else {
        return not_found();
    };
    let method = req.method.as_str();
    let allowed = resource.allowed();
    if !allowed.split(',').any(|m| m == method) {
        return sf_error(
            405,
            "METHOD_NOT_ALLOWED",
            &format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
        );
    }
    if org.api_used >= org.knobs.api_limit_24h {
        return sf_error(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
    }
    org.api_used += 1;
    let user = org.users.get(&session.user).cloned();
    let may_manage = user
        .as_ref()
        .is_some_and(|u| u.active && u.eca_developer && u.view_client_secret);
    let base = format!("/services/data/v{version}.0");
    let mut reply = match &resource {
        Resource::Usage => usage(org, req, &base),
        _ if !may_manage => sf_error(
            403,
            "INSUFFICIENT_ACCESS",
            "You don't have permission to manage OAuth credentials for this app.",
        ),
        Resource::Consumers { app } => consumers(org, &base, app),
        Resource::Consumer { app, consumer } => consumer_detail(org, req, &base, app, consumer),
        Resource::StagedList { app, consumer } => {
            staged_list(org, req, &base, app, consumer, &session.user)
        }
        Resource::StagedItem { app, consumer, id } => {
            staged_item(org, req, &base, app, consumer, id)
        }
    };
    reply.headers.push((
        "Sforce-Limit-Info".into(),
        format!("api-usage={}/{}", org.api_used, org.knobs.api_limit_24h),
    ));
    reply
}

fn usage(org: &Org, req: &Req, base: &str) -> Reply {
    let page: usize = req
        .query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let page_size: usize = req
        .query
        .get("pageSize")
        .and_then(|p| p.parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(100);
    let id_len = org.knobs.usage_id_length;
    let apps: Vec<Value> = org
        .apps
        .iter()
        .filter(|a| a.has_usage || org.knobs.usage_lists_unused_apps)
        .skip(page * page_size)
        .take(page_size)
        .map(|a| json!({"developerName": a.developer_name, "identifier": &a.id[..id_len.min(a.id.len())], "name": a.label}))
        .collect();
    Reply::json(
        200,
        json!({
            "apps": apps,
            "currentPageUrl": format!("{base}/apps/oauth/usage?page={page}&pageSize={page_size}"),
            "nextPageUrl": format!("{base}/apps/oauth/usage?page={}&pageSize={page_size}", page + 1),
        }),
    )
}

fn check_ids(app: &str, consumer: Option<&str>) -> Result<(), Reply> {
    if !valid_id(app, "0xI") {
        return Err(sf_error(
            400,
            "INVALID_ID_FIELD",
            &format!("Invalid identifier: {app}"),
        ));
    }
    if let Some(c) = consumer {
        if !valid_id(c, "888") {
            return Err(sf_error(
                400,
                "INVALID_ID_FIELD",
                &format!("Invalid identifier: {c}"),
            ));
        }
    }
    Ok(())
}

fn consumer_json(
    base: &str,
    app_id: &str,
    c: &super::model::Consumer,
    secret: Option<&str>,
) -> Value {
    let url = format!("{base}/apps/oauth/credentials/{app_id}/{}", c.id);
    json!({
        "id": c.id,
        "key": c.primary.key,
        "name": c.name,
        "secret": secret,
        "stagedCredentialsUrl": format!("{url}/staged"),
        "url": url,
    })
}

fn consumers(org: &Org, base: &str, app: &str) -> Reply {
    if let Err(reply) = check_ids(app, None) {
        return reply;
    }
    let Some(app) = org.app(app) else {
        return not_found();
    };
    let list: Vec<Value> = app
        .consumers
        .iter()
        .map(|c| consumer_json(base, &app.id, c, None))
        .collect();
    Reply::json(
        200,
        json!({"consumers": list, "currentPageUrl": format!("{base}/apps/oauth/credentials/{}", app.id), "nextPageUrl": null}),
    )
}

fn consumer_detail(org: &Org, req: &Req, base: &str, app: &str, consumer: &str) -> Reply {
    if let Err(reply) = check_ids(app, Some(consumer)) {
        return reply;
    }
    let Some(app) = org.app(app) else {
        return not_found();
    };
    let Some(c) = app.consumers.iter().find(|c| same_id(&c.id, consumer)) else {
        return not_found();
    };
    let part = req.query.get("part").map(String::as_str).unwrap_or("key");
    let wants_secret = part == "secret" || part == "keyandsecret";
    let secret =
        (wants_secret && org.settings.rest_secret_access).then_some(c.primary.secret.as_str());
    let mut body = consumer_json(base, &app.id, c, secret);
    if part == "secret" {
        body["key"] = Value::Null;
    }
    Reply::json(200, body)
}

fn rest_secret_off(org: &Org) -> Reply {
    match org.knobs.rest_secret_off_error.as_str() {
        "INSUFFICIENT_ACCESS" => sf_error(
            403,
            "INSUFFICIENT_ACCESS",
            "You don't have permission to manage OAuth credentials for this app.",
        ),
        "404" => not_found(),
        _ => sf_error(
            403,
            "FUNCTIONALITY_NOT_ENABLED",
            "This feature is not currently enabled for this user.",
        ),
    }
}

fn staged_json(org: &Org, base: &str, app_id: &str, consumer_id: &str, s: &Staged) -> Value {
    let primary = format!("{base}/apps/oauth/credentials/{app_id}/{consumer_id}");
    let list = format!("{primary}/staged");
    let url = if org.knobs.staged_url_mode == "primary" {
        primary
    } else {
        format!("{list}/{}", s.id)
    };
    json!({
        "createdBy": s.created_by,
        "createdDate": iso(s.created_at),
        "expirationDate": iso(s.expires_at),
        "id": s.id,
        "key": s.cred.key,
        "secret": s.cred.secret,
        "stagedCredentialsUrl": list,
        "state": format!("{:?}", s.state),
        "url": url,
    })
}

/// Finds the app and consumer indexes for a path, or the error reply.
fn locate(org: &Org, app: &str, consumer: &str) -> Result<(usize, usize), Reply> {
    check_ids(app, Some(consumer))?;
    let ai = org
        .apps
        .iter()
        .position(|a| same_id(&a.id, app))
        .ok_or_else(not_found)?;
    let ci = org.apps[ai]
        .consumers
        .iter()
        .position(|c| same_id(&c.id, consumer))
        .ok_or_else(not_found)?;
    Ok((ai, ci))
}

fn staged_list(
    org: &mut Org,
    req: &Req,
    base: &str,
    app: &str,
    consumer: &str,
    user: &str,
) -> Reply {
    let (ai, ci) = match locate(org, app, consumer) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    if !org.settings.rest_secret_access {
        return rest_secret_off(org);
    }
    let app_id = org.apps[ai].id.clone();
    let consumer_id = org.apps[ai].consumers[ci].id.clone();
    let list_url = format!("{base}/apps/oauth/credentials/{app_id}/{consumer_id}/staged");
    if req.method == "POST" {
        let now = org.now();
        match org.apps[ai].consumers[ci].slot.as_ref().map(|s| s.state) {
            Some(StagedState::Active) => {
                return sf_error(
                    org.knobs.duplicate_post_status,
                    "INVALID_API_INPUT",
                    "A staged credential already exists for this OAuth consumer. Rotate or delete it before staging new credentials.",
                )
            }
            Some(StagedState::Rotated) if org.knobs.rotated_blocks_post => {
                return sf_error(
                    org.knobs.duplicate_post_status,
                    "INVALID_API_INPUT",
                    "A staged credential already exists for this OAuth consumer. Rotate or delete it before staging new credentials.",
                )
            }
            _ => {}
        }
        let mut cred = org.new_cred();
        if !org.knobs.staging_mints_new_key {
            cred.key = org.apps[ai].consumers[ci].primary.key.clone();
        }
        let id = org.new_id("1Xq");
        let staged = Staged {
            id,
            cred,
            state: StagedState::Active,
            created_at: now,
            created_by: user.to_string(),
            expires_at: now + Duration::days(STAGED_LIFETIME_DAYS),
        };
        let key = staged.cred.key.clone();
        if let Some(old) = org.apps[ai].consumers[ci].slot.replace(staged) {
            org.apps[ai].consumers[ci].graveyard.push(Retired {
                cred: old.cred,
                why: "replaced".into(),
                at: now,
            });
        }
        org.event("staged", &app_id, Some(&consumer_id), Some(&key));
        let item = staged_json(
            org,
            base,
            &app_id,
            &consumer_id,
            org.apps[ai].consumers[ci].slot.as_ref().expect("just set"),
        );
        return Reply::json(
            org.knobs.post_staged_status,
            json!({"stagedCredentials": [item], "url": list_url}),
        );
    }
    match &org.apps[ai].consumers[ci].slot {
        Some(s) => {
            let item = staged_json(org, base, &app_id, &consumer_id, s);
            Reply::json(200, json!({"stagedCredentials": [item], "url": list_url}))
        }
        None if org.knobs.empty_staged_get == "404" => not_found(),
        None => Reply::json(200, json!({"stagedCredentials": [], "url": list_url})),
    }
}

fn staged_item(org: &mut Org, req: &Req, base: &str, app: &str, consumer: &str, id: &str) -> Reply {
    let (ai, ci) = match locate(org, app, consumer) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    if !org.settings.rest_secret_access {
        return rest_secret_off(org);
    }
    let app_id = org.apps[ai].id.clone();
    let consumer_id = org.apps[ai].consumers[ci].id.clone();
    let matches = org.apps[ai].consumers[ci]
        .slot
        .as_ref()
        .is_some_and(|s| same_id(&s.id, id));
    if !matches {
        return not_found();
    }
    let now = org.now();
    match req.method.as_str() {
        "GET" | "HEAD" => {
            let s = org.apps[ai].consumers[ci].slot.as_ref().expect("matched");
            Reply::json(200, staged_json(org, base, &app_id, &consumer_id, s))
        }
        "DELETE" => {
            let gone = org.apps[ai].consumers[ci].slot.take().expect("matched");
            let key = gone.cred.key.clone();
            if org.knobs.revoke_sessions_on_credential_delete {
                for s in org.sessions.values_mut().filter(|s| s.via_key == key) {
                    s.revoked = true;
                }
            }
            org.apps[ai].consumers[ci].graveyard.push(Retired {
                cred: gone.cred,
                why: "deleted".into(),
                at: now,
            });
            org.event("deleted", &app_id, Some(&consumer_id), Some(&key));
            Reply::empty(204)
        }
        _ => {
            let command: Option<String> = match serde_json::from_slice::<Value>(&req.body) {
                Ok(v) => v.get("command").and_then(Value::as_str).map(str::to_string),
                Err(_) if req.body.is_empty() => None,
                Err(_) => {
                    return sf_error(
                        400,
                        "JSON_PARSER_ERROR",
                        "The request body is not valid JSON.",
                    )
                }
            };
            if command.as_deref() != Some("rotate") {
                return sf_error(
                    400,
                    "INVALID_API_INPUT",
                    "The only supported command is 'rotate'.",
                );
            }
            let state = org.apps[ai].consumers[ci]
                .slot
                .as_ref()
                .expect("matched")
                .state;
            match state {
                StagedState::Expired => {
                    return sf_error(
                        400,
                        "INVALID_API_INPUT",
                        "The staged credentials can't be rotated because they expired.",
                    )
                }
                StagedState::Rotated if org.knobs.rotate_twice != "swap_back" => return sf_error(
                    400,
                    "INVALID_API_INPUT",
                    "The staged credentials can't be rotated because they were already rotated.",
                ),
                _ => {}
            }
            let new_id = (!org.knobs.rotate_keeps_staged_id).then(|| org.new_id("1Xq"));
            let consumer = &mut org.apps[ai].consumers[ci];
            let slot = consumer.slot.as_mut().expect("matched");
            let promoted = std::mem::replace(&mut consumer.primary, slot.cred.clone());
            let new_key = consumer.primary.key.clone();
            slot.cred = promoted;
            slot.state = StagedState::Rotated;
            slot.expires_at = now + Duration::days(STAGED_LIFETIME_DAYS);
            if let Some(new_id) = new_id {
                slot.id = new_id;
            }
            org.event("rotated", &app_id, Some(&consumer_id), Some(&new_key));
            let s = org.apps[ai].consumers[ci].slot.as_ref().expect("matched");
            Reply::json(200, staged_json(org, base, &app_id, &consumer_id, s))
        }
    }
}

/// `GET /services/data`: the versions this org serves.
pub fn versions() -> Reply {
    let list: Vec<Value> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| json!({"label": format!("API {v}"), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")}))
        .collect();
    Reply::json(200, Value::Array(list))
}
