//! The AWS calls of an IAM user key rotation, through the official SDK (reference §9.1, §9.3):
//! the connection's identity (STS `GetCallerIdentity`), the users helper (`ListUsers`, every
//! page), a user's keys (`ListAccessKeys`), `CreateAccessKey`, `DeleteAccessKey`, and whether a
//! key works (`GetCallerIdentity` signed with it). `access-key` connections sign with their
//! key; `assume-role` ones with the credentials of `AssumeRole` (ExternalId = the organization
//! id, 15-minute sessions, cached by the SDK until they near their end), which Rotary's own key
//! (ROTARY_AWS_ACCESS_KEY_ID) or the usual AWS environment signs.
//!
//! The SDK's own retries are off: a `CreateAccessKey` re-sent after a lost answer would mint a
//! second key nobody knows. The engine retries phases instead, and each phase first looks at
//! what IAM holds. Messages are AWS's error code and message; never a secret.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::config::retry::RetryConfig;
use aws_sdk_iam::config::timeout::TimeoutConfig;
use aws_sdk_iam::config::{
    BehaviorVersion, Credentials, Region, SharedCredentialsProvider, SharedHttpClient,
};
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::config::AwsSettings;
use crate::providers::aws::wire::{AwsConnection, AwsKey};
use crate::providers::http_failure::HttpFailure;

/// Infisical's words when the role cannot be assumed.
pub const ASSUME_ROLE_FAILED: &str =
    "Failed to assume role - verify credentials and role configuration";

/// One HTTPS client (rustls on ring) for every AWS call of the process.
pub fn https() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .build_https()
        })
        .clone()
}

/// AWS's error codes that mean "slow down": retried like a 429.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// An SDK error in words a person can act on, with the status AWS answered.
fn failure<E>(e: SdkError<E, HttpResponse>) -> HttpFailure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &e {
        SdkError::ServiceError(service) => {
            let (body_code, body_message) =
                xml_error(service.raw().body().bytes().unwrap_or_default());
            let code = service.err().code().map(str::to_string).or(body_code);
            let message = service
                .err()
                .message()
                .map(str::to_string)
                .or(body_message)
                .unwrap_or_else(|| "AWS refused the request".into());
            let mut status = service.raw().status().as_u16();
            if code.as_deref().is_some_and(|c| THROTTLING.contains(&c)) {
                status = 429;
            }
            HttpFailure {
                status: Some(status),
                message: match &code {
                    Some(code) => format!("{code}: {message}"),
                    None => message,
                },
                code,
            }
        }
        SdkError::TimeoutError(_) => HttpFailure::unanswered("AWS timed out"),
        SdkError::DispatchFailure(d) if d.is_timeout() => HttpFailure::unanswered("AWS timed out"),
        SdkError::DispatchFailure(d) if d.is_io() => {
            HttpFailure::unanswered("AWS could not be reached")
        }
        SdkError::ResponseError(_) => HttpFailure::unanswered("AWS's answer could not be read"),
        _ => credentials_failure(&e).unwrap_or_else(|| {
            HttpFailure::unanswered(format!(
                "the AWS request failed: {}",
                DisplayErrorContext(&e)
            ))
        }),
    }
}

/// The first `<Code>` and `<Message>` of an error body. The SDK reads AWS's own
/// `<ErrorResponse><Error>`; moto wraps the error in `<Errors>` too, which the SDK misses.
fn xml_error(body: &[u8]) -> (Option<String>, Option<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let (mut code, mut message) = (None, None);
    let mut current: Option<Vec<u8>> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => current = Some(e.local_name().as_ref().to_vec()),
            Ok(Event::Text(t)) => {
                let text = t
                    .unescape()
                    .map(|t| t.trim().to_string())
                    .unwrap_or_default();
                match current.as_deref() {
                    Some(b"Code") if code.is_none() => code = Some(text),
                    Some(b"Message") if message.is_none() => message = Some(text),
                    _ => {}
                }
            }
            Ok(Event::End(_)) => current = None,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    (
        code.filter(|c| !c.is_empty()),
        message.filter(|m| !m.is_empty()),
    )
}

