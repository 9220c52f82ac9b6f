//! The `oracledb` app connection (`username-and-password`): where the listener is, the
//! service (`database`: a service name, as Oracle Free's `FREEPDB1`), and the user Rotary logs
//! on as to change the rotated users' passwords (CREATE SESSION and ALTER USER). Checked by
//! logging on and running `SELECT 1 FROM DUAL`, as Infisical.
//!
//! The driver is synchronous: each session (log on, statements, log off) runs whole on a
//! blocking thread, bounded by the driver's connect and call timeouts and an outer one.
//!
//! TLS as Infisical maps it for node-oracledb: `sslEnabled` connects over TCPS, checking the
//! certificate against `sslCertificate` (or the system's roots) and its name against the host.
//! The driver has no way to skip that check, so `sslRejectUnauthorized: false` is refused with
//! a message saying so, rather than silently checking anyway.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::connections::target::unable_to_validate;
use crate::connections::types::ConnectionType;
use crate::error::ApiResult;
use crate::providers::sql::wire::{SqlConnection, SqlConnectionInput};
use crate::rotation::provider::StepError;
use crate::state::AppState;

pub const APP: &str = "oracledb";
pub const USERNAME_AND_PASSWORD: &str = "username-and-password";

/// How long the TCP connect may take; and each call after it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// The whole session, on top of those.
const SESSION_TIMEOUT: Duration = Duration::from_secs(45);

/// The `oracledb` connection type.
pub struct OracleApp;

/// How a rotated user logs on: quoted, so the name is taken exactly as in `ALTER USER
/// "<name>"` (Oracle upper-cases unquoted names).
pub fn exact(user: &str) -> String {
    format!("\"{user}\"")
}

/// A service name Rotary puts in a connect string: letters, digits and `._-$#` only, so it
/// cannot change the connect descriptor around it.
fn service_name(database: &str) -> Result<&str, StepError> {
    let d = database.trim();
    if !d.is_empty()
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-$#".contains(c))
    {
        Ok(d)
    } else {
        Err(StepError::Fatal(format!(
            "\"{d}\" is not an Oracle service name (letters, digits and . _ - $ #): give the service name, e.g. FREEPDB1 or ORCLPDB1"
        )))
    }
}

/// Logs on as `user` to the connection's service, runs `statements` (which change the user
/// `about`, whom their errors name) in order, then (when `check`) `SELECT 1 FROM DUAL`, and
/// logs off.
pub async fn session(
    c: &SqlConnection,
    user: &str,
    password: &SecretString,
    allow_internal: bool,
    (statements, about): (Vec<String>, &str),
    check: bool,
) -> Result<(), StepError> {
    // The driver prints every packet when this is set, the ALTER USER statement with it.
    if std::env::var_os("RSO_DEBUG_PACKETS").is_some() {
        return Err(StepError::Setup(
            "RSO_DEBUG_PACKETS is set: the Oracle driver would print every packet, passwords included; unset it in Rotary's environment".into(),
        ));
    }
    if c.ssl_enabled && !c.ssl_reject_unauthorized {
        return Err(StepError::Fatal(
            "Rotary's Oracle driver always checks the server's certificate: set sslRejectUnauthorized to true and give the certificate's CA as sslCertificate".into(),
        ));
    }
    let service = service_name(&c.database)?.to_string();
    let addresses = crate::providers::url_guard::resolve_host(&c.host, c.port, allow_internal)
        .await
        .map_err(StepError::Setup)?;
    let wallet = match (c.ssl_enabled, c.ssl_certificate.as_deref()) {
        (true, Some(pem)) if !pem.trim().is_empty() => Some(Wallet::new(pem)?),
        _ => None,
    };
    let connect_string = if c.ssl_enabled {
        // TLS checks the certificate against the host name, so the driver resolves it again.
        format!("tcps://{}:{}/{service}", c.host, c.port)
    } else {
        // Plain TCP goes to the address the URL guard checked.
        let a = addresses[0];
        format!("{}:{}/{service}", bracketed(a.ip()), a.port())
    };
    let (user, password, about) = (user.to_string(), password.clone(), about.to_string());
    let wallet_dir = wallet.as_ref().map(|w| w.dir.display().to_string());
    let work = tokio::task::spawn_blocking(move || {
        let mut config = oracledb::Config::default()
            .set_credentials(&user, password.expose_secret())
            .set_connect_string(&connect_string)
            .map_err(|e| describe(&e, &user))?
            .set_transport_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_program("rotary")
            .map_err(|e| describe(&e, &user))?;
        if let Some(dir) = wallet_dir {
            config = config.set_wallet_location(dir);
        }
        let mut conn = oracledb::connect(config).map_err(|e| describe(&e, &user))?;
        conn.set_call_timeout(Some(CALL_TIMEOUT))
            .map_err(|e| describe(&e, &user))?;
        for sql in &statements {
            conn.execute(sql, &[]).map_err(|e| describe(&e, &about))?;
        }
        if check {
            conn.query_row("SELECT 1 FROM DUAL", &[])
                .map_err(|e| describe(&e, &user))?;
        }
        let _ = conn.close();
        Ok(())
    });
    let result = match tokio::time::timeout(SESSION_TIMEOUT, work).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(StepError::Transient("the Oracle session failed".into())),
        Err(_) => Err(StepError::Transient(format!(
            "Oracle at {}:{} did not answer within {} s",
            c.host,
            c.port,
            SESSION_TIMEOUT.as_secs()
        ))),
    };
    drop(wallet);
    result
}

