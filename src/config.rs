//! Settings from flags and the environment, checked at start. A missing or invalid setting stops
//! the process with one line that names it and says how to fix it, and exit code 2.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

use crate::crypto::Key;

/// A start-up problem with one setting.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name} {problem}")]
pub struct SettingError {
    pub name: &'static str,
    pub problem: String,
}

pub fn database_url(value: Option<String>) -> Result<SecretString, SettingError> {
    match value {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(SecretString::from(url))
        }
        Some(_) => Err(SettingError {
            name: "DATABASE_URL",
            problem: "must be a postgres:// URL, e.g. postgres://rotary:password@localhost:5432/rotary".into(),
        }),
        None => Err(SettingError {
            name: "DATABASE_URL",
            problem: "is not set: point it at a Postgres database, e.g. postgres://rotary:password@localhost:5432/rotary".into(),
        }),
    }
}

pub fn root_key(value: Option<String>) -> Result<Key, SettingError> {
    let text = value.ok_or_else(|| SettingError {
        name: "ROTARY_ROOT_KEY",
        problem: "is not set: give it the base64 of 32 random bytes, e.g. from `head -c 32 /dev/urandom | base64`".into(),
    })?;
    Key::from_base64(&text).map_err(|problem| SettingError {
        name: "ROTARY_ROOT_KEY",
        problem: format!(
            "is invalid: it {problem}; give it the base64 of 32 random bytes, e.g. from `head -c 32 /dev/urandom | base64`"
        ),
    })
}

pub fn listen(value: &str) -> Result<SocketAddr, SettingError> {
    address("ROTARY_LISTEN", value)
}

/// A socket address setting, named `name` in the error.
pub fn address(name: &'static str, value: &str) -> Result<SocketAddr, SettingError> {
    value.parse().map_err(|_| SettingError {
        name,
        problem: format!("is invalid: '{value}' is not an address like 127.0.0.1:8080"),
    })
}

/// Everything `serve` needs, already checked.
#[derive(Debug)]
pub struct ServeConfig {
    pub database_url: SecretString,
    pub root_key: Key,
    pub listen: SocketAddr,
    pub options: Options,
}

/// Behaviour switches of a running server.
#[derive(Debug, Clone)]
pub struct Options {
    pub limits: Limits,
    /// Let connections point at loopback/private addresses (the mock org, tests, demos).
    pub allow_internal_urls: bool,
    /// ROTARY_ROTATION_DEV_MODE: rotation intervals in minutes instead of days.
    pub rotation_dev_mode: bool,
    /// ROTARY_RUN_LEASE_SECONDS: how long a worker owns a rotation run between renewals;
    /// a crashed worker's run is taken over after this long.
    pub lease_seconds: i64,
    /// Retries of scheduled runs (ROTARY_RETRY_START_SECONDS, ROTARY_RETRY_ATTEMPTS).
    pub retry: RetryPolicy,
    /// The scheduler (ROTARY_SCHEDULER_CONCURRENCY, ROTARY_SCHEDULER_PER_CONNECTION).
    pub scheduler: SchedulerConfig,
    /// ROTARY_PROVIDER_TIMEOUT_SECONDS: how long one call to Salesforce may take.
    pub provider_timeout: std::time::Duration,
    /// ROTARY_CORS_ORIGINS: browser origins allowed to call the API.
    pub cors_origins: CorsOrigins,
    /// ROTARY_METRICS_TOKEN: the bearer token a Prometheus scraper sends to `/metrics`
    /// (an org admin's access token works too).
    pub metrics_token: Option<SecretString>,
    /// ROTARY_AZURE_LOGIN_URL and ROTARY_AZURE_GRAPH_URL: Microsoft's endpoints (a mock's in
    /// tests and demos).
    pub azure: AzureEndpoints,
    /// ROTARY_AWS_ENDPOINT_URL, ROTARY_AWS_ACCESS_KEY_ID, ROTARY_AWS_SECRET_ACCESS_KEY.
    pub aws: AwsSettings,
}

/// How Rotary reaches AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    /// Every IAM and STS call goes here instead of AWS's own endpoints (moto in tests and
    /// demos); unset in production.
    pub endpoint: Option<String>,
    /// Rotary's own key, which signs the `AssumeRole` of `assume-role` connections (Infisical's
    /// INF_APP_CONNECTION_AWS_ACCESS_KEY_ID); unset: the usual AWS environment (AWS_* variables,
    /// profile, web identity, the instance's or container's role).
    pub own_key: Option<(String, SecretString)>,
}

