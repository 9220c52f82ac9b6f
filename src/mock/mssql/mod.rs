//! A SQL Server of Rotary's own, speaking TDS 7.4 to the real driver (tiberius), for
//! `mssql-credentials`: no SQL Server can run on these machines. It follows Microsoft's
//! [MS-TDS] specification: PRELOGIN with the ENCRYPTION negotiation of 2.2.6.5 (OFF: only the
//! login is encrypted; ON / REQ: everything; NOT_SUP: nothing, unless the server forces
//! encryption), the TLS handshake inside PRELOGIN packets (`transport.rs`), LOGIN7 with its
//! password checked against the stored login (`tds.rs`), SQL batches of the statements in
//! `sql.rs`, ATTENTION, and SQL Server's error numbers and texts:
//!
//! | error | when |
//! |---|---|
//! | 18456 class 14 "Login failed for user '…'." | unknown login or wrong password (and after 4060) |
//! | 18470 "… Reason: The account is disabled." | a disabled login |
//! | 4060 class 11 "Cannot open database "…" requested by the login. The login failed." | no such database, or the login has no user in it |
//! | 15151 class 16 "Cannot alter the login '…', because it does not exist or you do not have permission." | ALTER LOGIN of a missing login, of another login without ALTER ANY LOGIN, of one's own without the right OLD_PASSWORD |
//! | 15247 class 16 "User does not have permission to perform this action." | CREATE LOGIN without ALTER ANY LOGIN |
//! | 15025 "The server principal '…' already exists." | CREATE LOGIN of an existing name |
//! | 15116 / 15115 / 15118 "Password validation failed. …" (too short / too long / not complex enough) | CHECK_POLICY (on by default): 8 to 128 characters, three of upper, lower, digit, symbol, not containing the login's name |
//! | 102 class 15 "Incorrect syntax near '…'." | any other statement |
//! | 2812 "Could not find stored procedure …" | RPC requests (the driver's parameterized queries) |
//!
//! Login names compare without case (SQL Server's default collation). Fault rules fail an
//! operation (`prelogin`, `login`, `alter login`, `create login`, `select`) before or after
//! its effect, drop the connection, or delay it; the control methods list the logins and tell
//! whether a password logs in. Not modelled: TDS 8.0 strict encryption, MARS, transactions,
//! Windows and Entra ID authentication, FeatureExt, routing, any other T-SQL, password
//! history and expiry, login lockout.

pub mod sql;
pub mod tds;
pub mod transport;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};

use sql::{LoginChange, Statement};
use tds::Tokens;
use transport::Transport;

struct Login {
    name: String,
    password: String,
    alter_any_login: bool,
    check_policy: bool,
    enabled: bool,
    /// The databases where the login has a user.
    databases: BTreeSet<String>,
}

/// A login as the control methods show it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LoginView {
    pub name: String,
    pub alter_any_login: bool,
    pub enabled: bool,
    pub databases: Vec<String>,
}

/// What a fault rule does.
#[derive(Clone, Debug)]
pub enum FaultAction {
    /// An ERROR token with this number and text (class 16), then DONE.
    Error(i32, String),
    /// Close the connection without answering.
    Drop,
    /// Wait, then go on.
    Delay(Duration),
}

/// Fails the next `times` runs of `operation` (`prelogin`, `login`, `alter login`,
/// `create login`, `select`), `before` its effect or `after` it.
#[derive(Clone, Debug)]
pub struct Fault {
    pub operation: String,
    pub after: bool,
    pub action: FaultAction,
    pub times: u32,
}

#[derive(Default)]
struct State {
    /// By lowercased name.
    logins: BTreeMap<String, Login>,
    databases: BTreeSet<String>,
    faults: Vec<Fault>,
    log: Vec<String>,
    next_spid: u16,
    latency: Duration,
    force_encryption: bool,
}

