//! The mock Salesforce org against the reference (../shared/reference/salesforce-api.md), over
//! real HTTP.

use reqwest::{Method, StatusCode};
use rotary::mock::salesforce::{self, MockOrg, SeededApp};
use serde_json::{json, Value};

struct Org {
    mock: MockOrg,
    base: String,
    http: reqwest::Client,
    connector: SeededApp,
    billing: SeededApp,
}

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("JSON body: {}", self.text))
    }
}

async fn org() -> Org {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (mock, base) = salesforce::spawn(listener, None, Some(42)).await.unwrap();
    let apps = mock.seeded_apps();
    Org {
        connector: apps[0].clone(),
        billing: apps[1].clone(),
        mock,
        base,
        http: reqwest::Client::new(),
    }
}

impl Org {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    }

    async fn token_with(&self, form: &[(&str, &str)]) -> Resp {
        let r = self
            .http
            .post(format!("{}/services/oauth2/token", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    }

    async fn token(&self, key: &str, secret: &str) -> Resp {
        self.token_with(&[
            ("grant_type", "client_credentials"),
            ("client_id", key),
            ("client_secret", secret),
        ])
        .await
    }

    async fn login(&self) -> String {
        let r = self
            .token(&self.connector.key, &self.connector.secret)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["access_token"].as_str().unwrap().to_string()
    }

    fn creds(&self) -> String {
        format!(
            "/services/data/v65.0/apps/oauth/credentials/{}/{}",
            self.billing.id, self.billing.consumer_id
        )
    }

    async fn authenticates(&self, key: &str, secret: &str) -> bool {
        let r = self
            .send(
                Method::POST,
                "/__mock/auth-check",
                None,
                Some(json!({"key": key, "secret": secret})),
            )
            .await;
        r.json()["authenticates"].as_bool().unwrap()
    }

    async fn knobs(&self, knobs: Value) {
        let r = self
            .send(Method::PATCH, "/__mock/knobs", None, Some(knobs))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    async fn stage(&self, token: &str) -> Value {
        let r = self
            .send(
                Method::POST,
                &format!("{}/staged", self.creds()),
                Some(token),
                None,
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()["stagedCredentials"][0].clone()
    }
}

fn sf_error(r: &Resp, status: u16, code: &str, message: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    assert_eq!(r.json(), json!([{"message": message, "errorCode": code}]));
}

fn oauth_error(r: &Resp, error: &str, description: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"error": error, "error_description": description})
    );
}

