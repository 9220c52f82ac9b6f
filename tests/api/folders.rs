use serde_json::json;

use crate::helpers::{assert_error, redact, spawn_app};

#[tokio::test]
async fn folders_nest_list_rename_and_delete_on_v1_and_v2() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "P").await;

    // v1 names the project workspaceId; missing parents are created.
    let r = app
        .post("/api/v1/folders", &token, json!({"workspaceId": project, "environment": "dev", "name": "billing", "path": "/apps"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let env_id = r.body["folder"]["envId"].as_str().unwrap().to_string();
    let billing_id = r.body["folder"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        redact(
            &r.body,
            &["id", "parentId", "envId", "createdAt", "updatedAt"]
        ),
        json!({"folder": {"id": "<id>", "name": "billing", "envId": "<envId>", "parentId": "<parentId>",
                          "path": "/apps/billing", "description": null, "version": 1, "isReserved": false,
                          "projectId": project,
                          "environment": {"envId": "<envId>", "envName": "Development", "envSlug": "dev"},
                          "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"}})
    );
    // Creating it again returns the same folder.
    let r = app
        .post(
            "/api/v2/folders",
            &token,
            json!({"projectId": project, "environment": "dev", "name": "billing", "path": "/apps"}),
        )
        .await;
    assert_eq!(r.body["folder"]["id"], json!(billing_id));

    // Python's SDK sends recursive=False with a capital F.
    let r = app
        .get(
            &format!("/api/v2/folders?projectId={project}&environment=dev&path=/&recursive=False"),
            &token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let names: Vec<_> = r.body["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].clone())
        .collect();
    assert_eq!(names, vec![json!("/apps")]);
    let r = app
        .get(
            &format!("/api/v1/folders?workspaceId={project}&environment=dev&recursive=true"),
            &token,
        )
        .await;
    let names: Vec<_> = r.body["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].clone())
        .collect();
    assert_eq!(names, vec![json!("/apps"), json!("/apps/billing")]);

    let r = app
        .get(&format!("/api/v2/folders/{billing_id}"), &token)
        .await;
    assert_eq!(r.body["folder"]["environment"]["envId"], json!(env_id));

    // Renaming moves the secrets inside.
    app.post("/api/v3/secrets/raw/K", &token, json!({"workspaceId": project, "environment": "dev", "secretPath": "/apps/billing", "secretValue": "v"}))
        .await;
    let r = app
        .patch(
            &format!("/api/v1/folders/{billing_id}"),
            &token,
            json!({"name": "payments"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["folder"]["path"], "/apps/payments");
    let r = app
        .get(&format!("/api/v3/secrets/raw/K?workspaceId={project}&environment=dev&secretPath=/apps/payments"), &token)
        .await;
    assert_eq!(r.body["secret"]["secretValue"], "v");

    // Delete by name inside a path (v2 body), with everything inside.
    let r = app
        .delete("/api/v2/folders/apps", &token, Some(json!({"projectId": project, "environment": "dev", "path": "/", "forceDelete": true})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["folder"]["path"], "/apps");
    assert_eq!(app.count("folders").await, 0);
    assert_eq!(app.count("secrets").await, 0);
    let r = app
        .get(&format!("/api/v2/folders/{billing_id}"), &token)
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Folder with ID '{billing_id}' not found")),
    );
}

#[tokio::test]
async fn bad_folder_names_are_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "P").await;
    let r = app
        .post(
            "/api/v2/folders",
            &token,
            json!({"projectId": project, "environment": "dev", "name": "a b"}),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["name"], "message": "'a b' is not a valid folder name: use 1 to 64 letters, numbers, dashes, underscores or dots"}]),
    );
    let r = app
        .post(
            "/api/v2/folders",
            &token,
            json!({"projectId": project, "environment": "dev", "name": "ok", "path": "/../x"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(app.count("folders").await, 0);
}
