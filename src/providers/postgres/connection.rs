//! The `postgres` app connection (`username-and-password`): where the server is, and the role
//! Rotary logs in as to change the rotated users' passwords (it needs `CREATEROLE`, and on
//! PostgreSQL 16 and later ADMIN OPTION on each rotated role).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::connections::target::unable_to_validate;
use crate::connections::types::ConnectionType;
use crate::error::ApiResult;
use crate::providers::sql::wire::SqlConnectionInput;
use crate::rotation::provider::StepError;
use crate::state::AppState;

pub const APP: &str = "postgres";
pub const USERNAME_AND_PASSWORD: &str = "username-and-password";

/// The `postgres` connection type.
pub struct PostgresApp;

/// How long connecting (TCP, TLS and authentication) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection's credentials, as every SQL type stores them (sealed).
pub use crate::providers::sql::wire::SqlConnection as PostgresConnection;

impl PostgresConnection {
    /// A new connection as `username`, to this connection's server and database, with its TLS
    /// settings, to an address the URL guard allows.
    pub async fn connect_as(
        &self,
        username: &str,
        password: &SecretString,
        allow_internal: bool,
    ) -> Result<PgConnection, StepError> {
        let addresses =
            crate::providers::url_guard::resolve_host(&self.host, self.port, allow_internal)
                .await
                .map_err(StepError::Setup)?;
        let verify = self.ssl_enabled && self.ssl_reject_unauthorized;
        // Connect to the address that was checked; with full TLS verification the name must
        // stay (the certificate is checked against it, so a rebound name fails there).
        let host = if verify {
            self.host.clone()
        } else {
            addresses[0].ip().to_string()
        };
        let mut options = PgConnectOptions::new()
            .host(&host)
            .port(self.port)
            .database(&self.database)
            .username(username)
            .password(password.expose_secret())
            .application_name("rotary")
            // The statements carry passwords: never logged, slow or not.
            .log_statements(log::LevelFilter::Off)
            .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(3600))
            .ssl_mode(match (self.ssl_enabled, self.ssl_reject_unauthorized) {
                (false, _) => PgSslMode::Disable,
                (true, false) => PgSslMode::Require,
                (true, true) => PgSslMode::VerifyFull,
            });
        if let Some(pem) = self
            .ssl_certificate
            .as_deref()
            .filter(|c| !c.trim().is_empty())
        {
            options = options.ssl_root_cert_from_pem(pem.as_bytes().to_vec());
        }
        match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(describe(&e, username)),
            Err(_) => Err(StepError::Transient(format!(
                "PostgreSQL at {}:{} did not answer within {} s",
                self.host,
                self.port,
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Logs in as `username` and runs `SELECT 1`.
    pub async fn check_login(
        &self,
        username: &str,
        password: &SecretString,
        allow_internal: bool,
    ) -> Result<(), StepError> {
        let mut conn = self.connect_as(username, password, allow_internal).await?;
        sqlx::query("SELECT 1")
            .execute(&mut conn)
            .await
            .map_err(|e| describe(&e, username))?;
        let _ = conn.close().await;
        Ok(())
    }
}

/// A PostgreSQL failure in Rotary's words: the SQLSTATE decides, and no driver text (which
/// can quote a statement, and so a password) reaches a message.
pub fn describe(e: &sqlx::Error, username: &str) -> StepError {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default().to_string();
            match code.as_str() {
                "28P01" | "28000" => StepError::Fatal(format!(
                    "PostgreSQL refused the login of \"{username}\" (wrong password, or no pg_hba.conf entry allows it)"
                )),
                "42501" => StepError::Fatal(format!(
                    "the connection's role may not change the password of \"{username}\": give it CREATEROLE (and, on PostgreSQL 16 or later, ADMIN OPTION on \"{username}\")"
                )),
                "42704" => StepError::Fatal(format!("the role \"{username}\" does not exist")),
                "3D000" => StepError::Fatal("the connection's database does not exist".into()),
                "53300" => StepError::Transient("PostgreSQL has no connection slot free (too many connections)".into()),
                c if c.starts_with("08") || c.starts_with("57") || c.starts_with("53") => {
                    StepError::Transient(format!("PostgreSQL is not available now (SQLSTATE {c})"))
                }
                c => StepError::Fatal(format!("PostgreSQL refused the statement (SQLSTATE {c})")),
            }
        }
        sqlx::Error::Tls(_) => StepError::Fatal(
            "the TLS handshake with PostgreSQL failed (is the certificate trusted, and does it name the host?)".into(),
        ),
        sqlx::Error::Io(io) => StepError::Transient(match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "PostgreSQL refused the connection (is it running?)".into(),
            _ => "the connection to PostgreSQL failed".into(),
        }),
        _ => StepError::Transient("the connection to PostgreSQL failed".into()),
    }
}

impl ConnectionType for PostgresApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "PostgreSQL";
    const METHODS: &'static [&'static str] = &[USERNAME_AND_PASSWORD];

    type Input = SqlConnectionInput;
    type Credentials = PostgresConnection;

    /// Connects as the connection's role (through the address guard, with its TLS settings)
    /// and runs `SELECT 1`, as Infisical does; the message never holds the password.
    async fn validate(
        state: &AppState,
        _org: uuid::Uuid,
        _method: &str,
        input: &SqlConnectionInput,
    ) -> ApiResult<PostgresConnection> {
        let connection = input.credentials();
        connection
            .check_login(
                &connection.username,
                &connection.password,
                state.allow_internal_urls,
            )
            .await
            .map_err(unable_to_validate)?;
        Ok(connection)
    }

    /// Logs in with saved credentials and runs `SELECT 1` (the console's "Check").
    async fn check(state: &AppState, _org: uuid::Uuid, c: PostgresConnection) -> ApiResult<()> {
        c.check_login(&c.username, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)
    }

    fn public(c: &PostgresConnection) -> serde_json::Value {
        c.public()
    }
}
