//! The `mssql` app connection (`username-and-password`): where the server is, and the login
//! Rotary signs in as to change the rotated logins' passwords (it needs ALTER ANY LOGIN).
//! Checked by signing in to the connection's database and running `SELECT 1`, as Infisical.
//!
//! TLS as Infisical maps it for its driver: `sslEnabled` false encrypts only the login
//! (TDS's ENCRYPT_OFF: the password never crosses the network in the clear, the server's
//! certificate is not checked); true encrypts everything, checking the certificate (against
//! `sslCertificate`, or the system's roots) and its name unless `sslRejectUnauthorized` is false.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::connections::target::unable_to_validate;
use crate::connections::types::ConnectionType;
use crate::error::ApiResult;
use crate::providers::sql::wire::{SqlConnection, SqlConnectionInput};
use crate::rotation::provider::StepError;
use crate::state::AppState;

pub const APP: &str = "mssql";
pub const USERNAME_AND_PASSWORD: &str = "username-and-password";

/// How long connecting (TCP, TLS and the login) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub type MssqlClient = Client<Compat<TcpStream>>;

/// The `mssql` connection type.
pub struct MssqlApp;

/// A new session as `login` on the connection's server and database, with its TLS settings,
/// to an address the URL guard allows.
pub async fn connect_as(
    c: &SqlConnection,
    login: &str,
    password: &SecretString,
    allow_internal: bool,
) -> Result<MssqlClient, StepError> {
    let addresses = crate::providers::url_guard::resolve_host(&c.host, c.port, allow_internal)
        .await
        .map_err(StepError::Setup)?;
    let mut config = Config::new();
    // The name the certificate is checked against (the socket goes to the checked address).
    config.host(&c.host);
    config.port(c.port);
    config.database(&c.database);
    config.application_name("rotary");
    config.authentication(AuthMethod::sql_server(login, password.expose_secret()));
    if c.ssl_enabled {
        config.encryption(EncryptionLevel::Required);
    } else {
        config.encryption(EncryptionLevel::Off);
    }
    let verify = c.ssl_enabled && c.ssl_reject_unauthorized;
    match c
        .ssl_certificate
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        _ if !verify => config.trust_cert(),
        Some(pem) => config.trust_cert_ca_bundle(pem.as_bytes().to_vec()),
        None => {}
    }
    let connect = async {
        let tcp = TcpStream::connect(&addresses[..])
            .await
            .map_err(|e| io_failure(&e))?;
        let _ = tcp.set_nodelay(true);
        Client::connect(config, tcp.compat_write())
            .await
            .map_err(|e| describe(&e, login))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(result) => result,
        Err(_) => Err(StepError::Transient(format!(
            "SQL Server at {}:{} did not answer within {} s",
            c.host,
            c.port,
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Signs in as `login` and runs `SELECT 1`.
pub async fn check_login(
    c: &SqlConnection,
    login: &str,
    password: &SecretString,
    allow_internal: bool,
) -> Result<(), StepError> {
    let mut client = connect_as(c, login, password, allow_internal).await?;
    run(&mut client, "SELECT 1", login).await?;
    let _ = client.close().await;
    Ok(())
}

/// Runs a batch and reads all of its results (an error in any statement fails it).
pub async fn run(client: &mut MssqlClient, sql: &str, login: &str) -> Result<(), StepError> {
    let stream = client
        .simple_query(sql)
        .await
        .map_err(|e| describe(&e, login))?;
    stream
        .into_results()
        .await
        .map_err(|e| describe(&e, login))?;
    Ok(())
}

fn io_failure(e: &std::io::Error) -> StepError {
    StepError::Transient(match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            "SQL Server refused the connection (is it running, and is TCP/IP enabled?)".into()
        }
        _ => "the connection to SQL Server failed".into(),
    })
}

/// SQL Server's error numbers that pass: deadlock victim, Azure SQL's "busy" and failover
/// errors, a connection broken by the server.
const TRANSIENT_NUMBERS: &[u32] = &[
    233, 1205, 10053, 10054, 10060, 40143, 40197, 40501, 40613, 49918, 49919, 49920,
];

/// A SQL Server failure in Rotary's words: the error number decides, and no server text
/// (which can quote a statement, and so a password) reaches a message.
pub fn describe(e: &tiberius::error::Error, login: &str) -> StepError {
    use tiberius::error::Error;
    match e {
        Error::Server(token) => match token.code() {
            18456 => StepError::Fatal(format!(
                "SQL Server refused the login of \"{login}\" (error 18456: wrong password, or no such login)"
            )),
            18470 => StepError::Fatal(format!("the login \"{login}\" is disabled (error 18470)")),
            4060 => StepError::Fatal(format!(
                "\"{login}\" may not open the connection's database (error 4060: it does not exist, or the login has no user there): CREATE USER [{login}] FOR LOGIN [{login}] in it, as every rotated login signs in to that database"
            )),
            15151 => StepError::Fatal(format!(
                "the connection's login may not change the password of \"{login}\", or no such login exists (error 15151): GRANT ALTER ANY LOGIN to it, and check the name"
            )),
            229 | 230 | 15247 => StepError::Fatal(format!(
                "the connection's login lacks a permission the statement needs (error {}): GRANT ALTER ANY LOGIN to it",
                token.code()
            )),
            n @ 15113..=15119 => StepError::Fatal(format!(
                "SQL Server's password policy refused the new password of \"{login}\" (error {n}): give passwordRequirements of 8 to 128 characters with three of upper case, lower case, digits and symbols"
            )),
            18488 => StepError::Fatal(format!(
                "the password of \"{login}\" must be changed before it can sign in (error 18488, MUST_CHANGE)"
            )),
            n @ (102 | 105 | 156) => StepError::Fatal(format!(
                "SQL Server could not parse the statement (error {n}): check the rotationStatement"
            )),
            n if TRANSIENT_NUMBERS.contains(&n) => {
                StepError::Transient(format!("SQL Server is busy or failing over (error {n})"))
            }
            n => StepError::Fatal(format!("SQL Server refused the statement (error {n})")),
        },
        Error::Io { kind, .. } => StepError::Transient(match kind {
            std::io::ErrorKind::ConnectionRefused => {
                "SQL Server refused the connection (is it running?)".into()
            }
            _ => "the connection to SQL Server failed".into(),
        }),
        Error::Tls(message) => StepError::Fatal(format!(
            "the TLS handshake with SQL Server failed (is the certificate trusted, and does it name the host?): {message}"
        )),
        Error::Protocol(message) => StepError::Fatal(format!(
            "SQL Server answered outside the protocol: {message}"
        )),
        Error::Routing { host, port } => StepError::Fatal(format!(
            "SQL Server redirects this login to {host}:{port}: give that server as the connection's host"
        )),
        _ => StepError::Transient("the connection to SQL Server failed".into()),
    }
}

impl ConnectionType for MssqlApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "Microsoft SQL Server";
    const METHODS: &'static [&'static str] = &[USERNAME_AND_PASSWORD];

    type Input = SqlConnectionInput;
    type Credentials = SqlConnection;

    /// Signs in as the connection's login and runs `SELECT 1`, as Infisical does; the message
    /// never holds the password.
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

    /// Signs in with saved credentials and runs `SELECT 1` (the console's "Check").
    async fn check(state: &AppState, _org: uuid::Uuid, c: SqlConnection) -> ApiResult<()> {
        check_login(&c, &c.username, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)
    }

    fn public(c: &SqlConnection) -> serde_json::Value {
        c.public()
    }
}
