use serde_json::json;

use crate::helpers::{assert_error, redact, spawn_app};

#[tokio::test]
async fn identities_universal_auth_and_client_secrets_lifecycle() {
    let app = spawn_app().await;
    let (client_id, secret, admin_id, org_id) = app.bootstrap().await;
    let admin = app.login(&client_id, &secret).await;

    let r = app
        .post(
            "/api/v1/identities",
            &admin,
            json!({"name": "ci-bot", "organizationId": org_id, "role": "member"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["identity"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        redact(&r.body, &["id", "createdAt", "updatedAt"]),
        json!({"identity": {"id": "<id>", "name": "ci-bot", "orgId": org_id, "role": "member", "authMethods": [],
                            "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"}})
    );

    let ua_path = format!("/api/v1/auth/universal-auth/identities/{id}");
    let r = app
        .post(
            &ua_path,
            &admin,
            json!({"accessTokenTTL": 3600, "accessTokenMaxTTL": 7200}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        redact(&r.body, &["id", "clientId", "createdAt", "updatedAt"]),
        json!({"identityUniversalAuth": {
            "id": "<id>", "identityId": id, "clientId": "<clientId>", "accessTokenTTL": 3600,
            "accessTokenMaxTTL": 7200, "accessTokenNumUsesLimit": 0,
            "accessTokenTrustedIps": [{"ipAddress": "0.0.0.0", "prefix": 0, "type": "ipv4"}, {"ipAddress": "::", "prefix": 0, "type": "ipv6"}],
            "clientSecretTrustedIps": [{"ipAddress": "0.0.0.0", "prefix": 0, "type": "ipv4"}, {"ipAddress": "::", "prefix": 0, "type": "ipv6"}],
            "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"}})
    );
    let client_id = r.body["identityUniversalAuth"]["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.post(&ua_path, &admin, json!({})).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Failed to add universal auth to already configured identity"),
    );
    let r = app
        .patch(&ua_path, &admin, json!({"accessTokenTTL": 9000}))
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Access token TTL cannot be greater than max TTL"),
    );
    let r = app
        .patch(&ua_path, &admin, json!({"accessTokenTTL": 600}))
        .await;
    assert_eq!(r.body["identityUniversalAuth"]["accessTokenTTL"], 600);
    let r = app.get(&ua_path, &admin).await;
    assert_eq!(r.body["identityUniversalAuth"]["accessTokenMaxTTL"], 7200);

    let r = app
        .post(
            &format!("{ua_path}/client-secrets"),
            &admin,
            json!({"description": "deploy", "ttl": 0, "numUsesLimit": 0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = r.body["clientSecret"].as_str().unwrap().to_string();
    let secret_id = r.body["clientSecretData"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        redact(
            &r.body["clientSecretData"],
            &["id", "identityUAId", "createdAt", "updatedAt"]
        ),
        json!({"id": "<id>", "identityUAId": "<identityUAId>", "description": "deploy",
               "clientSecretPrefix": &secret[..4], "clientSecretNumUses": 0, "clientSecretNumUsesLimit": 0,
               "clientSecretTTL": 0, "isClientSecretRevoked": false, "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"})
    );
    let token = app.login(&client_id, &secret).await;
    let r = app.get(&format!("{ua_path}/client-secrets"), &admin).await;
    assert_eq!(r.body["clientSecretData"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["clientSecretData"][0]["clientSecretNumUses"], 1);
    let r = app
        .get(&format!("{ua_path}/client-secrets/{secret_id}"), &admin)
        .await;
    assert_eq!(r.body["clientSecretData"]["description"], "deploy");

    // The member identity cannot manage identities.
    let r = app
        .post("/api/v1/identities", &token, json!({"name": "x"}))
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to create on identity"),
    );
    let r = app.get(&format!("/api/v1/identities/{id}"), &token).await;
    assert_eq!(r.status, 200, "an identity may read itself");
    let r = app
        .get(&format!("/api/v1/identities/{admin_id}"), &token)
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to read on identity"),
    );

    // Revoking the client secret ends the tokens it issued and its logins.
    let r = app
        .post(
            &format!("{ua_path}/client-secrets/{secret_id}/revoke"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.body["clientSecretData"]["isClientSecretRevoked"], true);
    let r = app.get("/api/v1/workspace", &token).await;
    assert_error(
        &r,
        401,
        "UnauthorizedError",
        json!("Access token has been revoked; log in again"),
    );
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/universal-auth/login",
            None,
            Some(json!({"clientId": client_id, "clientSecret": secret})),
        )
        .await;
    assert_error(&r, 401, "UnauthorizedError", json!("Invalid credentials"));

    let r = app.get("/api/v1/identities", &admin).await;
    let names: Vec<_> = r.body["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("admin"), json!("ci-bot")]);
    let r = app
        .patch(
            &format!("/api/v1/identities/{id}"),
            &admin,
            json!({"name": "ci"}),
        )
        .await;
    assert_eq!(r.body["identity"]["name"], "ci");
    assert_eq!(r.body["identity"]["authMethods"], json!(["universal-auth"]));
    let r = app.delete(&ua_path, &admin, None).await;
    assert_eq!(r.status, 200);
    let r = app.get(&ua_path, &admin).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!(
            "Identity with ID '{id}' does not have universal auth configured"
        )),
    );
    let r = app
        .delete(&format!("/api/v1/identities/{id}"), &admin, None)
        .await;
    assert_eq!(r.status, 200);
    let r = app.get(&format!("/api/v1/identities/{id}"), &admin).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Identity with ID '{id}' not found")),
    );
}

#[tokio::test]
async fn the_last_admin_and_the_caller_are_protected() {
    let app = spawn_app().await;
    let (client_id, secret, admin_id, _) = app.bootstrap().await;
    let admin = app.login(&client_id, &secret).await;
    let r = app
        .patch(
            &format!("/api/v1/identities/{admin_id}"),
            &admin,
            json!({"role": "member"}),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("The organization must keep at least one admin identity"),
    );
    let r = app
        .delete(&format!("/api/v1/identities/{admin_id}"), &admin, None)
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("You cannot delete the identity you are authenticated as"),
    );
    let r = app
        .post(
            "/api/v1/identities",
            &admin,
            json!({"name": "x", "role": "superuser"}),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_enum_value", "path": ["role"], "message": "Invalid role 'superuser'; expected one of admin, member, no-access"}]),
    );
    let r = app
        .post(
            &format!("/api/v1/auth/universal-auth/identities/{admin_id}/client-secrets"),
            &admin,
            json!({"ttl": -1}),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "too_small", "path": ["ttl"], "message": "ttl must be between 0 and 315360000"}]),
    );
    assert_eq!(app.count("identities").await, 1);
    assert_eq!(app.count("client_secrets").await, 1);
}