/// Logs on as `user` and runs `SELECT 1 FROM DUAL`.
pub async fn check_login(
    c: &SqlConnection,
    user: &str,
    password: &SecretString,
    allow_internal: bool,
) -> Result<(), StepError> {
    session(c, user, password, allow_internal, (Vec::new(), user), true).await
}

fn bracketed(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// The CA the driver trusts for TCPS: its wallet directory holds `ewallet.pem`. Removed when
/// dropped (it holds only a public certificate).
struct Wallet {
    dir: std::path::PathBuf,
}

impl Wallet {
    fn new(pem: &str) -> Result<Wallet, StepError> {
        let dir = std::env::temp_dir().join(format!("rotary-oracle-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join("ewallet.pem"), pem))
            .map_err(|e| {
                StepError::Setup(format!(
                    "cannot write the certificate for the Oracle driver: {e}"
                ))
            })?;
        Ok(Wallet { dir })
    }
}

impl Drop for Wallet {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// ORA- numbers that pass: the database starting, shutting down or out of handlers, a
/// session killed, a call timed out.
const TRANSIENT_CODES: &[usize] = &[
    1013, 1033, 1034, 1089, 1090, 3113, 3114, 3135, 12514, 12516, 12519, 12520, 12521, 12526,
    12528, 12537, 12541, 12547, 12571, 28547,
];

/// An Oracle failure in Rotary's words: the ORA- number decides, and no server text (which
/// could quote a statement, and so a password) reaches a message.
pub fn describe(e: &oracledb::Error, user: &str) -> StepError {
    use oracledb::ErrorKind as K;
    let user = user.trim_matches('"');
    match e.kind() {
        K::DbError(db) => match db.code() {
            1017 => StepError::Fatal(format!(
                "Oracle refused the logon of \"{user}\" (ORA-01017: wrong password, or no such user; user names are case-sensitive here, usually UPPERCASE)"
            )),
            28000 => StepError::Fatal(format!("the account \"{user}\" is locked (ORA-28000)")),
            28001 => StepError::Fatal(format!("the password of \"{user}\" has expired (ORA-28001)")),
            1045 => StepError::Fatal(format!(
                "\"{user}\" may not log on (ORA-01045): GRANT CREATE SESSION TO it"
            )),
            1918 => StepError::Fatal(format!(
                "no user \"{user}\" exists (ORA-01918): the name is taken exactly, so a user created without quotes must be given in UPPERCASE"
            )),
            1031 => StepError::Fatal(
                "the connection's user lacks a privilege the statement needs (ORA-01031): GRANT ALTER USER TO it".into(),
            ),
            28008 => StepError::Fatal(format!("Oracle refused the old password of \"{user}\" (ORA-28008)")),
            n @ (988 | 28003 | 28007 | 28221) => StepError::Fatal(format!(
                "Oracle refused the new password of \"{user}\" (ORA-{n:05}: at most 30 bytes, and it must pass the user's profile and its verify function): adjust passwordRequirements"
            )),
            n @ (900 | 905 | 911 | 922 | 933 | 936 | 1740) => StepError::Fatal(format!(
                "Oracle could not parse the statement (ORA-{n:05}): check the rotationStatement (one statement per ';'-separated part, without a trailing semicolon)"
            )),
            n if TRANSIENT_CODES.contains(&n) => {
                StepError::Transient(format!("Oracle is unavailable or busy (ORA-{n:05})"))
            }
            n => StepError::Fatal(format!("Oracle refused the statement (ORA-{n:05})")),
        },
        K::InvalidServiceName(..) => StepError::Fatal(
            "the listener knows no such service (ORA-12514): give the database's service name as database (e.g. FREEPDB1)".into(),
        ),
        K::InvalidSid(..) => StepError::Fatal(
            "the listener knows no such SID (ORA-12505): give the database's service name as database".into(),
        ),
        K::ListenerRefusedConnection(_, _, _, n) => {
            StepError::Transient(format!("the Oracle listener refused the connection (TNS-{n})"))
        }
        K::InvalidConnectString(..) | K::ParseError(..) => StepError::Fatal(
            "the connection's host, port or database do not make an Oracle connect string".into(),
        ),
        K::ServerVersionNotSupported => StepError::Fatal(
            "the server is older than Oracle Database 12.1, which Rotary's Oracle driver needs".into(),
        ),
        K::WalletUnreadable(_) | K::PemFileOperation | K::TlsOperation => StepError::Fatal(
            "the TLS set-up for Oracle failed: check sslCertificate (a PEM certificate)".into(),
        ),
        K::StreamOperation => {
            // The driver's message carries the I/O or TLS cause (never a credential).
            let cause = e.to_string();
            if cause.contains("certificate") || cause.contains("TLS") || cause.contains("tls") {
                StepError::Fatal(format!(
                    "the TLS handshake with Oracle failed (is the certificate trusted, and does it name the host?): {cause}"
                ))
            } else if cause.to_lowercase().contains("refused") {
                StepError::Transient("Oracle refused the connection (is the listener running?)".into())
            } else {
                StepError::Transient("the connection to Oracle failed".into())
            }
        }
        K::CallTimeoutExceeded => StepError::Transient(format!(
            "Oracle did not answer a call within {} s",
            CALL_TIMEOUT.as_secs()
        )),
        _ => StepError::Transient("the connection to Oracle failed".into()),
    }
}

impl ConnectionType for OracleApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "OracleDB";
    const METHODS: &'static [&'static str] = &[USERNAME_AND_PASSWORD];

    type Input = SqlConnectionInput;
    type Credentials = SqlConnection;

    /// Logs on as the connection's user and runs `SELECT 1 FROM DUAL`, as Infisical does;
    /// the message never holds the password.
    async fn validate(
        state: &AppState,
        _org: uuid::Uuid,
        _method: &str,
        input: &SqlConnectionInput,
    ) -> ApiResult<SqlConnection> {
        let c = input.credentials();
        check_login(&c, &c.username, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)?;
        Ok(c)
    }

    /// Logs on with saved credentials and runs `SELECT 1 FROM DUAL` (the console's "Check").
    async fn check(state: &AppState, _org: uuid::Uuid, c: SqlConnection) -> ApiResult<()> {
        check_login(&c, &c.username, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)
    }

    fn public(c: &SqlConnection) -> serde_json::Value {
        c.public()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_names_cannot_change_the_descriptor() {
        assert!(super::service_name("FREEPDB1").is_ok());
        assert!(super::service_name("orcl.example.com").is_ok());
        assert!(super::service_name("X)(HOST=evil").is_err());
        assert!(super::service_name("").is_err());
    }
}
