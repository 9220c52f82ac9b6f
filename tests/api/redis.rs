//! What `redis-credentials` and the `redis` connection do beyond the generic suite
//! (`suite_targets::Redis`), each test against a `redis-server` of its own: Infisical's
//! refusals before any ACL command, the scope the issued users get, a scope Redis refuses
//! leaving no user behind, the ACL file keeping users across a restart, and TLS.

use serde_json::{json, Value};

use crate::helpers::{assert_error, fresh_database, spawn_server, test_options, TestApp};
use crate::redis_server::{auth, cmd, Options, RedisServer};
use crate::suite::{self, Target};
use crate::suite_targets::Redis;

const BASE: &str = "/api/v2/secret-rotations/redis-credentials";
const CONNECTIONS: &str = "/api/v1/app-connections/redis";

async fn app() -> TestApp {
    let url = fresh_database().await;
    spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await
}

fn with_parameters(r: &Redis, parameters: Value) -> Value {
    let mut body = r.body("cache-rotation");
    body["parameters"] = parameters;
    body
}

#[tokio::test]
async fn the_api_serves_redis_rotations_as_infisical_does() {
    let r = Redis::on_server(app().await, false).await;
    let (app, token) = (&r.app, &r.token);

    let entry = app.rotation_option(token, "redis-credentials").await;
    assert_eq!(
        entry,
        Some(
            json!({"name": "Redis Credentials", "type": "redis-credentials", "connection": "redis",
                    "template": {"secretsMapping": {"username": "REDIS_USERNAME", "password": "REDIS_PASSWORD"}}})
        )
    );

    // Refused before any ACL command: no run, no rotation, no user.
    for (parameters, code, message) in [
        (json!({}), "invalid_type", "Required".to_string()),
        (json!({"permissionScope": "   "}), "too_small", "Permission scope is required".into()),
        (
            json!({"permissionScope": "~* nopass +@all"}),
            "custom",
            "The permission scope cannot hold the rule \"nopass\": Rotary sets each issued user's password and switches it on; give only key, channel and command rules (e.g. \"~* +@all\")".into(),
        ),
        (
            json!({"permissionScope": "~* >mine"}),
            "custom",
            "The permission scope cannot hold the rule \">mine\": Rotary sets each issued user's password and switches it on; give only key, channel and command rules (e.g. \"~* +@all\")".into(),
        ),
    ] {
        let resp = app.post(BASE, token, with_parameters(&r, parameters.clone())).await;
        let path = json!(["parameters", "permissionScope"]);
        assert_error(
            &resp,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": path, "message": message}]),
        );
    }
    let resp = app
        .post(
            BASE,
            token,
            with_parameters(
                &r,
                json!({"permissionScope": "~*", "passwordRequirements": {"length": 2, "required": {"lowercase": 3, "uppercase": 0, "digits": 0, "symbols": 0}}}),
            ),
        )
        .await;
    assert_error(
        &resp,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["parameters", "passwordRequirements"], "message": "Sum of required characters cannot exceed the total length"}]),
    );
    assert_eq!(app.count("rotation_runs").await, 0);
    assert_eq!(r.server.users().await, vec![r.manager.clone()]);

    // A rule Redis does not know: refused by Redis, nothing created, no user left behind.
    let resp = app
        .post(
            BASE,
            token,
            with_parameters(&r, json!({"permissionScope": "~* +nosuchcommand"})),
        )
        .await;
    assert_error(
        &resp,
        400,
        "BadRequest",
        json!("Rotary encountered an issue while generating credentials with the configured inputs: Redis refused the new user's rules (check the permission scope): Error in ACL SETUSER modifier '+nosuchcommand': Unknown command or category name in ACL"),
    );
    assert_eq!(app.count("secret_rotations").await, 0);
    assert_eq!(r.server.users().await, vec![r.manager.clone()]);

    // Created: a 32-character user with exactly the scope's rights.
    let id = suite::create(&r, "cache").await;
    let (slots, active) = suite::generated(&r, &id).await;
    assert_eq!((slots.len(), active), (1, 0));
    let [user, password] = &slots[0];
    assert_eq!(user.len(), 32, "{user}");
    assert_eq!(password.len(), 48);
    let mut conn = auth(r.server.port, user, password).await.expect("logs in");
    cmd(&mut conn, &["SET", "suite:key", "v"]).await;
    let refused = redis::cmd("SET")
        .arg("other:key")
        .arg("v")
        .query_async::<()>(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("NOPERM"), "{refused}");
    let view = app.get(&format!("{BASE}/{id}"), token).await;
    assert_eq!(
        view.body["secretRotation"]["parameters"],
        json!({"permissionScope": "~suite:* +get +set"})
    );
    assert_eq!(
        view.body["secretRotation"]["connection"],
        json!({"app": "redis", "name": "cache", "id": r.connection})
    );
}

