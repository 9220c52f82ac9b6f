//! Salesforce OAuth credentials rotations over the v2 API, end to end with the mock org.

use reqwest::Method;
use rotary::mock::salesforce::{self, MockOrg, SeededApp};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

pub struct World {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub connection: String,
    pub _mock: MockOrg,
    pub org_base: String,
    pub http: reqwest::Client,
    pub connector: SeededApp,
    pub billing: SeededApp,
}

const BASE: &str = "/api/v2/secret-rotations/salesforce-oauth-credentials";

pub async fn world() -> World {
    world_with(spawn_app().await).await
}

/// A world on a given server (one with the scheduler, say).
pub async fn world_with(app: TestApp) -> World {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Billing").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (mock, org_base) = salesforce::spawn(listener, None, None).await.unwrap();
    let apps = mock.seeded_apps();
    let r = app
        .post(
            "/api/v1/app-connections/salesforce",
            &token,
            json!({"name": "sf", "method": "client-credentials", "projectId": project,
                   "credentials": {"instanceUrl": org_base, "consumerKey": apps[0].key, "consumerSecret": apps[0].secret}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    World {
        connection: r.body["appConnection"]["id"].as_str().unwrap().to_string(),
        app,
        token,
        project,
        _mock: mock,
        org_base,
        http: reqwest::Client::new(),
        connector: apps[0].clone(),
        billing: apps[1].clone(),
    }
}

impl World {
    /// The seed's sample create body, with this world's ids.
    pub fn sample(&self) -> Value {
        json!({
            "name": "my-salesforce-rotation",
            "projectId": self.project,
            "description": "Salesforce ECA consumer secret rotation",
            "connectionId": self.connection,
            "environment": "dev",
            "secretPath": "/",
            "isAutoRotationEnabled": true,
            "rotationInterval": 30,
            "rotateAtUtc": {"hours": 0, "minutes": 0},
            "parameters": {"appId": self.billing.id, "appName": "Billing_Sync"},
            "secretsMapping": {"consumerKey": "SALESFORCE_CONSUMER_KEY", "consumerSecret": "SALESFORCE_CONSUMER_SECRET"}
        })
    }

    pub async fn create(&self) -> String {
        let r = self.app.post(BASE, &self.token, self.sample()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["secretRotation"]["id"].as_str().unwrap().to_string()
    }

    pub async fn rotate(&self, id: &str) -> crate::helpers::Response {
        self.app
            .post(
                &format!("{BASE}/{id}/rotate-secrets"),
                &self.token,
                json!({}),
            )
            .await
    }

    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}/__mock/{path}", self.org_base))
            .json(&body)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap_or(Value::Null)
    }

    pub async fn authenticates(&self, key: &str, secret: &str) -> bool {
        self.control(
            Method::POST,
            "auth-check",
            json!({"key": key, "secret": secret}),
        )
        .await["authenticates"]
            == true
    }

    /// The mapped secrets as an application reads them.
    pub async fn mapped(&self) -> (String, String) {
        self.app
            .read_pair(
                &self.token,
                &self.project,
                ["SALESFORCE_CONSUMER_KEY", "SALESFORCE_CONSUMER_SECRET"],
            )
            .await
    }

    pub async fn generated(&self, id: &str) -> Value {
        let r = self
            .app
            .get(&format!("{BASE}/{id}/generated-credentials"), &self.token)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// The invariants no failure may break: the mapped secrets authenticate, they are the
    /// active slot, and every credential of the app that authenticates is one Rotary knows
    /// (or the one the app had before Rotary, which is never touched until retired).
    pub async fn assert_converged(&self, id: &str) {
        let (key, secret) = self.mapped().await;
        assert!(
            self.authenticates(&key, &secret).await,
            "the mapped credential authenticates"
        );
        let generated = self.generated(id).await;
        let active =
            &generated["generatedCredentials"][generated["activeIndex"].as_u64().unwrap() as usize];
        assert_eq!(active["consumerKey"], json!(key));
        assert_eq!(active["consumerSecret"], json!(secret));
        let known: Vec<String> = generated["generatedCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["consumerKey"].as_str().unwrap().to_string())
            .chain([self.billing.key.clone()])
            .collect();
        let creds = self
            .control(
                Method::GET,
                &format!("apps/{}/credentials", self.billing.id),
                Value::Null,
            )
            .await;
        for c in creds.as_array().unwrap() {
            if c["authenticates"] == true {
                let k = c["key"].as_str().unwrap();
                assert!(
                    known.iter().any(|x| x == k),
                    "the org holds a live credential Rotary does not know: {c}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_seed_sample_creates_a_rotation_with_every_field() {
    let w = world().await;
    let r = w.app.post(BASE, &w.token, w.sample()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rot = &r.body["secretRotation"];
    let mut keys: Vec<&str> = rot
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "activeIndex",
            "connection",
            "connectionId",
            "createdAt",
            "description",
            "environment",
            "folder",
            "folderId",
            "id",
            "isAutoRotationEnabled",
            "isLastRotationManual",
            "lastRotatedAt",
            "lastRotationAttemptedAt",
            "lastRotationJobId",
            "lastRotationMessage",
            "name",
            "nextRotationAt",
            "parameters",
            "projectId",
            "rotateAtUtc",
            "rotationInterval",
            "rotationStatus",
            "secretsMapping",
            "type",
            "updatedAt"
        ]
    );
    assert_eq!(rot["name"], "my-salesforce-rotation");
    assert_eq!(rot["type"], "salesforce-oauth-credentials");
    assert_eq!(rot["activeIndex"], 0);
    assert_eq!(rot["rotationStatus"], "success");
    assert_eq!(rot["isLastRotationManual"], true);
    assert_eq!(rot["lastRotationMessage"], Value::Null);
    assert_eq!(rot["rotateAtUtc"], json!({"hours": 0, "minutes": 0}));
    assert_eq!(
        rot["connection"],
        json!({"app": "salesforce", "name": "sf", "id": w.connection})
    );
    assert_eq!(rot["environment"]["slug"], "dev");
    assert_eq!(rot["folder"]["path"], "/");
    assert_eq!(rot["projectId"], json!(w.project));
    // Created after 00:00 UTC: the padding day, so 31 days from today's 00:00.
    let created: chrono::DateTime<chrono::Utc> =
        rot["lastRotatedAt"].as_str().unwrap().parse().unwrap();
    let next: chrono::DateTime<chrono::Utc> =
        rot["nextRotationAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        next,
        created.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::days(31)
    );

    let id = rot["id"].as_str().unwrap().to_string();
    let (key, secret) = w.mapped().await;
    assert_ne!(key, w.billing.key, "creation issued a new credential");
    assert!(w.authenticates(&key, &secret).await);
    assert!(
        w.authenticates(&w.billing.key, &w.billing.secret).await,
        "the pre-Rotary credential keeps working for one interval"
    );
    let g = w.generated(&id).await;
    assert_eq!(g["activeIndex"], 0);
    assert_eq!(g["type"], "salesforce-oauth-credentials");
    assert_eq!(g["generatedCredentials"].as_array().unwrap().len(), 1);
    assert_eq!(g["generatedCredentials"][0]["consumerKey"], json!(key));
    let runs = w.app.get(&format!("{BASE}/{id}/runs"), &w.token).await;
    assert_eq!(runs.body["runs"][0]["trigger"], "create");
    assert_eq!(runs.body["runs"][0]["step"], "published");
    assert_eq!(runs.body["runs"][0]["outcome"], "succeeded");
    assert_eq!(rot["lastRotationJobId"], runs.body["runs"][0]["id"]);
    w.assert_converged(&id).await;
}

#[tokio::test]
async fn rotations_flip_slots_and_retire_the_credential_two_generations_back() {
    // Whichever way Salesforce's undocumented behaviours go.
    for knobs in [
        json!({}),
        json!({"rotated_blocks_post": true}),
        json!({"rotate_keeps_staged_id": false}),
        json!({"staged_url_mode": "primary"}),
        json!({"rotated_blocks_post": true, "rotate_keeps_staged_id": false, "staged_url_mode": "primary"}),
    ] {
        let w = world().await;
        w.control(Method::PATCH, "knobs", knobs.clone()).await;
        let id = w.create().await;
        let cred1 = w.mapped().await;
        let r = w.rotate(&id).await;
        assert_eq!(r.status, 200, "{knobs}: {}", r.body);
        assert_eq!(r.body["secretRotation"]["activeIndex"], 1);
        let cred2 = w.mapped().await;
        assert_ne!(cred1, cred2);
        assert!(
            w.authenticates(&cred1.0, &cred1.1).await,
            "{knobs}: the previous credential stays valid"
        );
        assert!(
            !w.authenticates(&w.billing.key, &w.billing.secret).await,
            "{knobs}: the pre-Rotary credential is retired"
        );
        let r = w.rotate(&id).await;
        assert_eq!(r.status, 200, "{knobs}: {}", r.body);
        assert_eq!(r.body["secretRotation"]["activeIndex"], 0);
        let cred3 = w.mapped().await;
        assert!(
            !w.authenticates(&cred1.0, &cred1.1).await,
            "{knobs}: two generations back is retired"
        );
        assert!(w.authenticates(&cred2.0, &cred2.1).await);
        let g = w.generated(&id).await;
        let keys: Vec<_> = g["generatedCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["consumerKey"].clone())
            .collect();
        assert_eq!(
            keys,
            [json!(cred3.0), json!(cred2.0)],
            "{knobs}: storage order, as Infisical"
        );
        w.assert_converged(&id).await;
        let runs = w.app.get(&format!("{BASE}/{id}/runs"), &w.token).await;
        let triggers: Vec<_> = runs.body["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["trigger"].clone())
            .collect();
        assert_eq!(
            triggers,
            [json!("manual"), json!("manual"), json!("create")]
        );
    }
}

#[tokio::test]
async fn bad_create_requests_change_nothing() {
    let w = world().await;
    let post = |body: Value| async { w.app.post(BASE, &w.token, body).await };
    let with = |path: &[&str], v: Value| {
        let mut b = w.sample();
        let mut t = &mut b;
        for p in &path[..path.len() - 1] {
            t = t.get_mut(*p).unwrap();
        }
        t[path[path.len() - 1]] = v;
        b
    };
    assert_error(
        &post(with(&["name"], json!("Not A Slug"))).await,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["name"], "message": "name field can only contain lowercase letters, numbers, and hyphens"}]),
    );
    assert_error(
        &post(with(&["rotationInterval"], json!(0))).await,
        422,
        "ValidationFailure",
        json!([{"code": "too_small", "path": ["rotationInterval"], "message": "rotationInterval must be at least 1"}]),
    );
    assert_error(
        &post(with(&["rotationInterval"], json!(1.5))).await,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["rotationInterval"], "message": "Expected integer, received float"}]),
    );
    assert_error(
        &post(with(&["rotateAtUtc", "hours"], json!(24))).await,
        422,
        "ValidationFailure",
        json!([{"code": "too_big", "path": ["rotateAtUtc", "hours"], "message": "hours must be between 0 and 23"}]),
    );
    assert_error(
        &post(with(&["secretsMapping", "consumerKey"], json!("A/B"))).await,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["secretsMapping", "consumerKey"], "message": "Secret name cannot contain colon or forward slash."}]),
    );
    assert_error(
        &post(with(&["parameters", "appId"], json!(""))).await,
        422,
        "ValidationFailure",
        json!([{"code": "too_small", "path": ["parameters", "appId"], "message": "App Identifier Required"}]),
    );
    let mut missing = w.sample();
    missing.as_object_mut().unwrap().remove("rotationInterval");
    assert_error(
        &post(missing).await,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_type", "path": ["rotationInterval"], "message": "Required"}]),
    );

    assert_error(&post(with(&["secretPath"], json!("/nope"))).await, 400, "BadRequest",
        json!(format!("Could not find folder with path \"/nope\" in environment \"dev\" for project with ID \"{}\"", w.project)));
    let ghost = uuid::Uuid::new_v4();
    assert_error(
        &post(with(&["connectionId"], json!(ghost))).await,
        404,
        "NotFound",
        json!(format!("Could not find App Connection with ID {ghost}")),
    );
    assert_error(&post(with(&["secretsMapping", "consumerSecret"], json!("SALESFORCE_CONSUMER_KEY"))).await, 400, "BadRequest",
        json!("Secrets mapping keys must be unique. \"SALESFORCE_CONSUMER_KEY, SALESFORCE_CONSUMER_KEY\" contains duplicate keys."));
    w.app
        .post(
            "/api/v3/secrets/raw/SALESFORCE_CONSUMER_SECRET",
            &w.token,
            json!({"workspaceId": w.project, "environment": "dev", "secretValue": "x"}),
        )
        .await;
    assert_error(
        &post(w.sample()).await,
        400,
        "BadRequest",
        json!("The following secrets already exist at the path \"/\": SALESFORCE_CONSUMER_SECRET"),
    );
    assert_eq!(w.app.count("secret_rotations").await, 0);
    assert_eq!(w.app.count("rotation_runs").await, 0);

    let r = post(with(
        &["secretsMapping", "consumerSecret"],
        json!("SF_SECRET"),
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(with(
        &["secretsMapping"],
        json!({"consumerKey": "K2", "consumerSecret": "S2"}),
    ))
    .await;
    assert_error(&r, 400, "BadRequest", json!("A Secret Rotation with the name \"my-salesforce-rotation\" already exists at the secret path \"/\""));
    assert_eq!(w.app.count("secret_rotations").await, 1);
}

#[tokio::test]
async fn salesforce_refusals_at_create_leave_nothing_behind() {
    let w = world().await;
    let mut body = w.sample();
    body["parameters"]["appId"] = json!(w.connector.id);
    let r = w.app.post(BASE, &w.token, body).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(rotary::rotation::engine::SELF_ROTATION),
    );

    w.control(
        Method::PATCH,
        "org/settings",
        json!({"restSecretAccess": false}),
    )
    .await;
    let r = w.app.post(BASE, &w.token, w.sample()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["message"].as_str().unwrap().starts_with(
        "Rotary encountered an issue while generating credentials with the configured inputs: turn on 'Allow access to External Client App consumer secrets via REST API'"
    ), "{}", r.body);
    w.control(
        Method::PATCH,
        "org/settings",
        json!({"restSecretAccess": true}),
    )
    .await;

    // Salesforce refuses the PATCH after the POST: the staged credential is cleaned up.
    w.control(Method::PUT, "faults", json!([{"id": "p", "match": {"op": "rotate"}, "action": {"status": 400, "body": "[{\"errorCode\":\"INVALID_API_INPUT\",\"message\":\"nope\"}]"}}])).await;
    let r = w.app.post(BASE, &w.token, w.sample()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let state = w.control(Method::GET, "state", Value::Null).await;
    assert_eq!(
        state["apps"][1]["consumers"][0]["slot"],
        Value::Null,
        "no staged credential left in the org"
    );
    assert_eq!(w.app.count("secret_rotations").await, 0);
    assert_eq!(w.app.count("secrets").await, 0);
    assert!(w.authenticates(&w.billing.key, &w.billing.secret).await);
}

#[tokio::test]
async fn a_failed_rotation_keeps_the_published_credential_and_says_why() {
    let w = world().await;
    let id = w.create().await;
    let before = w.mapped().await;
    w.control(
        Method::PATCH,
        "users/rotary-runas@demo.example",
        json!({"viewClientSecret": false}),
    )
    .await;
    let r = w.rotate(&id).await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.body["error"], "InternalServerError");
    let message = r.body["message"].as_str().unwrap();
    assert!(message.starts_with("Rotary encountered an issue while generating credentials with the configured inputs: the connection's Run As user needs"), "{message}");
    let rot = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body["secretRotation"].clone();
    assert_eq!(rot["rotationStatus"], "failed");
    assert_eq!(rot["lastRotationMessage"], json!(message));
    assert_eq!(rot["activeIndex"], 0);
    assert_eq!(w.mapped().await, before);
    w.assert_converged(&id).await;

    w.control(
        Method::PATCH,
        "users/rotary-runas@demo.example",
        json!({"viewClientSecret": true}),
    )
    .await;
    let r = w.rotate(&id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secretRotation"]["rotationStatus"], "success");
    assert_eq!(r.body["secretRotation"]["lastRotationMessage"], Value::Null);
    w.assert_converged(&id).await;
}

#[tokio::test]
async fn mapped_secrets_are_read_only_while_the_rotation_exists() {
    let w = world().await;
    let id = w.create().await;
    let body = json!({"workspaceId": w.project, "environment": "dev", "secretValue": "mine"});
    let r = w
        .app
        .patch(
            "/api/v3/secrets/raw/SALESFORCE_CONSUMER_SECRET",
            &w.token,
            body.clone(),
        )
        .await;
    assert_error(&r, 400, "BadRequest", json!("Cannot update rotated secret"));
    let r = w
        .app
        .delete(
            "/api/v3/secrets/raw/SALESFORCE_CONSUMER_KEY",
            &w.token,
            Some(json!({"workspaceId": w.project, "environment": "dev"})),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("Cannot delete rotated secrets"),
    );
    let r = w
        .app
        .get(
            &format!(
                "/api/v3/secrets/raw/SALESFORCE_CONSUMER_KEY?workspaceId={}&environment=dev",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(r.body["secret"]["isRotatedSecret"], true);
    assert_eq!(r.body["secret"]["rotationId"], json!(id));

    // Deleting the rotation without flags leaves the secrets, now editable.
    let r = w.app.delete(&format!("{BASE}/{id}"), &w.token, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = w
        .app
        .patch(
            "/api/v3/secrets/raw/SALESFORCE_CONSUMER_SECRET",
            &w.token,
            body,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secret"]["isRotatedSecret"], false);
}

#[tokio::test]
async fn delete_with_both_flags_removes_secrets_and_disables_oauth_on_the_app() {
    let w = world().await;
    let id = w.create().await;
    w.rotate(&id).await;
    let (key, secret) = w.mapped().await;
    let r = w
        .app
        .delete(&format!("{BASE}/{id}?deleteSecrets=TRUE"), &w.token, None)
        .await;
    assert_eq!(
        r.status, 422,
        "strict true/false like Infisical: {}",
        r.body
    );
    let r = w
        .app
        .delete(
            &format!("{BASE}/{id}?deleteSecrets=true&revokeGeneratedCredentials=true"),
            &w.token,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secretRotation"]["id"], json!(id));
    assert_eq!(w.app.count("secrets").await, 0);
    assert!(
        !w.authenticates(&key, &secret).await,
        "OAuth is off for the whole app"
    );
    let state = w.control(Method::GET, "state", Value::Null).await;
    assert_eq!(state["apps"][1]["oauthEnabled"], false);
    assert_eq!(
        state["apps"][1]["consumers"][0]["slot"],
        Value::Null,
        "the previous credential was deleted first"
    );
    assert!(
        w.authenticates(&w.connector.key, &w.connector.secret).await,
        "the connection's own app is untouched"
    );
    let r = w.app.get(&format!("{BASE}/{id}"), &w.token).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!(
            "Could not find Salesforce OAuth Credentials Rotation with ID \"{id}\""
        )),
    );
}

#[tokio::test]
async fn update_list_by_name_options_and_check_credentials() {
    let w = world().await;
    let id = w.create().await;
    let r = w
        .app
        .patch(&format!("{BASE}/{id}"), &w.token, json!({"name": "renamed", "isAutoRotationEnabled": false,
            "secretsMapping": {"consumerKey": "SF_KEY", "consumerSecret": "SALESFORCE_CONSUMER_SECRET"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secretRotation"]["name"], "renamed");
    assert_eq!(r.body["secretRotation"]["nextRotationAt"], Value::Null);
    assert_eq!(
        r.body["secretRotation"]["secretsMapping"]["consumerKey"],
        "SF_KEY"
    );
    let r = w
        .app
        .get(
            &format!(
                "/api/v3/secrets/raw/SF_KEY?workspaceId={}&environment=dev",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(r.status, 200, "the owned secret was renamed");
    let r = w
        .app
        .patch(
            &format!("{BASE}/{id}"),
            &w.token,
            json!({"isAutoRotationEnabled": true, "rotationInterval": 7}),
        )
        .await;
    assert!(r.body["secretRotation"]["nextRotationAt"].is_string());
    assert_eq!(r.body["secretRotation"]["rotationInterval"], 7);
    let ghost = uuid::Uuid::new_v4();
    let r = w
        .app
        .patch(&format!("{BASE}/{ghost}"), &w.token, json!({}))
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!(
            "Could not find Salesforce OAuth Credentials Rotation with ID {ghost}"
        )),
    );

    let r = w
        .app
        .get(
            &format!("/api/v2/secret-rotations?projectId={}", w.project),
            &w.token,
        )
        .await;
    assert_eq!(r.body["secretRotations"].as_array().unwrap().len(), 1);
    let r = w
        .app
        .get(&format!("{BASE}?projectId={}", w.project), &w.token)
        .await;
    assert_eq!(r.body["secretRotations"][0]["id"], json!(id));
    let r = w.app.get("/api/v2/secret-rotations", &w.token).await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "too_small", "path": ["projectId"], "message": "Project ID required"}]),
    );
    let r = w
        .app
        .get(
            &format!(
                "{BASE}/rotation-name/renamed?projectId={}&environment=dev&secretPath=/",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(r.body["secretRotation"]["id"], json!(id));
    let r = w
        .app
        .get(
            &format!(
                "{BASE}/rotation-name/nope?projectId={}&environment=dev&secretPath=/",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!("Could not find Salesforce OAuth Credentials Rotation with name \"nope\""),
    );
    let r = w
        .app
        .get("/api/v2/secret-rotations/options", &w.token)
        .await;
    // Sorted by name, as Infisical sorts them; Postgres's template is Infisical's, byte for byte.
    assert_eq!(
        r.body,
        json!({"secretRotationOptions": [
            {"name": "Auth0 Client Secret", "type": "auth0-client-secret", "connection": "auth0",
             "template": {"secretsMapping": {"clientId": "AUTH0_CLIENT_ID", "clientSecret": "AUTH0_CLIENT_SECRET"}}},
            {"name": "AWS IAM User Secret", "type": "aws-iam-user-secret", "connection": "aws",
             "template": {"secretsMapping": {"accessKeyId": "AWS_ACCESS_KEY_ID", "secretAccessKey": "AWS_SECRET_ACCESS_KEY"}}},
            {"name": "Azure Client Secret", "type": "azure-client-secret", "connection": "azure-client-secrets",
             "template": {"secretsMapping": {"clientId": "AZURE_CLIENT_ID", "clientSecret": "AZURE_CLIENT_SECRET"}}},
            {"name": "LDAP Password", "type": "ldap-password", "connection": "ldap",
             "template": {"secretsMapping": {"dn": "LDAP_DN", "password": "LDAP_PASSWORD"}}},
            {"name": "Microsoft SQL Server Credentials", "type": "mssql-credentials", "connection": "mssql",
             "template": {
                "createUserStatement": "-- Create login at the server level\nCREATE LOGIN [infisical_user] WITH PASSWORD = 'my-password';\n\n-- Grant server-level connect permission\nGRANT CONNECT SQL TO [infisical_user];\n\n-- Switch to the database where you want to create the user\nUSE my_database;\n\n-- Create the database user mapped to the login\nCREATE USER [infisical_user] FOR LOGIN [infisical_user];\n\n-- Grant permissions to the user on the schema in this database\nGRANT SELECT, INSERT, UPDATE, DELETE ON SCHEMA::dbo TO [infisical_user];",
                "rotationStatement": "ALTER LOGIN [{{username}}] WITH PASSWORD = '{{password}}'",
                "secretsMapping": {"username": "MSSQL_DB_USERNAME", "password": "MSSQL_DB_PASSWORD"}}},
            {"name": "MongoDB Credentials", "type": "mongodb-credentials", "connection": "mongodb",
             "template": {"createUserStatement": "use [DATABASE_NAME]\ndb.createUser({\n  user: \"infisical_user_1\",\n  pwd: \"temporary_password\",\n  roles: [{ role: \"readWrite\", db: \"[DATABASE_NAME]\" }]\n})\n\ndb.createUser({\n  user: \"infisical_user_2\",\n  pwd: \"temporary_password\",\n  roles: [{ role: \"readWrite\", db: \"[DATABASE_NAME]\" }]\n})",
                          "secretsMapping": {"username": "MONGODB_DB_USERNAME", "password": "MONGODB_DB_PASSWORD"}}},
            {"name": "MySQL Credentials", "type": "mysql-credentials", "connection": "mysql",
             "template": {
                "createUserStatement": "-- create user\nCREATE USER 'infisical_user'@'%' IDENTIFIED BY 'temporary_password';\n\n-- grant all privileges\nGRANT ALL PRIVILEGES ON my_database.* TO 'infisical_user'@'%';\n\n-- apply the privilege changes\nFLUSH PRIVILEGES;",
                "rotationStatement": "ALTER USER '{{username}}'@'%' IDENTIFIED BY '{{password}}'",
                "secretsMapping": {"username": "MYSQL_USERNAME", "password": "MYSQL_PASSWORD"}}},
            {"name": "Okta Client Secret", "type": "okta-client-secret", "connection": "okta",
             "template": {"secretsMapping": {"clientId": "OKTA_CLIENT_ID", "clientSecret": "OKTA_CLIENT_SECRET"}}},
            {"name": "OracleDB Credentials", "type": "oracledb-credentials", "connection": "oracledb",
             "template": {
                "createUserStatement": "-- create user\nCREATE USER INFISICAL_USER IDENTIFIED BY \"temporary_password\";\n\n-- grant all privileges\nGRANT ALL PRIVILEGES TO INFISICAL_USER;",
                "rotationStatement": "ALTER USER \"{{username}}\" IDENTIFIED BY \"{{password}}\"",
                "secretsMapping": {"username": "ORACLEDB_USERNAME", "password": "ORACLEDB_PASSWORD"}}},
            {"name": "PostgreSQL Credentials", "type": "postgres-credentials", "connection": "postgres",
             "template": {
                "createUserStatement": "-- create user role\nCREATE USER infisical_user WITH ENCRYPTED PASSWORD 'temporary_password';\n   \n-- grant database connection permissions\nGRANT CONNECT ON DATABASE my_database TO infisical_user;\n   \n-- grant relevant table permissions\nGRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO infisical_user;",
                "rotationStatement": "ALTER USER \"{{username}}\" WITH PASSWORD '{{password}}'",
                "secretsMapping": {"username": "POSTGRES_DB_USERNAME", "password": "POSTGRES_DB_PASSWORD"}}},
            {"name": "Redis Credentials", "type": "redis-credentials", "connection": "redis",
             "template": {"secretsMapping": {"username": "REDIS_USERNAME", "password": "REDIS_PASSWORD"}}},
            {"name": "Salesforce OAuth Credentials", "type": "salesforce-oauth-credentials", "connection": "salesforce",
             "template": {"secretsMapping": {"consumerKey": "SALESFORCE_CONSUMER_KEY", "consumerSecret": "SALESFORCE_CONSUMER_SECRET"}}}]})
    );

    let r = w
        .app
        .post(
            &format!("{BASE}/{id}/check-credentials"),
            &w.token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 204);
    w.control(
        Method::PATCH,
        &format!("apps/{}", w.billing.id),
        json!({"oauthEnabled": false}),
    )
    .await;
    let r = w
        .app
        .post(
            &format!("{BASE}/{id}/check-credentials"),
            &w.token,
            json!({}),
        )
        .await;
    assert_error(&r, 400, "BadRequest", json!("Salesforce refused the active credential: the consumer key is not known to this org, or OAuth is disabled on its External Client App (invalid_client_id: client identifier invalid)"));

    // The connection cannot be deleted while a rotation uses it.
    let r = w
        .app
        .delete(
            &format!("/api/v1/app-connections/salesforce/{}", w.connection),
            &w.token,
            None,
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "App Connection with ID {} is used by 1 secret rotation(s); delete them first",
            w.connection
        )),
    );
}

#[tokio::test]
async fn a_second_rotate_while_one_runs_is_refused() {
    let w = world().await;
    let id = w.create().await;
    w.control(Method::PUT, "faults", json!([{"id": "l", "match": {"op": "rotate"}, "action": {"latch": "hold"}, "phase": "before"}])).await;
    let first = tokio::spawn({
        let client = w.app.client.clone();
        let url = format!("{}{BASE}/{id}/rotate-secrets", w.app.base);
        let token = w.token.clone();
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let r = w.rotate(&id).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("A rotation is already in progress. Please try again shortly."),
    );
    let r = w.app.delete(&format!("{BASE}/{id}"), &w.token, None).await;
    assert_eq!(r.status, 400, "no delete while a run is in flight");
    w.control(Method::DELETE, "faults", Value::Null).await;
    w.control(Method::POST, "latches/hold/release", Value::Null)
        .await;
    assert_eq!(
        first.await.unwrap(),
        200,
        "the held PATCH failed (500) and the engine retried it"
    );
    w.assert_converged(&id).await;
}

#[tokio::test]
async fn faults_at_every_salesforce_operation_never_lose_a_credential() {
    // A short provider timeout, so a hung call fails fast.
    let options = rotary::config::Options {
        provider_timeout: std::time::Duration::from_millis(500),
        ..crate::helpers::test_options()
    };
    let url = crate::helpers::fresh_database().await;
    let w = world_with(
        crate::helpers::spawn_server(&url, rotary::crypto::Key::generate(), options, false).await,
    )
    .await;
    let id = w.create().await;
    for op in [
        "token",
        "list_consumers",
        "get_staged",
        "post_staged",
        "rotate",
        "delete_staged",
    ] {
        for phase in ["before", "after"] {
            for action in [
                json!({"status": 503}),
                json!({"reset": true}),
                json!({"status": 401}),
                json!({"status": 403}),
                json!({"hang": true}),
            ] {
                w.control(Method::PUT, "faults", json!([{"id": "f", "match": {"op": op, "times": 1}, "phase": phase, "action": action}])).await;
                let r = w.rotate(&id).await;
                assert!(
                    r.status == 200 || r.status == 500,
                    "{op} {phase} {action}: {}",
                    r.body
                );
                w.control(Method::DELETE, "faults", Value::Null).await;
                eprintln!("fault {op} {phase} {action} -> {}", r.status);
                w.assert_converged(&id).await;
                let rot = w.app.get(&format!("{BASE}/{id}"), &w.token).await.body["secretRotation"]
                    .clone();
                if r.status == 200 {
                    assert_eq!(rot["rotationStatus"], "success", "{op} {phase} {action}");
                }
            }
        }
    }
    // The REST-secret setting switched off mid-life: refused, nothing lost, and it recovers.
    w.control(
        Method::PATCH,
        "org/settings",
        json!({"restSecretAccess": false}),
    )
    .await;
    assert_eq!(w.rotate(&id).await.status, 500);
    w.assert_converged(&id).await;
    w.control(
        Method::PATCH,
        "org/settings",
        json!({"restSecretAccess": true}),
    )
    .await;
    // A rotation still works after all that.
    assert_eq!(w.rotate(&id).await.status, 200);
    w.assert_converged(&id).await;
}

#[tokio::test]
async fn consumers_never_see_a_credential_that_does_not_work() {
    let w = std::sync::Arc::new(world().await);
    let id = w.create().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let published = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let reader = tokio::spawn({
        let (w, stop, published) = (w.clone(), stop.clone(), published.clone());
        async move {
            let mut checks = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let before = published.load(std::sync::atomic::Ordering::SeqCst);
                let (key, secret) = w.mapped().await;
                let works = w.authenticates(&key, &secret).await;
                let after = published.load(std::sync::atomic::Ordering::SeqCst);
                // Dual-phase: a credential read from the store works until the rotation after
                // next retires it. Only a consumer holding it across two rotations may fail.
                assert!(
                    works || after - before >= 2,
                    "a freshly read credential failed (check {checks})"
                );
                checks += 1;
            }
            checks
        }
    });
    for n in 0..200 {
        let r = w.rotate(&id).await;
        assert_eq!(r.status, 200, "rotation {n}: {}", r.body);
        published.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let checks = reader.await.unwrap();
    assert!(
        checks > 50,
        "the reader ran alongside the rotations ({checks} checks)"
    );
    w.assert_converged(&id).await;
    let runs = w.app.get(&format!("{BASE}/{id}/runs"), &w.token).await;
    assert_eq!(runs.body["runs"].as_array().unwrap().len(), 201);
}

#[tokio::test]
async fn metrics_show_runs_provider_calls_and_credential_age() {
    let w = world().await;
    let id = w.create().await;
    assert_eq!(w.rotate(&id).await.status, 200);
    let r = w
        .app
        .client
        .get(format!("{}/metrics", w.app.base))
        .bearer_auth(&w.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    for needle in [
        "rotary_rotation_runs_total{type=\"salesforce-oauth-credentials\",trigger=\"manual\",outcome=\"succeeded\"}",
        "rotary_rotation_run_duration_seconds_bucket{type=\"salesforce-oauth-credentials\",trigger=\"create\"",
        "rotary_provider_call_duration_seconds_bucket{provider=\"salesforce\",operation=\"post_staged\",outcome=\"ok\"",
        "rotary_provider_call_duration_seconds_bucket{provider=\"salesforce\",operation=\"rotate\",outcome=\"ok\"",
        "rotary_rotations_due ",
        "rotary_rotations_overdue ",
        "rotary_runs_in_flight ",
        "rotary_http_requests_total{method=\"POST\",route=\"/api/v2/secret-rotations/salesforce-oauth-credentials/{rotationId}/rotate-secrets\",status=\"200\"}",
        &format!("rotary_active_credential_age_seconds{{rotation_id=\"{id}\"}}"),
        "rotary_active_credentials ",
        "rotary_oldest_active_credential_age_seconds ",
    ] {
        assert!(text.contains(needle), "{needle} missing from /metrics");
    }
}

#[tokio::test]
async fn the_audit_log_records_every_action_with_actor_and_outcome() {
    let w = world().await;
    let id = w.create().await;
    w.rotate(&id).await;
    let generated = w.generated(&id).await;
    w.app
        .post(
            &format!("{BASE}/{id}/check-credentials"),
            &w.token,
            json!({}),
        )
        .await;
    w.control(
        Method::PATCH,
        "users/rotary-runas@demo.example",
        json!({"viewClientSecret": false}),
    )
    .await;
    assert_eq!(w.rotate(&id).await.status, 500);
    w.app
        .patch(
            &format!("{BASE}/{id}"),
            &w.token,
            json!({"description": "x"}),
        )
        .await;
    w.app.delete(&format!("{BASE}/{id}"), &w.token, None).await;

    let logs = w
        .app
        .get(
            &format!("/api/v1/workspace/{}/audit-logs?limit=100", w.project),
            &w.token,
        )
        .await;
    assert_eq!(logs.status, 200, "{}", logs.body);
    let events: Vec<(String, String)> = logs.body["auditLogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["event"]["type"].as_str().unwrap().to_string(),
                l["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("DELETE_SECRET_ROTATION", "success"),
        ("UPDATE_SECRET_ROTATION", "success"),
        ("SECRET_ROTATION_ROTATE_SECRETS", "failure"),
        ("SECRET_ROTATION_CHECK_CREDENTIALS", "success"),
        ("GET_SECRET_ROTATION_GENERATED_CREDENTIALS", "success"),
        ("SECRET_ROTATION_ROTATE_SECRETS", "success"),
        ("CREATE_SECRET_ROTATION", "success"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(events, expected);
    let first = &logs.body["auditLogs"][6];
    assert_eq!(first["actor"]["type"], "identity");
    assert_eq!(first["actor"]["metadata"]["name"], "admin");
    assert_eq!(first["event"]["metadata"]["rotationId"], json!(id));
    assert!(logs.body["auditLogs"][2]["event"]["metadata"]["message"]
        .as_str()
        .unwrap()
        .contains("View Client Secret"));
    let text = logs.body.to_string();
    for cred in generated["generatedCredentials"].as_array().unwrap() {
        assert!(
            !text.contains(cred["consumerSecret"].as_str().unwrap()),
            "no secret in the audit log"
        );
    }

    let r = w
        .app
        .get(
            &format!(
                "/api/v1/workspace/{}/audit-logs?eventType=SECRET_ROTATION_ROTATE_SECRETS&limit=1",
                w.project
            ),
            &w.token,
        )
        .await;
    assert_eq!(r.body["auditLogs"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["auditLogs"][0]["outcome"], "failure");
    let r = w
        .app
        .get(
            &format!("/api/v1/workspace/{}/audit-logs?limit=500", w.project),
            &w.token,
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "too_big", "path": ["limit"], "message": "limit must be between 1 and 100"}]),
    );
    let (viewer_id, viewer) = w.app.new_identity(&w.token, "viewer", "member").await;
    w.app
        .add_member(&w.token, &w.project, &viewer_id, "viewer")
        .await;
    let r = w
        .app
        .get(
            &format!("/api/v1/workspace/{}/audit-logs", w.project),
            &viewer,
        )
        .await;
    assert_error(
        &r,
        403,
        "PermissionDenied",
        json!("You are not allowed to read on audit-logs"),
    );
}

#[tokio::test]
async fn an_app_with_several_consumers_rotates_the_first_and_says_so() {
    let w = world().await;
    w.control(
        Method::PATCH,
        &format!("apps/{}", w.billing.id),
        json!({"addConsumers": 1}),
    )
    .await;
    let r = w.app.post(BASE, &w.token, w.sample()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body["secretRotation"]["lastRotationMessage"],
        json!(format!(
            "Salesforce app \"{}\" has 2 consumers; Rotary rotated the first one only. Assign each consumer to its own External Client App if all need rotation.",
            w.billing.id
        ))
    );
    let state = w.control(Method::GET, "state", Value::Null).await;
    let consumers = state["apps"][1]["consumers"].as_array().unwrap();
    assert_ne!(
        consumers[0]["primary"]["key"],
        json!(w.billing.key),
        "the first consumer was rotated"
    );
    let (key, _) = w.mapped().await;
    assert_eq!(consumers[0]["primary"]["key"], json!(key));
    assert_eq!(
        consumers[1]["slot"],
        Value::Null,
        "the second consumer is untouched"
    );
    // An app with no consumer cannot be rotated.
    w.control(
        Method::PATCH,
        &format!("apps/{}", w.billing.id),
        json!({"clearConsumers": true}),
    )
    .await;
    let r = w.rotate(&id).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.body["message"],
        json!(format!("Rotary encountered an issue while generating credentials with the configured inputs: Salesforce app \"{}\" has no consumers configured for rotation", w.billing.id))
    );
}

/// A run journaled by an earlier release, in the Salesforce columns it used before the
/// generic journal (`journal_ct` NULL), still resumes after the upgrade: here one that had
/// staged its credential when its worker died.
#[tokio::test]
async fn a_half_finished_run_in_the_old_columns_resumes_after_the_upgrade() {
    use secrecy::ExposeSecret;
    let w = world().await;
    let id = w.create().await;
    let client = rotary::providers::salesforce::SalesforceClient::new(
        rotary::providers::url_guard::http_client(std::time::Duration::from_secs(5), true),
        &w.org_base,
        &w.connector.key,
        secrecy::SecretString::from(w.connector.secret.clone()),
    );
    // What the old engine had done: retired (nothing to free on a fresh app: the original
    // credential is the primary, the slot holds only the first rotation's Rotated one, which
    // the old retire step deleted) and staged.
    let consumer = client.consumers(&w.billing.id).await.unwrap()[0].clone();
    for record in client.staged(&w.billing.id, &consumer.id).await.unwrap() {
        client
            .delete_staged(&w.billing.id, &consumer.id, &record.id)
            .await
            .unwrap();
    }
    let staged = client.stage(&w.billing.id, &consumer.id).await.unwrap();
    let state = w.app.state.as_ref().unwrap();
    let project = uuid::Uuid::parse_str(&w.project).unwrap();
    let key = rotary::access::project_key_by_id(state, project)
        .await
        .unwrap()
        .unwrap();
    let run_id = uuid::Uuid::new_v4();
    let secret_ct = key.seal(
        staged.secret.expose_secret().as_bytes(),
        &format!("rotation-run-secret:{run_id}"),
    );
    sqlx::query(
        "INSERT INTO rotation_runs (id, rotation_id, trigger, step, phase, outcome, lease_owner, lease_expires_at, \
         consumer_id, staged_id, staged_key, staged_secret_ct, staged_url) \
         VALUES ($1, $2::uuid, 'manual', 'staged', 3, 'running', 'a-worker-of-the-old-release', now() - interval '1 minute', \
         $3, $4, $5, $6, $7)",
    )
    .bind(run_id)
    .bind(&id)
    .bind(&consumer.id)
    .bind(&staged.id)
    .bind(&staged.key)
    .bind(&secret_ct)
    .bind(&staged.url)
    .execute(&w.app.pool)
    .await
    .unwrap();

    // rotate-secrets takes the dead run over and finishes it: it activates and publishes the
    // credential the old run staged, and stages nothing new.
    let events = |e: Value| {
        e.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "staged")
            .count()
    };
    let staged_before = events(w.control(Method::GET, "events", Value::Null).await);
    let r = w.rotate(&id).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(w.mapped().await.0, staged.key);
    w.assert_converged(&id).await;
    assert_eq!(
        events(w.control(Method::GET, "events", Value::Null).await),
        staged_before
    );
    let runs = w.app.get(&format!("{BASE}/{id}/runs"), &w.token).await;
    let resumed = runs.body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(run_id))
        .cloned()
        .unwrap();
    assert_eq!(resumed["outcome"], "succeeded");
    assert_eq!(resumed["attempts"], 2);
}

/// A revoke is a run: while it talks to Salesforce it holds the rotation's one open-run slot,
/// so neither rotate-secrets nor the scheduler can stage a credential underneath it that the
/// delete would then orphan.
#[tokio::test]
async fn a_revoke_holds_the_run_slot_so_nothing_rotates_underneath_it() {
    let w = world().await;
    let id = w.create().await;
    w.control(Method::PUT, "faults", json!([{"id": "l", "match": {"op": "list_consumers"}, "action": {"latch": "hold"}, "phase": "before"}])).await;
    let revoke = {
        let (base, token, id) = (w.app.base.clone(), w.token.clone(), id.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .delete(format!(
                    "{base}{BASE}/{id}?deleteSecrets=true&revokeGeneratedCredentials=true"
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    for _ in 0..100 {
        if w.app
            .count("rotation_runs WHERE outcome = 'running' AND trigger = 'revoke'")
            .await
            == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    w.control(Method::DELETE, "faults", Value::Null).await;
    let r = w.rotate(&id).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("A rotation is already in progress. Please try again shortly."),
    );
    w.control(Method::POST, "latches/hold/release", Value::Null)
        .await;
    assert_eq!(revoke.await.unwrap(), 200);
    assert_eq!(w.app.count("secret_rotations").await, 0);
    assert_eq!(w.app.count("secrets").await, 0);
    let state = w.control(Method::GET, "state", Value::Null).await;
    assert_eq!(state["apps"][1]["oauthEnabled"], false);
    // Nothing was staged while the revoke ran: the slot holds the app's original credential.
    assert_eq!(state["apps"][1]["consumers"][0]["slot"]["state"], "Rotated");
    assert_eq!(
        state["apps"][1]["consumers"][0]["slot"]["cred"]["key"],
        json!(w.billing.key)
    );
}
