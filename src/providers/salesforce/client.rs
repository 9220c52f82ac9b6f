//! A typed client for the Salesforce calls a consumer-secret rotation makes: the
//! client-credentials token, `apps/oauth/usage`, the OAuth credentials resources and the
//! Metadata API call that disables OAuth on an app. One access token per client, cached and
//! refreshed once on `INVALID_SESSION_ID`. Idempotent GETs are retried with backoff; POST and
//! PATCH never are: the rotation engine decides by reading state again.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

pub const API_VERSION: &str = "65.0";
/// Pages of `apps/oauth/usage` followed at most (as Infisical).
pub const USAGE_PAGE_LIMIT: usize = 10;

/// What went wrong, in words a person can act on.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct SfError {
    pub kind: SfErrorKind,
    pub message: String,
    /// HTTP status, when Salesforce answered.
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SfErrorKind {
    /// The connection's credentials or the app's settings refuse a token.
    Auth,
    NotFound,
    /// Permissions, org settings or limits refuse the call.
    Refused,
    /// 5xx, timeouts, resets: the call may or may not have taken effect.
    Transient,
    /// The request was wrong (4xx other than the above).
    Rejected,
}

impl SfError {
    fn new(kind: SfErrorKind, status: Option<u16>, message: impl Into<String>) -> Self {
        SfError {
            kind,
            message: message.into(),
            status,
        }
    }
    pub fn is_transient(&self) -> bool {
        self.kind == SfErrorKind::Transient
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OauthApp {
    pub identifier: String,
    pub developer_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerInfo {
    pub id: String,
    pub key: String,
    pub name: Option<String>,
    pub staged_credentials_url: Option<String>,
    pub url: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagedCredential {
    pub id: String,
    pub key: String,
    pub secret: SecretString,
    pub state: String,
    pub url: String,
    pub staged_credentials_url: Option<String>,
    pub expiration_date: Option<String>,
}

impl std::fmt::Debug for StagedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedCredential")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("state", &self.state)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

pub struct SalesforceClient {
    http: reqwest::Client,
    instance_url: String,
    consumer_key: String,
    consumer_secret: SecretString,
    token: Mutex<Option<SecretString>>,
}

/// The HTTP client every Salesforce connection shares: bounded connect and request times.
/// The provider HTTP client (see `url_guard::http_client`).
pub use crate::providers::url_guard::http_client;

fn transport(err: reqwest::Error) -> SfError {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    tracing::debug!(error = ?err, "Salesforce transport error");
    SfError::new(
        SfErrorKind::Transient,
        None,
        format!("Salesforce {what}: {}", transport_reason(&err)),
    )
}

/// Why a connection failed, in Rotary's words: the driver's own text (OS error numbers,
/// resolver and TLS internals) stays in the log. The URL guard's refusal is Rotary's and is
/// passed on as it is.
pub fn transport_reason(err: &(dyn std::error::Error + 'static)) -> String {
    let mut source = Some(err);
    let mut text = String::new();
    while let Some(e) = source {
        let here = e.to_string();
        if here.contains("ROTARY_ALLOW_INTERNAL_URLS") {
            return here;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return "the connection was refused".into()
                }
                std::io::ErrorKind::TimedOut => return "the connection timed out".into(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                    return "the connection was closed".into()
                }
                _ => {}
            }
        }
        text.push_str(&here.to_lowercase());
        source = e.source();
    }
    if text.contains("lookup") || text.contains("dns") || text.contains("resolve") {
        "the host name could not be resolved".into()
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        "the TLS handshake failed (is the certificate trusted?)".into()
    } else {
        "the connection failed".into()
    }
}

/// Turns a token-endpoint refusal into advice.
fn token_error(status: u16, body: &str) -> SfError {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = parsed["error"].as_str().unwrap_or("");
    let description = parsed["error_description"].as_str().unwrap_or("");
    if status >= 500 || status == 429 {
        return SfError::new(
            SfErrorKind::Transient,
            Some(status),
            format!("Salesforce's token endpoint answered HTTP {status}; try again later"),
        );
    }
    let advice = match (error, description) {
        ("invalid_client_id", _) => "the consumer key is not known to this org, or OAuth is disabled on its External Client App",
        ("invalid_client", "invalid client credentials") => "the consumer secret is wrong for this consumer key",
        (_, "client credentials flow not enabled") => "enable 'Client Credentials Flow' in the External Client App's OAuth settings",
        (_, "no client credentials user enabled") => "set a Run As user for the client credentials flow in the External Client App's OAuth policies",
        (_, "request not supported on this domain") => "use the org's My Domain URL (https://<domain>.my.salesforce.com), not login.salesforce.com",
        ("unsupported_grant_type", _) => "the org refused the client credentials grant",
        _ => "Salesforce refused to issue a token",
    };
    let detail = if error.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("{error}: {description}")
    };
    SfError::new(
        SfErrorKind::Auth,
        Some(status),
        format!("{advice} ({detail})"),
    )
}

/// Turns a REST refusal (`[{message, errorCode}]`) into advice.
fn rest_error(status: u16, body: &str) -> SfError {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = parsed[0]["errorCode"].as_str().unwrap_or("");
    let message = parsed[0]["message"].as_str().unwrap_or("").to_string();
    let detail = if code.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("{code}: {message}")
    };
    let (kind, advice) = match (status, code) {
        (_, "FUNCTIONALITY_NOT_ENABLED") => (SfErrorKind::Refused, "turn on 'Allow access to External Client App consumer secrets via REST API' in Setup > External Client App Settings".to_string()),
        (_, "INSUFFICIENT_ACCESS") => (SfErrorKind::Refused, "the connection's Run As user needs the 'External Client App Developer' and 'View Client Secret' permissions".to_string()),
        (_, "REQUEST_LIMIT_EXCEEDED") => (SfErrorKind::Refused, "the org's API request limit is used up; try again when it resets".to_string()),
        (401, _) => (SfErrorKind::Auth, "Salesforce refused the session".to_string()),
        (404, _) => (SfErrorKind::NotFound, "Salesforce has no such resource".to_string()),
        (s, _) if s >= 500 => (SfErrorKind::Transient, format!("Salesforce answered HTTP {s}; the call may or may not have taken effect")),
        _ => (SfErrorKind::Rejected, "Salesforce rejected the request".to_string()),
    };
    SfError::new(kind, Some(status), format!("{advice} ({detail})"))
}

fn invalid_session(status: StatusCode, body: &str) -> bool {
    status == StatusCode::UNAUTHORIZED && body.contains("INVALID_SESSION_ID")
}

impl SalesforceClient {
    pub fn new(
        http: reqwest::Client,
        instance_url: &str,
        consumer_key: &str,
        consumer_secret: SecretString,
    ) -> Self {
        SalesforceClient {
            http,
            instance_url: instance_url.trim_end_matches('/').to_string(),
            consumer_key: consumer_key.to_string(),
            consumer_secret,
            token: Mutex::new(None),
        }
    }

