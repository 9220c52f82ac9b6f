//! Salesforce app connections on Infisical's API, validated against the mock org.

use rotary::mock::salesforce::{self, SeededApp};
use serde_json::{json, Value};

use crate::helpers::{assert_error, redact, spawn_app, TestApp};

struct World {
    app: TestApp,
    token: String,
    project: String,
    org_base: String,
    connector: SeededApp,
}

async fn world() -> World {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Billing").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (mock, org_base) = salesforce::spawn(listener, None, Some(3)).await.unwrap();
    let connector = mock.seeded_apps()[0].clone();
    World {
        app,
        token,
        project,
        org_base,
        connector,
    }
}

impl World {
    fn body(&self, name: &str) -> Value {
        json!({
            "name": name, "method": "client-credentials", "projectId": self.project,
            "credentials": {"instanceUrl": self.org_base, "consumerKey": self.connector.key, "consumerSecret": self.connector.secret}
        })
    }
    async fn create(&self, name: &str) -> String {
        let r = self
            .app
            .post(
                "/api/v1/app-connections/salesforce",
                &self.token,
                self.body(name),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["appConnection"]["id"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn create_read_update_delete_a_salesforce_connection() {
    let w = world().await;
    let r = w
        .app
        .post(
            "/api/v1/app-connections/salesforce",
            &w.token,
            w.body("sf-prod"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["appConnection"]["id"].as_str().unwrap().to_string();
    let org_id = r.body["appConnection"]["orgId"]
        .as_str()
        .unwrap()
        .to_string();
    let expected = json!({"appConnection": {
        "id": "<id>", "name": "sf-prod", "description": null, "version": 1, "orgId": org_id,
        "projectId": w.project, "app": "salesforce", "method": "client-credentials",
        "credentials": {"instanceUrl": w.org_base}, "credentialsHash": "<credentialsHash>",
        "gatewayId": null, "isPlatformManagedCredentials": false,
        "createdAt": "<createdAt>", "updatedAt": "<updatedAt>"
    }});
    assert_eq!(
        redact(
            &r.body,
            &["id", "credentialsHash", "createdAt", "updatedAt"]
        ),
        expected
    );
    assert!(
        !r.body.to_string().contains(&w.connector.secret),
        "the secret is never returned"
    );
    let hash = r.body["appConnection"]["credentialsHash"].clone();

    let r = w
        .app
        .get(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &w.token,
        )
        .await;
    assert_eq!(
        redact(
            &r.body,
            &["id", "credentialsHash", "createdAt", "updatedAt"]
        ),
        expected
    );
    let r = w.app.get("/api/v1/app-connections", &w.token).await;
    assert_eq!(r.body["appConnections"].as_array().unwrap().len(), 1);
    let r = w
        .app
        .get(
            &format!("/api/v1/app-connections/salesforce?projectId={}", w.project),
            &w.token,
        )
        .await;
    assert_eq!(r.body["appConnections"][0]["id"], json!(id));
    let by_id = w
        .app
        .get(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &w.token,
        )
        .await;
    let by_name = w
        .app
        .get(
            &format!(
                "/api/v1/app-connections/salesforce/connection-name/sf-prod?projectId={}",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(by_name.body, by_id.body, "connection-name finds it");
    let available = w
        .app
        .get(
            &format!(
                "/api/v1/app-connections/salesforce/available?projectId={}",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(
        available.body,
        json!({"appConnections": [{"app": "salesforce", "name": "sf-prod", "id": id, "projectId": w.project, "orgId": org_id}]})
    );
    let r = w.app.get("/api/v1/app-connections/options", &w.token).await;
    assert_eq!(
        r.body,
        json!({"appConnectionOptions": [
            {"name": "Auth0", "app": "auth0", "methods": ["client-credentials"]},
            {"name": "AWS", "app": "aws", "methods": ["assume-role", "access-key"]},
            {"name": "Azure Client Secrets", "app": "azure-client-secrets", "methods": ["client-secret", "certificate", "oauth"]},
            {"name": "LDAP", "app": "ldap", "methods": ["simple-bind"]},
            {"name": "Microsoft SQL Server", "app": "mssql", "methods": ["username-and-password"]},
            {"name": "MongoDB", "app": "mongodb", "methods": ["username-and-password"]},
            {"name": "MySQL", "app": "mysql", "methods": ["username-and-password"]},
            {"name": "Okta", "app": "okta", "methods": ["api-token"]},
            {"name": "OracleDB", "app": "oracledb", "methods": ["username-and-password"]},
            {"name": "PostgreSQL", "app": "postgres", "methods": ["username-and-password"]},
            {"name": "Redis", "app": "redis", "methods": ["username-and-password"]},
            {"name": "Salesforce", "app": "salesforce", "methods": ["client-credentials"]}]})
    );

    let r = w
        .app
        .get(
            &format!("/api/v1/app-connections/salesforce/{id}/oauth-apps"),
            &w.token,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let names: Vec<_> = r.body["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["developerName"].clone())
        .collect();
    assert_eq!(names, [json!("Rotary_Connector"), json!("Billing_Sync")]);
    assert!(r.body["apps"][1]["identifier"]
        .as_str()
        .unwrap()
        .starts_with("0xI"));

    let r = w
        .app
        .patch(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &w.token,
            json!({"name": "sf-main", "description": "prod org"}),
        )
        .await;
    assert_eq!(r.body["appConnection"]["name"], "sf-main");
    assert_eq!(r.body["appConnection"]["version"], 1);
    assert_eq!(r.body["appConnection"]["credentialsHash"], hash);
    let r = w
        .app
        .patch(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &w.token,
            json!({"credentials": w.body("x")["credentials"]}),
        )
        .await;
    assert_eq!(r.body["appConnection"]["version"], 2);
    assert_ne!(r.body["appConnection"]["credentialsHash"], hash);

    let r = w
        .app
        .delete(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &w.token,
            None,
        )
        .await;
    assert_eq!(r.body["appConnection"]["id"], json!(id));
    let r = w
        .app
        .get(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &w.token,
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Could not find App Connection with ID {id}")),
    );
}

#[tokio::test]
async fn bad_connection_input_is_refused_and_nothing_is_stored() {
    let w = world().await;
    let post = |body: Value| async {
        w.app
            .post("/api/v1/app-connections/salesforce", &w.token, body)
            .await
    };
    let mut body = w.body("sf");
    body["credentials"]["consumerKey"] = json!("");
    assert_error(
        &post(body).await,
        422,
        "ValidationFailure",
        json!([{"code": "too_small", "path": ["credentials", "consumerKey"], "message": "Consumer Key required"}]),
    );
    let mut body = w.body("sf");
    body["credentials"]
        .as_object_mut()
        .unwrap()
        .remove("instanceUrl");
    assert_error(
        &post(body).await,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["credentials", "instanceUrl"], "message": "Required"}]),
    );
    let mut body = w.body("sf");
    body["method"] = json!("password");
    assert_error(
        &post(body).await,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_enum_value", "path": ["method"], "message": "Invalid enum value. Expected 'client-credentials', received 'password'"}]),
    );
    let mut body = w.body("sf");
    body["credentials"]["consumerSecret"] = json!("wrong");
    assert_error(&post(body).await, 400, "BadRequest", json!("Failed to validate credentials: the consumer secret is wrong for this consumer key (invalid_client: invalid client credentials)"));
    let mut body = w.body("sf");
    body["credentials"]["instanceUrl"] = json!("https://acme.my.salesforce.com/services/data");
    assert_error(&post(body).await, 400, "BadRequest", json!("Failed to validate credentials: the instance URL must be the org's base URL, e.g. https://acme.my.salesforce.com"));
    let mut body = w.body("sf");
    body["credentials"]["instanceUrl"] = json!("http://127.0.0.1:9");
    let r = post(body).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .starts_with("Failed to validate credentials: Salesforce could not connect"),
        "{}",
        r.body
    );
    assert_eq!(w.app.count("app_connections").await, 0);

    w.create("sf").await;
    assert_error(
        &post(w.body("sf")).await,
        400,
        "BadRequest",
        json!("An App Connection with the name \"sf\" already exists"),
    );
    let id = uuid::Uuid::new_v4();
    let r = w
        .app
        .get(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &w.token,
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Could not find App Connection with ID {id}")),
    );
    assert_eq!(w.app.count("app_connections").await, 1);
}

#[tokio::test]
async fn another_projects_connection_is_invisible_and_viewers_cannot_manage() {
    let w = world().await;
    let id = w.create("sf").await;
    let (viewer_id, viewer) = w.app.new_identity(&w.token, "viewer", "member").await;
    // Not a member: the connection does not exist for them.
    let r = w
        .app
        .get(&format!("/api/v1/app-connections/salesforce/{id}"), &viewer)
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Could not find App Connection with ID {id}")),
    );
    let r = w.app.get("/api/v1/app-connections", &viewer).await;
    assert_eq!(r.body, json!({"appConnections": []}));
    let r = w
        .app
        .post(
            "/api/v1/app-connections/salesforce",
            &viewer,
            w.body("mine"),
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!("Project with ID '{}' not found", w.project)),
    );

    w.app
        .add_member(&w.token, &w.project, &viewer_id, "viewer")
        .await;
    let r = w
        .app
        .get(&format!("/api/v1/app-connections/salesforce/{id}"), &viewer)
        .await;
    assert_eq!(r.status, 200);
    let r = w
        .app
        .delete(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &viewer,
            None,
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to delete on app-connections"),
    );
    let r = w
        .app
        .patch(
            &format!("/api/v1/app-connections/salesforce/{id}"),
            &viewer,
            json!({"name": "x"}),
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to edit on app-connections"),
    );
    // Organization-wide connections need an organization admin.
    let mut body = w.body("org-wide");
    body.as_object_mut().unwrap().remove("projectId");
    let r = w
        .app
        .post("/api/v1/app-connections/salesforce", &viewer, body.clone())
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to create on app-connections"),
    );
    let r = w
        .app
        .post("/api/v1/app-connections/salesforce", &w.token, body)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["appConnection"]["projectId"], Value::Null);
    assert_eq!(w.app.count("app_connections").await, 2);
}
