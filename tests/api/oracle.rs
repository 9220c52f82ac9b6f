//! What `oracledb-credentials` and the `oracledb` connection do beyond the generic suite
//! (`suite_targets::Oracle`), against an Oracle protocol server of each test's own:
//! Infisical's wire (options template, connection fields), Oracle's case rule and 30-byte
//! passwords, its refusals in Rotary's words, TCPS with a checked certificate, and a fault
//! before and after every operation a rotation runs.

use serde_json::json;

use crate::helpers::{fresh_database, spawn_server, test_options};
use crate::suite::{self, Target};
use crate::suite_targets::{Oracle, ORACLE_MANAGER_PASSWORD};
use rotary::mock::oracle::{Fault, FaultAction};

const BASE: &str = "/api/v2/secret-rotations/oracledb-credentials";
const CONNECTIONS: &str = "/api/v1/app-connections/oracledb";

async fn world() -> Oracle {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    Oracle::on(app, &url).await
}

#[tokio::test]
async fn the_api_serves_oracle_rotations_as_infisical_does() {
    let m = world().await;
    let (app, token) = (&m.app, &m.token);
    let entry = app
        .rotation_option(token, "oracledb-credentials")
        .await
        .unwrap();
    assert_eq!(entry["name"], "OracleDB Credentials");
    assert_eq!(entry["connection"], "oracledb");

    // The connection: what it shows, a wrong password, an unknown service.
    let r = app
        .get(&format!("{CONNECTIONS}/{}", m.connection), token)
        .await;
    let (host, port) = m.server.address.rsplit_once(':').unwrap();
    assert_eq!(
        r.body["appConnection"]["credentials"],
        json!({"host": host, "port": port.parse::<u16>().unwrap(), "database": "FREEPDB1", "username": "rotary",
               "sslEnabled": false, "sslRejectUnauthorized": false, "sslCertificate": null})
    );
    let r = app
        .post(
            CONNECTIONS,
            token,
            m.connection_body("wrong", "Not-the-pw-1"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body["message"],
        "Unable to validate connection: Oracle refused the logon of \"rotary\" (ORA-01017: wrong password, or no such user; user names are case-sensitive here, usually UPPERCASE)"
    );
    let mut body = m.connection_body("elsewhere", ORACLE_MANAGER_PASSWORD);
    body["credentials"]["database"] = json!("NOPE");
    let r = app.post(CONNECTIONS, token, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains("ORA-12514"),
        "{}",
        r.body
    );
    let mut body = m.connection_body("injected", ORACLE_MANAGER_PASSWORD);
    body["credentials"]["database"] = json!("X)(HOST=elsewhere");
    let r = app.post(CONNECTIONS, token, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("is not an Oracle service name"),
        "{}",
        r.body
    );

    // The name is taken exactly: the lower-case name of an UPPERCASE user does not exist.
    let mut body = m.body("lower");
    body["parameters"] = json!({"username1": "app_user_1", "username2": "app_user_2"});
    body["secretsMapping"] = json!({"username": "OTHER_USER", "password": "OTHER_PASSWORD"});
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("no user \"app_user_1\" exists (ORA-01918)"),
        "{}",
        r.body
    );
    assert!(m.server.authenticates("APP_USER_1", "Initial-pw-0"));

    // Passwords over 30 bytes are refused before any call to Oracle.
    let before = m.server.log().len();
    let mut body = m.body("long");
    body["parameters"]["passwordRequirements"] = json!({"length": 31, "required": {"lowercase": 1, "uppercase": 1, "digits": 1, "symbols": 0}});
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("at most 30 bytes"),
        "{}",
        r.body
    );
    assert_eq!(m.server.log().len(), before, "{:?}", m.server.log());
    let r = app
        .get(&format!("{BASE}?projectId={}", m.project), token)
        .await;
    assert!(
        r.body["secretRotations"].as_array().unwrap().is_empty(),
        "{}",
        r.body
    );

    // The default password is 30 characters; Infisical's template as a rotationStatement works.
    let mut body = m.body("templated");
    body["parameters"]["rotationStatement"] =
        json!("ALTER USER \"{{username}}\" IDENTIFIED BY \"{{password}}\"");
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("{BASE}/{id}/generated-credentials"), token)
        .await;
    let password = r.body["generatedCredentials"][0]["password"]
        .as_str()
        .unwrap();
    assert_eq!(password.len(), 30, "{}", r.body);
    assert_eq!(suite::rotate(&m, &id).await.status, 200);
    suite::assert_converged(&m, &id, "a templated statement").await;
}