    pub fn instance_url(&self) -> &str {
        &self.instance_url
    }

    /// The connection's own consumer key (a rotation must never rotate it).
    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// Asks for a fresh access token (client-credentials grant). Also how connections are
    /// validated.
    pub async fn fetch_token(&self) -> Result<SecretString, SfError> {
        let started = std::time::Instant::now();
        let result = self.fetch_token_once().await;
        crate::metrics::provider_call("salesforce", "token", started, result.is_ok());
        result
    }

    async fn fetch_token_once(&self) -> Result<SecretString, SfError> {
        let response = self
            .http
            .post(format!("{}/services/oauth2/token", self.instance_url))
            .header("accept", "application/json")
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.consumer_key.as_str()),
                ("client_secret", self.consumer_secret.expose_secret()),
            ])
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(token_error(status.as_u16(), &body));
        }
        let parsed: Value = serde_json::from_str(&body).map_err(|_| {
            SfError::new(
                SfErrorKind::Rejected,
                Some(status.as_u16()),
                "Salesforce's token endpoint did not answer JSON",
            )
        })?;
        let token_type = parsed["token_type"].as_str().unwrap_or("");
        if token_type != "Bearer" {
            return Err(SfError::new(
                SfErrorKind::Auth,
                Some(status.as_u16()),
                format!("unexpected token type \"{token_type}\""),
            ));
        }
        let token = parsed["access_token"].as_str().ok_or_else(|| {
            SfError::new(
                SfErrorKind::Auth,
                Some(status.as_u16()),
                "Salesforce's token answer has no access_token",
            )
        })?;
        Ok(SecretString::from(token.to_string()))
    }

    async fn token(&self, refresh: bool) -> Result<SecretString, SfError> {
        let mut cached = self.token.lock().await;
        if refresh || cached.is_none() {
            *cached = Some(self.fetch_token().await?);
        }
        Ok(cached.clone().expect("set above"))
    }

    /// One REST call with the cached token, refreshed once on `INVALID_SESSION_ID`. Returns the
    /// status and body text of any 2xx; errors otherwise.
    async fn call_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, String), SfError> {
        let started = std::time::Instant::now();
        let result = self.call_once_unmeasured(method.clone(), path, body).await;
        crate::metrics::provider_call(
            "salesforce",
            operation(&method, path),
            started,
            result.is_ok(),
        );
        result
    }

    async fn call_once_unmeasured(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, String), SfError> {
        // Only ever a path on the instance: the bearer token goes nowhere else.
        if !path.starts_with('/') || path.starts_with("//") {
            return Err(SfError::new(
                SfErrorKind::Rejected,
                None,
                "Salesforce pointed Rotary at a URL outside the instance; it was not followed",
            ));
        }
        let url = format!("{}{path}", self.instance_url);
        let mut refreshed = false;
        loop {
            let token = self.token(refreshed).await?;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose_secret())
                .header("accept", "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(transport)?;
            let status = response.status();
            let text = response.text().await.map_err(transport)?;
            if invalid_session(status, &text) && !refreshed {
                refreshed = true;
                continue;
            }
            if status.is_success() {
                return Ok((status, text));
            }
            return Err(rest_error(status.as_u16(), &text));
        }
    }

    /// A GET, retried with backoff on transient failures (it has no side effects).
    async fn get(&self, path: &str) -> Result<Value, SfError> {
        let (_, text) = (|| async { self.call_once(Method::GET, path, None).await })
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_times(3)
                    .with_jitter(),
            )
            .when(SfError::is_transient)
            .await?;
        parse(&text)
    }

    /// A `nextPageUrl` as a path on this instance: relative, or absolute with the instance's
    /// own scheme and host. Anything else is refused: following it would send the org's token
    /// to another host.
    fn same_instance_path(&self, url: &str) -> Result<String, SfError> {
        let refused = || {
            SfError::new(
                SfErrorKind::Rejected,
                None,
                "Salesforce's nextPageUrl points outside the instance; it was not followed",
            )
        };
        if url.starts_with('/') && !url.starts_with("//") {
            return Ok(url.to_string());
        }
        let next = reqwest::Url::parse(url).map_err(|_| refused())?;
        let base = reqwest::Url::parse(&self.instance_url).map_err(|_| refused())?;
        if next.scheme() != base.scheme()
            || next.host_str() != base.host_str()
            || next.port_or_known_default() != base.port_or_known_default()
        {
            return Err(refused());
        }
        Ok(match next.query() {
            Some(q) => format!("{}?{q}", next.path()),
            None => next.path().to_string(),
        })
    }

    /// `/services/data/vNN/apps/oauth/credentials/<segments>`, each segment percent-encoded:
    /// ids from a request or an answer can never step into another path (`../`, `#`, `?`).
    fn credentials_path(&self, segments: &[&str]) -> String {
        let encoded: Vec<String> = segments
            .iter()
            .map(|s| {
                percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
            })
            .collect();
        self.data(&format!("/apps/oauth/credentials/{}", encoded.join("/")))
    }

    fn data(&self, rest: &str) -> String {
        format!("/services/data/v{API_VERSION}{rest}")
    }

    /// The External Client Apps with OAuth usage, following `nextPageUrl` up to 10 pages.
    pub async fn list_apps(&self) -> Result<Vec<OauthApp>, SfError> {
        let mut apps = Vec::new();
        let mut next = Some(self.data("/apps/oauth/usage"));
        for _ in 0..USAGE_PAGE_LIMIT {
            let Some(path) = next.take() else { break };
            let page = self.get(&path).await?;
            let items: Vec<OauthApp> =
                serde_json::from_value(page["apps"].clone()).unwrap_or_default();
            if items.is_empty() {
                break;
            }
            apps.extend(items);
            next = page["nextPageUrl"]
                .as_str()
                .map(|u| self.same_instance_path(u))
                .transpose()?;
        }
        Ok(apps)
    }

    pub async fn consumers(&self, app_id: &str) -> Result<Vec<ConsumerInfo>, SfError> {
        let body = self.get(&self.credentials_path(&[app_id])).await?;
        serde_json::from_value(body["consumers"].clone()).map_err(|e| {
            SfError::new(
                SfErrorKind::Rejected,
                None,
                format!("unexpected consumer list from Salesforce: {e}"),
            )
        })
    }

    pub async fn staged(
        &self,
        app_id: &str,
        consumer_id: &str,
    ) -> Result<Vec<StagedCredential>, SfError> {
        match self
            .get(&self.credentials_path(&[app_id, consumer_id, "staged"]))
            .await
        {
            Ok(body) => serde_json::from_value(body["stagedCredentials"].clone()).map_err(|e| {
                SfError::new(
                    SfErrorKind::Rejected,
                    None,
                    format!("unexpected staged credentials from Salesforce: {e}"),
                )
            }),
            // Some orgs answer an empty slot with 404.
            Err(e) if e.kind == SfErrorKind::NotFound => Ok(vec![]),
            Err(e) => Err(e),
        }
    }

    /// Stages a new key and secret. Not retried: after an uncertain answer, read `staged`.
    pub async fn stage(
        &self,
        app_id: &str,
        consumer_id: &str,
    ) -> Result<StagedCredential, SfError> {
        let path = self.credentials_path(&[app_id, consumer_id, "staged"]);
        let (_, text) = self
            .call_once(
                Method::POST,
                &path,
                Some(&Value::Object(Default::default())),
            )
            .await?;
        let body = parse(&text)?;
        serde_json::from_value::<Vec<StagedCredential>>(body["stagedCredentials"].clone())
            .ok()
            .and_then(|mut list| list.pop())
            .ok_or_else(|| {
                SfError::new(
                    SfErrorKind::Rejected,
                    None,
                    "Salesforce staged credentials but returned none",
                )
            })
    }

    /// Promotes the staged credential with this id. Not retried: after an uncertain answer,
    /// compare the consumer's key with the staged key.
    pub async fn rotate(
        &self,
        app_id: &str,
        consumer_id: &str,
        staged_id: &str,
    ) -> Result<(), SfError> {
        let path = self.credentials_path(&[app_id, consumer_id, "staged", staged_id]);
        self.call_once(
            Method::PATCH,
            &path,
            Some(&serde_json::json!({"command": "rotate"})),
        )
        .await?;
        Ok(())
    }

    /// Deletes a staged or rotated credential; `false` when it was already gone.
    pub async fn delete_staged(
        &self,
        app_id: &str,
        consumer_id: &str,
        staged_id: &str,
    ) -> Result<bool, SfError> {
        let path = self.credentials_path(&[app_id, consumer_id, "staged", staged_id]);
        match self.call_once(Method::DELETE, &path, None).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind == SfErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One Metadata API call (SOAP), with the session refreshed once; the response body.
    async fn metadata_call(&self, body: &str) -> Result<(StatusCode, String), SfError> {
        let started = std::time::Instant::now();
        let result = self.metadata_call_unmeasured(body).await;
        crate::metrics::provider_call("salesforce", "metadata", started, result.is_ok());
        result
    }

    async fn metadata_call_unmeasured(&self, body: &str) -> Result<(StatusCode, String), SfError> {
        let mut refreshed = false;
        loop {
            let token = self.token(refreshed).await?;
            let envelope = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Header xmlns=\"http://soap.sforce.com/2006/04/metadata\"><SessionHeader><sessionId>{}</sessionId></SessionHeader></soapenv:Header><soapenv:Body xmlns=\"http://soap.sforce.com/2006/04/metadata\">{body}</soapenv:Body></soapenv:Envelope>",
                xml_escape(token.expose_secret()),
            );
            let response = self
                .http
                .post(format!(
                    "{}/services/Soap/m/{API_VERSION}",
                    self.instance_url
                ))
                .header("content-type", "text/xml")
                .header("SOAPAction", "\"\"")
                .body(envelope)
                .send()
                .await
                .map_err(transport)?;
            let status = response.status();
            let text = response.text().await.map_err(transport)?;
            if text.contains("INVALID_SESSION_ID") && !refreshed {
                refreshed = true;
                continue;
            }
            if status.is_server_error() && !text.contains("<faultcode>") {
                return Err(SfError::new(
                    SfErrorKind::Transient,
                    Some(status.as_u16()),
                    format!("Salesforce's Metadata API answered HTTP {status}"),
                ));
            }
            if let Some(fault) = between(&text, "<faultstring>", "</faultstring>") {
                return Err(SfError::new(
                    SfErrorKind::Rejected,
                    Some(status.as_u16()),
                    fault.to_string(),
                ));
            }
            return Ok((status, text));
        }
    }

    /// The full name of the `ExtlClntAppConfigurablePolicies` of an app, found with
    /// listMetadata + readMetadata rather than guessed (`<name>_plcy` is only a convention).
    pub async fn find_policy(&self, developer_name: &str) -> Result<Option<String>, SfError> {
        let (_, listed) = self
            .metadata_call("<listMetadata><queries><type>ExtlClntAppConfigurablePolicies</type></queries><asOfVersion>65.0</asOfVersion></listMetadata>")
            .await?;
        let names = all_between(&listed, "<fullName>", "</fullName>");
        for chunk in names.chunks(10) {
            let full_names: String = chunk
                .iter()
                .map(|n| format!("<fullNames>{}</fullNames>", xml_escape(n)))
                .collect();
            let (_, read) = self
                .metadata_call(&format!(
                    "<readMetadata><type>ExtlClntAppConfigurablePolicies</type>{full_names}</readMetadata>"
                ))
                .await?;
            for record in read.split("<records").skip(1) {
                if between(
                    record,
                    "<externalClientApplication>",
                    "</externalClientApplication>",
                ) == Some(developer_name)
                {
                    return Ok(between(record, "<fullName>", "</fullName>").map(str::to_string));
                }
            }
        }
        Ok(None)
    }

    /// Disables OAuth on an app through the Metadata API (every consumer stops getting tokens).
    pub async fn disable_oauth(
        &self,
        policy_full_name: &str,
        developer_name: &str,
    ) -> Result<(), SfError> {
        let (status, text) = self
            .metadata_call(&format!(
                "<updateMetadata><metadata xsi:type=\"ExtlClntAppConfigurablePolicies\"><fullName>{}</fullName><externalClientApplication>{}</externalClientApplication><isEnabled>true</isEnabled><isOauthPluginEnabled>false</isOauthPluginEnabled></metadata></updateMetadata>",
                xml_escape(policy_full_name),
                xml_escape(developer_name)
            ))
            .await
            .map_err(|e| {
                SfError::new(e.kind, e.status, format!("Salesforce did not disable OAuth on {developer_name}: {}", e.message))
            })?;
        if status.is_success() && text.contains("<success>true</success>") {
            return Ok(());
        }
        let message = between(&text, "<message>", "</message>").unwrap_or("no reason given");
        Err(SfError::new(
            SfErrorKind::Rejected,
            Some(status.as_u16()),
            format!("Salesforce did not disable OAuth on {developer_name}: {message}"),
        ))
    }
}

