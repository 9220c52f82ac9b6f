//! The Microsoft calls of an app-registration secret rotation (reference §8.1, §8.3): a Graph
//! token for the connection (client credentials; cached, and fetched again when less than five
//! minutes of it remain or Graph refuses it), the applications list (`@odata.nextLink`), an
//! application's password credentials, `addPassword` and `removePassword` (retried on Graph's
//! concurrency error, 2 s, 4 s, 8 s, as Infisical), and the token request that tells whether a
//! client's secret works. Messages come from Graph's `error.message` or the token endpoint's
//! `error_description`; no secret or token is ever part of one.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::config::AzureEndpoints;
use crate::mock::azure::GRAPH_SCOPE;
use crate::providers::azure::assertion::{ClientCertificate, ASSERTION_TYPE};
use crate::providers::azure::wire::AzureConnection;
use crate::providers::http_failure::HttpFailure;
use crate::rotation::provider::StepError;

/// Graph's concurrency error is retried after these waits.
const CONFLICT_RETRIES: [Duration; 3] = [
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];
pub const PAGE_LIMIT: usize = 100;

/// As a phase error: Graph's concurrency error (409) may pass too, beside what
/// `HttpFailure::step` counts as transient.
pub fn step(f: HttpFailure, context: &str) -> StepError {
    if f.status == Some(409) {
        return StepError::Transient(format!("{context}: {}", f.message));
    }
    f.step(context)
}