/// Signing credentials that could not be had (the role refused `AssumeRole`, no key in the
/// environment): the connection's setup, unless the provider only timed out.
fn credentials_failure(e: &(dyn std::error::Error + 'static)) -> Option<HttpFailure> {
    let mut source = e.source();
    while let Some(inner) = source {
        if let Some(c) = inner.downcast_ref::<CredentialsError>() {
            let detail = DisplayErrorContext(c).to_string();
            return Some(match c {
                CredentialsError::ProviderTimedOut(_) => {
                    HttpFailure::unanswered(format!("{ASSUME_ROLE_FAILED}: AWS timed out"))
                }
                _ => HttpFailure {
                    status: Some(403),
                    code: None,
                    message: format!("{ASSUME_ROLE_FAILED}: {detail}"),
                },
            });
        }
        source = inner.source();
    }
    None
}

/// What `GetCallerIdentity` signed with a key says of it.
pub enum KeyCheck {
    /// The key's principal (`arn:aws:iam::…:user/…`).
    Works(String),
    Refused(String),
}

/// The SDK clients of one region (the region picks the partition and signs the calls).
struct Regional {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
}

pub struct AwsClient {
    connection: AwsConnection,
    org: Uuid,
    settings: AwsSettings,
    timeout: Duration,
    regions: tokio::sync::Mutex<HashMap<String, Arc<Regional>>>,
}

impl AwsClient {
    pub fn new(
        connection: AwsConnection,
        org: Uuid,
        settings: AwsSettings,
        timeout: Duration,
    ) -> Self {
        AwsClient {
            connection,
            org,
            settings,
            timeout,
            regions: Default::default(),
        }
    }

    fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .operation_timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .build()
    }

    /// The credentials the connection signs with in `region`.
    async fn signer(&self, region: &str) -> SharedCredentialsProvider {
        match &self.connection {
            AwsConnection::AccessKey {
                access_key_id,
                secret_access_key,
            } => SharedCredentialsProvider::new(Credentials::new(
                access_key_id,
                secret_access_key.expose_secret(),
                None,
                None,
                "rotary-app-connection",
            )),
            AwsConnection::AssumeRole { role_arn } => {
                let mut base = aws_config::defaults(BehaviorVersion::latest())
                    .http_client(https())
                    .region(Region::new(region.to_string()))
                    .retry_config(RetryConfig::standard())
                    .timeout_config(self.timeouts());
                if let Some(url) = &self.settings.endpoint {
                    base = base.endpoint_url(url);
                }
                if let Some((id, secret)) = &self.settings.own_key {
                    base = base.credentials_provider(Credentials::new(
                        id,
                        secret.expose_secret(),
                        None,
                        None,
                        "rotary",
                    ));
                }
                let base = base.load().await;
                let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                    .session_name(format!("rotary-app-connection-{}", Uuid::new_v4()))
                    .external_id(self.org.to_string())
                    .session_length(Duration::from_secs(900))
                    .configure(&base)
                    .build()
                    .await;
                SharedCredentialsProvider::new(provider)
            }
        }
    }

    async fn regional(&self, region: &str) -> Arc<Regional> {
        let mut regions = self.regions.lock().await;
        if let Some(r) = regions.get(region) {
            return r.clone();
        }
        let signer = self.signer(region).await;
        let mut iam = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(signer.clone())
            .http_client(https())
            .retry_config(RetryConfig::disabled())
            .timeout_config(self.timeouts());
        if let Some(url) = &self.settings.endpoint {
            iam = iam.endpoint_url(url);
        }
        let r = Arc::new(Regional {
            iam: aws_sdk_iam::Client::from_conf(iam.build()),
            sts: self.sts(region, signer),
        });
        regions.insert(region.to_string(), r.clone());
        r
    }

    /// An STS client of `region` signing with `signer` (the connection's, or a rotated key's).
    fn sts(&self, region: &str, signer: SharedCredentialsProvider) -> aws_sdk_sts::Client {
        let mut config = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(signer)
            .http_client(https())
            .retry_config(RetryConfig::disabled())
            .timeout_config(self.timeouts());
        if let Some(url) = &self.settings.endpoint {
            config = config.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(config.build())
    }

    /// The connection's own principal (its ARN): the connection check.
    pub async fn identity(&self, region: &str) -> Result<String, HttpFailure> {
        let r = self.regional(region).await;
        let out = r.sts.get_caller_identity().send().await.map_err(failure)?;
        Ok(out.arn().unwrap_or_default().to_string())
    }

    /// Every IAM user of the account: (name, ARN).
    pub async fn users(&self, region: &str) -> Result<Vec<(String, String)>, HttpFailure> {
        let r = self.regional(region).await;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        // ListUsers pages by 100; a thousand pages is far beyond any account.
        for _ in 0..1_000 {
            let page = r
                .iam
                .list_users()
                .max_items(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(failure)?;
            out.extend(
                page.users()
                    .iter()
                    .map(|u| (u.user_name().to_string(), u.arn().to_string())),
            );
            match page.marker() {
                Some(next) if page.is_truncated() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// The ids of the user's access keys (`ListAccessKeys` never shows a secret).
    pub async fn keys(&self, region: &str, user: &str) -> Result<Vec<String>, HttpFailure> {
        let r = self.regional(region).await;
        let out = r
            .iam
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .map_err(failure)?;
        Ok(out
            .access_key_metadata()
            .iter()
            .filter_map(|k| k.access_key_id().map(str::to_string))
            .collect())
    }

    /// `CreateAccessKey`: the new key and its secret, which AWS never shows again.
    pub async fn create_key(&self, region: &str, user: &str) -> Result<AwsKey, HttpFailure> {
        let r = self.regional(region).await;
        let out = r
            .iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(failure)?;
        let key = out.access_key().ok_or_else(|| {
            HttpFailure::unanswered("AWS answered CreateAccessKey without the key")
        })?;
        Ok(AwsKey {
            access_key_id: key.access_key_id().to_string(),
            secret_access_key: SecretString::from(key.secret_access_key().to_string()),
        })
    }

    /// `DeleteAccessKey`; a key already gone is fine (a retried phase deletes it again).
    pub async fn delete_key(&self, region: &str, user: &str, id: &str) -> Result<(), HttpFailure> {
        let r = self.regional(region).await;
        match r
            .iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(id)
            .send()
            .await
            .map_err(failure)
        {
            Err(f) if f.code.as_deref() == Some("NoSuchEntity") => Ok(()),
            other => other.map(drop),
        }
    }

    /// `GetCallerIdentity` signed with `key`: works, or AWS refuses it (a deleted or wrong
    /// key, or one IAM has not spread yet).
    pub async fn check_key(&self, region: &str, key: &AwsKey) -> Result<KeyCheck, HttpFailure> {
        let sts = self.sts(
            region,
            SharedCredentialsProvider::new(Credentials::new(
                &key.access_key_id,
                key.secret_access_key.expose_secret(),
                None,
                None,
                "rotary-rotated-key",
            )),
        );
        match sts.get_caller_identity().send().await.map_err(failure) {
            Ok(out) => Ok(KeyCheck::Works(out.arn().unwrap_or_default().to_string())),
            Err(f) if matches!(f.status, Some(400..=403)) => Ok(KeyCheck::Refused(f.message)),
            Err(f) => Err(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::xml_error;

    #[test]
    fn an_error_body_gives_its_code_and_message_in_aws_s_shape_and_moto_s() {
        let aws = b"<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name x cannot be found.</Message></Error><RequestId>1</RequestId></ErrorResponse>";
        assert_eq!(
            xml_error(aws),
            (
                Some("NoSuchEntity".into()),
                Some("The user with name x cannot be found.".into())
            )
        );
        let moto = b"<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature &amp; more</Message></Error></Errors></ErrorResponse>";
        assert_eq!(
            xml_error(moto),
            (
                Some("SignatureDoesNotMatch".into()),
                Some("The request signature & more".into())
            )
        );
        assert_eq!(xml_error(b"not xml"), (None, None));
    }
}
