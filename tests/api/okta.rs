//! What `okta-client-secret` and the `okta` connection do beyond the generic suite
//! (`suite_targets::Okta`), each test against a mock Okta org of its own: Infisical's wire
//! and refusals, the apps helper, an app that already holds two secrets, the app's original
//! secret deleted at the second rotation (and a secret added since never), a secret whose
//! answer was lost found again instead of duplicated, and revoke.

use serde_json::json;

use crate::helpers::{assert_error, fresh_database, spawn_server, test_options};
use crate::suite::{self, Target};
use crate::suite_targets::Okta;

const BASE: &str = "/api/v2/secret-rotations/okta-client-secret";
const CONNECTIONS: &str = "/api/v1/app-connections/okta";

async fn world() -> Okta {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    Okta::on(app, &url).await
}

fn values(o: &Okta, app: &str) -> Vec<String> {
    o.mock
        .secrets(app)
        .into_iter()
        .map(|s| s.client_secret)
        .collect()
}

#[tokio::test]
async fn the_api_serves_okta_rotations_as_infisical_does() {
    let o = world().await;
    let (app, token) = (&o.app, &o.token);
    let entry = app.rotation_option(token, "okta-client-secret").await;
    assert_eq!(
        entry,
        Some(
            json!({"name": "Okta Client Secret", "type": "okta-client-secret", "connection": "okta",
                    "template": {"secretsMapping": {"clientId": "OKTA_CLIENT_ID", "clientSecret": "OKTA_CLIENT_SECRET"}}})
        )
    );
    for (parameters, code, message) in [
        (json!({}), "invalid_type", "Required"),
        (json!({"clientId": "  "}), "too_small", "Client ID Required"),
        (
            json!({"clientId": "0oa/../users"}),
            "custom",
            "Client ID must be an Okta app id (letters, digits, '_' and '-')",
        ),
    ] {
        let mut body = o.body("okta-rotation");
        body["parameters"] = parameters;
        let r = app.post(BASE, token, body).await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": ["parameters", "clientId"], "message": message}]),
        );
    }
    assert_eq!(app.count("rotation_runs").await, 0);
    assert_eq!(o.mock.secrets(&o.client_id).len(), 1);

    // Created: a 64-character secret of Rotary's choosing beside the app's own.
    let id = suite::create(&o, "okta").await;
    let (slots, active) = suite::generated(&o, &id).await;
    assert_eq!((slots.len(), active), (1, 0));
    assert_eq!(slots[0][0], o.client_id);
    assert_eq!(slots[0][1].len(), 64);
    assert_eq!(
        values(&o, &o.client_id),
        vec![o.initial.clone(), slots[0][1].clone()]
    );
    let view = app.get(&format!("{BASE}/{id}"), token).await;
    assert_eq!(
        view.body["secretRotation"]["parameters"],
        json!({"clientId": o.client_id})
    );
    // One rotation per app.
    let mut second = o.body("second");
    second["secretsMapping"] = json!({"clientId": "OTHER_ID", "clientSecret": "OTHER_SECRET"});
    let r = app.post(BASE, token, second).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!("The Okta app \"{}\" is already rotated by another Okta Client Secret rotation. Delete the other rotation first.", o.client_id)),
    );
}

