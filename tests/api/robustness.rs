//! Regression tests of the security and robustness findings (issue 15,
//! ../shared/reference/security-findings.md): each names the defect it holds, D1 to D22.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, trap};
use crate::rotations::{world, World};

const BASE: &str = "/api/v2/secret-rotations/salesforce-oauth-credentials";

/// What the mock org has seen, as one string (to check that nothing reached it).
async fn org_events(w: &World) -> usize {
    w.control(Method::GET, "events", Value::Null)
        .await
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

/// Every refusal of a create: 422 or 400 in the error shape, no rotation, no secret, and no
/// call to Salesforce.
async fn refused_create(w: &World, body: Value, status: u16) -> Value {
    let events = org_events(w).await;
    let r = w.app.post(BASE, &w.token, body.clone()).await;
    assert_eq!(r.status.as_u16(), status, "{body}: {}", r.body);
    assert_eq!(w.app.count("secret_rotations").await, 0, "{body}");
    assert_eq!(w.app.count("rotation_runs").await, 0, "{body}");
    assert_eq!(w.app.count("secrets").await, 0, "{body}");
    assert_eq!(org_events(w).await, events, "{body}: Salesforce was called");
    r.body
}

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut body;
    for p in &path[..path.len() - 1] {
        at = &mut at[*p];
    }
    at[path[path.len() - 1]] = value;
    body
}

#[tokio::test]
async fn d1_an_unbounded_rotation_interval_is_refused_before_salesforce() {
    let w = world().await;
    for interval in [
        json!(100000000),
        json!(2147483647),
        json!(1099511627776u64),
        json!(1e20),
        json!(1e308),
        json!(36501),
    ] {
        let body = refused_create(&w, with(w.sample(), &["rotationInterval"], interval), 422).await;
        assert_eq!(
            body["message"][0]["path"],
            json!(["rotationInterval"]),
            "{body}"
        );
        assert_eq!(body["message"][0]["code"], "too_big", "{body}");
    }
    // The largest accepted one schedules (100 years), and PATCH has the same bound.
    let id = w
        .app
        .post(
            BASE,
            &w.token,
            with(w.sample(), &["rotationInterval"], json!(36500)),
        )
        .await;
    assert_eq!(id.status, 200, "{}", id.body);
    let id = id.body["secretRotation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body;
    assert!(before["secretRotation"]["nextRotationAt"].is_string());
    let r = w
        .app
        .patch(
            &format!("{BASE}/{id}"),
            &w.token,
            json!({"rotationInterval": 100000000}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let after = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body;
    assert_eq!(before, after);
}

#[tokio::test]
async fn d2_d15_mapped_names_follow_the_secret_name_rules() {
    let w = world().await;
    let long: String = "K".repeat(3000);
    for (name, code) in [
        (long.as_str(), "too_big"),
        (&"K".repeat(257), "too_big"),
        ("HAS SPACE", "custom"),
        ("NL\nX", "custom"),
        ("TAB\tX", "custom"),
        ("A/B", "custom"),
        ("A:B", "custom"),
    ] {
        let body = refused_create(
            &w,
            with(w.sample(), &["secretsMapping", "consumerKey"], json!(name)),
            422,
        )
        .await;
        assert_eq!(
            body["message"][0]["path"],
            json!(["secretsMapping", "consumerKey"]),
            "{name}: {body}"
        );
        assert_eq!(body["message"][0]["code"], code, "{name}: {body}");
    }
    // 256 characters is the limit, as for the secrets API.
    let ok = with(
        w.sample(),
        &["secretsMapping", "consumerKey"],
        json!("K".repeat(256)),
    );
    assert_eq!(w.app.post(BASE, &w.token, ok).await.status, 200);
}

#[tokio::test]
async fn d16_secret_names_cannot_hold_a_slash_or_colon() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Names").await;
    for name in ["..%2F..%2Fetc", "a%2Fb", "a:b"] {
        let r = app
            .post(
                &format!("/api/v3/secrets/raw/{name}"),
                &token,
                json!({"workspaceId": project, "environment": "dev", "secretValue": "v"}),
            )
            .await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": "custom", "path": ["secretName"], "message": "Secret name cannot contain colon or forward slash."}]),
        );
    }
    assert_eq!(app.count("secrets").await, 0);
}

#[tokio::test]
async fn d9_audit_log_dates_outside_the_calendar_are_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Audit").await;
    for (field, date) in [
        ("startDate", "-5000-01-01T00:00:00Z"),
        ("endDate", "%2B20000-01-01T00:00:00Z"),
    ] {
        let r = app
            .get(
                &format!("/api/v1/workspace/{project}/audit-logs?{field}={date}"),
                &token,
            )
            .await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": "invalid_date", "path": [field], "message": format!("{field} must be a date between the years 1 and 9999")}]),
        );
    }
}

