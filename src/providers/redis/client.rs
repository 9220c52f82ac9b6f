//! Talking to Redis (the `redis` crate, async over tokio, TLS through rustls): a connection
//! as a given ACL user, to an address the URL guard allows, and the ACL commands the rotation
//! sends, with Redis's refusals in Rotary's words. Passwords are never in a message: the
//! server's text is shown only for `ACL SETUSER`'s rule errors, with the password masked.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
    RedisError, TlsCertificates,
};
use secrecy::{ExposeSecret, SecretString};

use crate::providers::redis::wire::RedisConnection;
use crate::rotation::provider::{StepError, StepResult};

/// How long connecting (TCP, TLS, AUTH) and each command may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Infisical's mask for a generated password in a driver message.
const MASK: &str = "*******************";

/// A new connection to the connection's server, authenticated as `username` with `AUTH
/// <username> <password>` (as Infisical validates; a `nopass` user takes any password, so
/// none is sent as empty). AUTH is the only command every user may run, so a rotated user
/// whose scope grants no PING still checks out.
pub async fn connect(
    c: &RedisConnection,
    username: &str,
    password: Option<&SecretString>,
    allow_internal: bool,
) -> StepResult<MultiplexedConnection> {
    let addresses = crate::providers::url_guard::resolve_host(&c.host, c.port, allow_internal)
        .await
        .map_err(StepError::Setup)?;
    let verify = c.ssl_enabled && c.ssl_reject_unauthorized;
    // The checked address; with full verification the name (the certificate names it).
    let host = if verify {
        c.host.clone()
    } else {
        addresses[0].ip().to_string()
    };
    let addr = if c.ssl_enabled {
        ConnectionAddr::TcpTls {
            host,
            port: c.port,
            insecure: !c.ssl_reject_unauthorized,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(host, c.port)
    };
    // No credentials in the connection info: the crate would send AUTH itself, and its
    // failure would not say which step failed.
    let info = addr
        .into_connection_info()
        .map_err(|e| describe(&e, c, username, "connect"))?
        .set_redis_settings(RedisConnectionInfo::default().set_skip_set_lib_name());
    let client = match c.ssl_certificate.as_deref().filter(|_| c.ssl_enabled) {
        Some(pem) => Client::build_with_tls(
            info,
            TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.as_bytes().to_vec()),
            },
        ),
        None => Client::open(info),
    }
    .map_err(|e| describe(&e, c, username, "connect"))?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT));
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| describe(&e, c, username, "connect"))?;
    redis::cmd("AUTH")
        .arg(username)
        .arg(password.map(|p| p.expose_secret()).unwrap_or_default())
        .query_async::<()>(&mut conn)
        .await
        .map_err(|e| describe(&e, c, username, "AUTH"))?;
    Ok(conn)
}

/// Does the credential work? (AUTH as `username`.)
pub async fn check_login(
    c: &RedisConnection,
    username: &str,
    password: Option<&SecretString>,
    allow_internal: bool,
) -> StepResult {
    connect(c, username, password, allow_internal)
        .await
        .map(drop)
}

/// `ACL SETUSER <user> reset on ><password> <rules…>`: `reset` first, so applying it again
/// (a resumed run) gives the same user, whatever was there.
pub async fn set_user(
    conn: &mut MultiplexedConnection,
    c: &RedisConnection,
    username: &str,
    password: &SecretString,
    rules: &[&str],
) -> StepResult {
    let mut cmd = redis::cmd("ACL");
    cmd.arg("SETUSER")
        .arg(username)
        .arg("reset")
        .arg("on")
        .arg(format!(">{}", password.expose_secret()));
    for rule in rules {
        cmd.arg(*rule);
    }
    match cmd.query_async::<()>(conn).await {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some("ERR") => {
            let text = e.detail().unwrap_or_default();
            let text = text.replace(password.expose_secret(), MASK);
            Err(StepError::Fatal(format!(
                "Redis refused the new user's rules (check the permission scope): {text}"
            )))
        }
        Err(e) => Err(describe(&e, c, &c.username, "ACL SETUSER")),
    }
}