#[tokio::test]
async fn okta_connections_are_validated_with_users_me() {
    let o = world().await;
    let (app, token) = (&o.app, &o.token);
    let body = |url: &str, api_token: &str| {
        json!({"name": "other", "method": "api-token", "projectId": o.project,
               "credentials": {"instanceUrl": url, "apiToken": api_token}})
    };
    let wrong = format!("00{}", "x".repeat(40));
    let r = app.post(CONNECTIONS, token, body(&o.url, &wrong)).await;
    assert_error(
        &r,
        401,
        "UnauthorizedError",
        json!("Unable to validate connection: invalid credentials"),
    );
    for (url, api_token, field, code, message) in [
        (
            "not a url",
            o.api_token.as_str(),
            "instanceUrl",
            "invalid_string",
            "Invalid Instance URL",
        ),
        (
            "",
            o.api_token.as_str(),
            "instanceUrl",
            "too_small",
            "Instance URL required",
        ),
        (
            o.url.as_str(),
            "SSWS 00abc",
            "apiToken",
            "invalid_string",
            "Invalid Okta API Token format",
        ),
        (
            o.url.as_str(),
            " ",
            "apiToken",
            "too_small",
            "API Token required",
        ),
    ] {
        let r = app.post(CONNECTIONS, token, body(url, api_token)).await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": ["credentials", field], "message": message}]),
        );
    }
    // Saved without the trailing slash; the token is never shown.
    let r = app
        .post(
            CONNECTIONS,
            token,
            body(&format!("{}/", o.url), &o.api_token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["appConnection"]["credentials"],
        json!({"instanceUrl": o.url})
    );
    assert_eq!(r.body["appConnection"]["method"], "api-token");
    assert!(!r.body.to_string().contains(&o.api_token));
    let options = app.get("/api/v1/app-connections/options", token).await;
    assert!(
        options.body["appConnectionOptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["app"] == "okta"
                && e["name"] == "Okta"
                && e["methods"] == json!(["api-token"])),
        "{}",
        options.body
    );
}

#[tokio::test]
async fn the_apps_helper_lists_active_oidc_apps_over_every_page() {
    let o = world().await;
    let mut expected = vec![json!({"id": o.client_id, "label": "Suite app"})];
    {
        let mut org = o.mock.org();
        org.knobs.page_size = 2;
        for i in 0..4 {
            let (id, _) = org.add_app(&format!("App {i}"));
            expected.push(json!({"id": id, "label": format!("App {i}")}));
        }
        let (bookmark, _) = org.add_app("A bookmark");
        org.apps.iter_mut().find(|a| a.id == bookmark).unwrap().name = "bookmark".into();
        let (off, _) = org.add_app("Switched off");
        org.apps.iter_mut().find(|a| a.id == off).unwrap().status = "INACTIVE".into();
    }
    let r = o
        .app
        .get(&format!("{CONNECTIONS}/{}/apps", o.connection), &o.token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"apps": expected}));
    let pages = o
        .mock
        .harness()
        .requests()
        .iter()
        .filter(|l| l.op == "list_apps")
        .count();
    assert_eq!(pages, 4, "seven apps, two per page");
}

#[tokio::test]
async fn an_app_that_already_holds_two_secrets_is_refused_in_infisical_s_words() {
    let o = world().await;
    let second = {
        let mut org = o.mock.org();
        let app = org.apps.iter_mut().find(|a| a.id == o.client_id).unwrap();
        let mut s = app.secrets[0].clone();
        s.id = "ocsSecondSecret00001".into();
        s.client_secret = "a-second-secret-someone-made".into();
        app.secrets.push(s);
        "a-second-secret-someone-made".to_string()
    };
    let r = o.app.post(BASE, &o.token, o.body("full")).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!("Rotary encountered an issue while generating credentials with the configured inputs: Failed to add client secret to Okta app {}: You must have only a single secret for the Okta app prior to creating this secret rotation.", o.client_id)),
    );
    assert_eq!(o.app.count("secret_rotations").await, 0);
    assert_eq!(values(&o, &o.client_id), vec![o.initial.clone(), second]);
}

