//! What `mssql-credentials` and the `mssql` connection do beyond the generic suite
//! (`suite_targets::Mssql`), against a SQL Server protocol server of each test's own:
//! Infisical's wire (options template, connection fields), TLS with a checked certificate,
//! SQL Server's refusals in Rotary's words, and a fault before and after every TDS operation a
//! rotation runs.

use serde_json::json;

use crate::helpers::{fresh_database, spawn_server, test_options};
use crate::suite::{self, Target};
use crate::suite_targets::{Mssql, MSSQL_MANAGER_PASSWORD};
use rotary::mock::mssql::{Fault, FaultAction};

const BASE: &str = "/api/v2/secret-rotations/mssql-credentials";
const CONNECTIONS: &str = "/api/v1/app-connections/mssql";

async fn world() -> Mssql {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    Mssql::on(app, &url).await
}

#[tokio::test]
async fn the_api_serves_mssql_rotations_as_infisical_does() {
    let m = world().await;
    let (app, token) = (&m.app, &m.token);
    let entry = app
        .rotation_option(token, "mssql-credentials")
        .await
        .unwrap();
    assert_eq!(entry["name"], "Microsoft SQL Server Credentials");
    assert_eq!(entry["connection"], "mssql");
    assert_eq!(
        entry["template"]["rotationStatement"],
        "ALTER LOGIN [{{username}}] WITH PASSWORD = '{{password}}'"
    );
    assert!(entry["template"]["createUserStatement"]
        .as_str()
        .unwrap()
        .starts_with("-- Create login at the server level\nCREATE LOGIN [infisical_user] WITH PASSWORD = 'my-password';"));
    assert_eq!(
        entry["template"]["secretsMapping"],
        json!({"username": "MSSQL_DB_USERNAME", "password": "MSSQL_DB_PASSWORD"})
    );

    // The connection: what it shows, a wrong password, a database the login has no user in.
    let r = app
        .get(&format!("{CONNECTIONS}/{}", m.connection), token)
        .await;
    let (host, port) = m.server.address.rsplit_once(':').unwrap();
    assert_eq!(
        r.body["appConnection"]["credentials"],
        json!({"host": host, "port": port.parse::<u16>().unwrap(), "database": "app", "username": "rotary",
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
        "Unable to validate connection: SQL Server refused the login of \"rotary\" (error 18456: wrong password, or no such login)"
    );
    let mut body = m.connection_body("elsewhere", MSSQL_MANAGER_PASSWORD);
    body["credentials"]["database"] = json!("missing");
    let r = app.post(CONNECTIONS, token, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains("error 4060"));

    // A login that does not exist fails the create with SQL Server's reason, creates nothing.
    m.server.add_login("ghost_1", "Ghost-pw-1", false, &["app"]);
    let mut body = m.body("missing");
    body["parameters"] = json!({"username1": "nobody_1", "username2": "ghost_1"});
    body["secretsMapping"] = json!({"username": "OTHER_USER", "password": "OTHER_PASSWORD"});
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains(
            "may not change the password of \"nobody_1\", or no such login exists (error 15151)"
        ),
        "{}",
        r.body
    );
    let r = app
        .get(&format!("{BASE}?projectId={}", m.project), token)
        .await;
    assert!(
        r.body["secretRotations"].as_array().unwrap().is_empty(),
        "{}",
        r.body
    );

    // SQL Server's password policy refuses a password of lower-case letters only.
    let mut body = m.body("weak");
    body["parameters"]["passwordRequirements"] = json!({"length": 20, "required": {"lowercase": 20, "uppercase": 0, "digits": 0, "symbols": 0}, "allowedSymbols": "-"});
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("password policy refused the new password of \"app_user_1\" (error 15118)"),
        "{}",
        r.body
    );
    assert!(m.server.authenticates("app_user_1", "Initial-pw-0"));

    // Infisical's template as a rotationStatement works (the password inlined as a literal).
    let mut body = m.body("templated");
    body["parameters"]["rotationStatement"] =
        json!("ALTER LOGIN [{{username}}] WITH PASSWORD = '{{password}}'");
    let r = app.post(BASE, token, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    assert_eq!(suite::rotate(&m, &id).await.status, 200);
    suite::assert_converged(&m, &id, "a templated statement").await;
}

#[tokio::test]
async fn tls_checks_the_certificate_against_sslcertificate() {
    let m = world().await;
    let (app, token) = (&m.app, &m.token);
    let port = m
        .server
        .address
        .rsplit_once(':')
        .unwrap()
        .1
        .parse::<u16>()
        .unwrap();
    let body = |name: &str, ca: &str, host: &str, verify: bool| {
        json!({"name": name, "method": "username-and-password", "projectId": m.project,
               "credentials": {"host": host, "port": port, "database": "app", "username": "rotary",
                               "password": MSSQL_MANAGER_PASSWORD, "sslEnabled": true,
                               "sslRejectUnauthorized": verify, "sslCertificate": ca}})
    };
    let r = app
        .post(
            CONNECTIONS,
            token,
            body("tls", &m.cert.ca_pem, "localhost", true),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let tls = r.body["appConnection"]["id"].as_str().unwrap().to_string();
    // Another CA: refused with the reason; unchecked, the same CA is fine.
    let other = crate::test_cert::TestCert::new(&["localhost"]);
    let r = app
        .post(
            CONNECTIONS,
            token,
            body("other-ca", &other.ca_pem, "localhost", true),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Unable to validate connection: the TLS handshake with SQL Server failed"),
        "{}",
        r.body
    );
    let r = app
        .post(
            CONNECTIONS,
            token,
            body("unchecked", &other.ca_pem, "localhost", false),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A rotation over the encrypted connection.
    let mut rotation = m.body("over-tls");
    rotation["connectionId"] = json!(tls);
    let r = app.post(BASE, token, rotation).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    assert_eq!(suite::rotate(&m, &id).await.status, 200);
    suite::assert_converged(&m, &id, "a rotation over TLS").await;
}

#[tokio::test]
async fn a_fault_before_and_after_every_tds_operation_keeps_the_invariants() {
    let m = world().await;
    let id = suite::create(&m, "faults").await;
    let server = m.server.clone();
    suite::a_fault_at_any_provider_call_keeps_the_invariants(
        &m,
        &id,
        &["login", "alter login", "select"],
        |rule| match rule {
            None => server.clear_faults(),
            Some(r) => server.fault(Fault {
                operation: r["match"]["op"].as_str().unwrap().to_string(),
                after: r["phase"] == "after",
                // 503: Azure SQL's "not currently available" (40613, which passes); 400: a
                // permission denied (229).
                action: if r["action"]["status"] == 503 {
                    FaultAction::Error(
                        40613,
                        "injected: Database is not currently available.".into(),
                    )
                } else {
                    FaultAction::Error(229, "injected: The permission was denied.".into())
                },
                times: r["match"]["times"].as_u64().unwrap_or(1) as u32,
            }),
        },
    )
    .await;
    // A dropped connection after ALTER LOGIN changed the password: the retry re-applies it.
    m.server.fault(Fault {
        operation: "alter login".into(),
        after: true,
        action: FaultAction::Drop,
        times: 1,
    });
    assert_eq!(suite::rotate(&m, &id).await.status, 200);
    suite::assert_converged(&m, &id, "a dropped ALTER LOGIN").await;
}
