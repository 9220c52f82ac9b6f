//! The `mysql` app connection (`username-and-password`): where the server is, and the
//! account Rotary logs in as to change the rotated users' passwords (it needs the
//! `CREATE USER` privilege; reading `mysql.user` lets it find a user's host entries).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlSslMode};
use sqlx::{ConnectOptions, Connection};

use crate::connections::target::unable_to_validate;
use crate::connections::types::ConnectionType;
use crate::error::ApiResult;
use crate::providers::sql::wire::{SqlConnection, SqlConnectionInput};
use crate::rotation::provider::StepError;
use crate::state::AppState;

pub const APP: &str = "mysql";
pub const USERNAME_AND_PASSWORD: &str = "username-and-password";

/// How long connecting (TCP, TLS and authentication) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The `mysql` connection type.
pub struct MysqlApp;

/// A new connection as `username` to the connection's server and database, with its TLS
/// settings, to an address the URL guard allows.
pub async fn connect_as(
    c: &SqlConnection,
    username: &str,
    password: &SecretString,
    allow_internal: bool,
) -> Result<MySqlConnection, StepError> {
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
    let mut options = MySqlConnectOptions::new()
        .host(&host)
        .port(c.port)
        .database(&c.database)
        .username(username)
        .password(password.expose_secret())
        // The statements carry passwords: never logged, slow or not.
        .log_statements(log::LevelFilter::Off)
        .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(3600))
        .ssl_mode(match (c.ssl_enabled, c.ssl_reject_unauthorized) {
            (false, _) => MySqlSslMode::Disabled,
            (true, false) => MySqlSslMode::Required,
            (true, true) => MySqlSslMode::VerifyIdentity,
        });
    if let Some(pem) = c
        .ssl_certificate
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        options = options.ssl_ca_from_pem(pem.as_bytes().to_vec());
    }
    match tokio::time::timeout(CONNECT_TIMEOUT, MySqlConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(describe(&e, username)),
        Err(_) => Err(StepError::Transient(format!(
            "MySQL at {}:{} did not answer within {} s",
            c.host,
            c.port,
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// Logs in as `username` and runs `SELECT 1`.
pub async fn check_login(
    c: &SqlConnection,
    username: &str,
    password: &SecretString,
    allow_internal: bool,
) -> Result<(), StepError> {
    let mut conn = connect_as(c, username, password, allow_internal).await?;
    sqlx::query("SELECT 1")
        .execute(&mut conn)
        .await
        .map_err(|e| describe(&e, username))?;
    let _ = conn.close().await;
    Ok(())
}

/// A MySQL failure in Rotary's words: the error number decides, and no server text (which
/// can quote a statement, and so a password) reaches a message.
pub fn describe(e: &sqlx::Error, username: &str) -> StepError {
    match e {
        sqlx::Error::Database(db) => match db.try_downcast_ref::<MySqlDatabaseError>() {
            Some(my) => match my.number() {
                1045 | 1698 => StepError::Fatal(format!(
                    "MySQL refused the login of \"{username}\" (wrong password, or no account for this host)"
                )),
                1044 => StepError::Fatal(format!(
                    "\"{username}\" may not use the connection's database: GRANT it access there (every rotated user logs in to that database)"
                )),
                1142 | 1227 | 1410 => StepError::Fatal(format!(
                    "the connection's account may not change the password of \"{username}\": GRANT CREATE USER ON *.* to it"
                )),
                1396 => StepError::Fatal(format!("the user \"{username}\" does not exist")),
                1049 => StepError::Fatal("the connection's database does not exist".into()),
                1040 | 1203 => StepError::Transient(
                    "MySQL has no connection free (too many connections)".into(),
                ),
                n => StepError::Fatal(format!("MySQL refused the statement (error {n})")),
            },
            None => StepError::Transient("the connection to MySQL failed".into()),
        },
        sqlx::Error::Tls(_) => StepError::Fatal(
            "the TLS handshake with MySQL failed (is the certificate trusted, and does it name the host?)".into(),
        ),
        sqlx::Error::Io(io) => StepError::Transient(match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                "MySQL refused the connection (is it running?)".into()
            }
            _ => "the connection to MySQL failed".into(),
        }),
        _ => StepError::Transient("the connection to MySQL failed".into()),
    }
}

impl ConnectionType for MysqlApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "MySQL";
    const METHODS: &'static [&'static str] = &[USERNAME_AND_PASSWORD];

    type Input = SqlConnectionInput;
    type Credentials = SqlConnection;

    /// Connects as the connection's account and runs `SELECT 1`, as Infisical does; the
    /// message never holds the password.
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

    /// Logs in with saved credentials and runs `SELECT 1` (the console's "Check").
    async fn check(state: &AppState, _org: uuid::Uuid, c: SqlConnection) -> ApiResult<()> {
        check_login(&c, &c.username, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)
    }

    fn public(c: &SqlConnection) -> serde_json::Value {
        c.public()
    }
}
