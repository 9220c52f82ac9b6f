//! What `azure-client-secret` and the `azure-client-secrets` connection do beyond the generic
//! suite (`suite_targets::Azure`), each test in a tenant of its own of the process's mock of
//! Microsoft: Infisical's wire and refusals (the five-year limit before anything is created),
//! the methods, the clients helper, Entra ID's replication delay waited out, a fault before and
//! after every Graph call (a lost addPassword answer: the run's own orphan removed), Graph's
//! concurrency error retried, and revoke.

use serde_json::json;

use crate::helpers::{assert_error, fresh_database, spawn_server, test_options};
use crate::suite::{self, Target};
use crate::suite_targets::Azure;

const BASE: &str = "/api/v2/secret-rotations/azure-client-secret";
const CONNECTIONS: &str = "/api/v1/app-connections/azure-client-secrets";

async fn world() -> Azure {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    Azure::on(app, &url).await
}

fn secrets(a: &Azure) -> Vec<String> {
    a.mock
        .directory()
        .app(a.tenant, a.object_id)
        .unwrap()
        .passwords
        .iter()
        .map(|p| p.display_name.clone())
        .collect()
}

fn rule(a: &Azure, rule: Option<serde_json::Value>) {
    let mut rules = a.mock.harness().faults.lock().unwrap();
    match rule {
        Some(mut r) => {
            // The mock is the process's: a rule names this world's application.
            r["match"]["app"] = json!(a.object_id.to_string());
            rules.push(serde_json::from_value(r).unwrap());
        }
        None => rules.retain(|r| r.when.app.as_deref() != Some(&a.object_id.to_string())),
    }
}

#[tokio::test]
async fn the_api_serves_azure_rotations_as_infisical_does() {
    let a = world().await;
    let (app, token) = (&a.app, &a.token);
    let entry = app.rotation_option(token, "azure-client-secret").await;
    assert_eq!(
        entry,
        Some(
            json!({"name": "Azure Client Secret", "type": "azure-client-secret", "connection": "azure-client-secrets",
                    "template": {"secretsMapping": {"clientId": "AZURE_CLIENT_ID", "clientSecret": "AZURE_CLIENT_SECRET"}}})
        )
    );
    for (field, value, code, message) in [
        ("objectId", "", "too_small", "Object ID Required"),
        ("clientId", " ", "too_small", "Client ID Required"),
        ("objectId", "../users", "invalid_string", "Invalid uuid"),
    ] {
        let mut body = a.body("azure-rotation");
        body["parameters"][field] = json!(value);
        let r = app.post(BASE, token, body).await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": ["parameters", field], "message": message}]),
        );
    }
    // Azure's five-year limit, checked before any secret exists (Infisical checks after).
    let mut body = a.body("too-long");
    body["rotationInterval"] = json!(910);
    let r = app.post(BASE, token, body).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Rotary encountered an issue while generating credentials with the configured inputs: Azure does not support token duration over 5 years: a rotation interval of at most 909 days keeps each secret (two intervals and three days) within it"),
    );
    assert_eq!(secrets(&a), vec!["initial"]);
    assert_eq!(app.count("secret_rotations").await, 0);

    let id = suite::create(&a, "azure").await;
    let (slots, _) = suite::generated(&a, &id).await;
    assert_eq!(slots[0][0], a.client_id.to_string());
    let names = secrets(&a);
    assert_eq!(names.len(), 2);
    assert!(
        names[1].starts_with("Rotary rotated secret (run "),
        "{names:?}"
    );
    let view = app.get(&format!("{BASE}/{id}"), token).await;
    assert_eq!(
        view.body["secretRotation"]["parameters"],
        json!({"objectId": a.object_id, "clientId": a.client_id, "appName": "Suite app"})
    );
    // Two intervals and three days.
    let end = a
        .mock
        .directory()
        .app(a.tenant, a.object_id)
        .unwrap()
        .passwords[1]
        .end_date_time;
    let days = (end - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((62.9..=63.0).contains(&days), "{days}");
}

#[tokio::test]
async fn azure_connections_take_client_secrets_and_explain_oauth() {
    let a = world().await;
    let (app, token) = (&a.app, &a.token);
    let r = app
        .post(
            CONNECTIONS,
            token,
            a.connection_body("other", "not-the-secret"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Failed to get access token: AADSTS7000215: Invalid client secret provided."
        ),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"));
    let r = app
        .post(
            CONNECTIONS,
            token,
            json!({"name": "oauth", "method": "oauth", "projectId": a.project,
                   "credentials": {"tenantId": a.tenant, "code": "abc"}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().starts_with(
        "The oauth method needs an Azure OAuth app registration of this server's own"
    ));
    let mut body = a.connection_body("other", &a.manager.1);
    body["credentials"]
        .as_object_mut()
        .unwrap()
        .remove("clientId");
    let r = app.post(CONNECTIONS, token, body).await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["credentials", "clientId"], "message": "Required"}]),
    );
    let view = app
        .get(&format!("{CONNECTIONS}/{}", a.connection), token)
        .await;
    assert_eq!(
        view.body["appConnection"]["credentials"],
        json!({"tenantId": a.tenant, "clientId": a.manager.0})
    );
    let r = app
        .get(&format!("{CONNECTIONS}/{}/clients", a.connection), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let clients = r.body["clients"].as_array().unwrap();
    assert!(
        clients.contains(&json!({"name": "Suite app", "id": a.object_id, "appId": a.client_id})),
        "{clients:?}"
    );
}

