//! What `auth0-client-secret` and the `auth0` connection do beyond the generic suite
//! (`suite_targets::Auth0`), each test against a mock tenant of its own: Infisical's wire and
//! refusals, the clients helper, one Management API token for many runs (and a refused one
//! fetched again), a PATCH whose answer was lost, and revoke.

use serde_json::json;

use crate::helpers::{assert_error, fresh_database, spawn_server, test_options};
use crate::suite::{self, Target};
use crate::suite_targets::Auth0;

const BASE: &str = "/api/v2/secret-rotations/auth0-client-secret";
const CONNECTIONS: &str = "/api/v1/app-connections/auth0";

async fn world() -> Auth0 {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    Auth0::on(app, &url).await
}

fn ops(a: &Auth0, op: &str) -> usize {
    a.mock
        .harness()
        .requests()
        .iter()
        .filter(|l| l.op == op)
        .count()
}

fn fault(a: &Auth0, rule: serde_json::Value) {
    a.mock
        .harness()
        .faults
        .lock()
        .unwrap()
        .push(serde_json::from_value(rule).unwrap());
}

#[tokio::test]
async fn the_api_serves_auth0_rotations_as_infisical_does() {
    let a = world().await;
    let (app, token) = (&a.app, &a.token);
    let entry = app.rotation_option(token, "auth0-client-secret").await;
    assert_eq!(
        entry,
        Some(
            json!({"name": "Auth0 Client Secret", "type": "auth0-client-secret", "connection": "auth0",
                    "template": {"secretsMapping": {"clientId": "AUTH0_CLIENT_ID", "clientSecret": "AUTH0_CLIENT_SECRET"}}})
        )
    );
    for (parameters, code, message) in [
        (json!({}), "invalid_type", "Required"),
        (json!({"clientId": " "}), "too_small", "Client ID Required"),
    ] {
        let mut body = a.body("auth0-rotation");
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
    assert!(a.works(&[a.client_id.clone(), a.initial.clone()]).await);

    // Created: a 48-character secret of Rotary's choosing replaced the application's own.
    let id = suite::create(&a, "auth0").await;
    let (slots, _) = suite::generated(&a, &id).await;
    assert_eq!(slots[0][0], a.client_id);
    assert_eq!(slots[0][1].len(), 48);
    assert!(a.works(&slots[0]).await);
    assert!(!a.works(&[a.client_id.clone(), a.initial.clone()]).await);
    let mut second = a.body("second");
    second["secretsMapping"] = json!({"clientId": "OTHER_ID", "clientSecret": "OTHER_SECRET"});
    let r = app.post(BASE, token, second).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!("The Auth0 application \"{}\" is already rotated by another Auth0 Client Secret rotation. Delete the other rotation first.", a.client_id)),
    );
}

#[tokio::test]
async fn auth0_connections_are_validated_with_a_management_api_token() {
    let a = world().await;
    let (app, token) = (&a.app, &a.token);
    let r = app
        .post(
            CONNECTIONS,
            token,
            a.connection_body("other", "not-the-secret"),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Unable to validate connection: Unauthorized"),
    );
    for (field, value, code, message) in [
        ("domain", "", "too_small", "Domain required"),
        ("clientSecret", "", "too_small", "Client Secret required"),
        ("audience", "not a url", "invalid_string", "Invalid url"),
    ] {
        let mut body = a.connection_body("other", &a.m2m.1);
        body["credentials"][field] = json!(value);
        let r = app.post(CONNECTIONS, token, body).await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": ["credentials", field], "message": message}]),
        );
    }
    let view = app
        .get(&format!("{CONNECTIONS}/{}", a.connection), token)
        .await;
    assert_eq!(
        view.body["appConnection"]["credentials"],
        json!({"domain": a.url, "clientId": a.m2m.0, "audience": a.mock.tenant().audience()})
    );
    assert!(!view.body.to_string().contains(&a.m2m.1));
}

#[tokio::test]
async fn the_clients_helper_leaves_out_the_connection_s_own_and_all_applications() {
    let a = world().await;
    let r = a
        .app
        .get(&format!("{CONNECTIONS}/{}/clients", a.connection), &a.token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"clients": [{"id": a.client_id, "name": "Suite app"}]})
    );
}

#[tokio::test]
async fn runs_share_one_management_token_and_fetch_a_refused_one_again() {
    let a = world().await;
    let before = ops(&a, "token");
    let id = suite::create(&a, "auth0").await;
    assert_eq!(suite::rotate(&a, &id).await.status, 200);
    // Per run: the new secret checked before the PATCH and after it; one Management API
    // token for both runs.
    assert_eq!(ops(&a, "token") - before, 2 * 2 + 1);
    // The token is refused once (revoked, say): fetched again, and the PATCH goes through.
    fault(
        &a,
        json!({"id": "expired", "match": {"op": "update_client", "times": 1},
               "action": {"status": 401, "body": "{\"statusCode\":401,\"error\":\"Unauthorized\",\"message\":\"Invalid token\"}"}}),
    );
    let r = suite::rotate(&a, &id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(a.works(&suite::mapped(&a).await).await);
    assert_eq!(ops(&a, "token") - before, 3 * 2 + 2);
}

#[tokio::test]
async fn a_patch_whose_answer_was_lost_rolls_forward() {
    let a = world().await;
    let id = suite::create(&a, "auth0").await;
    fault(
        &a,
        json!({"id": "lost", "match": {"op": "update_client", "times": 1}, "phase": "after",
               "action": {"status": 503}}),
    );
    let r = suite::rotate(&a, &id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let now = suite::mapped(&a).await;
    assert!(
        a.works(&now).await,
        "the secret Auth0 holds is the published one"
    );
    assert_eq!(
        ops(&a, "update_client"),
        2,
        "the create's PATCH and the lost one, not a third"
    );
}

#[tokio::test]
async fn revoke_has_auth0_generate_a_secret_nobody_keeps() {
    let a = world().await;
    let id = suite::create(&a, "auth0").await;
    let mapped = suite::mapped(&a).await;
    let r = a
        .app
        .delete(
            &format!("{BASE}/{id}?deleteSecrets=true&revokeGeneratedCredentials=true"),
            &a.token,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!a.works(&mapped).await);
    assert!(!a.works(&[a.client_id.clone(), a.initial.clone()]).await);
    assert_eq!(ops(&a, "rotate_secret"), 1);
}

#[tokio::test]
async fn a_fault_at_any_auth0_call_keeps_the_invariants() {
    let a = world().await;
    let id = suite::create(&a, "auth0").await;
    suite::a_fault_at_any_provider_call_keeps_the_invariants(
        &a,
        &id,
        &["token", "update_client"],
        |rule| {
            let mut rules = a.mock.harness().faults.lock().unwrap();
            match rule {
                Some(r) => rules.push(serde_json::from_value(r).unwrap()),
                None => rules.clear(),
            }
        },
    )
    .await;
}
