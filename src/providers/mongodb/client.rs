//! The official driver, as a rotation uses it: a client for one user (the server's address
//! through the URL guard, `directConnection`, authSource = the connection's database, 10 s
//! timeouts and Infisical's TLS settings), `ping` as a user, and `updateUser` as the
//! connection's user. Errors keep MongoDB's words; a password is never part of one.

use std::time::Duration;

use mongodb::bson::doc;
use mongodb::error::ErrorKind;
use mongodb::options::{ClientOptions, Credential, ServerAddress, Tls, TlsOptions};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;

use crate::providers::mongodb::wire::MongoConnection;
use crate::rotation::provider::{StepError, StepResult};

const TIMEOUT: Duration = Duration::from_secs(10);

/// MongoDB's codes for trouble that passes (a stepping-down primary, a shutdown, the network).
const TRANSIENT_CODES: &[i32] = &[
    6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
];

/// A driver error as a phase error, `secrets` scrubbed from its text.
pub fn describe(e: &mongodb::error::Error, secrets: &[&str]) -> StepError {
    let mut message = match e.kind.as_ref() {
        ErrorKind::Authentication { message, .. } => message.clone(),
        ErrorKind::Command(c) => format!("{} ({}: {})", c.message, c.code, c.code_name),
        _ => e.to_string(),
    };
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        message = message.replace(s, "[redacted]");
    }
    if server_codes(e).iter().any(|c| TRANSIENT_CODES.contains(c)) {
        return StepError::Transient(message);
    }
    match e.kind.as_ref() {
        // The server's answer to a wrong password or an unknown user. Any other failure of
        // the SASL exchange is the server's trouble (it does not always come with its code).
        ErrorKind::Authentication { message: m, .. } if !m.contains("Authentication failed") => {
            StepError::Transient(message)
        }
        ErrorKind::Command(_) | ErrorKind::Authentication { .. } => StepError::Fatal(message),
        ErrorKind::InvalidArgument { .. } | ErrorKind::InvalidTlsConfig { .. } => {
            StepError::Fatal(message)
        }
        _ => StepError::Transient(message),
    }
}

/// The server's error codes in `e` and its sources (an authentication the server could not
/// finish, because it is shutting down say, is an authentication error whose source is the
/// server's).
fn server_codes(e: &mongodb::error::Error) -> Vec<i32> {
    let mut codes = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(current) = next {
        if let Some(m) = current.downcast_ref::<mongodb::error::Error>() {
            if let ErrorKind::Command(c) = m.kind.as_ref() {
                codes.push(c.code);
            }
        }
        next = current.source();
    }
    codes
}

/// A CA certificate for the driver, which reads it from a file: a file named for its digest in
/// the temp directory (a CA is public).
fn ca_file(pem: &str) -> StepResult<std::path::PathBuf> {
    let digest = hex::encode(sha2::Sha256::digest(pem.as_bytes()));
    let path = std::env::temp_dir().join(format!("rotary-mongodb-ca-{digest}.pem"));
    if !path.exists() {
        std::fs::write(&path, pem).map_err(|e| {
            StepError::Transient(format!(
                "the CA certificate could not be written for the driver: {e}"
            ))
        })?;
    }
    Ok(path)
}

/// A client that logs in as `username` (the driver authenticates each new connection).
pub async fn client(
    c: &MongoConnection,
    username: &str,
    password: &SecretString,
    allow_internal: bool,
) -> StepResult<mongodb::Client> {
    let addresses = crate::providers::url_guard::resolve_host(&c.host, c.port, allow_internal)
        .await
        .map_err(StepError::Setup)?;
    let verify = c.tls_enabled && c.tls_reject_unauthorized;
    // The checked address, unless TLS checks the certificate against the name.
    let host = if verify {
        c.host.clone()
    } else {
        addresses[0].ip().to_string()
    };
    let mut options = ClientOptions::default();
    options.hosts = vec![ServerAddress::Tcp {
        host,
        port: Some(c.port),
    }];
    options.direct_connection = Some(true);
    options.app_name = Some("rotary".into());
    options.connect_timeout = Some(TIMEOUT);
    options.server_selection_timeout = Some(TIMEOUT);
    let mut credential = Credential::default();
    credential.username = Some(username.to_string());
    credential.password = Some(password.expose_secret().to_string());
    credential.source = Some(c.database.clone());
    options.credential = Some(credential);
    if c.tls_enabled {
        let mut tls = TlsOptions::default();
        tls.allow_invalid_certificates = Some(!c.tls_reject_unauthorized);
        if let Some(pem) = &c.tls_certificate {
            tls.ca_file_path = Some(ca_file(pem)?);
        }
        options.tls = Some(Tls::Enabled(tls));
    }
    mongodb::Client::with_options(options).map_err(|e| describe(&e, &[password.expose_secret()]))
}

/// Logs in as `username` and runs `ping` on the connection's database (Infisical's check).
pub async fn ping_as(
    c: &MongoConnection,
    username: &str,
    password: &SecretString,
    allow_internal: bool,
) -> StepResult {
    let client = client(c, username, password, allow_internal).await?;
    let result = client
        .database(&c.database)
        .run_command(doc! {"ping": 1})
        .await
        .map(drop)
        .map_err(|e| describe(&e, &[password.expose_secret()]));
    client.shutdown().await;
    result
}

/// `updateUser` as the connection's user: `username`'s password becomes `new`.
pub async fn set_password(
    c: &MongoConnection,
    username: &str,
    new: &SecretString,
    allow_internal: bool,
) -> StepResult {
    let client = client(c, &c.username, &c.password, allow_internal).await?;
    let result = client
        .database(&c.database)
        .run_command(doc! {"updateUser": username, "pwd": new.expose_secret()})
        .await
        .map(drop)
        .map_err(|e| describe(&e, &[new.expose_secret(), c.password.expose_secret()]));
    client.shutdown().await;
    result
}