#[tokio::test]
async fn tcps_checks_the_certificate_against_sslcertificate() {
    let m = world().await;
    let (app, token) = (&m.app, &m.token);
    let cert = crate::test_cert::TestCert::new(&["localhost"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = m
        .server
        .listen_tcps(listener, &cert.cert_pem, &cert.key_pem)
        .unwrap();
    let port: u16 = address.rsplit_once(':').unwrap().1.parse().unwrap();
    let body = |name: &str, ca: &str, verify: bool| {
        json!({"name": name, "method": "username-and-password", "projectId": m.project,
               "credentials": {"host": "localhost", "port": port, "database": "FREEPDB1", "username": "rotary",
                               "password": ORACLE_MANAGER_PASSWORD, "sslEnabled": true,
                               "sslRejectUnauthorized": verify, "sslCertificate": ca}})
    };
    let r = app
        .post(CONNECTIONS, token, body("tcps", &cert.ca_pem, true))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tls = r.body["appConnection"]["id"].as_str().unwrap().to_string();
    let other = crate::test_cert::TestCert::new(&["localhost"]);
    let r = app
        .post(CONNECTIONS, token, body("other-ca", &other.ca_pem, true))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Unable to validate connection: the TLS handshake with Oracle failed"),
        "{}",
        r.body
    );
    // The driver cannot skip the check: said, not silently done anyway.
    let r = app
        .post(CONNECTIONS, token, body("unchecked", &cert.ca_pem, false))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("set sslRejectUnauthorized to true"),
        "{}",
        r.body
    );

    let mut rotation = m.body("over-tcps");
    rotation["connectionId"] = json!(tls);
    let r = app.post(BASE, token, rotation).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    assert_eq!(suite::rotate(&m, &id).await.status, 200);
    suite::assert_converged(&m, &id, "a rotation over TCPS").await;
}

#[tokio::test]
async fn a_fault_before_and_after_every_oracle_operation_keeps_the_invariants() {
    let m = world().await;
    let id = suite::create(&m, "faults").await;
    let server = m.server.clone();
    suite::a_fault_at_any_provider_call_keeps_the_invariants(
        &m,
        &id,
        &["logon", "alter user", "select"],
        |rule| match rule {
            None => server.clear_faults(),
            Some(r) => server.fault(Fault {
                operation: r["match"]["op"].as_str().unwrap().to_string(),
                after: r["phase"] == "after",
                // 503: the database is shutting down (ORA-01089, which passes); 400: a
                // privilege missing (ORA-01031).
                action: if r["action"]["status"] == 503 {
                    FaultAction::Error(
                        1089,
                        "immediate shutdown or close in progress - no operations are permitted"
                            .into(),
                    )
                } else {
                    FaultAction::Error(1031, "insufficient privileges".into())
                },
                times: r["match"]["times"].as_u64().unwrap_or(1) as u32,
            }),
        },
    )
    .await;
    // A dropped connection after ALTER USER changed the password: the retry re-applies it.
    m.server.fault(Fault {
        operation: "alter user".into(),
        after: true,
        action: FaultAction::Drop,
        times: 1,
    });
    assert_eq!(suite::rotate(&m, &id).await.status, 200);
    suite::assert_converged(&m, &id, "a dropped ALTER USER").await;
}