#[tokio::test]
async fn a_new_secret_is_published_once_entra_id_accepts_it() {
    let a = world().await;
    a.mock
        .directory()
        .tenants
        .get_mut(&a.tenant)
        .unwrap()
        .iter_mut()
        .find(|x| x.id == a.object_id)
        .unwrap()
        .new_secret_delay_ms = 1_200;
    let id = suite::create(&a, "azure").await;
    suite::assert_converged(&a, &id, "created after the delay").await;
}

#[tokio::test]
async fn a_fault_at_any_graph_call_keeps_the_invariants() {
    let a = world().await;
    let id = suite::create(&a, "azure").await;
    assert_eq!(suite::rotate(&a, &id).await.status, 200);
    suite::a_fault_at_any_provider_call_keeps_the_invariants(
        &a,
        &id,
        &["get_application", "add_password", "remove_password"],
        |r| rule(&a, r),
    )
    .await;
}

#[tokio::test]
async fn graph_s_concurrency_error_is_retried() {
    let a = world().await;
    let id = suite::create(&a, "azure").await;
    rule(
        &a,
        Some(
            json!({"id": "busy", "match": {"op": "add_password", "times": 1}, "action": {"status": 409}}),
        ),
    );
    let r = suite::rotate(&a, &id).await;
    rule(&a, None);
    assert_eq!(r.status, 200, "{}", r.body);
    suite::assert_converged(&a, &id, "after the retry").await;
}

#[tokio::test]
async fn revoke_removes_every_secret_the_rotation_holds() {
    let a = world().await;
    let id = suite::create(&a, "azure").await;
    assert_eq!(suite::rotate(&a, &id).await.status, 200);
    let (slots, _) = suite::generated(&a, &id).await;
    let r = a
        .app
        .delete(
            &format!("{BASE}/{id}?deleteSecrets=true&revokeGeneratedCredentials=true"),
            &a.token,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for slot in &slots {
        assert!(!a.works(slot).await);
    }
    assert_eq!(
        secrets(&a),
        vec!["initial"],
        "the app's own secret is not the rotation's"
    );
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn the_certificate_method_gets_tokens_with_a_signed_client_assertion() {
    let a = world().await;
    let (app, token) = (&a.app, &a.token);
    let (cert, key) = (
        fixture("azure-test-cert-1.pem"),
        fixture("azure-test-key-1.pem"),
    );
    let (other_cert, other_key) = (
        fixture("azure-test-cert-2.pem"),
        fixture("azure-test-key-2.pem"),
    );
    // The certificate is uploaded to the connection's own app registration.
    {
        let mut d = a.mock.directory();
        let manager = d.tenants[&a.tenant]
            .iter()
            .find(|x| x.app_id == a.manager.0)
            .unwrap()
            .id;
        d.add_certificate(a.tenant, manager, &cert);
    }
    let body = |name: &str, cert: &str, key: &str| {
        json!({"name": name, "method": "certificate", "projectId": a.project,
               "credentials": {"tenantId": a.tenant, "clientId": a.manager.0,
                               "certificateBody": cert, "privateKey": key}})
    };
    // A certificate the app registration does not have: Entra ID's refusal.
    let r = app
        .post(CONNECTIONS, token, body("other", &other_cert, &other_key))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "Failed to get access token: AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found."
        ),
        "{message}"
    );
    // Refused before any call: a key that is not the certificate's, a key that is not one.
    let r = app
        .post(CONNECTIONS, token, body("mixed", &cert, &other_key))
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("The private key does not belong to the certificate: give the key the certificate was made for"),
    );
    let r = app
        .post(CONNECTIONS, token, body("junk", &cert, "not a key"))
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Invalid private key format provided. Expected PEM format private key."),
    );
    let r = app
        .post(
            CONNECTIONS,
            token,
            body("no-cert", "not a certificate", &key),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Invalid certificate format provided. Expected PEM format certificate."),
    );
    let mut missing = body("missing", &cert, &key);
    missing["credentials"]
        .as_object_mut()
        .unwrap()
        .remove("privateKey");
    let r = app.post(CONNECTIONS, token, missing).await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["credentials", "privateKey"], "message": "Required"}]),
    );
    // The uploaded certificate and its key: saved, shown without either.
    let r = app
        .post(CONNECTIONS, token, body("cert", &cert, &key))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["appConnection"]["method"], "certificate");
    assert_eq!(
        r.body["appConnection"]["credentials"],
        json!({"tenantId": a.tenant, "clientId": a.manager.0})
    );
    assert!(!r.body.to_string().contains("PRIVATE KEY"));
    let connection = r.body["appConnection"]["id"].as_str().unwrap().to_string();
    // A rotation through it: Graph accepts the token the assertion got.
    let mut rotation = a.body("through-a-certificate");
    rotation["connectionId"] = json!(connection);
    let r = app.post(BASE, token, rotation).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    suite::assert_converged(&a, &id, "through a certificate").await;
    assert_eq!(suite::rotate(&a, &id).await.status, 200);
    suite::assert_converged(&a, &id, "rotated through a certificate").await;
}
