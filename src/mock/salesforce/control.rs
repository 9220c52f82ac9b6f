//! The control API under `/__mock/` (reference 5.4): look at and change the org's state,
//! the clock, knobs and sessions; fault rules, latches and the request log are the harness's
//! (`mock::harness::Harness::control`). Test and demo use only.

use chrono::Duration;
use serde::Deserialize;
use serde_json::{json, Value};

use super::model::{self, Knobs, Seed};
use super::{rest, MockOrg, Reply, Req};
use crate::mock::harness::{bad, body};

pub async fn handle(mock: &MockOrg, req: Req) -> Reply {
    if let Some(expected) = &mock.0.admin_token {
        let given = req.header("authorization").unwrap_or_default();
        if given.strip_prefix("Bearer ") != Some(expected.as_str()) {
            return Reply::json(
                401,
                json!({"error": "the control API needs 'Authorization: Bearer <MOCK_ADMIN_TOKEN>'"}),
            );
        }
    }
    let path = req.path.trim_start_matches("/__mock").to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(reply) = mock.0.harness.control(&req, &segments) {
        return reply;
    }
    let result = match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["state"]) => Ok(state(mock)),
        ("POST", ["reset"]) => {
            let mut org = mock.org();
            org.load(&Seed {
                users: vec![],
                apps: vec![],
                settings: None,
            })
            .map(|_| Reply::json(200, json!({"ok": true})))
            .map_err(bad)
        }
        ("POST", ["seed"]) => body::<Seed>(&req).and_then(|seed| {
            let mut org = mock.org();
            org.load(&seed).map_err(bad)?;
            drop(org);
            Ok(Reply::json(200, json!({"apps": mock.seeded_apps()})))
        }),
        ("POST", ["auth-check"]) => body::<AuthCheck>(&req).map(|b| auth_check(mock, &b)),
        ("GET", ["apps", app, "credentials"]) => Ok(app_credentials(mock, app)),
        ("PATCH", ["apps", app]) => body::<AppPatch>(&req).and_then(|p| patch_app(mock, app, p)),
        ("PATCH", ["org", "settings"]) => body::<Value>(&req).and_then(|p| {
            let mut org = mock.org();
            let mut current = serde_json::to_value(&org.settings).unwrap_or_default();
            merge(&mut current, p);
            org.settings = serde_json::from_value(current).map_err(|e| bad(e.to_string()))?;
            Ok(Reply::json(
                200,
                serde_json::to_value(&org.settings).unwrap_or_default(),
            ))
        }),
        ("PATCH", ["users", name]) => body::<Value>(&req).and_then(|p| {
            let mut org = mock.org();
            let user = org
                .users
                .values_mut()
                .find(|u| u.username == *name || u.id == *name)
                .ok_or_else(|| Reply::json(404, json!({"error": format!("no user {name}")})))?;
            let mut current = serde_json::to_value(&*user).unwrap_or_default();
            merge(&mut current, p);
            *user = serde_json::from_value(current).map_err(|e| bad(e.to_string()))?;
            Ok(Reply::json(
                200,
                serde_json::to_value(&*user).unwrap_or_default(),
            ))
        }),
        ("GET", ["clock"]) => Ok(clock(mock)),
        ("POST", ["clock", "advance"]) => body::<Advance>(&req).map(|a| {
            {
                let mut org = mock.org();
                org.clock_offset += Duration::seconds(a.seconds);
                org.tick();
            }
            clock(mock)
        }),
        ("GET", ["knobs"]) => Ok(Reply::json(
            200,
            serde_json::to_value(&mock.org().knobs).unwrap_or_default(),
        )),
        ("PATCH", ["knobs"]) => body::<Value>(&req).and_then(|p| {
            let mut org = mock.org();
            let mut current = serde_json::to_value(&org.knobs).unwrap_or_default();
            if let Some(unknown) = p
                .as_object()
                .and_then(|m| m.keys().find(|k| current.get(k.as_str()).is_none()))
            {
                return Err(bad(format!("unknown knob '{unknown}'")));
            }
            merge(&mut current, p);
            org.knobs = serde_json::from_value::<Knobs>(current).map_err(|e| bad(e.to_string()))?;
            Ok(Reply::json(
                200,
                serde_json::to_value(&org.knobs).unwrap_or_default(),
            ))
        }),
        ("POST", ["sessions", "expire"]) => body::<Expire>(&req).map(|e| {
            let mut org = mock.org();
            let mut count = 0;
            for (token, s) in org.sessions.iter_mut() {
                if e.all || e.token.as_deref() == Some(token.as_str()) {
                    s.revoked = true;
                    count += 1;
                }
            }
            Reply::json(200, json!({"expired": count}))
        }),
        ("GET", ["events"]) => Ok(Reply::json(
            200,
            serde_json::to_value(&mock.org().events).unwrap_or_default(),
        )),
        _ => Err(Reply::json(
            404,
            json!({"error": format!("no control route {} {}", req.method, req.path)}),
        )),
    };
    result.unwrap_or_else(|reply| reply)
}

/// Shallow merge of JSON objects (the PATCH semantics of the control API).
fn merge(target: &mut Value, patch: Value) {
    if let (Some(t), Value::Object(p)) = (target.as_object_mut(), patch) {
        for (k, v) in p {
            t.insert(k, v);
        }
    }
}