/// The AWS settings: an endpoint URL (or none), and Rotary's own key, both parts or neither.
pub fn aws(
    endpoint_url: Option<String>,
    key_id: Option<String>,
    secret: Option<String>,
) -> Result<AwsSettings, SettingError> {
    let endpoint = match endpoint_url.filter(|v| !v.trim().is_empty()) {
        Some(v) => Some(endpoint("ROTARY_AWS_ENDPOINT_URL", Some(v), "")?),
        None => None,
    };
    let own_key = match (
        key_id.filter(|v| !v.is_empty()),
        secret.filter(|v| !v.is_empty()),
    ) {
        (Some(id), Some(secret)) => Some((id, SecretString::from(secret))),
        (None, None) => None,
        (Some(_), None) => {
            return Err(SettingError {
                name: "ROTARY_AWS_SECRET_ACCESS_KEY",
                problem: "is not set, but ROTARY_AWS_ACCESS_KEY_ID is: give both or neither".into(),
            })
        }
        (None, Some(_)) => {
            return Err(SettingError {
                name: "ROTARY_AWS_ACCESS_KEY_ID",
                problem: "is not set, but ROTARY_AWS_SECRET_ACCESS_KEY is: give both or neither"
                    .into(),
            })
        }
    };
    Ok(AwsSettings { endpoint, own_key })
}

/// Where Azure's token endpoint and Microsoft Graph are.
#[derive(Debug, Clone)]
pub struct AzureEndpoints {
    /// `https://login.microsoftonline.com`: `/{tenant}/oauth2/v2.0/token` under it.
    pub login: String,
    /// `https://graph.microsoft.com`: `/v1.0/…` under it.
    pub graph: String,
}

impl Default for AzureEndpoints {
    fn default() -> Self {
        AzureEndpoints {
            login: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com".into(),
        }
    }
}

/// An endpoint setting: an http(s) URL, kept without its trailing slash; unset: `default`.
pub fn endpoint(
    name: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<String, SettingError> {
    let Some(value) = value.map(|v| v.trim().trim_end_matches('/').to_string()) else {
        return Ok(default.to_string());
    };
    match url::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(value),
        _ => Err(SettingError {
            name,
            problem: format!("is not an http(s) URL: {value:?}"),
        }),
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            allow_internal_urls: false,
            rotation_dev_mode: false,
            lease_seconds: crate::store::rotations::DEFAULT_LEASE_SECONDS,
            retry: Default::default(),
            scheduler: Default::default(),
            provider_timeout: std::time::Duration::from_secs(30),
            cors_origins: CorsOrigins::None,
            metrics_token: None,
            azure: AzureEndpoints::default(),
            aws: AwsSettings::default(),
        }
    }
}

// ---- the scheduler's settings (state.rs and the scheduler both use them) ----

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub poll_interval: Duration,
    /// Runs executing at once in this process.
    pub concurrency: usize,
    /// Runs executing at once per app connection, across all replicas.
    pub per_connection: usize,
    /// How long before `nextRotationAt` the `secrets.rotation-upcoming` webhook event is sent;
    /// zero sends none.
    pub upcoming_notice: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            poll_interval: Duration::from_secs(1),
            concurrency: 16,
            per_connection: 4,
            upcoming_notice: Duration::from_secs(3600),
        }
    }
}

/// Retry policy of scheduled runs that fail before activation.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub start: Duration,
    /// Attempts in all (the first one included).
    pub attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            start: Duration::from_secs(30),
            attempts: 5,
        }
    }
}

impl RetryPolicy {
    /// Wait before attempt `attempt + 1`: start × 2^(attempt-1), ±20 % jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.start.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
        let jitter = 0.8 + rand::random::<f64>() * 0.4;
        Duration::from_secs_f64(base * jitter)
    }
}

/// Parses a positive whole number (seconds, counts).
pub fn positive(
    name: &'static str,
    value: Option<String>,
    default: i64,
) -> Result<i64, SettingError> {
    whole_number(name, value, default, 1, "a positive whole number")
}

/// Parses a whole number that may be zero (zero switches the feature off).
pub fn non_negative(
    name: &'static str,
    value: Option<String>,
    default: i64,
) -> Result<i64, SettingError> {
    whole_number(name, value, default, 0, "a whole number (0 or more)")
}

fn whole_number(
    name: &'static str,
    value: Option<String>,
    default: i64,
    min: i64,
    what: &str,
) -> Result<i64, SettingError> {
    match value {
        None => Ok(default),
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(SettingError {
                name,
                problem: format!("is invalid: '{v}' is not {what}"),
            }),
        },
    }
}

/// Parses a boolean setting (`true`/`false`, `1`/`0`, any case).
pub fn flag(name: &'static str, value: Option<String>) -> Result<bool, SettingError> {
    match value
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(SettingError {
            name,
            problem: format!("is invalid: '{other}' is not true or false"),
        }),
    }
}

/// Which web origins may call the API from a browser (CORS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers at all: browsers allow only same-origin calls.
    #[default]
    None,
    /// Any origin (`*`): safe with bearer tokens, which browsers never send on their own.
    Any,
    /// These origins, exactly (`https://console.example.com`).
    List(Vec<String>),
}

