//! The Salesforce client against the mock org, over real HTTP.

use std::time::Duration;

use rotary::mock::salesforce::{self, MockOrg, SeededApp};
use rotary::providers::salesforce::client::{http_client, SfErrorKind};
use rotary::providers::salesforce::SalesforceClient;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

struct Setup {
    mock: MockOrg,
    base: String,
    client: SalesforceClient,
    billing: SeededApp,
    http: reqwest::Client,
}

async fn setup_with_timeout(timeout: Duration) -> Setup {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (mock, base) = salesforce::spawn(listener, None, Some(9)).await.unwrap();
    let apps = mock.seeded_apps();
    let client = SalesforceClient::new(
        http_client(timeout, true),
        &base,
        &apps[0].key,
        SecretString::from(apps[0].secret.clone()),
    );
    Setup {
        mock,
        base,
        client,
        billing: apps[1].clone(),
        http: reqwest::Client::new(),
    }
}

async fn setup() -> Setup {
    setup_with_timeout(Duration::from_secs(10)).await
}

impl Setup {
    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}/__mock/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }
    async fn ops(&self) -> Vec<String> {
        let log = self
            .control(reqwest::Method::GET, "requests", Value::Null)
            .await;
        log.as_array()
            .unwrap()
            .iter()
            .map(|l| l["op"].as_str().unwrap().to_string())
            .collect()
    }
    async fn faults(&self, rules: Value) {
        self.control(reqwest::Method::PUT, "faults", rules).await;
    }
}

#[tokio::test]
async fn a_full_stage_rotate_delete_cycle_with_one_token() {
    let s = setup().await;
    let apps = s.client.list_apps().await.unwrap();
    let names: Vec<_> = apps.iter().map(|a| a.developer_name.as_str()).collect();
    assert_eq!(names, ["Rotary_Connector", "Billing_Sync"]);
    let consumers = s.client.consumers(&s.billing.id).await.unwrap();
    assert_eq!(consumers.len(), 1);
    assert_eq!(consumers[0].key, s.billing.key);
    let consumer = consumers[0].id.clone();
    assert!(s
        .client
        .staged(&s.billing.id, &consumer)
        .await
        .unwrap()
        .is_empty());

    let staged = s.client.stage(&s.billing.id, &consumer).await.unwrap();
    assert_eq!(staged.state, "Active");
    assert!(
        !format!("{staged:?}").contains(staged.secret.expose_secret()),
        "Debug hides the secret"
    );
    s.client
        .rotate(&s.billing.id, &consumer, &staged.id)
        .await
        .unwrap();
    assert_eq!(
        s.client.consumers(&s.billing.id).await.unwrap()[0].key,
        staged.key
    );
    let slot = s.client.staged(&s.billing.id, &consumer).await.unwrap();
    assert_eq!(
        (slot[0].state.as_str(), slot[0].key.as_str()),
        ("Rotated", s.billing.key.as_str())
    );
    assert!(s
        .client
        .delete_staged(&s.billing.id, &consumer, &slot[0].id)
        .await
        .unwrap());
    assert!(
        !s.client
            .delete_staged(&s.billing.id, &consumer, &slot[0].id)
            .await
            .unwrap(),
        "404 means already gone"
    );

    let ops = s.ops().await;
    assert_eq!(
        ops.iter().filter(|o| *o == "token").count(),
        1,
        "the token is cached: {ops:?}"
    );
    // usage is followed to its (empty) next page, then stops.
    assert_eq!(ops.iter().filter(|o| *o == "usage").count(), 2);
}

#[tokio::test]
async fn an_expired_session_is_refreshed_once() {
    let s = setup().await;
    s.client.consumers(&s.billing.id).await.unwrap();
    s.control(
        reqwest::Method::POST,
        "sessions/expire",
        json!({"all": true}),
    )
    .await;
    s.client.consumers(&s.billing.id).await.unwrap();
    let ops = s.ops().await;
    assert_eq!(
        ops,
        [
            "token",
            "list_consumers",
            "list_consumers",
            "token",
            "list_consumers"
        ]
    );
}

#[tokio::test]
async fn gets_are_retried_but_writes_are_not() {
    let s = setup().await;
    s.faults(json!([{"id": "g", "match": {"op": "list_consumers", "times": 2}, "action": {"status": 503}}])).await;
    assert_eq!(s.client.consumers(&s.billing.id).await.unwrap().len(), 1);
    s.faults(json!([{"id": "p", "match": {"op": "post_staged"}, "phase": "after", "action": {"status": 503, "body": "html"}}])).await;
    let consumer = s.billing.consumer_id.clone();
    let err = s.client.stage(&s.billing.id, &consumer).await.unwrap_err();
    assert_eq!(err.kind, SfErrorKind::Transient);
    assert_eq!(err.status, Some(503));
    assert_eq!(
        s.ops().await.iter().filter(|o| *o == "post_staged").count(),
        1,
        "POST is never retried blindly"
    );
    // The effect happened anyway: the engine learns it by reading state.
    assert_eq!(
        s.client.staged(&s.billing.id, &consumer).await.unwrap()[0].state,
        "Active"
    );
}