#[derive(Clone)]
pub struct MockMssql {
    state: Arc<Mutex<State>>,
    tls: Arc<ServerConfig>,
    pub address: String,
}

/// What an operation's fault asks the connection to do.
enum Outcome {
    Go,
    Fail(i32, String),
    Drop,
}

impl MockMssql {
    /// Serves on `listener` with the TLS certificate and key (PEM) it presents, as SQL Server
    /// always has one. The databases `master` and `tempdb` exist.
    pub fn spawn(
        listener: TcpListener,
        cert_pem: &str,
        key_pem: &str,
    ) -> anyhow::Result<MockMssql> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        let mock = MockMssql {
            state: Default::default(),
            tls: Arc::new(tls),
            address: listener.local_addr()?.to_string(),
        };
        {
            let mut state = mock.state();
            state.databases.insert("master".into());
            state.databases.insert("tempdb".into());
            state.next_spid = 51;
        }
        let server = mock.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move { server.connection(stream).await });
            }
        });
        Ok(mock)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_database(&self, name: &str) {
        self.state().databases.insert(name.to_string());
    }

    /// Creates (or replaces) a login with a user in each of `databases` (and `master`).
    pub fn add_login(&self, name: &str, password: &str, alter_any_login: bool, databases: &[&str]) {
        let mut databases: BTreeSet<String> = databases.iter().map(|d| d.to_string()).collect();
        databases.insert("master".into());
        self.state().logins.insert(
            name.to_lowercase(),
            Login {
                name: name.into(),
                password: password.into(),
                alter_any_login,
                check_policy: true,
                enabled: true,
                databases,
            },
        );
    }

    pub fn remove_login(&self, name: &str) {
        self.state().logins.remove(&name.to_lowercase());
    }

    /// Sets a login's password by hand (CHECK_POLICY aside).
    pub fn set_password(&self, name: &str, password: &str) {
        if let Some(login) = self.state().logins.get_mut(&name.to_lowercase()) {
            login.password = password.into();
        }
    }

    pub fn logins(&self) -> Vec<LoginView> {
        self.state()
            .logins
            .values()
            .map(|l| LoginView {
                name: l.name.clone(),
                alter_any_login: l.alter_any_login,
                enabled: l.enabled,
                databases: l.databases.iter().cloned().collect(),
            })
            .collect()
    }

    /// Whether `name` logs in with `password` now.
    pub fn authenticates(&self, name: &str, password: &str) -> bool {
        self.state()
            .logins
            .get(&name.to_lowercase())
            .is_some_and(|l| l.enabled && l.password == password)
    }

    /// Answer ENCRYPT_REQ to clients that offer less (SQL Server's "Force Encryption").
    pub fn set_force_encryption(&self, force: bool) {
        self.state().force_encryption = force;
    }

    pub fn fault(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Latency added before every message.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// The operations run so far, in order (`prelogin`, `login`, `alter login`, …).
    pub fn log(&self) -> Vec<String> {
        self.state().log.clone()
    }

    async fn check_fault(&self, operation: &str, after: bool) -> Outcome {
        let action = {
            let mut state = self.state();
            if !after {
                state.log.push(operation.to_string());
            }
            let Some(fault) = state
                .faults
                .iter_mut()
                .find(|f| f.operation == operation && f.after == after && f.times > 0)
            else {
                return Outcome::Go;
            };
            fault.times -= 1;
            fault.action.clone()
        };
        match action {
            FaultAction::Error(number, text) => Outcome::Fail(number, text),
            FaultAction::Drop => Outcome::Drop,
            FaultAction::Delay(d) => {
                tokio::time::sleep(d).await;
                Outcome::Go
            }
        }
    }

    async fn pause(&self) {
        let latency = self.state().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    async fn connection(&self, tcp: TcpStream) {
        let _ = tcp.set_nodelay(true);
        let spid = {
            let mut state = self.state();
            state.next_spid = state.next_spid.wrapping_add(1).max(51);
            state.next_spid
        };
        let mut t = Transport::new(tcp, spid);
        let _ = self.session(&mut t).await;
    }

    /// PRELOGIN, TLS, LOGIN7, then batches until the client leaves. `Err` ends the
    /// connection.
    async fn session(&self, t: &mut Transport) -> std::io::Result<()> {
        let closed = || std::io::Error::from(std::io::ErrorKind::ConnectionAborted);
        let Some((tds::PRELOGIN, data)) = t.read_message().await? else {
            return Ok(());
        };
        self.pause().await;
        if let Outcome::Drop | Outcome::Fail(..) = self.check_fault("prelogin", false).await {
            return Err(closed());
        }
        let offered = tds::prelogin_encryption(&data).unwrap_or(tds::ENCRYPT_NOT_SUP);
        let force = self.state().force_encryption;
        let answer = match offered {
            tds::ENCRYPT_OFF if force => tds::ENCRYPT_REQ,
            tds::ENCRYPT_OFF => tds::ENCRYPT_OFF,
            tds::ENCRYPT_NOT_SUP if force => tds::ENCRYPT_REQ,
            tds::ENCRYPT_NOT_SUP => tds::ENCRYPT_NOT_SUP,
            _ => tds::ENCRYPT_ON,
        };
        t.write_message(tds::TABULAR_RESULT, &tds::prelogin_reply(answer))
            .await?;
        if answer != tds::ENCRYPT_NOT_SUP {
            t.start_tls(self.tls.clone()).await?;
        }

        let Some((tds::LOGIN7, data)) = t.read_message().await? else {
            return Err(closed());
        };
        if answer == tds::ENCRYPT_OFF {
            // Only the LOGIN7 packet is encrypted: its answer is already in the clear.
            t.plain_again();
        }
        self.pause().await;
        let Some(login) = tds::parse_login7(&data) else {
            return Err(closed());
        };
        let mut tokens = Tokens::default();
        let session_login = match self.check_fault("login", false).await {
            Outcome::Drop => return Err(closed()),
            Outcome::Fail(number, text) => {
                tokens.error(number, 14, &text);
                None
            }
            Outcome::Go => self.login(&login, &mut tokens),
        };
        if session_login.is_some() {
            match self.check_fault("login", true).await {
                Outcome::Drop => return Err(closed()),
                Outcome::Fail(number, text) => {
                    tokens = Tokens::default();
                    tokens.error(number, 14, &text);
                    tokens.done(tds::DONE_ERROR, 0, 0);
                    t.write_message(tds::TABULAR_RESULT, &tokens.0).await?;
                    return Ok(());
                }
                Outcome::Go => {}
            }
        }
        t.write_message(tds::TABULAR_RESULT, &tokens.0).await?;
        let Some(session_login) = session_login else {
            // SQL Server closes the connection after a failed login.
            return Ok(());
        };
        t.packet_size = (login.packet_size as usize).clamp(512, 32767);

        while let Some((ty, data)) = t.read_message().await? {
            self.pause().await;
            let mut tokens = Tokens::default();
            match ty {
                tds::SQL_BATCH => {
                    let text = tds::batch_text(&data).unwrap_or_default();
                    if !self.batch(&session_login, &text, &mut tokens).await {
                        return Err(closed());
                    }
                }
                tds::ATTENTION => tokens.done(tds::DONE_ATTN, 0, 0),
                tds::RPC => {
                    tokens.error(
                        2812,
                        16,
                        "Could not find stored procedure: Rotary's SQL Server protocol server runs SQL batches only.",
                    );
                    tokens.done(tds::DONE_ERROR, 0, 0);
                }
                _ => return Err(closed()),
            }
            t.write_message(tds::TABULAR_RESULT, &tokens.0).await?;
        }
        Ok(())
    }

    /// Checks a LOGIN7: the session's login name, or `None` with the errors and DONE written.
    fn login(&self, login: &tds::Login7, tokens: &mut Tokens) -> Option<String> {
        let state = self.state();
        let failed = format!("Login failed for user '{}'.", login.username);
        let found = state
            .logins
            .get(&login.username.to_lowercase())
            .filter(|l| l.password == login.password);
        let Some(found) = found else {
            tokens.error(18456, 14, &failed);
            tokens.done(tds::DONE_ERROR, 0, 0);
            return None;
        };
        if !found.enabled {
            tokens.error(
                18470,
                14,
                &format!(
                    "{} Reason: The account is disabled.",
                    &failed[..failed.len() - 1]
                ),
            );
            tokens.done(tds::DONE_ERROR, 0, 0);
            return None;
        }
        let database = if login.database.is_empty() {
            "master".to_string()
        } else {
            login.database.clone()
        };
        if !state.databases.contains(&database) || !found.databases.contains(&database) {
            tokens.error(
                4060,
                11,
                &format!(
                    "Cannot open database \"{database}\" requested by the login. The login failed."
                ),
            );
            tokens.error(18456, 14, &failed);
            tokens.done(tds::DONE_ERROR, 0, 0);
            return None;
        }
        tokens.env_change(1, &database, "master");
        tokens.info(5701, &format!("Changed database context to '{database}'."));
        tokens.env_change(2, "us_english", "");
        tokens.info(5703, "Changed language setting to us_english.");
        tokens.login_ack();
        let size = login.packet_size.clamp(512, 32767).to_string();
        tokens.env_change(4, &size, "4096");
        tokens.done(0, 0, 0);
        Some(found.name.to_lowercase())
    }

    /// Runs a batch's statements, each answered by its DONE (DONE_MORE on all but the last).
    /// `false`: drop the connection.
    async fn batch(&self, session: &str, text: &str, tokens: &mut Tokens) -> bool {
        let statements = match sql::parse(text) {
            Ok(s) => s,
            Err(sql::SyntaxError(near)) => {
                tokens.error(102, 15, &format!("Incorrect syntax near '{near}'."));
                tokens.done(tds::DONE_ERROR, 0, 0);
                return true;
            }
        };
        let count = statements.len();
        for (i, statement) in statements.into_iter().enumerate() {
            let more = if i + 1 < count { tds::DONE_MORE } else { 0 };
            let operation = match &statement {
                Statement::Select(_) => "select",
                Statement::AlterLogin { .. } => "alter login",
                Statement::CreateLogin { .. } => "create login",
            };
            match self.check_fault(operation, false).await {
                Outcome::Drop => return false,
                Outcome::Fail(number, text) => {
                    tokens.error(number, 16, &text);
                    tokens.done(tds::DONE_ERROR | more, 0, 0);
                    continue;
                }
                Outcome::Go => {}
            }
            let result = self.run(session, &statement, tokens);
            match self.check_fault(operation, true).await {
                Outcome::Drop => return false,
                Outcome::Fail(number, text) => {
                    tokens.error(number, 16, &text);
                    tokens.done(tds::DONE_ERROR | more, 0, 0);
                    continue;
                }
                Outcome::Go => {}
            }
            match result {
                Ok(Some(rows)) => tokens.done(tds::DONE_COUNT | more, 0xC1, rows),
                Ok(None) => tokens.done(more, 0, 0),
                Err((number, class, text)) => {
                    tokens.error(number, class, &text);
                    tokens.done(tds::DONE_ERROR | more, 0, 0);
                }
            }
        }
        if count == 0 {
            tokens.done(0, 0, 0);
        }
        true
    }

    /// Runs one statement: `Some(rows)` for a result set, or SQL Server's error.
    fn run(
        &self,
        session: &str,
        statement: &Statement,
        tokens: &mut Tokens,
    ) -> Result<Option<u64>, (i32, u8, String)> {
        let mut state = self.state();
        let may_alter_any = state.logins.get(session).is_some_and(|l| l.alter_any_login);
        match statement {
            Statement::Select(n) => {
                tokens.int_row(*n as i32);
                Ok(Some(1))
            }
            Statement::AlterLogin { name, change } => {
                let cannot = (
                    15151,
                    16,
                    format!("Cannot alter the login '{name}', because it does not exist or you do not have permission."),
                );
                let own = name.to_lowercase() == session;
                let Some(login) = state.logins.get_mut(&name.to_lowercase()) else {
                    return Err(cannot);
                };
                match change {
                    LoginChange::Password {
                        password,
                        old_password,
                        check_policy,
                    } => {
                        // Without ALTER ANY LOGIN, only one's own, with the old password.
                        let own_with_old =
                            own && old_password.as_deref() == Some(login.password.as_str());
                        if !(may_alter_any || own_with_old) {
                            return Err(cannot);
                        }
                        if check_policy.unwrap_or(login.check_policy) {
                            if let Some((number, why)) = policy_problem(&login.name, password) {
                                return Err((number, 16, format!("Password validation failed. The password does not meet the operating system policy requirements because it is {why}.")));
                            }
                        }
                        if let Some(check) = check_policy {
                            login.check_policy = *check;
                        }
                        login.password = password.clone();
                    }
                    LoginChange::Options { check_policy } => {
                        if !may_alter_any {
                            return Err(cannot);
                        }
                        if let Some(check) = check_policy {
                            login.check_policy = *check;
                        }
                    }
                    LoginChange::Enable(enabled) => {
                        if !may_alter_any {
                            return Err(cannot);
                        }
                        login.enabled = *enabled;
                    }
                }
                Ok(None)
            }
            Statement::CreateLogin {
                name,
                password,
                check_policy,
            } => {
                if !may_alter_any {
                    return Err((
                        15247,
                        16,
                        "User does not have permission to perform this action.".into(),
                    ));
                }
                if state.logins.contains_key(&name.to_lowercase()) {
                    return Err((
                        15025,
                        16,
                        format!("The server principal '{name}' already exists."),
                    ));
                }
                if *check_policy {
                    if let Some((number, why)) = policy_problem(name, password) {
                        return Err((number, 16, format!("Password validation failed. The password does not meet the operating system policy requirements because it is {why}.")));
                    }
                }
                state.logins.insert(
                    name.to_lowercase(),
                    Login {
                        name: name.clone(),
                        password: password.clone(),
                        alter_any_login: false,
                        check_policy: *check_policy,
                        enabled: true,
                        databases: ["master".to_string()].into(),
                    },
                );
                Ok(None)
            }
        }
    }
}

/// Windows' password policy as SQL Server's CHECK_POLICY applies it: 8 to 128 characters,
/// three of the four kinds (upper case, lower case, digits, other), and not the login's name.
fn policy_problem(name: &str, password: &str) -> Option<(i32, &'static str)> {
    let length = password.chars().count();
    if length < 8 {
        return Some((15116, "too short"));
    }
    if length > 128 {
        return Some((15115, "too long"));
    }
    let kinds = [
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    let contains_name =
        name.chars().count() > 2 && password.to_lowercase().contains(&name.to_lowercase());
    if kinds.iter().filter(|k| **k).count() < 3 || contains_name {
        return Some((15118, "not complex enough"));
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn policy() {
        use super::policy_problem;
        assert_eq!(policy_problem("u", "Ab1!"), Some((15116, "too short")));
        assert_eq!(
            policy_problem("u", "abcdefgh1"),
            Some((15118, "not complex enough"))
        );
        assert_eq!(
            policy_problem("user_1", "Xuser_1yz9"),
            Some((15118, "not complex enough"))
        );
        assert_eq!(policy_problem("u", "Abcdefg1"), None);
        assert_eq!(
            policy_problem("u", &"Aa1".repeat(50)),
            Some((15115, "too long"))
        );
    }
}