fn state(mock: &MockOrg) -> Reply {
    let mut org = mock.org();
    org.tick();
    let apps: Vec<Value> = org
        .apps
        .iter()
        .map(|a| {
            let mut v = serde_json::to_value(a).unwrap_or_default();
            if let Some(consumers) = v.get_mut("consumers").and_then(Value::as_array_mut) {
                for c in consumers {
                    if let Some(slot) = c.get_mut("slot").filter(|s| !s.is_null()) {
                        if let Some(state) = slot.get("state").cloned() {
                            slot["state"] = state;
                        }
                    }
                }
            }
            v
        })
        .collect();
    Reply::json(
        200,
        json!({
            "orgId": org.id,
            "instanceUrl": org.instance_url,
            "now": org.now(),
            "settings": org.settings,
            "users": org.users.values().collect::<Vec<_>>(),
            "apps": apps,
            "sessions": org.sessions.len(),
            "apiUsed": org.api_used,
        }),
    )
}

fn clock(mock: &MockOrg) -> Reply {
    let org = mock.org();
    Reply::json(
        200,
        json!({"now": org.now(), "offsetSeconds": org.clock_offset.num_seconds()}),
    )
}

#[derive(Deserialize)]
struct AuthCheck {
    key: String,
    secret: String,
}

fn auth_check(mock: &MockOrg, check: &AuthCheck) -> Reply {
    let mut org = mock.org();
    org.tick();
    match rest::authenticate(&org, &check.key, &check.secret) {
        Ok(_) => Reply::json(
            200,
            json!({"authenticates": true, "would_return": {"status": 200}}),
        ),
        Err((error, description)) => Reply::json(
            200,
            json!({"authenticates": false, "would_return": {"status": org.knobs.token_error_status, "body": {"error": error, "error_description": description}}}),
        ),
    }
}

/// Every credential the app has had, with whether it still authenticates.
fn app_credentials(mock: &MockOrg, app_id: &str) -> Reply {
    let mut org = mock.org();
    org.tick();
    let Some(app) = org.app(app_id) else {
        return Reply::json(404, json!({"error": format!("no app {app_id}")}));
    };
    let mut out = Vec::new();
    for c in &app.consumers {
        let mut push = |cred: &model::Cred, role: &str, state: Option<String>| {
            let result = rest::authenticate(&org, &cred.key, &cred.secret);
            out.push(json!({
                "consumerId": c.id,
                "key": cred.key,
                "role": role,
                "state": state,
                "authenticates": result.is_ok(),
                "reason": result.err().map(|(e, d)| format!("{e}: {d}")),
            }));
        };
        push(&c.primary, "primary", None);
        if let Some(slot) = &c.slot {
            push(&slot.cred, "staged", Some(format!("{:?}", slot.state)));
        }
        for g in &c.graveyard {
            out.push(json!({"consumerId": c.id, "key": g.cred.key, "role": "graveyard", "state": g.why, "authenticates": false, "reason": g.why}));
        }
    }
    Reply::json(200, Value::Array(out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppPatch {
    oauth_enabled: Option<bool>,
    plugins_enabled: Option<bool>,
    cc_flow_enabled: Option<bool>,
    /// Username of the Run-As user; empty string clears it.
    run_as: Option<String>,
    policy_full_name: Option<String>,
    has_usage: Option<bool>,
    session_timeout_min: Option<i64>,
    /// Adds consumers with generated credentials (to test apps with several).
    add_consumers: Option<usize>,
    /// Removes every consumer (to test apps with none).
    clear_consumers: Option<bool>,
}

fn patch_app(mock: &MockOrg, app_id: &str, patch: AppPatch) -> Result<Reply, Reply> {
    let mut org = mock.org();
    let run_as = match patch.run_as.as_deref() {
        Some("") => Some(None),
        Some(name) => Some(Some(
            org.user_by_name(name)
                .ok_or_else(|| bad(format!("no user {name}")))?
                .id
                .clone(),
        )),
        None => None,
    };
    let mut new_consumers = Vec::new();
    for _ in 0..patch.add_consumers.unwrap_or(0) {
        let cred = org.new_cred();
        new_consumers.push((org.new_id("888"), cred));
    }
    let app = org
        .app_mut(app_id)
        .ok_or_else(|| Reply::json(404, json!({"error": format!("no app {app_id}")})))?;
    if let Some(v) = patch.oauth_enabled {
        app.oauth_enabled = v;
    }
    if let Some(v) = patch.plugins_enabled {
        app.plugins_enabled = v;
    }
    if let Some(v) = patch.cc_flow_enabled {
        app.cc_flow_enabled = v;
    }
    if let Some(v) = run_as {
        app.run_as = v;
    }
    if let Some(v) = patch.policy_full_name {
        app.policy_full_name = v;
    }
    if let Some(v) = patch.has_usage {
        app.has_usage = v;
    }
    if let Some(v) = patch.session_timeout_min {
        app.session_timeout_min = Some(v);
    }
    if patch.clear_consumers == Some(true) {
        app.consumers.clear();
    }
    let label = app.label.clone();
    for (id, cred) in new_consumers {
        app.consumers.push(model::Consumer {
            id,
            name: label.clone(),
            primary: cred,
            slot: None,
            graveyard: vec![],
        });
    }
    Ok(Reply::json(
        200,
        serde_json::to_value(&*app).unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Expire {
    token: Option<String>,
    all: bool,
}
