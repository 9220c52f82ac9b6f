use reqwest::Method;
use rotary::config::Limits;
use serde_json::json;

use crate::helpers::{assert_error, redact, spawn_app, spawn_app_with};

#[tokio::test]
async fn bootstrap_creates_an_admin_once() {
    let app = spawn_app().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/admin/bootstrap",
            None,
            Some(json!({"organization": "Acme"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        redact(&r.body, &["id", "clientId", "clientSecret"]),
        json!({
            "organization": {"id": "<id>", "name": "Acme"},
            "identity": {"id": "<id>", "name": "admin",
                         "credentials": {"clientId": "<clientId>", "clientSecret": "<clientSecret>"}}
        })
    );
    assert_eq!(
        r.body["identity"]["credentials"]["clientSecret"]
            .as_str()
            .unwrap()
            .len(),
        64
    );

    let again = app
        .call(
            Method::POST,
            "/api/v1/admin/bootstrap",
            None,
            Some(json!({"organization": "Other"})),
        )
        .await;
    assert_error(
        &again,
        400,
        "BadRequest",
        json!("Instance has already been set up"),
    );
    assert_eq!(app.count("organizations").await, 1);
    assert_eq!(app.count("identities").await, 1);
}

#[tokio::test]
async fn bootstrap_validates_its_body() {
    let app = spawn_app().await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/admin/bootstrap",
            None,
            Some(json!({"organization": ""})),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "too_small", "path": ["organization"], "message": "organization must be 1 to 64 characters"}]),
    );
    let r = app
        .call(
            Method::POST,
            "/api/v1/admin/bootstrap",
            None,
            Some(json!({})),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["organization"], "message": "Required"}]),
    );
    assert_eq!(app.count("organizations").await, 0);
}

#[tokio::test]
async fn login_gives_a_bearer_token_that_opens_the_api() {
    let app = spawn_app().await;
    let (client_id, secret, _, _) = app.bootstrap().await;
    // The Rust SDK core sends an empty Authorization header before it has a token.
    let r = app
        .client
        .post(format!("{}/api/v1/auth/universal-auth/login", app.base))
        .header("authorization", "")
        .json(&json!({"clientId": client_id, "clientSecret": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        redact(&body, &["accessToken"]),
        json!({"accessToken": "<accessToken>", "expiresIn": 2592000, "accessTokenMaxTTL": 2592000, "tokenType": "Bearer"})
    );
    let token = body["accessToken"].as_str().unwrap();
    let r = app.get("/api/v1/workspace", token).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"workspaces": []}));
}

#[tokio::test]
async fn wrong_credentials_are_refused_and_then_rate_limited() {
    let app = spawn_app_with(Limits {
        failed_logins_per_minute: 3,
    })
    .await;
    let (client_id, secret, _, _) = app.bootstrap().await;
    for _ in 0..3 {
        let r = app
            .call(
                Method::POST,
                "/api/v1/auth/universal-auth/login",
                None,
                Some(json!({"clientId": client_id, "clientSecret": "wrong"})),
            )
            .await;
        assert_error(&r, 401, "UnauthorizedError", json!("Invalid credentials"));
    }
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/universal-auth/login",
            None,
            Some(json!({"clientId": client_id, "clientSecret": secret})),
        )
        .await;
    assert_error(
        &r,
        429,
        "RateLimitExceeded",
        json!("Rate limit exceeded. Please try again in 60 seconds"),
    );
    assert_eq!(app.count("access_tokens").await, 0);
}

#[tokio::test]
async fn missing_bad_and_revoked_tokens_get_401() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let r = app.call(Method::GET, "/api/v1/workspace", None, None).await;
    assert_error(
        &r,
        401,
        "UnauthorizedError",
        json!("Missing access token: send 'Authorization: Bearer <accessToken>' with a token from POST /api/v1/auth/universal-auth/login"),
    );
    let r = app.get("/api/v1/workspace", "not-a-token").await;
    assert_error(&r, 401, "UnauthorizedError", json!("Invalid access token"));

    let r = app
        .post(
            "/api/v1/auth/token/revoke",
            &token,
            json!({"accessToken": token}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"message": "Successfully revoked access token"})
    );
    let r = app.get("/api/v1/workspace", &token).await;
    assert_error(
        &r,
        401,
        "UnauthorizedError",
        json!("Access token has been revoked; log in again"),
    );
}

#[tokio::test]
async fn tokens_expire_and_renew_within_max_ttl() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app
        .post("/api/v1/identities", &admin, json!({"name": "short"}))
        .await;
    let id = r.body["identity"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/auth/universal-auth/identities/{id}"),
            &admin,
            json!({"accessTokenTTL": 60, "accessTokenMaxTTL": 90}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let client_id = r.body["identityUniversalAuth"]["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/auth/universal-auth/identities/{id}/client-secrets"),
            &admin,
            json!({}),
        )
        .await;
    let secret = r.body["clientSecret"].as_str().unwrap().to_string();
    let token = app.login(&client_id, &secret).await;

    let r = app
        .post(
            "/api/v1/auth/token/renew",
            &token,
            json!({"accessToken": token}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"accessToken": token, "expiresIn": 60, "accessTokenMaxTTL": 90, "tokenType": "Bearer"})
    );

    // 40 s later a renewal would outlive the 90 s max TTL.
    sqlx::query("UPDATE access_tokens SET created_at = created_at - interval '40 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .post(
            "/api/v1/auth/token/renew",
            &token,
            json!({"accessToken": token}),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Failed to renew access token due to max TTL expiration; log in again"),
    );

    // Past its TTL the token stops working.
    sqlx::query("UPDATE access_tokens SET renewed_at = renewed_at - interval '61 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app.get("/api/v1/workspace", &token).await;
    assert_error(
        &r,
        401,
        "UnauthorizedError",
        json!("Access token has expired; log in again"),
    );
}

#[tokio::test]
async fn use_limited_client_secrets_and_tokens_run_out() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app
        .post("/api/v1/identities", &admin, json!({"name": "limited"}))
        .await;
    let id = r.body["identity"]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/auth/universal-auth/identities/{id}"),
            &admin,
            json!({"accessTokenNumUsesLimit": 1}),
        )
        .await;
    let client_id = r.body["identityUniversalAuth"]["clientId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/auth/universal-auth/identities/{id}/client-secrets"),
            &admin,
            json!({"numUsesLimit": 1}),
        )
        .await;
    let secret = r.body["clientSecret"].as_str().unwrap().to_string();
    let token = app.login(&client_id, &secret).await;
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/universal-auth/login",
            None,
            Some(json!({"clientId": client_id, "clientSecret": secret})),
        )
        .await;
    assert_error(&r, 401, "UnauthorizedError", json!("Invalid credentials"));
    assert_eq!(app.get("/api/v1/workspace", &token).await.status, 200);
    let r = app.get("/api/v1/workspace", &token).await;
    assert_error(
        &r,
        401,
        "UnauthorizedError",
        json!("Access token has reached its use limit; log in again"),
    );
}