#[tokio::test]
async fn d10_folder_paths_past_1024_characters_are_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Deep").await;
    let deep = format!("/{}", vec!["f".repeat(64); 45].join("/"));
    let r = app
        .post(
            "/api/v2/folders",
            &token,
            json!({"projectId": project, "environment": "dev", "name": "leaf", "path": deep}),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "too_big", "path": ["path"], "message": "Folder paths can be at most 1024 characters long"}]),
    );
    assert_eq!(app.count("folders").await, 0);
}

#[tokio::test]
async fn d14_an_app_id_that_is_not_a_salesforce_id_never_reaches_a_url() {
    let w = world().await;
    for app_id in [
        "../../../../../services/data/v62.0/sobjects/Account#",
        "0xIAAAAAAAAAAAA/x",
        "0xIAAAAAAAAAAAAA?",
        "0xIAAAAAAAAAAAAAAAAA",
    ] {
        let body = refused_create(
            &w,
            with(w.sample(), &["parameters", "appId"], json!(app_id)),
            422,
        )
        .await;
        assert_eq!(
            body["message"],
            json!([{"code": "invalid_string", "path": ["parameters", "appId"], "message": "App Identifier must be a Salesforce id: 15 or 18 letters and digits"}]),
            "{app_id}"
        );
    }
}

#[tokio::test]
async fn d21_a_rotate_that_loses_the_race_with_a_delete_answers_404() {
    let w = world().await;
    let id = w.create().await;
    // Hold the rotate at its first Salesforce call (its run is open by then), and let the
    // delete it raced remove the rotation, as a delete that passed its in-flight check a
    // moment earlier does.
    w.control(Method::PUT, "faults", json!([{"id": "l", "match": {"op": "list_consumers"}, "action": {"latch": "hold"}, "phase": "before"}])).await;
    let rotate = {
        let (app, token, id) = (w.app.base.clone(), w.token.clone(), id.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{app}{BASE}/{id}/rotate-secrets"))
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
        })
    };
    for _ in 0..100 {
        if w.app.count("rotation_runs WHERE outcome = 'running'").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sqlx::query("DELETE FROM secret_rotations WHERE id = $1::uuid")
        .bind(&id)
        .execute(&w.app.pool)
        .await
        .unwrap();
    w.control(Method::DELETE, "faults", Value::Null).await;
    w.control(Method::POST, "latches/hold/release", Value::Null)
        .await;
    let r = rotate.await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_error(
        &crate::helpers::Response {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body,
        },
        404,
        "NotFound",
        json!(format!(
            "Secret Rotation with ID \"{id}\" was deleted before it could be rotated"
        )),
    );
}

/// Twenty requests at once that all pass the "already exists" check: one wins, the others get
/// that check's 400, none a 500.
async fn race(label: &str, send: impl Fn() -> tokio::task::JoinHandle<u16>) {
    let handles: Vec<_> = (0..20).map(|_| send()).collect();
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{label}: {statuses:?}"
    );
    assert!(statuses.contains(&200), "{label}: {statuses:?}");
}

