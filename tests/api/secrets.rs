use serde_json::json;

use crate::helpers::{assert_error, redact, spawn_app};

#[tokio::test]
async fn secrets_round_trip_with_the_fields_the_sdks_need() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "P").await;

    let r = app
        .post(
            "/api/v3/secrets/raw/DB_PASSWORD",
            &token,
            json!({"workspaceId": project, "environment": "dev", "secretPath": "/", "secretValue": "s3cr3t",
                   "secretComment": "primary db", "type": "shared"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secret"]["id"].as_str().unwrap().to_string();
    let expected = |version: i64, value: &str| {
        json!({"secret": {
            "id": "<id>", "_id": id, "workspace": project, "environment": "dev", "version": version,
            "type": "shared", "secretKey": "DB_PASSWORD", "secretValue": value, "secretValueHidden": false,
            "secretComment": "primary db", "secretPath": "/", "skipMultilineEncoding": false,
            "isRotatedSecret": false, "rotationId": null, "secretReminderNote": null,
            "secretReminderRepeatDays": null, "tags": [], "secretMetadata": [],
            "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"
        }})
    };
    assert_eq!(
        redact(&r.body, &["id", "createdAt", "updatedAt"]),
        expected(1, "s3cr3t")
    );

    // node SDK 5.x style: extra query parameters, camelCase includeImports, the name again.
    let r = app
        .get(
            &format!("/api/v3/secrets/raw/DB_PASSWORD?workspaceId={project}&environment=dev&secretPath=%2F&secretName=DB_PASSWORD&expandSecretReferences=true&includeImports=true&viewSecretValue=true"),
            &token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        redact(&r.body, &["id", "createdAt", "updatedAt"]),
        expected(1, "s3cr3t")
    );

    let r = app
        .patch(
            "/api/v3/secrets/raw/DB_PASSWORD",
            &token,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "n3w"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        redact(&r.body, &["id", "createdAt", "updatedAt"]),
        expected(2, "n3w")
    );
    let versions = rotary::store::secrets::count_versions(&app.pool, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(versions, 2);

    let r = app
        .get(&format!("/api/v3/secrets/raw?workspaceId={project}&environment=dev&include_imports=false&recursive=FALSE"), &token)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["imports"], json!([]));
    assert_eq!(r.body["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["secrets"][0]["secretValue"], "n3w");

    let r = app
        .get(
            &format!(
                "/api/v3/secrets/raw?workspaceId={project}&environment=dev&viewSecretValue=false"
            ),
            &token,
        )
        .await;
    assert_eq!(r.body["secrets"][0]["secretValue"], "<hidden-by-infisical>");
    assert_eq!(r.body["secrets"][0]["secretValueHidden"], true);

    // Every SDK sends DELETE parameters as a JSON body.
    let r = app
        .delete("/api/v3/secrets/raw/DB_PASSWORD", &token, Some(json!({"workspaceId": project, "environment": "dev", "secretPath": "/", "type": "shared"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secret"]["secretValue"], "n3w");
    let r = app
        .get(
            &format!("/api/v3/secrets/raw/DB_PASSWORD?workspaceId={project}&environment=dev"),
            &token,
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!("Secret with name 'DB_PASSWORD' not found"),
    );
}

#[tokio::test]
async fn get_requests_with_a_json_body_are_tolerated() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "P").await;
    app.post(
        "/api/v3/secrets/raw/A",
        &token,
        json!({"workspaceId": project, "environment": "dev", "secretValue": "1"}),
    )
    .await;
    // The Rust SDK core repeats the query as a JSON body on GET, with booleans as strings.
    let r = app
        .client
        .get(format!(
            "{}/api/v3/secrets/raw?workspaceId={project}&environment=dev",
            app.base
        ))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(
            json!({"environment": "dev", "expandSecretReferences": "true", "recursive": "false"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["secrets"][0]["secretKey"], "A");
    // And a GET with the content type but no body.
    let r = app
        .client
        .get(format!(
            "{}/api/v3/secrets/raw?workspaceId={project}&environment=dev",
            app.base
        ))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn bad_secret_writes_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "P").await;
    let create = |name: &str, body: serde_json::Value| {
        let path = format!("/api/v3/secrets/raw/{name}");
        let app = &app;
        let token = &token;
        async move { app.post(&path, token, body).await }
    };

    let r = create(
        "A%20B",
        json!({"workspaceId": project, "environment": "dev", "secretValue": "v"}),
    )
    .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["secretName"], "message": "Secret name cannot contain spaces."}]),
    );
    let r = create("A", json!({"workspaceId": project, "environment": "dev"})).await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["secretValue"], "message": "Required"}]),
    );
    let r = create("A", json!({"environment": "dev", "secretValue": "v"})).await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["workspaceId"], "message": "Required"}]),
    );
    let r = create(
        "A",
        json!({"workspaceId": project, "environment": "nope", "secretValue": "v"}),
    )
    .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!(
            "Environment with slug 'nope' in project with ID '{project}' not found"
        )),
    );
    let r = create("A", json!({"workspaceId": project, "environment": "dev", "secretPath": "/missing", "secretValue": "v"})).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!("Folder with path '/missing' in environment with slug 'dev' not found"),
    );
    let r = create("A", json!({"workspaceId": project, "environment": "dev", "secretValue": "v", "type": "personal"})).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Personal secrets belong to users; machine identities can only use type 'shared'"),
    );
    assert_eq!(app.count("secrets").await, 0);

    let r = create(
        "A",
        json!({"workspaceId": project, "environment": "dev", "secretValue": "v"}),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = create(
        "A",
        json!({"workspaceId": project, "environment": "dev", "secretValue": "other"}),
    )
    .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Secret with name 'A' already exists"),
    );
    let r = app
        .patch(
            "/api/v3/secrets/raw/NOPE",
            &token,
            json!({"workspaceId": project, "environment": "dev", "secretValue": "x"}),
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!("Secret with name 'NOPE' not found"),
    );
    assert_eq!(app.count("secret_versions").await, 1);
}

#[tokio::test]
async fn secrets_can_be_renamed_and_live_in_folders() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "P").await;
    let r = app
        .post("/api/v2/folders", &token, json!({"projectId": project, "environment": "prod", "name": "billing", "path": "/apps"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post("/api/v3/secrets/raw/KEY", &token, json!({"workspaceId": project, "environment": "prod", "secretPath": "/apps/billing/", "secretValue": "deep"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secret"]["secretPath"], "/apps/billing");
    app.post(
        "/api/v3/secrets/raw/TOP",
        &token,
        json!({"workspaceId": project, "environment": "prod", "secretValue": "top"}),
    )
    .await;

    let list = |q: &str| format!("/api/v3/secrets/raw?workspaceId={project}&environment=prod{q}");
    let r = app.get(&list(""), &token).await;
    let keys: Vec<_> = r.body["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["secretKey"].clone())
        .collect();
    assert_eq!(keys, vec![json!("TOP")]);
    let r = app.get(&list("&recursive=true"), &token).await;
    let keys: Vec<_> = r.body["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["secretKey"].clone())
        .collect();
    assert_eq!(keys, vec![json!("TOP"), json!("KEY")]);

    let r = app
        .patch("/api/v3/secrets/raw/KEY", &token, json!({"workspaceId": project, "environment": "prod", "secretPath": "/apps/billing", "newSecretName": "RENAMED"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secret"]["secretKey"], "RENAMED");
    assert_eq!(r.body["secret"]["secretValue"], "deep");
    assert_eq!(r.body["secret"]["version"], 2);
}