#[tokio::test]
async fn refusals_say_what_to_fix() {
    let s = setup().await;
    let wrong = SalesforceClient::new(
        http_client(Duration::from_secs(5), true),
        &s.base,
        &s.billing.key,
        SecretString::from("nope".to_string()),
    );
    let err = wrong.fetch_token().await.unwrap_err();
    assert_eq!(err.message, "the consumer secret is wrong for this consumer key (invalid_client: invalid client credentials)");
    assert_eq!(err.kind, SfErrorKind::Auth);

    s.control(
        reqwest::Method::PATCH,
        "org/settings",
        json!({"restSecretAccess": false}),
    )
    .await;
    let err = s
        .client
        .stage(&s.billing.id, &s.billing.consumer_id)
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        "turn on 'Allow access to External Client App consumer secrets via REST API' in Setup > External Client App Settings (FUNCTIONALITY_NOT_ENABLED: This feature is not currently enabled for this user.)"
    );
    s.control(
        reqwest::Method::PATCH,
        "users/rotary-runas@demo.example",
        json!({"ecaDeveloper": false}),
    )
    .await;
    let err = s.client.consumers(&s.billing.id).await.unwrap_err();
    assert!(err.message.starts_with("the connection's Run As user needs the 'External Client App Developer' and 'View Client Secret' permissions"));
}

#[tokio::test]
async fn hung_calls_time_out_and_usage_paging_is_bounded() {
    let s = setup_with_timeout(Duration::from_millis(300)).await;
    s.faults(json!([{"id": "h", "match": {"op": "token"}, "action": {"hang": true}}]))
        .await;
    let err = s.client.fetch_token().await.unwrap_err();
    assert_eq!(err.kind, SfErrorKind::Transient);
    assert!(
        err.message.starts_with("Salesforce timed out"),
        "{}",
        err.message
    );

    let s = setup().await;
    let page = json!({"apps": [{"developerName": "Loop", "identifier": "0xIAAAAAAAAAAAAAAA", "name": "Loop"}], "nextPageUrl": "/services/data/v65.0/apps/oauth/usage?page=1"}).to_string();
    s.faults(
        json!([{"id": "u", "match": {"op": "usage"}, "action": {"status": 200, "body": page}}]),
    )
    .await;
    let apps = s.client.list_apps().await.unwrap();
    assert_eq!(apps.len(), 10, "at most 10 pages are followed");
}

#[tokio::test]
async fn disabling_oauth_stops_every_key_of_the_app() {
    let s = setup().await;
    s.client
        .disable_oauth("Billing_Sync_plcy", "Billing_Sync")
        .await
        .unwrap();
    let r = s
        .control(
            reqwest::Method::POST,
            "auth-check",
            json!({"key": s.billing.key, "secret": s.billing.secret}),
        )
        .await;
    assert_eq!(r["authenticates"], false);
    let err = s
        .client
        .disable_oauth("Nope_plcy", "Nope")
        .await
        .unwrap_err();
    assert_eq!(err.message, "Salesforce did not disable OAuth on Nope: In field: fullName - no ExtlClntAppConfigurablePolicies named Nope_plcy found");
    drop(s.mock);
}

/// D8: a `nextPageUrl` on another host (here a loopback listener standing in for an internal
/// service) is refused, and the org's bearer token goes nowhere but the instance.
#[tokio::test]
async fn a_next_page_on_another_host_is_never_followed() {
    let s = setup().await;
    let (trap_port, hits) = crate::helpers::trap().await;
    for next in [
        format!("http://127.0.0.1:{trap_port}/internal/admin?delete=all"),
        format!("//127.0.0.1:{trap_port}/internal"),
    ] {
        let page = json!({"apps": [{"identifier": "0xIAAAAAAAAAAAAAAA", "developerName": "First"}], "nextPageUrl": next});
        s.control(reqwest::Method::PUT, "faults", json!([{"id": "p", "match": {"op": "usage", "times": 1}, "action": {"status": 200, "body": page.to_string()}}])).await;
        let err = s.client.list_apps().await.unwrap_err();
        assert_eq!(err.kind, SfErrorKind::Rejected, "{next}: {err:?}");
        assert!(
            err.message.contains("outside the instance"),
            "{next}: {err:?}"
        );
        s.control(reqwest::Method::DELETE, "faults", Value::Null)
            .await;
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    // A next page on the instance itself, absolute or relative, is followed.
    let page = json!({"apps": [{"identifier": "0xIAAAAAAAAAAAAAAA", "developerName": "First"}],
                      "nextPageUrl": format!("{}/services/data/v62.0/apps/oauth/usage?page=2", s.base)});
    s.control(reqwest::Method::PUT, "faults", json!([{"id": "p", "match": {"op": "usage", "times": 1}, "action": {"status": 200, "body": page.to_string()}}])).await;
    let before = s.ops().await.iter().filter(|op| *op == "usage").count();
    let apps = s.client.list_apps().await.unwrap();
    assert_eq!(apps[0].developer_name, "First");
    let after = s.ops().await.iter().filter(|op| *op == "usage").count();
    assert_eq!(
        after - before,
        2,
        "the second page was read from the instance"
    );
}