#[tokio::test]
async fn d5_parallel_duplicates_get_the_400_of_the_check_never_a_500() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Races").await;
    let (base, client) = (app.base.clone(), app.client.clone());
    let post = |path: String, body: Value| {
        let (base, client, token) = (base.clone(), client.clone(), token.clone());
        move || {
            let (base, client, token, path, body) = (
                base.clone(),
                client.clone(),
                token.clone(),
                path.clone(),
                body.clone(),
            );
            tokio::spawn(async move {
                client
                    .post(format!("{base}{path}"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        }
    };
    race(
        "project",
        post(
            "/api/v2/workspace".into(),
            json!({"projectName": "dup", "slug": "dup-slug"}),
        ),
    )
    .await;
    race(
        "environment",
        post(
            format!("/api/v1/workspace/{project}/environments"),
            json!({"name": "QA", "slug": "qa"}),
        ),
    )
    .await;
    race(
        "nested folder",
        post(
            "/api/v2/folders".into(),
            json!({"projectId": project, "environment": "dev", "name": "leaf", "path": "/a/b/c"}),
        ),
    )
    .await;
    let (identity, _) = app.new_identity(&token, "joiner", "member").await;
    race(
        "membership",
        post(
            format!("/api/v2/workspace/{project}/identity-memberships/{identity}"),
            json!({"role": "viewer"}),
        ),
    )
    .await;
    let r = app
        .post(
            "/api/v1/identities",
            &token,
            json!({"name": "bare", "role": "member"}),
        )
        .await;
    let bare = r.body["identity"]["id"].as_str().unwrap().to_string();
    race(
        "universal auth",
        post(
            format!("/api/v1/auth/universal-auth/identities/{bare}"),
            json!({}),
        ),
    )
    .await;
}

#[tokio::test]
async fn d7_an_address_is_checked_when_it_is_used_not_only_when_saved() {
    // The webhook and the connection were saved while their names were fine (here: by a
    // replica that allows internal addresses); now they resolve to loopback, as after DNS
    // rebinding. A replica that does not allow internal addresses never connects there.
    let url = crate::helpers::fresh_database().await;
    let key = rotary::crypto::Key::generate();
    let open =
        crate::helpers::spawn_server(&url, key.clone(), crate::helpers::test_options(), false)
            .await;
    let w = crate::rotations::world_with(open).await;
    let (port, hits) = trap().await;
    let r = w
        .app
        .post(
            "/api/v1/webhooks",
            &w.token,
            json!({"workspaceId": w.project, "environment": "dev", "webhookUrl": format!("http://localhost:{port}/hook"), "secretPath": "/"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let webhook = r.body["webhook"]["id"].as_str().unwrap().to_string();
    let guarded =
        crate::helpers::spawn_server(&url, key, rotary::config::Options::default(), false).await;
    let r = guarded
        .post(
            &format!("/api/v1/webhooks/{webhook}/test"),
            &w.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains(
            "resolves to a local or private address; set ROTARY_ALLOW_INTERNAL_URLS=true"
        ),
        "{}",
        r.body
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    // The Salesforce connection (on 127.0.0.1, an IP literal) is refused before any request.
    let events = org_events(&w).await;
    let r = guarded
        .get(
            &format!(
                "/api/v1/app-connections/salesforce/{}/oauth-apps",
                w.connection
            ),
            &w.token,
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert_eq!(org_events(&w).await, events, "the org was called");
}

/// A world whose mock org has a third app, `Payroll_Sync`, besides the connector and Billing.
async fn world_with_three_apps() -> (World, rotary::mock::salesforce::SeededApp) {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Billing").await;
    let mut seed = rotary::mock::salesforce::model::demo_seed();
    let mut third = seed.apps[1].clone();
    third.developer_name = "Payroll_Sync".into();
    third.label = Some("Payroll Sync".into());
    seed.apps.push(third);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (mock, org_base) = rotary::mock::salesforce::spawn(listener, Some(&seed), None)
        .await
        .unwrap();
    let apps = mock.seeded_apps();
    let r = app
        .post(
            "/api/v1/app-connections/salesforce",
            &token,
            json!({"name": "sf", "method": "client-credentials", "projectId": project,
                   "credentials": {"instanceUrl": org_base, "consumerKey": apps[0].key, "consumerSecret": apps[0].secret}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let payroll = apps[2].clone();
    (
        World {
            connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
            app,
            token,
            project,
            _mock: mock,
            org_base,
            http: reqwest::Client::new(),
            connector: apps[0].clone(),
            billing: apps[1].clone(),
        },
        payroll,
    )
}

fn named(w: &World, name: &str, key: &str) -> Value {
    let mut body = w.sample();
    body["name"] = json!(name);
    body["secretsMapping"] =
        json!({"consumerKey": format!("{key}_KEY"), "consumerSecret": format!("{key}_SECRET")});
    body
}

#[tokio::test]
async fn d4_an_app_belongs_to_one_rotation() {
    let (w, payroll) = world_with_three_apps().await;
    let first = w.create().await;
    let taken = json!("The External Client App \"Billing_Sync\" (".to_string()
        + &w.billing.id
        + ") is already rotated by another secret rotation. An app can belong to one rotation only: two would retire each other's credentials. Delete the other rotation first.");
    let events = org_events(&w).await;
    let r = w.app.post(BASE, &w.token, named(&w, "second", "S2")).await;
    assert_error(&r, 400, "BadRequest", taken.clone());
    assert_eq!(w.app.count("secret_rotations").await, 1);
    assert_eq!(org_events(&w).await, events, "Salesforce was called");

    // Two creates at once on a free app: exactly one wins, the other gets the same 400.
    let mut a = named(&w, "payroll-a", "PA");
    a["parameters"] = json!({"appId": payroll.id, "appName": "Payroll_Sync"});
    let mut b = named(&w, "payroll-b", "PB");
    b["parameters"] = a["parameters"].clone();
    let (ra, rb) = tokio::join!(w.app.post(BASE, &w.token, a), w.app.post(BASE, &w.token, b));
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{} {}", ra.body, rb.body);
    let payroll_rotation = if ra.status == 200 { ra.body } else { rb.body };
    let payroll_id = payroll_rotation["secretRotation"]["id"].as_str().unwrap();

    // PATCH cannot move a rotation onto a taken app either, and changes nothing.
    let before = w
        .app
        .get(&format!("{BASE}/{payroll_id}"), &w.token)
        .await
        .body;
    let r = w
        .app
        .patch(
            &format!("{BASE}/{payroll_id}"),
            &w.token,
            json!({"parameters": {"appId": w.billing.id, "appName": "Billing_Sync"}}),
        )
        .await;
    assert_error(&r, 400, "BadRequest", taken);
    assert_eq!(
        w.app
            .get(&format!("{BASE}/{payroll_id}"), &w.token)
            .await
            .body,
        before
    );
    // Deleting the first frees its app.
    let r = w
        .app
        .delete(
            &format!("{BASE}/{first}?deleteSecrets=true"),
            &w.token,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        w.app
            .post(BASE, &w.token, named(&w, "second", "S2"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn d3_d17_only_org_admins_use_org_wide_connections_and_others_learn_nothing() {
    let w = world().await;
    // An org-wide connection to the same org, made by the org admin.
    let r = w
        .app
        .post(
            "/api/v1/app-connections/salesforce",
            &w.token,
            json!({"name": "org-wide", "method": "client-credentials",
                   "credentials": {"instanceUrl": w.org_base, "consumerKey": w.connector.key, "consumerSecret": w.connector.secret}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let org_conn = r.body["appConnection"]["id"].as_str().unwrap().to_string();
    // B: an org member with a project of its own.
    let (b_id, b_token) = w.app.new_identity(&w.token, "bee", "member").await;
    let b_project = w.app.create_project(&b_token, "Bee").await;
    let mut body = w.sample();
    body["projectId"] = json!(b_project);
    body["connectionId"] = json!(org_conn);
    let events = org_events(&w).await;
    let r = w.app.post(BASE, &b_token, body.clone()).await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!(format!("You are not allowed to connect on app-connections: App Connection with ID {org_conn} belongs to the whole organization, and only organization admins may use it in a rotation. Ask an org admin, or use a connection of this project.")),
    );
    assert_eq!(w.app.count("secret_rotations").await, 0);
    assert_eq!(org_events(&w).await, events, "Salesforce was called");

    // D17: A's project connection, named by B in B's project: the same 404 as an unknown id.
    body["connectionId"] = json!(w.connection);
    let r = w.app.post(BASE, &b_token, body.clone()).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!(
            "Could not find App Connection with ID {}",
            w.connection
        )),
    );
    assert!(!r.body.to_string().contains(&w.project));

    // The org admin may use the org-wide connection; a project member of that rotation may
    // rotate it, but not point it at another app.
    let mut admin_body = w.sample();
    admin_body["connectionId"] = json!(org_conn);
    let r = w.app.post(BASE, &w.token, admin_body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    w.app
        .add_member(&w.token, &w.project, &b_id, "member")
        .await;
    assert_eq!(
        w.app
            .post(&format!("{BASE}/{id}/rotate-secrets"), &b_token, json!({}))
            .await
            .status,
        200
    );
    let r = w
        .app
        .patch(
            &format!("{BASE}/{id}"),
            &b_token,
            json!({"parameters": {"appId": w.connector.id, "appName": "Rotary_Connector"}}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.body["error"], "PermissionDenied");
}

#[tokio::test]
async fn d18_metrics_need_the_metrics_token_or_an_org_admin() {
    let options = rotary::config::Options {
        metrics_token: Some("scrape-me-please-0123456789".to_string().into()),
        ..crate::helpers::test_options()
    };
    let url = crate::helpers::fresh_database().await;
    let app =
        crate::helpers::spawn_server(&url, rotary::crypto::Key::generate(), options, false).await;
    let admin = app.admin_token().await;
    let (_, member) = app.new_identity(&admin, "watcher", "member").await;
    let scrape = |token: Option<&str>| {
        let mut request = app.client.get(format!("{}/metrics", app.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    let (status, body) = scrape(None).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("rotation_id"), "{body}");
    assert_eq!(scrape(Some("wrong-token-0123456789")).await.0, 401);
    assert_eq!(scrape(Some(&member)).await.0, 403);
    let (status, body) = scrape(Some("scrape-me-please-0123456789")).await;
    assert_eq!(status, 200);
    assert!(body.contains("rotary_active_credentials"), "{body}");
    assert_eq!(scrape(Some(&admin)).await.0, 200);
}

#[tokio::test]
async fn d19_console_answers_cannot_be_framed_or_sniffed() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/",
        "/console/sign-in",
        "/console/projects",
        "/console/assets/console.css",
    ] {
        let r = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            h["content-security-policy"], "frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    }
}

/// A client whose requests come from `source` (any 127.x.y.z works on loopback).
fn from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(source.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_from(
    app: &crate::helpers::TestApp,
    source: &str,
    client_id: &str,
    secret: &str,
) -> u16 {
    from(source)
        .post(format!("{}/api/v1/auth/universal-auth/login", app.base))
        .json(&json!({"clientId": client_id, "clientSecret": secret}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn d6_d11_d12_the_login_limiter_keys_by_parsed_id_and_source_and_stays_small() {
    let app = crate::helpers::spawn_app_with(rotary::config::Limits {
        failed_logins_per_minute: 3,
    })
    .await;
    let (client_id, secret, _, _) = app.bootstrap().await;
    let limiter = &app.state.as_ref().unwrap().login_limiter;
    // D6: junk client ids (100 kB each) are not kept as keys: only their source's count.
    for i in 0..3 {
        let junk = format!("{}{i}", "x".repeat(100_000));
        assert_eq!(login_from(&app, "127.0.5.1", &junk, "s").await, 401);
    }
    assert_eq!(limiter.len(), 1);
    // D12: other spellings of the id count as the id (and are refused, here by the source's
    // count: upper case, no dashes, braces, urn, spaces).
    let upper = client_id.to_uppercase();
    let simple = client_id.replace('-', "");
    let braced = format!("{{{client_id}}}");
    let urn = format!("urn:uuid:{client_id}");
    let spaced = format!("  {client_id} ");
    for (i, spelling) in [&client_id, &upper, &simple].iter().enumerate() {
        assert_eq!(
            login_from(&app, "127.0.5.2", spelling, "wrong").await,
            401,
            "{i}"
        );
    }
    for spelling in [&client_id, &upper, &simple, &braced, &urn, &spaced] {
        assert_eq!(
            login_from(&app, "127.0.5.2", spelling, &secret).await,
            429,
            "{spelling} logged in during the lockout"
        );
    }
    // D11: the lockout holds for that source only: the identity still logs in elsewhere.
    assert_eq!(login_from(&app, "127.0.5.3", &upper, &secret).await, 200);
    assert_eq!(
        login_from(&app, "127.0.5.4", &client_id, &secret).await,
        200
    );
    assert!(limiter.len() <= 3, "{} keys", limiter.len());
}

#[tokio::test]
async fn d5_parallel_connection_names_and_folder_renames_get_the_400_never_a_500() {
    let w = world().await;
    let (base, token) = (w.app.base.clone(), w.token.clone());
    let body = json!({"name": "twin", "method": "client-credentials", "projectId": w.project,
        "credentials": {"instanceUrl": w.org_base, "consumerKey": w.connector.key, "consumerSecret": w.connector.secret}});
    race("connection", || {
        let (base, token, body) = (base.clone(), token.clone(), body.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(format!("{base}/api/v1/app-connections/salesforce"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    })
    .await;
    // Twenty folders renamed to one name at once.
    let mut ids = Vec::new();
    for i in 0..20 {
        let r = w
            .app
            .post(
                "/api/v2/folders",
                &w.token,
                json!({"projectId": w.project, "environment": "dev", "name": format!("f{i}"), "path": "/"}),
            )
            .await;
        ids.push(r.body["folder"]["id"].as_str().unwrap().to_string());
    }
    let ids = std::sync::Arc::new(std::sync::Mutex::new(ids));
    race("folder rename", || {
        let (base, token) = (base.clone(), token.clone());
        let id = ids.lock().unwrap().pop().unwrap();
        tokio::spawn(async move {
            reqwest::Client::new()
                .patch(format!("{base}/api/v2/folders/{id}"))
                .bearer_auth(token)
                .json(&json!({"name": "same"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    })
    .await;
}