async fn failure(r: reqwest::Response) -> HttpFailure {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"]
        .as_str()
        .or(body["error_description"].as_str())
        .or(body["message"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Request failed with status code {status}"));
    HttpFailure {
        status: Some(status),
        code: None,
        message,
    }
}

/// Graph's answer to concurrent changes of one application.
fn is_conflict(f: &HttpFailure) -> bool {
    f.status == Some(409) || f.message.to_lowercase().contains("concurrent")
}

/// One of an application's password credentials (Graph never shows `secretText` again).
pub struct PasswordInfo {
    pub key_id: String,
    pub display_name: String,
}

pub struct AzureClient {
    pub http: reqwest::Client,
    pub connection: AzureConnection,
    pub endpoints: AzureEndpoints,
    token: crate::providers::token_cache::TokenCache,
}

/// What the token endpoint says of a client's secret.
pub enum SecretCheck {
    Works,
    Refused(String),
}

impl AzureClient {
    pub fn new(
        http: reqwest::Client,
        connection: AzureConnection,
        endpoints: AzureEndpoints,
    ) -> Self {
        AzureClient {
            http,
            connection,
            endpoints,
            token: Default::default(),
        }
    }

    fn token_endpoint(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.endpoints.login, self.connection.tenant_id
        )
    }

    /// A client-credentials token request: `client_id`, the scope, and its proof (a secret,
    /// or a signed assertion).
    async fn token_request(
        &self,
        client_id: &str,
        proof: &[(&str, &str)],
    ) -> Result<reqwest::Response, HttpFailure> {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("scope", GRAPH_SCOPE),
        ];
        form.extend_from_slice(proof);
        self.http
            .post(self.token_endpoint())
            .form(&form)
            .send()
            .await
            .map_err(|e| HttpFailure::transport("Microsoft", &e))
    }

    async fn grant(
        &self,
        client_id: &str,
        secret: &SecretString,
    ) -> Result<reqwest::Response, HttpFailure> {
        self.token_request(client_id, &[("client_secret", secret.expose_secret())])
            .await
    }

    /// A Graph token for the connection's own app registration: with its secret, or with an
    /// assertion signed by its certificate's key.
    pub async fn fetch_token(&self) -> Result<(SecretString, Instant), HttpFailure> {
        let c = &self.connection;
        let r = match (&c.certificate, &c.client_secret) {
            (Some(cert), _) => {
                let signer = ClientCertificate::parse(&cert.body, cert.private_key.expose_secret())
                    .map_err(HttpFailure::unanswered)?;
                let assertion = signer
                    .assertion(&c.client_id, &self.token_endpoint())
                    .map_err(HttpFailure::unanswered)?;
                self.token_request(
                    &c.client_id,
                    &[
                        ("client_assertion_type", ASSERTION_TYPE),
                        ("client_assertion", &assertion),
                    ],
                )
                .await?
            }
            (None, Some(secret)) => self.grant(&c.client_id, secret).await?,
            (None, None) => {
                return Err(HttpFailure {
                    status: Some(400),
                    code: None,
                    message:
                        "the connection has neither a client secret nor a certificate: edit it"
                            .into(),
                })
            }
        };
        if !r.status().is_success() {
            let f = failure(r).await;
            return Err(HttpFailure {
                message: format!("Failed to get access token: {}", f.message),
                ..f
            });
        }
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let token = body["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let lifetime = body["expires_in"].as_u64().unwrap_or(0);
        Ok((token.into(), Instant::now() + Duration::from_secs(lifetime)))
    }

    async fn token(&self, fresh: bool) -> Result<SecretString, HttpFailure> {
        self.token.get(fresh, || self.fetch_token()).await
    }

    /// A Graph call; the token is fetched again once if Graph refuses it.
    async fn graph(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, HttpFailure> {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}/v1.0/{path}", self.endpoints.graph)
        };
        for attempt in 0..2 {
            let token = self.token(attempt > 0).await?;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose_secret());
            if let Some(body) = &body {
                request = request.json(body);
            }
            let r = request
                .send()
                .await
                .map_err(|e| HttpFailure::transport("Microsoft", &e))?;
            if r.status().as_u16() == 401 && attempt == 0 {
                continue;
            }
            if !r.status().is_success() {
                return Err(failure(r).await);
            }
            return Ok(r.json().await.unwrap_or(Value::Null));
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// `graph`, retried on Graph's concurrency error.
    async fn graph_retried(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, HttpFailure> {
        let mut waits = CONFLICT_RETRIES.iter();
        loop {
            match self.graph(method.clone(), path, body.clone()).await {
                Err(f) if is_conflict(&f) => match waits.next() {
                    Some(wait) => tokio::time::sleep(*wait).await,
                    None => return Err(f),
                },
                other => return other,
            }
        }
    }

    /// The tenant's app registrations: (object id, display name, client id).
    pub async fn applications(&self) -> Result<Vec<(String, String, String)>, HttpFailure> {
        let mut out = Vec::new();
        let mut next = "applications?$top=100".to_string();
        for _ in 0..PAGE_LIMIT {
            let page = self.graph(Method::GET, &next, None).await?;
            for a in page["value"].as_array().cloned().unwrap_or_default() {
                out.push((
                    a["id"].as_str().unwrap_or_default().to_string(),
                    a["displayName"].as_str().unwrap_or_default().to_string(),
                    a["appId"].as_str().unwrap_or_default().to_string(),
                ));
            }
            match page["@odata.nextLink"].as_str() {
                Some(link) if link.starts_with(&self.endpoints.graph) => next = link.to_string(),
                _ => break,
            }
        }
        Ok(out)
    }

    pub async fn passwords(&self, object_id: &str) -> Result<Vec<PasswordInfo>, HttpFailure> {
        let app = self
            .graph_retried(
                Method::GET,
                &format!("applications/{object_id}?$select=id,passwordCredentials"),
                None,
            )
            .await?;
        Ok(app["passwordCredentials"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| PasswordInfo {
                key_id: p["keyId"].as_str().unwrap_or_default().to_string(),
                display_name: p["displayName"].as_str().unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// `addPassword`: the new secret's `keyId` and value (shown once).
    pub async fn add_password(
        &self,
        object_id: &str,
        display_name: &str,
        end: DateTime<Utc>,
    ) -> Result<(String, SecretString), HttpFailure> {
        let body = json!({"passwordCredential": {"displayName": display_name,
                                                 "endDateTime": end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)}});
        let created = self
            .graph_retried(
                Method::POST,
                &format!("applications/{object_id}/addPassword"),
                Some(body),
            )
            .await?;
        match (created["keyId"].as_str(), created["secretText"].as_str()) {
            (Some(key), Some(secret)) => Ok((key.to_string(), secret.to_string().into())),
            _ => Err(HttpFailure::unanswered(
                "Invalid response from Azure: missing secretText or keyId.",
            )),
        }
    }

    /// `removePassword`, unless the application no longer has the secret.
    pub async fn remove_password(&self, object_id: &str, key_id: &str) -> Result<(), HttpFailure> {
        if !self
            .passwords(object_id)
            .await?
            .iter()
            .any(|p| p.key_id == key_id)
        {
            return Ok(());
        }
        self.graph_retried(
            Method::POST,
            &format!("applications/{object_id}/removePassword"),
            Some(json!({"keyId": key_id})),
        )
        .await
        .map(drop)
    }

    /// Does `client_id` get a token with `secret`? 401 `invalid_client`: no.
    pub async fn check_secret(
        &self,
        client_id: &str,
        secret: &SecretString,
    ) -> Result<SecretCheck, HttpFailure> {
        let r = self.grant(client_id, secret).await?;
        if r.status().is_success() {
            return Ok(SecretCheck::Works);
        }
        let status = r.status().as_u16();
        let f = failure(r).await;
        match status {
            400 | 401 => Ok(SecretCheck::Refused(f.message)),
            _ => Err(f),
        }
    }
}