/// The operation a REST call performs, as metrics name it (the mock's fault rules use the
/// same names).
fn operation(method: &Method, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or(path);
    match (method.as_str(), path) {
        (_, p) if p.ends_with("/apps/oauth/usage") => "usage",
        ("POST", p) if p.ends_with("/staged") => "post_staged",
        (_, p) if p.ends_with("/staged") => "get_staged",
        ("PATCH", p) if p.contains("/staged/") => "rotate",
        ("DELETE", p) if p.contains("/staged/") => "delete_staged",
        (_, p) if p.contains("/staged/") => "get_staged_id",
        _ => "list_consumers",
    }
}

fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).to_string()
}

fn all_between(text: &str, start: &str, end: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(from) = rest.find(start) {
        let after = &rest[from + start.len()..];
        let Some(to) = after.find(end) else { break };
        out.push(after[..to].to_string());
        rest = &after[to + end.len()..];
    }
    out
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

fn parse(text: &str) -> Result<Value, SfError> {
    serde_json::from_str(text).map_err(|_| {
        SfError::new(
            SfErrorKind::Transient,
            None,
            "Salesforce answered something that is not JSON",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_become_advice() {
        let e = token_error(
            400,
            r#"{"error":"invalid_grant","error_description":"client credentials flow not enabled"}"#,
        );
        assert_eq!(e.message, "enable 'Client Credentials Flow' in the External Client App's OAuth settings (invalid_grant: client credentials flow not enabled)");
        assert_eq!(e.kind, SfErrorKind::Auth);
        assert!(token_error(503, "").is_transient());
        let e = rest_error(
            403,
            r#"[{"message":"This feature is not currently enabled for this user.","errorCode":"FUNCTIONALITY_NOT_ENABLED"}]"#,
        );
        assert!(e.message.starts_with(
            "turn on 'Allow access to External Client App consumer secrets via REST API'"
        ));
        assert!(rest_error(502, "<html>").is_transient());
        assert_eq!(rest_error(404, "[]").kind, SfErrorKind::NotFound);
    }
}
