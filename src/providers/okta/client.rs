//! The Okta management API calls of a client-secret rotation (reference §7.1, §7.3), with
//! `Authorization: SSWS <token>`: `users/me` (the connection check), the apps list (paged by
//! `Link: rel="next"`), and an app's client secrets. Okta's error object becomes a message
//! built from its `errorCauses[0].errorSummary` or `errorSummary`; no secret or token is
//! ever part of one. Nothing is retried here: the engine retries a phase and each phase
//! first reads what Okta holds.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::providers::http_failure::HttpFailure;
use crate::providers::okta::wire::OktaConnection;
use crate::rotation::provider::StepError;

/// Pages of the apps list followed at most (as Infisical).
pub const APP_PAGE_LIMIT: usize = 100;
/// Okta keeps at most two client secrets per app.
pub const MAX_SECRETS: usize = 2;

pub struct OktaClient {
    pub http: reqwest::Client,
    pub connection: OktaConnection,
}

/// One of an app's client secrets, as Okta lists it.
#[derive(Deserialize)]
pub struct OktaSecretInfo {
    pub id: String,
    pub status: String,
    /// The value, when Okta shows it [A: the list and get answers carry it, as the admin
    /// console shows it].
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}

impl OktaSecretInfo {
    pub fn is(&self, value: &SecretString) -> bool {
        self.client_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret() == value.expose_secret())
    }
}

/// An OIDC app of the org (the apps helper).
pub struct OktaApp {
    pub id: String,
    pub label: String,
}

async fn failure(r: reqwest::Response) -> HttpFailure {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let cause = body["errorCauses"][0]["errorSummary"].as_str();
    let summary = body["errorSummary"].as_str();
    let message = cause
        .or(summary)
        .map(str::to_string)
        .unwrap_or_else(|| format!("Request failed with status code {status}"));
    HttpFailure {
        status: Some(status),
        code: body["errorCode"].as_str().map(str::to_string),
        message,
    }
}

impl OktaClient {
    pub fn new(http: reqwest::Client, connection: OktaConnection) -> OktaClient {
        OktaClient { http, connection }
    }

    fn base(&self) -> &str {
        self.connection.instance_url.trim_end_matches('/')
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<reqwest::Response, HttpFailure> {
        let mut request = self
            .http
            .request(method, url)
            .header(
                "authorization",
                format!("SSWS {}", self.connection.api_token.expose_secret()),
            )
            .header("accept", "application/json");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request
            .send()
            .await
            .map_err(|e| HttpFailure::transport("Okta", &e))?;
        if r.status().is_success() {
            Ok(r)
        } else {
            Err(failure(r).await)
        }
    }

    async fn json<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<T, HttpFailure> {
        self.call(method, url, body)
            .await?
            .json()
            .await
            .map_err(|_| {
                HttpFailure::unanswered("Okta answered with a body Rotary does not understand")
            })
    }

    fn secrets_url(&self, app: &str) -> String {
        format!("{}/api/v1/apps/{app}/credentials/secrets", self.base())
    }

    /// `GET /api/v1/users/me`: does the token work?
    pub async fn me(&self) -> Result<(), HttpFailure> {
        self.call(
            Method::GET,
            &format!("{}/api/v1/users/me", self.base()),
            None,
        )
        .await
        .map(drop)
    }

    /// The org's active OIDC apps, following `Link: rel="next"` on the same instance.
    pub async fn apps(&self) -> Result<Vec<OktaApp>, HttpFailure> {
        let mut url = format!("{}/api/v1/apps?limit=200", self.base());
        let mut out = Vec::new();
        for _ in 0..APP_PAGE_LIMIT {
            let r = self.call(Method::GET, &url, None).await?;
            let next = next_link(r.headers());
            let page: Vec<Value> = r.json().await.map_err(|_| {
                HttpFailure::unanswered(
                    "Okta answered the apps list with a body Rotary does not understand",
                )
            })?;
            out.extend(
                page.iter()
                    .filter(|a| a["status"] == "ACTIVE" && a["name"] == "oidc_client")
                    .map(|a| OktaApp {
                        id: a["id"].as_str().unwrap_or_default().to_string(),
                        label: a["label"].as_str().unwrap_or_default().to_string(),
                    }),
            );
            match next.filter(|n| n.starts_with(self.base())) {
                Some(n) => url = n,
                None => break,
            }
        }
        Ok(out)
    }

    pub async fn secrets(&self, app: &str) -> Result<Vec<OktaSecretInfo>, HttpFailure> {
        self.json(Method::GET, &self.secrets_url(app), None).await
    }

    /// One secret, or `None` when Okta no longer has it.
    pub async fn secret(&self, app: &str, id: &str) -> Result<Option<OktaSecretInfo>, HttpFailure> {
        let url = format!("{}/{id}", self.secrets_url(app));
        match self.json(Method::GET, &url, None).await {
            Ok(s) => Ok(Some(s)),
            Err(f) if f.status == Some(404) => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// Creates an active secret with `value` (Okta's "bring your own secret"), or one Okta
    /// generates when `value` is `None`: its id.
    pub async fn create(
        &self,
        app: &str,
        value: Option<&SecretString>,
    ) -> Result<String, HttpFailure> {
        let body = match value {
            Some(v) => json!({"client_secret": v.expose_secret(), "status": "ACTIVE"}),
            None => json!({}),
        };
        let created: Value = self
            .json(Method::POST, &self.secrets_url(app), Some(body))
            .await?;
        match (created["id"].as_str(), created["client_secret"].as_str()) {
            (Some(id), Some(_)) => Ok(id.to_string()),
            _ => Err(HttpFailure::unanswered(
                "Invalid response from Okta: missing 'client_secret' or secret 'id'.",
            )),
        }
    }

    /// Deactivates (when active) and deletes a secret; one already gone is fine.
    pub async fn remove(&self, app: &str, id: &str) -> Result<(), HttpFailure> {
        let Some(secret) = self.secret(app, id).await? else {
            return Ok(());
        };
        let url = format!("{}/{id}", self.secrets_url(app));
        if secret.status == "ACTIVE" {
            self.call(Method::POST, &format!("{url}/lifecycle/deactivate"), None)
                .await?;
        }
        match self.call(Method::DELETE, &url, None).await {
            Ok(_) => Ok(()),
            Err(f) if f.status == Some(404) => Ok(()),
            Err(f) => Err(f),
        }
    }
}

/// The `rel="next"` URL of a `Link` header (Okta sends one header per relation).
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| {
            let start = part.find('<')? + 1;
            let end = part.find('>')?;
            Some(part[start..end].trim().to_string())
        })
}

/// Whether Okta said the app already has its two secrets (or another validation error).
pub fn is_validation(f: &HttpFailure) -> bool {
    f.code.as_deref() == Some("E0000001")
}

/// A phase error for a removal that failed, in Infisical's words.
pub fn removal_failed(f: HttpFailure, id: &str, app: &str) -> StepError {
    f.step(&format!(
        "Failed to remove client secret with secretId {id} from app {app}"
    ))
}
