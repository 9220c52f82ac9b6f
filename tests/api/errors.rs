use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

async fn raw_post(
    app: &crate::helpers::TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::helpers::Response {
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    crate::helpers::Response {
        status: r.status(),
        body: r.json().await.unwrap(),
    }
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_huge_bodies_are_4xx_and_change_nothing() {
    let app = spawn_app().await;
    let token = app.admin_token().await;

    let r = raw_post(
        &app,
        "/api/v2/workspace",
        &token,
        "application/json",
        b"{\"projectName\": ".to_vec(),
    )
    .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Body is not valid JSON: EOF while parsing a value at line 1 column 16"),
    );

    let r = raw_post(
        &app,
        "/api/v2/workspace",
        &token,
        "text/plain",
        b"projectName=x".to_vec(),
    )
    .await;
    assert_error(
        &r,
        415,
        "UnsupportedMediaType",
        json!("Unsupported Media Type: text/plain; send the body as JSON with 'Content-Type: application/json'"),
    );

    let mut huge = b"{\"projectName\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 10));
    huge.extend(b"\"}");
    let r = raw_post(&app, "/api/v2/workspace", &token, "application/json", huge).await;
    assert_error(
        &r,
        413,
        "PayloadTooLarge",
        json!("Request body is larger than the limit of 1048576 bytes"),
    );

    let r = raw_post(
        &app,
        "/api/v2/workspace",
        &token,
        "application/json",
        b"[1,2]".to_vec(),
    )
    .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": [], "message": "Expected object, received array"}]),
    );
    let r = app
        .post("/api/v2/workspace", &token, json!({"projectName": 5}))
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["projectName"], "message": "Expected string, received number"}]),
    );
    assert_eq!(app.count("projects").await, 0);
}

#[tokio::test]
async fn unknown_keys_and_query_parameters_are_ignored() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let r = app
        .post(
            "/api/v2/workspace",
            &token,
            json!({"projectName": "P", "slug": "p", "Provider": "x", "ID": 3}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .get("/api/v1/workspace?type=secret-manager&whatever=1", &token)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["workspaces"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_routes_methods_and_bad_ids_use_the_error_shape() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let r = app.get("/api/v9/nothing", &token).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!("Route GET:/api/v9/nothing not found"),
    );
    let r = app.patch("/api/v1/workspace", &token, json!({})).await;
    assert_error(
        &r,
        405,
        "MethodNotAllowed",
        json!("Method PATCH is not allowed on /api/v1/workspace"),
    );
    let r = app.get("/api/v1/workspace/not-a-uuid", &token).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["error"], "ValidationFailure");
    assert_eq!(r.body["message"][0]["code"], "invalid_string");
}

#[tokio::test]
async fn status_is_healthy_and_every_response_has_a_request_id() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/api/status", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.starts_with("req-"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["message"], "Ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));

    // The request id in the header is the one in the error body and in the log.
    let r = app
        .client
        .get(format!("{}/api/v1/workspace", app.base))
        .send()
        .await
        .unwrap();
    let header = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["reqId"], header);
    assert!(crate::helpers::captured_logs().contains(&header));
}

#[tokio::test]
async fn nul_characters_in_queries_bodies_and_paths_are_422_not_database_errors() {
    // Found by the schemathesis run (scripts/fuzz-api.sh): Postgres refuses NUL in text.
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Nul").await;
    let issue = |path: serde_json::Value| {
        json!([{"code": "invalid_string", "path": path,
                "message": "String must not contain NUL (\\u0000) characters"}])
    };
    let r = app
        .get(
            &format!("/api/v2/folders?environment=dev%00x&projectId={project}"),
            &token,
        )
        .await;
    assert_error(&r, 422, "ValidationFailure", issue(json!(["environment"])));
    let r = app
        .post(
            "/api/v3/secrets/raw/NAME",
            &token,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "a\u{0}b"}),
        )
        .await;
    assert_error(&r, 422, "ValidationFailure", issue(json!(["secretValue"])));
    let r = app
        .post(
            "/api/v3/secrets/raw/NA%00ME",
            &token,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "v"}),
        )
        .await;
    assert_error(&r, 422, "ValidationFailure", issue(json!(["secretName"])));
    assert_eq!(app.count("secrets").await, 0, "nothing was written");
}