/// `ACL DELUSER <user>`: deleting a user that is gone is fine.
pub async fn del_user(
    conn: &mut MultiplexedConnection,
    c: &RedisConnection,
    username: &str,
) -> StepResult {
    redis::cmd("ACL")
        .arg("DELUSER")
        .arg(username)
        .query_async::<i64>(conn)
        .await
        .map(|_| ())
        .map_err(|e| describe(&e, c, &c.username, "ACL DELUSER"))
}

/// Whether `ACL SAVE` made the change durable.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    /// Written to the server's ACL file.
    Yes,
    /// The server has no ACL file: users live in memory (and in `redis.conf` only after a
    /// `CONFIG REWRITE`), as with Infisical.
    NoAclFile,
    /// The connection's user may not run `ACL SAVE`.
    NotAllowed,
}

/// `ACL SAVE`, so the server's ACL file (when it has one) keeps the users across a restart;
/// Infisical never saves, so with an ACL file its users vanish when Redis restarts.
pub async fn save(conn: &mut MultiplexedConnection, c: &RedisConnection) -> StepResult<Saved> {
    match redis::cmd("ACL").arg("SAVE").query_async::<()>(conn).await {
        Ok(()) => Ok(Saved::Yes),
        Err(e) if e.code() == Some("NOPERM") => Ok(Saved::NotAllowed),
        Err(e) if e.detail().unwrap_or_default().contains("ACL file") => Ok(Saved::NoAclFile),
        Err(e) => Err(describe(&e, c, &c.username, "ACL SAVE")),
    }
}

/// The note a run keeps when its change may not outlive a restart.
pub fn save_note(saved: &Saved, username: &str) -> Option<String> {
    match saved {
        Saved::NotAllowed => Some(format!(
            "ACL SAVE is not allowed for \"{username}\": if this Redis keeps users in an ACL file, grant +acl|save, or the issued users vanish when it restarts"
        )),
        _ => None,
    }
}

/// A Redis failure in Rotary's words: the error code decides; no server text (which could
/// echo an argument) reaches a message.
pub fn describe(e: &RedisError, c: &RedisConnection, username: &str, command: &str) -> StepError {
    if e.kind() == redis::ErrorKind::AuthenticationFailed || e.code() == Some("WRONGPASS") {
        return StepError::Fatal(format!(
            "Redis refused the login of \"{username}\" (wrong password, or the user is disabled or gone)"
        ));
    }
    match e.code() {
        Some("NOPERM") => {
            return StepError::Fatal(format!(
                "the connection's user \"{username}\" may not run {command}: grant it +acl|setuser +acl|deluser (and +acl|save with an ACL file)"
            ))
        }
        Some("NOAUTH") => {
            return StepError::Fatal(format!(
                "Redis refused \"{username}\": the server asks for a password"
            ))
        }
        Some("LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN") => {
            return StepError::Transient(format!("Redis is not ready ({})", e.code().unwrap_or_default()))
        }
        Some("READONLY") => {
            return StepError::Fatal(
                "the connection points at a read-only replica: use the primary".into(),
            )
        }
        Some(code) => return StepError::Fatal(format!("Redis refused {command} ({code})")),
        None => {}
    }
    if e.is_timeout() {
        return StepError::Transient(format!(
            "Redis at {}:{} did not answer within {} s",
            c.host,
            c.port,
            TIMEOUT.as_secs()
        ));
    }
    if e.is_connection_refusal() {
        return StepError::Transient(format!(
            "Redis at {}:{} refused the connection (is it running?)",
            c.host, c.port
        ));
    }
    if e.kind() == redis::ErrorKind::InvalidClientConfig {
        return StepError::Fatal(
            "the connection's TLS settings are unusable (is the certificate PEM?)".into(),
        );
    }
    // rustls's refusals reach us as I/O errors; only their text tells them apart.
    let text = e.to_string().to_lowercase();
    if c.ssl_enabled
        && ["certificate", "tls", "handshake", "dns name"]
            .iter()
            .any(|w| text.contains(w))
    {
        return StepError::Fatal(
            "the TLS handshake with Redis failed (is the certificate trusted, and does it name the host?)".into(),
        );
    }
    StepError::Transient(format!(
        "the connection to Redis at {}:{} failed",
        c.host, c.port
    ))
}