#[tokio::test]
async fn token_endpoint_issues_sessions_like_salesforce() {
    let org = org().await;
    let r = org.token(&org.connector.key, &org.connector.secret).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json;charset=UTF-8");
    // Field order as Salesforce emits it.
    let keys: Vec<&str> = r
        .text
        .split("\":")
        .map(|s| s.rsplit('"').next().unwrap())
        .collect();
    assert_eq!(
        &keys[..7],
        [
            "access_token",
            "signature",
            "scope",
            "instance_url",
            "id",
            "token_type",
            "issued_at"
        ]
    );
    let body = r.json();
    let org_id = org.mock.org().id.clone();
    assert!(body["access_token"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{org_id}!")));
    assert_eq!(body["instance_url"], json!(org.base));
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["issued_at"].as_str().unwrap().parse::<i64>().is_ok());
    assert!(body["id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("https://login.salesforce.com/id/{org_id}/005")));
    assert!(body.get("expires_in").is_none());

    // HTTP Basic works too.
    let r = org
        .http
        .post(format!("{}/services/oauth2/token", org.base))
        .basic_auth(&org.billing.key, Some(&org.billing.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn token_endpoint_errors() {
    let org = org().await;
    oauth_error(
        &org.token("3MVG9nope", "x").await,
        "invalid_client_id",
        "client identifier invalid",
    );
    oauth_error(
        &org.token(&org.connector.key, "wrong").await,
        "invalid_client",
        "invalid client credentials",
    );
    oauth_error(
        &org.token_with(&[("grant_type", "password")]).await,
        "unsupported_grant_type",
        "grant type not supported",
    );
    let r = org
        .send(
            Method::POST,
            "/services/oauth2/token",
            None,
            Some(json!({"grant_type": "client_credentials"})),
        )
        .await;
    oauth_error(&r, "unsupported_grant_type", "grant type not supported");
    let r = org
        .http
        .post(format!("{}/services/oauth2/token", org.base))
        .header("host", "login.salesforce.com")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &org.connector.key),
            ("client_secret", &org.connector.secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_description"],
        "request not supported on this domain"
    );

    let app = org.connector.id.clone();
    org.send(
        Method::PATCH,
        &format!("/__mock/apps/{app}"),
        None,
        Some(json!({"ccFlowEnabled": false})),
    )
    .await;
    oauth_error(
        &org.token(&org.connector.key, &org.connector.secret).await,
        "invalid_grant",
        "client credentials flow not enabled",
    );
    org.knobs(json!({"cc_flow_disabled_error": "invalid_client"}))
        .await;
    oauth_error(
        &org.token(&org.connector.key, &org.connector.secret).await,
        "invalid_client",
        "client credentials flow not enabled",
    );
    org.send(
        Method::PATCH,
        &format!("/__mock/apps/{app}"),
        None,
        Some(json!({"ccFlowEnabled": true, "runAs": ""})),
    )
    .await;
    oauth_error(
        &org.token(&org.connector.key, &org.connector.secret).await,
        "invalid_grant",
        "no client credentials user enabled",
    );
    org.knobs(json!({"token_error_status": 401})).await;
    assert_eq!(org.token(&org.connector.key, "wrong").await.status, 401);
}

#[tokio::test]
async fn usage_pages_and_lists_apps() {
    let org = org().await;
    let token = org.login().await;
    let r = org
        .send(
            Method::GET,
            "/services/data/v65.0/apps/oauth/usage?page=0&pageSize=1",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.headers["sforce-limit-info"]
        .to_str()
        .unwrap()
        .starts_with("api-usage=1/15000"));
    assert_eq!(
        r.json(),
        json!({"apps": [{"developerName": "Rotary_Connector", "identifier": org.connector.id, "name": "Rotary Connector"}],
               "currentPageUrl": "/services/data/v65.0/apps/oauth/usage?page=0&pageSize=1",
               "nextPageUrl": "/services/data/v65.0/apps/oauth/usage?page=1&pageSize=1"})
    );
    let r = org
        .send(
            Method::GET,
            "/services/data/v65.0/apps/oauth/usage?page=2&pageSize=1",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.json()["apps"], json!([]));
    assert_eq!(
        r.json()["nextPageUrl"],
        "/services/data/v65.0/apps/oauth/usage?page=3&pageSize=1"
    );
    org.knobs(json!({"usage_id_length": 15})).await;
    let r = org
        .send(
            Method::GET,
            "/services/data/v65.0/apps/oauth/usage",
            Some(&token),
            None,
        )
        .await;
    let short = r.json()["apps"][1]["identifier"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(short.len(), 15);
    // 15-character ids are accepted everywhere.
    let r = org
        .send(
            Method::GET,
            &format!("/services/data/v65.0/apps/oauth/credentials/{short}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        r.json()["consumers"][0]["id"],
        json!(org.billing.consumer_id)
    );
}

#[tokio::test]
async fn credentials_resources_show_keys_and_secrets_only_when_asked() {
    let org = org().await;
    let token = org.login().await;
    let app = &org.billing;
    let base = format!("/services/data/v65.0/apps/oauth/credentials/{}", app.id);
    let consumer_url = format!("{base}/{}", app.consumer_id);
    let r = org.send(Method::GET, &base, Some(&token), None).await;
    assert_eq!(
        r.json(),
        json!({"consumers": [{"id": app.consumer_id, "key": app.key, "name": "Billing Sync", "secret": null,
                               "stagedCredentialsUrl": format!("{consumer_url}/staged"), "url": consumer_url}],
               "currentPageUrl": base, "nextPageUrl": null})
    );
    let r = org
        .send(Method::GET, &consumer_url, Some(&token), None)
        .await;
    assert_eq!(r.json()["secret"], Value::Null);
    let r = org
        .send(
            Method::GET,
            &format!("{consumer_url}?part=keyandsecret"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.json()["secret"], json!(app.secret));
    assert_eq!(r.json()["key"], json!(app.key));
    org.send(
        Method::PATCH,
        "/__mock/org/settings",
        None,
        Some(json!({"restSecretAccess": false})),
    )
    .await;
    let r = org
        .send(
            Method::GET,
            &format!("{consumer_url}?part=secret"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.json()["secret"], Value::Null);
    let r = org
        .send(
            Method::GET,
            &format!("{consumer_url}/staged"),
            Some(&token),
            None,
        )
        .await;
    sf_error(
        &r,
        403,
        "FUNCTIONALITY_NOT_ENABLED",
        "This feature is not currently enabled for this user.",
    );
}

#[tokio::test]
async fn stage_rotate_delete_lifecycle() {
    let org = org().await;
    let token = org.login().await;
    let staged_url = format!("{}/staged", org.creds());
    let r = org.send(Method::GET, &staged_url, Some(&token), None).await;
    assert_eq!(
        r.json(),
        json!({"stagedCredentials": [], "url": staged_url})
    );

    // Stage: a new key and secret that authenticate alongside the primary.
    let r = org
        .send(Method::POST, &staged_url, Some(&token), None)
        .await;
    assert_eq!(r.status, 201);
    let staged = r.json()["stagedCredentials"][0].clone();
    let id = staged["id"].as_str().unwrap().to_string();
    let key = staged["key"].as_str().unwrap().to_string();
    let secret = staged["secret"].as_str().unwrap().to_string();
    assert_eq!(staged["state"], "Active");
    assert_eq!(staged["url"], json!(format!("{staged_url}/{id}")));
    assert_eq!(staged["stagedCredentialsUrl"], json!(staged_url));
    assert!(key.starts_with("3MVG9") && key.len() == 85);
    assert!(
        secret.len() == 64
            && secret
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    assert_ne!(key, org.billing.key);
    assert!(org.authenticates(&key, &secret).await);
    assert!(
        org.authenticates(&org.billing.key, &org.billing.secret)
            .await
    );

    // One staged credential at a time.
    let r = org
        .send(Method::POST, &staged_url, Some(&token), Some(json!({})))
        .await;
    sf_error(&r, 400, "INVALID_API_INPUT", "A staged credential already exists for this OAuth consumer. Rotate or delete it before staging new credentials.");

    // Rotate: the staged pair becomes primary; the old primary stays valid as Rotated.
    let item = format!("{staged_url}/{id}");
    let r = org
        .send(
            Method::PATCH,
            &item,
            Some(&token),
            Some(json!({"command": "rotate"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["state"], "Rotated");
    assert_eq!(r.json()["key"], json!(org.billing.key));
    assert_eq!(r.json()["id"], json!(id));
    let r = org
        .send(Method::GET, &org.creds(), Some(&token), None)
        .await;
    assert_eq!(r.json()["key"], json!(key));
    assert!(
        org.authenticates(&org.billing.key, &org.billing.secret)
            .await
    );
    let r = org
        .send(
            Method::PATCH,
            &item,
            Some(&token),
            Some(json!({"command": "rotate"})),
        )
        .await;
    sf_error(
        &r,
        400,
        "INVALID_API_INPUT",
        "The staged credentials can't be rotated because they were already rotated.",
    );
    let r = org
        .send(
            Method::PATCH,
            &item,
            Some(&token),
            Some(json!({"command": "spin"})),
        )
        .await;
    sf_error(
        &r,
        400,
        "INVALID_API_INPUT",
        "The only supported command is 'rotate'.",
    );

    // The next stage replaces the Rotated record, which stops authenticating at once.
    let second = org.stage(&token).await;
    assert!(
        !org.authenticates(&org.billing.key, &org.billing.secret)
            .await
    );
    let item2 = format!("{staged_url}/{}", second["id"].as_str().unwrap());

    // DELETE revokes at once; the id is gone afterwards.
    let r = org.send(Method::DELETE, &item2, Some(&token), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.text, "");
    assert!(
        !org.authenticates(
            second["key"].as_str().unwrap(),
            second["secret"].as_str().unwrap()
        )
        .await
    );
    let r = org.send(Method::DELETE, &item2, Some(&token), None).await;
    sf_error(
        &r,
        404,
        "NOT_FOUND",
        "The requested resource does not exist",
    );
    assert!(
        org.authenticates(&key, &secret).await,
        "the primary is untouched"
    );

    let r = org.send(Method::GET, "/__mock/events", None, None).await;
    let kinds: Vec<_> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!("staged"),
            json!("rotated"),
            json!("staged"),
            json!("deleted")
        ]
    );
}

#[tokio::test]
async fn thirty_days_expire_staged_and_remove_previous_credentials() {
    let org = org().await;
    let token = org.login().await;
    let staged = org.stage(&token).await;
    let (key, secret) = (
        staged["key"].as_str().unwrap().to_string(),
        staged["secret"].as_str().unwrap().to_string(),
    );
    org.send(
        Method::POST,
        "/__mock/clock/advance",
        None,
        Some(json!({"seconds": 30 * 86400})),
    )
    .await;
    assert!(!org.authenticates(&key, &secret).await);
    let token = org.login().await;
    let r = org
        .send(
            Method::GET,
            &format!("{}/staged", org.creds()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.json()["stagedCredentials"][0]["state"], "Expired");
    let item = r.json()["stagedCredentials"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = org
        .send(
            Method::PATCH,
            &item,
            Some(&token),
            Some(json!({"command": "rotate"})),
        )
        .await;
    sf_error(
        &r,
        400,
        "INVALID_API_INPUT",
        "The staged credentials can't be rotated because they expired.",
    );

    // An expired record does not block staging; a rotated one disappears after 30 days.
    let staged = org.stage(&token).await;
    let item = staged["url"].as_str().unwrap().to_string();
    org.send(
        Method::PATCH,
        &item,
        Some(&token),
        Some(json!({"command": "rotate"})),
    )
    .await;
    assert!(
        org.authenticates(&org.billing.key, &org.billing.secret)
            .await
    );
    org.send(
        Method::POST,
        "/__mock/clock/advance",
        None,
        Some(json!({"seconds": 30 * 86400})),
    )
    .await;
    assert!(
        !org.authenticates(&org.billing.key, &org.billing.secret)
            .await
    );
    let r = org
        .send(
            Method::GET,
            &format!("/__mock/apps/{}/credentials", org.billing.id),
            None,
            None,
        )
        .await;
    let roles: Vec<_> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["role"].clone(), c["authenticates"].clone()))
        .collect();
    assert_eq!(roles[0], (json!("primary"), json!(true)));
    assert!(roles[1..]
        .iter()
        .all(|(role, auth)| role == "graveyard" && auth == false));
}

#[tokio::test]
async fn sessions_expire_and_bad_requests_get_salesforce_errors() {
    let org = org().await;
    let token = org.login().await;
    let r = org.send(Method::GET, &org.creds(), None, None).await;
    sf_error(&r, 401, "INVALID_AUTH_HEADER", "INVALID_HEADER_TYPE");
    let r = org
        .send(Method::GET, &org.creds(), Some("garbage"), None)
        .await;
    sf_error(&r, 401, "INVALID_SESSION_ID", "Session expired or invalid");
    let r = org
        .send(
            Method::GET,
            "/services/data/v64.0/apps/oauth/credentials/x/y/staged",
            Some(&token),
            None,
        )
        .await;
    sf_error(
        &r,
        404,
        "NOT_FOUND",
        "The requested resource does not exist",
    );
    let r = org
        .send(
            Method::GET,
            "/services/data/v65.0/apps/oauth/credentials/0xIbad",
            Some(&token),
            None,
        )
        .await;
    sf_error(&r, 400, "INVALID_ID_FIELD", "Invalid identifier: 0xIbad");
    let r = org
        .send(
            Method::GET,
            "/services/data/v65.0/apps/oauth/credentials/0xIAAAAAAAAAAAAAAA",
            Some(&token),
            None,
        )
        .await;
    sf_error(
        &r,
        404,
        "NOT_FOUND",
        "The requested resource does not exist",
    );
    let r = org
        .send(
            Method::PUT,
            &format!("{}/staged", org.creds()),
            Some(&token),
            None,
        )
        .await;
    sf_error(
        &r,
        405,
        "METHOD_NOT_ALLOWED",
        "HTTP Method 'PUT' not allowed. Allowed are GET,HEAD,POST",
    );
    let r = org
        .send(
            Method::GET,
            "/services/data/v65.0/sobjects",
            Some(&token),
            None,
        )
        .await;
    sf_error(
        &r,
        404,
        "NOT_FOUND",
        "The requested resource does not exist",
    );
    let r = org.send(Method::GET, "/services/data", None, None).await;
    assert_eq!(r.json()[6]["version"], "65.0");

    // Two hours idle ends a session; use keeps it alive (sliding).
    org.send(
        Method::POST,
        "/__mock/clock/advance",
        None,
        Some(json!({"seconds": 100 * 60})),
    )
    .await;
    assert_eq!(
        org.send(Method::GET, &org.creds(), Some(&token), None)
            .await
            .status,
        200
    );
    org.send(
        Method::POST,
        "/__mock/clock/advance",
        None,
        Some(json!({"seconds": 100 * 60})),
    )
    .await;
    assert_eq!(
        org.send(Method::GET, &org.creds(), Some(&token), None)
            .await
            .status,
        200
    );
    org.send(
        Method::POST,
        "/__mock/clock/advance",
        None,
        Some(json!({"seconds": 121 * 60})),
    )
    .await;
    sf_error(
        &org.send(Method::GET, &org.creds(), Some(&token), None)
            .await,
        401,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    );

    let token = org.login().await;
    org.send(
        Method::POST,
        "/__mock/sessions/expire",
        None,
        Some(json!({"all": true})),
    )
    .await;
    sf_error(
        &org.send(Method::GET, &org.creds(), Some(&token), None)
            .await,
        401,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    );

    let token = org.login().await;
    org.send(
        Method::PATCH,
        "/__mock/users/rotary-runas@demo.example",
        None,
        Some(json!({"viewClientSecret": false})),
    )
    .await;
    let r = org
        .send(Method::GET, &org.creds(), Some(&token), None)
        .await;
    sf_error(
        &r,
        403,
        "INSUFFICIENT_ACCESS",
        "You don't have permission to manage OAuth credentials for this app.",
    );
    org.knobs(json!({"api_limit_24h": 1})).await;
    let r = org
        .send(Method::GET, &org.creds(), Some(&token), None)
        .await;
    sf_error(
        &r,
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "TotalRequests Limit exceeded.",
    );
    let r = org
        .send(
            Method::PATCH,
            "/__mock/knobs",
            None,
            Some(json!({"no_such_knob": 1})),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn fidelity_knobs_switch_undocumented_behaviour() {
    let org = org().await;
    let token = org.login().await;
    let staged_url = format!("{}/staged", org.creds());
    org.knobs(json!({"staged_url_mode": "primary", "post_staged_status": 200, "staging_mints_new_key": false, "rotate_keeps_staged_id": false})).await;
    let r = org
        .send(Method::POST, &staged_url, Some(&token), None)
        .await;
    assert_eq!(r.status, 200);
    let staged = r.json()["stagedCredentials"][0].clone();
    assert_eq!(staged["url"], json!(org.creds()));
    assert_eq!(
        staged["key"],
        json!(org.billing.key),
        "same key, new secret"
    );
    assert_ne!(staged["secret"], json!(org.billing.secret));
    // Under `primary` a client that PATCHes `url` hits the consumer resource: 405.
    let r = org
        .send(
            Method::PATCH,
            &org.creds(),
            Some(&token),
            Some(json!({"command": "rotate"})),
        )
        .await;
    assert_eq!(r.status, 405);
    let id = staged["id"].as_str().unwrap();
    let r = org
        .send(
            Method::PATCH,
            &format!("{staged_url}/{id}"),
            Some(&token),
            Some(json!({"command": "rotate"})),
        )
        .await;
    assert_ne!(
        r.json()["id"],
        json!(id),
        "rotate_keeps_staged_id=false gives the record a new id"
    );
    let new_id = r.json()["id"].as_str().unwrap().to_string();

    org.knobs(json!({"rotate_twice": "swap_back"})).await;
    let r = org
        .send(
            Method::PATCH,
            &format!("{staged_url}/{new_id}"),
            Some(&token),
            Some(json!({"command": "rotate"})),
        )
        .await;
    assert_eq!(r.status, 200, "swap_back rotates back");
    let newest = r.json()["id"].as_str().unwrap().to_string();
    org.knobs(json!({"rotated_blocks_post": true})).await;
    assert_eq!(
        org.send(Method::POST, &staged_url, Some(&token), None)
            .await
            .status,
        400
    );
    let r = org
        .send(
            Method::DELETE,
            &format!("{staged_url}/{newest}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    org.knobs(json!({"empty_staged_get": "404"})).await;
    assert_eq!(
        org.send(Method::GET, &staged_url, Some(&token), None)
            .await
            .status,
        404
    );
    org.knobs(json!({"rest_secret_off_error": "INSUFFICIENT_ACCESS"}))
        .await;
    org.send(
        Method::PATCH,
        "/__mock/org/settings",
        None,
        Some(json!({"restSecretAccess": false})),
    )
    .await;
    assert_eq!(
        org.send(Method::GET, &staged_url, Some(&token), None)
            .await
            .json()[0]["errorCode"],
        "INSUFFICIENT_ACCESS"
    );
    org.knobs(json!({"reuse_tokens": true, "jwt_access_tokens": true}))
        .await;
    org.send(
        Method::POST,
        "/__mock/sessions/expire",
        None,
        Some(json!({"all": true})),
    )
    .await;
    let a = org.login().await;
    let b = org.login().await;
    assert_eq!(a, b);
    assert!(a.starts_with("eyJ"));
}

#[tokio::test]
async fn faults_fail_before_or_after_the_effect() {
    let org = org().await;
    let token = org.login().await;
    let staged_url = format!("{}/staged", org.creds());
    let rule = |id: &str, phase: &str, action: Value| json!({"id": id, "match": {"op": "post_staged", "times": 1}, "phase": phase, "action": action});
    org.send(
        Method::PUT,
        "/__mock/faults",
        None,
        Some(json!([rule("b", "before", json!({"status": 503}))])),
    )
    .await;
    let r = org
        .send(Method::POST, &staged_url, Some(&token), None)
        .await;
    sf_error(
        &r,
        503,
        "SERVER_UNAVAILABLE",
        "Server temporarily unavailable.",
    );
    let r = org.send(Method::GET, &staged_url, Some(&token), None).await;
    assert_eq!(
        r.json()["stagedCredentials"],
        json!([]),
        "before: no effect"
    );

    org.send(
        Method::PUT,
        "/__mock/faults",
        None,
        Some(json!([rule(
            "a",
            "after",
            json!({"status": 500, "body": "html"})
        )])),
    )
    .await;
    let r = org
        .send(Method::POST, &staged_url, Some(&token), None)
        .await;
    assert_eq!(r.status, 500);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let r = org.send(Method::GET, &staged_url, Some(&token), None).await;
    assert_eq!(
        r.json()["stagedCredentials"][0]["state"],
        "Active",
        "after: the effect happened"
    );
    let log = org
        .send(Method::GET, "/__mock/requests", None, None)
        .await
        .json();
    let faults: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["fault"].clone())
        .collect();
    assert!(faults.contains(&json!("before")) && faults.contains(&json!("after")));

    // A reset drops the connection without an answer.
    org.send(
        Method::PUT,
        "/__mock/faults",
        None,
        Some(json!([{"id": "r", "match": {"op": "get_staged"}, "action": {"reset": true}}])),
    )
    .await;
    let err = org
        .http
        .get(format!("{}{staged_url}", org.base))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(err.is_err(), "the client sees a broken connection");

    // A latch holds the answer until released.
    org.send(Method::PUT, "/__mock/faults", None, Some(json!([{"id": "l", "phase": "after", "match": {"op": "list_consumers"}, "action": {"latch": "hold", "status": 200, "body": "{\"held\":true}"}}]))).await;
    let url = format!(
        "{}/services/data/v65.0/apps/oauth/credentials/{}",
        org.base, org.billing.id
    );
    let pending = tokio::spawn({
        let http = org.http.clone();
        let token = token.clone();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!pending.is_finished(), "held by the latch");
    org.send(Method::POST, "/__mock/latches/hold/release", None, None)
        .await;
    assert_eq!(pending.await.unwrap(), "{\"held\":true}");
    org.send(Method::DELETE, "/__mock/faults", None, None).await;
    assert_eq!(
        org.send(Method::GET, "/__mock/faults", None, None)
            .await
            .json(),
        json!([])
    );
}

fn soap(token: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header xmlns="http://soap.sforce.com/2006/04/metadata"><SessionHeader><sessionId>{token}</sessionId></SessionHeader></soapenv:Header><soapenv:Body xmlns="http://soap.sforce.com/2006/04/metadata">{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

async fn post_soap(org: &Org, path: &str, xml: String) -> Resp {
    let r = org
        .http
        .post(format!("{}{path}", org.base))
        .header("content-type", "text/xml")
        .header("SOAPAction", "\"\"")
        .body(xml)
        .send()
        .await
        .unwrap();
    Resp {
        status: r.status(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

#[tokio::test]
async fn metadata_api_disables_oauth_for_every_key_of_the_app() {
    let org = org().await;
    let token = org.login().await;
    let update = |full_name: &str| {
        format!("<updateMetadata><metadata xsi:type=\"ExtlClntAppConfigurablePolicies\"><fullName>{full_name}</fullName><externalClientApplication>Billing_Sync</externalClientApplication><isOauthPluginEnabled>false</isOauthPluginEnabled></metadata></updateMetadata>")
    };
    let r = post_soap(
        &org,
        "/services/Soap/m/65.0",
        soap(&token, &update("Wrong_plcy")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("<errors><message>In field: fullName - no ExtlClntAppConfigurablePolicies named Wrong_plcy found</message><statusCode>INVALID_CROSS_REFERENCE_KEY</statusCode></errors><fullName>Wrong_plcy</fullName><success>false</success>"), "{}", r.text);

    let r = post_soap(
        &org,
        "/services/Soap/m/65.0/",
        soap(&token, &update("Billing_Sync_plcy")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    assert!(r.text.contains("<updateMetadataResponse><result><fullName>Billing_Sync_plcy</fullName><success>true</success></result></updateMetadataResponse>"));
    oauth_error(
        &org.token(&org.billing.key, &org.billing.secret).await,
        "invalid_client_id",
        "client identifier invalid",
    );

    let r = post_soap(&org, "/services/Soap/m/65.0", soap(&token, "<readMetadata><type>ExtlClntAppConfigurablePolicies</type><fullNames>Billing_Sync_plcy</fullNames></readMetadata>")).await;
    assert!(
        r.text
            .contains("<isOauthPluginEnabled>false</isOauthPluginEnabled>"),
        "{}",
        r.text
    );
    let r = post_soap(&org, "/services/Soap/m/65.0", soap(&token, "<listMetadata><queries><type>ExtlClntAppConfigurablePolicies</type></queries></listMetadata>")).await;
    assert!(
        r.text
            .contains("<fullName>Rotary_Connector_plcy</fullName>")
            && r.text.contains("<fullName>Billing_Sync_plcy</fullName>")
    );

    let r = post_soap(
        &org,
        "/services/Soap/m/65.0",
        soap("bad-session", &update("Billing_Sync_plcy")),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r
        .text
        .contains("<faultcode>sf:INVALID_SESSION_ID</faultcode>"));
    org.knobs(json!({"metadata_missing_required": "strict"}))
        .await;
    let r = post_soap(
        &org,
        "/services/Soap/m/65.0",
        soap(&token, &update("Billing_Sync_plcy")),
    )
    .await;
    assert!(r.text.contains("REQUIRED_FIELD_MISSING"));
}

#[tokio::test]
async fn control_api_reports_state_seeds_and_keeps_secrets_out_of_the_log() {
    let org = org().await;
    let token = org.login().await;
    org.stage(&token).await;
    let state = org
        .send(Method::GET, "/__mock/state", None, None)
        .await
        .json();
    assert_eq!(state["apps"][1]["developerName"], "Billing_Sync");
    assert_eq!(state["apps"][1]["consumers"][0]["slot"]["state"], "Active");
    let log = org
        .send(Method::GET, "/__mock/requests", None, None)
        .await
        .text;
    assert!(
        !log.contains(&org.connector.secret) && !log.contains(&token),
        "the log holds no secrets or tokens"
    );
    assert!(log.contains("\"op\":\"post_staged\""));

    let seed = json!({"users": [{"username": "u@x"}], "apps": [{"developerName": "Solo", "runAs": "u@x", "consumers": [{"key": "3MVG9given", "secret": "GIVEN"}]}]});
    let r = org
        .send(Method::POST, "/__mock/seed", None, Some(seed))
        .await;
    assert_eq!(r.json()["apps"][0]["key"], "3MVG9given");
    assert_eq!(org.token("3MVG9given", "GIVEN").await.status, 200);
    assert_eq!(
        org.token(&org.connector.key, &org.connector.secret)
            .await
            .status,
        400
    );
    let r = org
        .send(
            Method::POST,
            "/__mock/seed",
            None,
            Some(json!({"apps": [{"developerName": "X", "runAs": "ghost"}]})),
        )
        .await;
    assert_eq!(r.status, 400);
    org.send(Method::POST, "/__mock/reset", None, None).await;
    assert_eq!(
        org.send(Method::GET, "/__mock/state", None, None)
            .await
            .json()["apps"],
        json!([])
    );
}

#[tokio::test]
async fn every_other_knob_switches_between_its_two_behaviours() {
    let org = org().await;
    let token = org.login().await;
    let staged_url = format!("{}/staged", org.creds());

    // identity_host
    let id_url = |r: &Resp| r.json()["id"].as_str().unwrap().to_string();
    assert!(
        id_url(&org.token(&org.connector.key, &org.connector.secret).await)
            .starts_with("https://login.salesforce.com/id/")
    );
    org.knobs(json!({"identity_host": "https://acme.my.salesforce.com"}))
        .await;
    assert!(
        id_url(&org.token(&org.connector.key, &org.connector.secret).await)
            .starts_with("https://acme.my.salesforce.com/id/")
    );

    // usage_lists_unused_apps
    org.send(
        Method::PATCH,
        &format!("/__mock/apps/{}", org.billing.id),
        None,
        Some(json!({"hasUsage": false})),
    )
    .await;
    let count = |r: Resp| r.json()["apps"].as_array().unwrap().len();
    assert_eq!(
        count(
            org.send(
                Method::GET,
                "/services/data/v65.0/apps/oauth/usage",
                Some(&token),
                None
            )
            .await
        ),
        1
    );
    org.knobs(json!({"usage_lists_unused_apps": true})).await;
    assert_eq!(
        count(
            org.send(
                Method::GET,
                "/services/data/v65.0/apps/oauth/usage",
                Some(&token),
                None
            )
            .await
        ),
        2
    );

    // duplicate_post_status and rest_secret_off_error=404
    org.stage(&token).await;
    assert_eq!(
        org.send(Method::POST, &staged_url, Some(&token), None)
            .await
            .status,
        400
    );
    org.knobs(json!({"duplicate_post_status": 409})).await;
    assert_eq!(
        org.send(Method::POST, &staged_url, Some(&token), None)
            .await
            .status,
        409
    );
    org.send(
        Method::PATCH,
        "/__mock/org/settings",
        None,
        Some(json!({"restSecretAccess": false})),
    )
    .await;
    org.knobs(json!({"rest_secret_off_error": "404"})).await;
    assert_eq!(
        org.send(Method::GET, &staged_url, Some(&token), None)
            .await
            .status,
        404
    );
    org.send(
        Method::PATCH,
        "/__mock/org/settings",
        None,
        Some(json!({"restSecretAccess": true})),
    )
    .await;

    // revoke_sessions_on_credential_delete: a session minted with the staged key.
    let staged = org
        .send(Method::GET, &staged_url, Some(&token), None)
        .await
        .json()["stagedCredentials"][0]
        .clone();
    let (sk, ss) = (
        staged["key"].as_str().unwrap().to_string(),
        staged["secret"].as_str().unwrap().to_string(),
    );
    let kept = org.token(&sk, &ss).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    org.knobs(json!({"revoke_sessions_on_credential_delete": false}))
        .await;
    let item = staged["url"].as_str().unwrap().to_string();
    assert_eq!(
        org.send(Method::DELETE, &item, Some(&token), None)
            .await
            .status,
        204
    );
    assert_eq!(
        org.send(Method::GET, &org.creds(), Some(&kept), None)
            .await
            .status,
        200,
        "sessions survive by default"
    );
    let staged = org.stage(&token).await;
    let (k, s) = (
        staged["key"].as_str().unwrap().to_string(),
        staged["secret"].as_str().unwrap().to_string(),
    );
    let doomed = org.token(&k, &s).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    org.knobs(json!({"revoke_sessions_on_credential_delete": true}))
        .await;
    org.send(
        Method::DELETE,
        staged["url"].as_str().unwrap(),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        org.send(Method::GET, &org.creds(), Some(&doomed), None)
            .await
            .status,
        401
    );

    // revocation_delay_ms and new_credential_delay_ms
    org.knobs(json!({"revocation_delay_ms": 60_000, "new_credential_delay_ms": 60_000}))
        .await;
    assert!(
        org.authenticates(&k, &s).await,
        "a deleted key lingers for revocation_delay_ms"
    );
    let fresh = org.stage(&token).await;
    let (fk, fs) = (
        fresh["key"].as_str().unwrap().to_string(),
        fresh["secret"].as_str().unwrap().to_string(),
    );
    assert!(
        !org.authenticates(&fk, &fs).await,
        "a new staged key is not accepted yet"
    );
    org.send(
        Method::POST,
        "/__mock/clock/advance",
        None,
        Some(json!({"seconds": 61})),
    )
    .await;
    assert!(org.authenticates(&fk, &fs).await);
    assert!(!org.authenticates(&k, &s).await);
    org.knobs(json!({"revocation_delay_ms": 0, "new_credential_delay_ms": 0}))
        .await;

    // session_mode absolute: activity does not extend a session.
    org.knobs(json!({"session_mode": "absolute"})).await;
    let token = org.login().await;
    for _ in 0..3 {
        org.send(
            Method::POST,
            "/__mock/clock/advance",
            None,
            Some(json!({"seconds": 50 * 60})),
        )
        .await;
        org.send(Method::GET, &org.creds(), Some(&token), None)
            .await;
    }
    assert_eq!(
        org.send(Method::GET, &org.creds(), Some(&token), None)
            .await
            .status,
        401
    );
    org.knobs(json!({"session_mode": "sliding"})).await;

    // revoke_sessions_on_oauth_disable and oauth_disabled_token_error
    let token = org.login().await;
    let billing_session = org
        .token(&org.billing.key, &org.billing.secret)
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    org.knobs(json!({"revoke_sessions_on_oauth_disable": true}))
        .await;
    let disable = "<updateMetadata><metadata xsi:type=\"ExtlClntAppConfigurablePolicies\"><fullName>Billing_Sync_plcy</fullName><isOauthPluginEnabled>false</isOauthPluginEnabled></metadata></updateMetadata>";
    post_soap(&org, "/services/Soap/m/65.0", soap(&token, disable)).await;
    assert_eq!(
        org.send(Method::GET, &org.creds(), Some(&billing_session), None)
            .await
            .status,
        401
    );
    oauth_error(
        &org.token(&org.billing.key, &org.billing.secret).await,
        "invalid_client_id",
        "client identifier invalid",
    );
    org.knobs(json!({"oauth_disabled_token_error": "invalid_client"}))
        .await;
    oauth_error(
        &org.token(&org.billing.key, &org.billing.secret).await,
        "invalid_client",
        "app must be installed into org",
    );

    // metadata_missing_required: merge keeps an omitted isEnabled, overwrite resets it to true.
    let set_enabled = |v: bool| {
        format!("<updateMetadata><metadata xsi:type=\"ExtlClntAppConfigurablePolicies\"><fullName>Billing_Sync_plcy</fullName><isEnabled>{v}</isEnabled></metadata></updateMetadata>")
    };
    let oauth_on = "<updateMetadata><metadata xsi:type=\"ExtlClntAppConfigurablePolicies\"><fullName>Billing_Sync_plcy</fullName><isOauthPluginEnabled>true</isOauthPluginEnabled></metadata></updateMetadata>";
    let plugins = |org: &Org| {
        let state = org.mock.org();
        state.apps[1].plugins_enabled
    };
    post_soap(
        &org,
        "/services/Soap/m/65.0",
        soap(&token, &set_enabled(false)),
    )
    .await;
    post_soap(&org, "/services/Soap/m/65.0", soap(&token, oauth_on)).await;
    assert!(!plugins(&org), "merge: the omitted isEnabled keeps false");
    org.knobs(json!({"metadata_missing_required": "overwrite"}))
        .await;
    post_soap(&org, "/services/Soap/m/65.0", soap(&token, oauth_on)).await;
    assert!(
        plugins(&org),
        "overwrite: the omitted isEnabled becomes true"
    );

    // latency_ms
    org.knobs(json!({"latency_ms": 300})).await;
    let started = std::time::Instant::now();
    org.send(Method::GET, &org.creds(), Some(&token), None)
        .await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}
