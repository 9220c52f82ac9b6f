//! The Auth0 calls of a client-secret rotation (reference §6.1, §6.3): the connection's
//! Management API token (client credentials; cached, and fetched again when less than five
//! minutes of it remain or the API refuses it), the clients list, a client's secret set by
//! `PATCH /clients/{id}`, `rotate-secret`, and the check that a client's secret authenticates.
//! Messages are built from Auth0's `message` or `error_description`; no secret or token is
//! ever part of one.

use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::providers::auth0::wire::Auth0Connection;
use crate::providers::http_failure::HttpFailure;

/// Pages of the clients list followed at most.
pub const CLIENT_PAGE_LIMIT: usize = 100;

async fn failure(r: reqwest::Response) -> HttpFailure {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let message = ["message", "error_description", "error"]
        .iter()
        .find_map(|k| body[*k].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Request failed with status code {status}"));
    HttpFailure {
        status: Some(status),
        code: None,
        message,
    }
}

/// What the token endpoint says of a client's secret.
pub enum SecretCheck {
    /// A token, or a refusal that comes after the client authenticated (no grant for the
    /// audience, a scope it may not have).
    Works,
    /// 401: the client id or secret is wrong.
    Refused(String),
}

pub struct Auth0Client {
    pub http: reqwest::Client,
    pub connection: Auth0Connection,
    token: crate::providers::token_cache::TokenCache,
}

impl Auth0Client {
    pub fn new(http: reqwest::Client, connection: Auth0Connection) -> Auth0Client {
        Auth0Client {
            http,
            connection,
            token: Default::default(),
        }
    }

    /// `POST <domain>/oauth/token` with `client_id`/`client_secret` (form-encoded).
    async fn grant(
        &self,
        id: &str,
        secret: &SecretString,
    ) -> Result<reqwest::Response, HttpFailure> {
        self.http
            .post(format!("{}/oauth/token", self.connection.domain))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret.expose_secret()),
                ("audience", self.connection.audience.as_str()),
            ])
            .send()
            .await
            .map_err(|e| HttpFailure::transport("Auth0", &e))
    }

    /// A Management API token for the connection's client.
    pub async fn fetch_token(&self) -> Result<(SecretString, Instant), HttpFailure> {
        let c = &self.connection;
        let r = self.grant(&c.client_id, &c.client_secret).await?;
        if !r.status().is_success() {
            return Err(failure(r).await);
        }
        let body: Value = r.json().await.map_err(|_| {
            HttpFailure::unanswered(
                "Auth0 answered the token request with a body Rotary does not understand",
            )
        })?;
        match body["token_type"].as_str() {
            Some(t) if t.eq_ignore_ascii_case("bearer") => {}
            other => {
                return Err(HttpFailure::unanswered(format!(
                    "Unhandled token type: {}",
                    other.unwrap_or("none")
                )))
            }
        }
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

    /// A Management API call, with the token fetched again once if the API refuses it.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, HttpFailure> {
        let url = self.connection.api(path);
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
                .map_err(|e| HttpFailure::transport("Auth0", &e))?;
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

    /// Sets the client's secret to `secret` (the old one stops working at once).
    pub async fn set_secret(
        &self,
        client_id: &str,
        secret: &SecretString,
    ) -> Result<(), HttpFailure> {
        self.call(
            Method::PATCH,
            &format!("clients/{client_id}"),
            Some(json!({"client_secret": secret.expose_secret()})),
        )
        .await
        .map(drop)
    }

    /// Auth0 generates a new secret for the client, which Rotary does not keep (revoke).
    pub async fn rotate_secret(&self, client_id: &str) -> Result<(), HttpFailure> {
        self.call(
            Method::POST,
            &format!("clients/{client_id}/rotate-secret"),
            None,
        )
        .await
        .map(drop)
    }

    /// The tenant's applications but the connection's own and "All Applications".
    pub async fn clients(&self) -> Result<Vec<(String, String)>, HttpFailure> {
        let mut out = Vec::new();
        for page in 0..CLIENT_PAGE_LIMIT {
            let body = self
                .call(
                    Method::GET,
                    &format!("clients?include_totals=true&per_page=100&page={page}"),
                    None,
                )
                .await?;
            let items = body["clients"].as_array().cloned().unwrap_or_default();
            let seen = page * 100 + items.len();
            out.extend(items.iter().filter_map(|c| {
                let id = c["client_id"].as_str()?;
                let name = c["name"].as_str().unwrap_or_default();
                (id != self.connection.client_id && name != "All Applications")
                    .then(|| (id.to_string(), name.to_string()))
            }));
            if items.is_empty() || seen as u64 >= body["total"].as_u64().unwrap_or(0) {
                break;
            }
        }
        Ok(out)
    }

    /// Does `client_id` authenticate with `secret`? Auth0 answers a wrong id or secret with
    /// `401 access_denied "Unauthorized"`, and a client that authenticated but may not have
    /// the audience with `403 access_denied`: the status tells them apart (Infisical's check
    /// reads only `error`, so it takes a wrong secret for a working one).
    pub async fn check_secret(
        &self,
        client_id: &str,
        secret: &SecretString,
    ) -> Result<SecretCheck, HttpFailure> {
        let r = self.grant(client_id, secret).await?;
        let status = r.status().as_u16();
        if r.status().is_success() {
            return Ok(SecretCheck::Works);
        }
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let error = body["error"].as_str().unwrap_or_default();
        let words = ["error_description", "error", "message"]
            .iter()
            .find_map(|k| body[*k].as_str())
            .unwrap_or("Unauthorized")
            .to_string();
        match (status, error) {
            (401, _) => Ok(SecretCheck::Refused(words)),
            (403, _) | (400, "invalid_scope" | "unauthorized_client") => Ok(SecretCheck::Works),
            _ => Err(HttpFailure {
                status: Some(status),
                code: None,
                message: words,
            }),
        }
    }
}