/// Parses `ROTARY_METRICS_TOKEN`: unset or empty means none; otherwise at least 16
/// characters, since it guards the list of every project's rotations.
pub fn metrics_token(value: Option<String>) -> Result<Option<SecretString>, SettingError> {
    match value.map(|v| v.trim().to_string()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.len() < 16 || v.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(SettingError {
            name: "ROTARY_METRICS_TOKEN",
            problem: "is too weak: use at least 16 characters without spaces, e.g. from `head -c 24 /dev/urandom | base64`".into(),
        }),
        Some(v) => Ok(Some(SecretString::from(v))),
    }
}

/// Parses `ROTARY_CORS_ORIGINS`: a comma-separated list of origins (`scheme://host[:port]`,
/// no path), or `*`; empty means none.
pub fn cors_origins(value: Option<String>) -> Result<CorsOrigins, SettingError> {
    const NAME: &str = "ROTARY_CORS_ORIGINS";
    let Some(value) = value else {
        return Ok(CorsOrigins::None);
    };
    let items: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Ok(CorsOrigins::None);
    }
    if items == ["*"] {
        return Ok(CorsOrigins::Any);
    }
    for item in &items {
        let rest = item
            .strip_prefix("https://")
            .or_else(|| item.strip_prefix("http://"));
        let ok = rest.is_some_and(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
        if !ok {
            return Err(SettingError {
                name: NAME,
                problem: format!(
                    "is invalid: '{item}' is not an origin like https://console.example.com (scheme and host, optional port, no path; or * alone)"
                ),
            });
        }
    }
    Ok(CorsOrigins::List(
        items.into_iter().map(str::to_string).collect(),
    ))
}

/// Abuse limits; tests lower them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Failed logins allowed per client id (and per source address) in one minute.
    pub failed_logins_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            failed_logins_per_minute: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_setting_is_an_http_url_kept_without_its_slash() {
        assert_eq!(
            endpoint("X", None, "https://d.example").unwrap(),
            "https://d.example"
        );
        assert_eq!(
            endpoint("X", Some(" http://127.0.0.1:8788/ ".into()), "https://d").unwrap(),
            "http://127.0.0.1:8788"
        );
        let e = endpoint("ROTARY_AZURE_GRAPH_URL", Some("graph".into()), "https://d").unwrap_err();
        assert_eq!(e.name, "ROTARY_AZURE_GRAPH_URL");
    }

    #[test]
    fn cors_origins_are_a_list_of_origins_or_a_star() {
        assert_eq!(cors_origins(None), Ok(CorsOrigins::None));
        assert_eq!(cors_origins(Some(" , ".into())), Ok(CorsOrigins::None));
        assert_eq!(cors_origins(Some("*".into())), Ok(CorsOrigins::Any));
        assert_eq!(
            cors_origins(Some("https://a.example.com, http://127.0.0.1:3000".into())),
            Ok(CorsOrigins::List(vec![
                "https://a.example.com".into(),
                "http://127.0.0.1:3000".into()
            ]))
        );
        for bad in [
            "a.example.com",
            "https://a.example.com/",
            "https://a.example.com/app",
            "*, https://a.example.com",
            "ftp://a.example.com",
            "https://",
        ] {
            let err = cors_origins(Some(bad.into())).unwrap_err();
            assert_eq!(err.name, "ROTARY_CORS_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn each_problem_names_its_setting() {
        assert_eq!(database_url(None).unwrap_err().name, "DATABASE_URL");
        assert!(database_url(Some("mysql://x".into())).is_err());
        assert!(database_url(Some("postgres://x".into())).is_ok());
        let err = root_key(Some("short".into())).unwrap_err();
        assert_eq!(err.name, "ROTARY_ROOT_KEY");
        assert!(err.to_string().starts_with("ROTARY_ROOT_KEY is invalid"));
        assert!(listen("nope")
            .unwrap_err()
            .to_string()
            .contains("ROTARY_LISTEN"));
        assert_eq!(listen("127.0.0.1:0").unwrap().port(), 0);
    }

    #[test]
    fn numbers_take_their_default_and_refuse_what_is_out_of_range() {
        assert_eq!(positive("N", None, 7).unwrap(), 7);
        assert_eq!(positive("N", Some(" 3 ".into()), 7).unwrap(), 3);
        assert_eq!(
            positive("N", Some("0".into()), 7).unwrap_err().to_string(),
            "N is invalid: '0' is not a positive whole number"
        );
        assert_eq!(non_negative("N", Some("0".into()), 7).unwrap(), 0);
        assert_eq!(
            non_negative("N", Some("-1".into()), 7)
                .unwrap_err()
                .to_string(),
            "N is invalid: '-1' is not a whole number (0 or more)"
        );
    }
}
