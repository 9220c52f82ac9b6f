//! What `mongodb-credentials` and the `mongodb` connection do beyond the generic suite
//! (`suite_targets::Mongo`), against a MongoDB protocol server of each test's own: Infisical's
//! wire (options template, parameters without rotationStatement, refusals), and a fault before
//! and after every MongoDB command a rotation sends.

use serde_json::json;

use crate::helpers::{fresh_database, spawn_server, test_options};
use crate::suite::{self, Target};
use crate::suite_targets::{Mongo, MONGO_MANAGER_PASSWORD};
use rotary::mock::mongodb::{Fault, FaultAction};

const BASE: &str = "/api/v2/secret-rotations/mongodb-credentials";
const CONNECTIONS: &str = "/api/v1/app-connections/mongodb";

async fn world() -> Mongo {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    Mongo::on(app, &url).await
}

#[tokio::test]
async fn the_api_serves_mongodb_rotations_as_infisical_does() {
    let m = world().await;
    let (app, token) = (&m.app, &m.token);
    let entry = app
        .rotation_option(token, "mongodb-credentials")
        .await
        .unwrap();
    assert_eq!(entry["connection"], "mongodb");
    assert_eq!(
        entry["template"]["secretsMapping"],
        json!({"username": "MONGODB_DB_USERNAME", "password": "MONGODB_DB_PASSWORD"})
    );
    assert!(entry["template"]["createUserStatement"]
        .as_str()
        .unwrap()
        .starts_with("use [DATABASE_NAME]\ndb.createUser({\n  user: \"infisical_user_1\","));
    assert!(entry["template"].get("rotationStatement").is_none());

    // The connection: what it shows, a wrong password in MongoDB's words, SRV refused.
    let r = app
        .get(&format!("{CONNECTIONS}/{}", m.connection), token)
        .await;
    let (host, port) = m.server.address.rsplit_once(':').unwrap();
    assert_eq!(
        r.body["appConnection"]["credentials"],
        json!({"host": host, "port": port.parse::<u16>().unwrap(), "database": "app", "username": "rotary",
               "tlsEnabled": false, "tlsRejectUnauthorized": false, "tlsCertificate": null})
    );
    let r = app
        .post(
            CONNECTIONS,
            token,
            m.connection_body("wrong", "not-the-password"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Unable to validate connection:")
            && message.contains("Authentication failed."),
        "{message}"
    );
    let mut srv = m.connection_body("srv", MONGO_MANAGER_PASSWORD);
    srv["credentials"]["host"] = json!("mongodb+srv://cluster0.example.net");
    let r = app.post(CONNECTIONS, token, srv).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains("mongodb+srv"));

    // A rotationStatement is dropped (MongoDB's parameters have none); a user that does not
    // exist fails the create with MongoDB's words and creates nothing.
    let mut body = m.body("mongo");
    body["parameters"]["rotationStatement"] =
        json!("ALTER USER {{username}} WITH PASSWORD '{{password}}'");
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["secretRotation"]["parameters"],
        json!({"username1": "app_user_1", "username2": "app_user_2"})
    );
    m.server
        .add_user("app", "ghost_1", "x", &[("readWrite", "app")]);
    let mut body = m.body("missing");
    body["parameters"] = json!({"username1": "nobody_1", "username2": "ghost_1"});
    body["secretsMapping"] = json!({"username": "OTHER_USER", "password": "OTHER_PASSWORD"});
    let r = app.post(BASE, token, body).await;
    assert!(
        r.status.is_client_error() || r.status.is_server_error(),
        "{}",
        r.body
    );
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("User \"nobody_1@app\" not found"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_fault_before_and_after_every_mongodb_command_keeps_the_invariants() {
    let m = world().await;
    let id = suite::create(&m, "faults").await;
    let server = m.server.clone();
    suite::a_fault_at_any_provider_call_keeps_the_invariants(
        &m,
        &id,
        &["saslStart", "updateUser", "ping"],
        |rule| match rule {
            None => server.clear_faults(),
            Some(r) => server.fault(Fault {
                command: r["match"]["op"].as_str().unwrap().to_string(),
                after: r["phase"] == "after",
                // 503: MongoDB shutting down (ShutdownInProgress, which passes); 400: BadValue.
                action: if r["action"]["status"] == 503 {
                    FaultAction::Error(
                        91,
                        "injected: The server is in quiesce mode and will shut down".into(),
                    )
                } else {
                    FaultAction::Error(2, "injected: BadValue".into())
                },
                times: r["match"]["times"].as_u64().unwrap_or(1) as u32,
            }),
        },
    )
    .await;
    // A dropped connection after updateUser changed the password: the retry re-applies it.
    m.server.fault(Fault {
        command: "updateUser".into(),
        after: true,
        action: FaultAction::Drop,
        times: 1,
    });
    assert_eq!(suite::rotate(&m, &id).await.status, 200);
    suite::assert_converged(&m, &id, "a dropped updateUser").await;
}