#[tokio::test]
async fn the_apps_own_secret_goes_at_the_second_rotation_and_one_added_since_never() {
    let o = world().await;
    let id = suite::create(&o, "okta").await;
    let first = suite::mapped(&o).await;
    let r = suite::rotate(&o, &id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = suite::mapped(&o).await;
    // The original secret made room; the first rotated one still works (dual-phase).
    assert_eq!(
        values(&o, &o.client_id),
        vec![first[1].clone(), second[1].clone()]
    );
    assert!(o.works(&first).await && o.works(&second).await);
    let runs = o.app.get(&format!("{BASE}/{id}/runs"), &o.token).await;
    assert!(
        runs.body
            .to_string()
            .contains("the app had before this rotation was created"),
        "{}",
        runs.body
    );

    // Someone deletes the inactive secret and adds one of their own: Rotary leaves theirs.
    let theirs = {
        let mut org = o.mock.org();
        let app = org.apps.iter_mut().find(|a| a.id == o.client_id).unwrap();
        app.secrets.retain(|s| s.client_secret != first[1]);
        let mut s = app.secrets[0].clone();
        s.id = "ocsTheirsTheirs00001".into();
        s.client_secret = "their-own-secret-value".into();
        s.created = chrono::Utc::now();
        app.secrets.push(s);
        "their-own-secret-value".to_string()
    };
    let r = suite::rotate(&o, &id).await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("the app holds ocsTheirsTheirs00001, which this rotation did not issue: delete it in Okta and rotate again"),
        "{}",
        r.body
    );
    assert_eq!(values(&o, &o.client_id), vec![second[1].clone(), theirs]);
    assert_eq!(suite::mapped(&o).await, second);
    assert!(o.works(&second).await);
}

#[tokio::test]
async fn a_secret_whose_answer_was_lost_is_found_again_not_duplicated() {
    let o = world().await;
    let id = suite::create(&o, "okta").await;
    // Okta adds the secret, then the answer is lost (a 503 after the effect).
    o.mock.harness().faults.lock().unwrap().push(
        serde_json::from_value(
            json!({"id": "lost", "match": {"op": "create_secret", "times": 1},
                                      "phase": "after", "action": {"status": 503}}),
        )
        .unwrap(),
    );
    let r = suite::rotate(&o, &id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let now = suite::mapped(&o).await;
    assert!(o.works(&now).await);
    let secrets = values(&o, &o.client_id);
    assert_eq!(secrets.len(), 2, "no duplicate: {secrets:?}");
    assert!(secrets.contains(&now[1]));
    let creates = o
        .mock
        .harness()
        .requests()
        .iter()
        .filter(|l| l.op == "create_secret")
        .count();
    assert_eq!(
        creates, 2,
        "the create, then none again after the lost answer"
    );
}

#[tokio::test]
async fn revoke_leaves_the_app_one_secret_nobody_keeps() {
    let o = world().await;
    let id = suite::create(&o, "okta").await;
    assert_eq!(suite::rotate(&o, &id).await.status, 200);
    let (slots, _) = suite::generated(&o, &id).await;
    let r = o
        .app
        .delete(
            &format!("{BASE}/{id}?deleteSecrets=true&revokeGeneratedCredentials=true"),
            &o.token,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let left = o.mock.secrets(&o.client_id);
    assert_eq!(left.len(), 1, "Okta keeps one active secret per app");
    assert_eq!(left[0].status, "ACTIVE");
    for slot in &slots {
        assert!(!o.works(slot).await, "a revoked secret authenticates");
        assert_ne!(left[0].client_secret, slot[1]);
    }
    assert_ne!(left[0].client_secret, o.initial);
}

#[tokio::test]
async fn a_fault_at_any_okta_call_keeps_the_invariants() {
    let o = world().await;
    let id = suite::create(&o, "okta").await;
    assert_eq!(suite::rotate(&o, &id).await.status, 200);
    suite::a_fault_at_any_provider_call_keeps_the_invariants(
        &o,
        &id,
        &[
            "list_secrets",
            "create_secret",
            "get_secret",
            "deactivate_secret",
            "delete_secret",
        ],
        |rule| {
            let mut rules = o.mock.harness().faults.lock().unwrap();
            match rule {
                Some(r) => rules.push(serde_json::from_value(r).unwrap()),
                None => rules.clear(),
            }
        },
    )
    .await;
}