#[tokio::test]
async fn redis_connections_are_validated_by_logging_in() {
    let r = Redis::on_server(app().await, false).await;
    let (app, token) = (&r.app, &r.token);
    let body = |port: u16, password: &str| {
        json!({"name": "other", "method": "username-and-password", "projectId": r.project,
               "credentials": {"host": "127.0.0.1", "port": port, "username": r.manager,
                               "password": password, "sslEnabled": false, "sslRejectUnauthorized": false}})
    };
    let resp = app
        .post(CONNECTIONS, token, body(r.server.port, "wrong-password"))
        .await;
    assert_error(
        &resp,
        400,
        "BadRequest",
        json!(format!("Unable to validate connection: Redis refused the login of \"{}\" (wrong password, or the user is disabled or gone)", r.manager)),
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let resp = app
        .post(CONNECTIONS, token, body(closed, &r.manager_password))
        .await;
    assert_error(
        &resp,
        400,
        "BadRequest",
        json!(format!("Unable to validate connection: Redis at 127.0.0.1:{closed} refused the connection (is it running?)")),
    );
    let resp = app
        .post(
            CONNECTIONS,
            token,
            json!({"name": "other", "method": "username-and-password", "projectId": r.project,
                   "credentials": {"host": "", "port": "x", "username": "u", "sslEnabled": false, "sslRejectUnauthorized": false}}),
        )
        .await;
    assert_eq!(resp.status, 422, "{}", resp.body);
    // The saved one shows everything but the password.
    let resp = app
        .get(&format!("{CONNECTIONS}/{}", r.connection), token)
        .await;
    assert_eq!(
        resp.body["appConnection"]["credentials"],
        json!({"host": "127.0.0.1", "port": r.server.port, "username": r.manager,
               "sslEnabled": false, "sslRejectUnauthorized": false, "sslCertificate": null})
    );
    assert_eq!(resp.body["appConnection"]["app"], "redis");
    let options = app.get("/api/v1/app-connections/options", token).await;
    assert!(
        options.body["appConnectionOptions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["app"] == "redis" && o["name"] == "Redis"),
        "{}",
        options.body
    );
}

#[tokio::test]
async fn with_an_acl_file_the_users_survive_a_restart_of_redis() {
    let mut r = Redis::on_server(app().await, true).await;
    let id = suite::create(&r, "durable").await;
    let first = suite::mapped(&r).await;
    assert_eq!(suite::rotate(&r, &id).await.status, 200);
    let second = suite::mapped(&r).await;
    r.server.restart().await;
    assert!(
        r.works(&second).await,
        "the mapped user survived the restart"
    );
    assert!(r.works(&first).await, "so did the previous one");
    assert_eq!(suite::rotate(&r, &id).await.status, 200);
    r.server.restart().await;
    assert!(!r.works(&first).await, "the retired user stays deleted");
    suite::assert_converged(&r, &id, "after two restarts").await;
}

#[tokio::test]
async fn without_acl_save_the_run_says_its_users_may_not_outlive_a_restart() {
    let r = Redis::on_server(app().await, true).await;
    let mut admin = r.server.admin().await;
    cmd(&mut admin, &["ACL", "SETUSER", &r.manager, "-acl|save"]).await;
    let id = suite::create(&r, "unsaved").await;
    let runs = r.app.get(&format!("{BASE}/{id}/runs"), &r.token).await;
    assert_eq!(
        runs.body["runs"][0]["outcome"], "succeeded",
        "{}",
        runs.body
    );
    assert_eq!(
        runs.body["runs"][0]["note"],
        json!(format!("ACL SAVE is not allowed for \"{}\": if this Redis keeps users in an ACL file, grant +acl|save, or the issued users vanish when it restarts", r.manager))
    );
}

#[tokio::test]
async fn a_manager_without_acl_rights_is_refused_and_nothing_is_created() {
    let r = Redis::on_server(app().await, false).await;
    let mut admin = r.server.admin().await;
    cmd(&mut admin, &["ACL", "SETUSER", &r.manager, "-acl|setuser"]).await;
    let resp = r.app.post(BASE, &r.token, r.body("refused")).await;
    assert_error(
        &resp,
        400,
        "BadRequest",
        json!(format!("Rotary encountered an issue while generating credentials with the configured inputs: the connection's user \"{}\" may not run ACL SETUSER: grant it +acl|setuser +acl|deluser (and +acl|save with an ACL file)", r.manager)),
    );
    assert_eq!(r.app.count("secret_rotations").await, 0);
    assert_eq!(r.server.users().await, vec![r.manager.clone()]);
}

#[tokio::test]
async fn rotations_work_over_tls_with_the_connection_s_certificate() {
    let app = app().await;
    let server = RedisServer::start_with(Options {
        acl_file: false,
        tls: true,
    })
    .await;
    let (tls_port, cert) = server
        .tls
        .as_ref()
        .map(|(p, c)| (*p, c.ca_pem.clone()))
        .unwrap();
    let mut admin = server.admin().await;
    cmd(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "tls_manager",
            "on",
            ">tls-manager-pw",
            "+acl|setuser",
            "+acl|deluser",
            "~*",
        ],
    )
    .await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "TLS").await;
    let connection = |name: &str, host: &str, reject: bool, certificate: Option<&str>| {
        json!({"name": name, "method": "username-and-password", "projectId": project,
               "credentials": {"host": host, "port": tls_port, "username": "tls_manager",
                               "password": "tls-manager-pw", "sslEnabled": true,
                               "sslRejectUnauthorized": reject, "sslCertificate": certificate}})
    };
    // An untrusted certificate is refused; trusting the CA, or not verifying, gets in.
    let resp = app
        .post(
            CONNECTIONS,
            &token,
            connection("untrusted", "localhost", true, None),
        )
        .await;
    assert_error(
        &resp,
        400,
        "BadRequest",
        json!("Unable to validate connection: the TLS handshake with Redis failed (is the certificate trusted, and does it name the host?)"),
    );
    let resp = app
        .post(
            CONNECTIONS,
            &token,
            connection("unverified", "127.0.0.1", false, None),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = app
        .post(
            CONNECTIONS,
            &token,
            connection("verified", "localhost", true, Some(&cert)),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let id = resp.body["appConnection"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = app
        .post(
            BASE,
            &token,
            json!({"name": "tls", "projectId": project, "connectionId": id, "environment": "dev",
                   "secretPath": "/", "isAutoRotationEnabled": false, "rotationInterval": 30,
                   "parameters": {"permissionScope": "~* +@all"},
                   "secretsMapping": {"username": "REDIS_USERNAME", "password": "REDIS_PASSWORD"}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let rotation = resp.body["secretRotation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = app
        .post(
            &format!("{BASE}/{rotation}/rotate-secrets"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = app
        .post(
            &format!("{BASE}/{rotation}/check-credentials"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.body);
    assert_eq!(
        server.users().await.len(),
        3,
        "the manager and two issued users"
    );
}
