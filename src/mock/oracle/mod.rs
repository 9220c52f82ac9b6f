//! An Oracle Database of Rotary's own, for `oracledb-credentials`: no Oracle can run on these
//! machines. Oracle publishes no specification of its network protocol, so this server
//! follows the two open implementations of the client side, which agree: python-oracledb's
//! thin mode (github.com/oracle/python-oracledb, `src/oracledb/impl/thin/`) and Oracle's
//! rust-oracledb (github.com/oracle/rust-oracledb, the driver Rotary uses), and answers as
//! Oracle Database 19c does:
//!
//! - TNS (`tns.rs`): CONNECT (its connect data in the packet or the DATA packet after it)
//!   → ACCEPT at protocol version 318, or REFUSE with the listener's `ERR=12514` for an
//!   unknown SERVICE_NAME (12505 for a SID); 4-byte packet lengths after the ACCEPT; DATA
//!   packets split to the client's SDU; the break/reset MARKER exchange before an error
//!   answer to a statement, as Oracle does; an optional TCPS listener (TLS from the first byte).
//! - TTC (`ttc.rs`): the protocol and data-types negotiation (TTC field version 13, 19c's),
//!   O5LOGON with the 12c verifier (`o5logon.rs`) that really checks the password against a
//!   verifier the server stores (never the password), execute / re-execute / fetch of the
//!   statements in `sql.rs` with describe information, row data and Oracle's NUMBER encoding,
//!   close-cursor piggybacks, commit, rollback, ping, logoff, and the error message that ends
//!   every call with its ORA- number and text.
//!
//! | error | when |
//! |---|---|
//! | ORA-01017 "invalid username/password; logon denied" | unknown user or wrong password (the server answers phase one with a decoy challenge for an unknown user, as Oracle does) |
//! | ORA-28000 "The account is locked." | a locked account with the right password |
//! | ORA-01045 "user … lacks CREATE SESSION privilege; logon denied" | right password, no CREATE SESSION |
//! | ORA-01918 "user '…' does not exist" | ALTER USER of a missing user |
//! | ORA-01031 "insufficient privileges" | ALTER USER of another user without ALTER USER; CREATE USER without CREATE USER; GRANT without ALL PRIVILEGES |
//! | ORA-28008 "invalid old password" | `REPLACE` with the wrong old password |
//! | ORA-00988 "missing or invalid password(s)" | a password over 30 bytes (12c–21c's limit) |
//! | ORA-01920, ORA-01917 | CREATE USER of an existing name; GRANT to a missing user |
//! | ORA-00900 / 00911 / 00922 / 00933 / 00942 / 01740 | other statements, a trailing `;`, bad options, trailing words, a table other than DUAL, an unterminated quote |
//!
//! User names follow Oracle's rule: unquoted names are upper-cased, quoted ones taken as
//! written — at logon too (the driver sends the name as given). Fault rules fail an
//! operation (`connect`, `logon`, `alter user`, `create user`, `grant`, `select`) before or
//! after its effect with an ORA- error, drop the connection, or delay it; the control methods
//! list the users and tell whether a password logs on. Not modelled: fast authentication,
//! end-of-response, native network encryption and checksums, DRCP, redirects, bind variables,
//! LOBs and every other type, transactions beyond their calls, profiles (expiry, lockout,
//! verify functions), roles, proxy users, the 11g verifier, Oracle 23ai's longer passwords.

pub mod o5logon;
pub mod sql;
pub mod tns;
pub mod ttc;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpListener;

use o5logon::{Challenge, Verifier};
use sql::{OraError, Privilege, Statement};
use tns::Transport;
use ttc::{Reader, Truncated, Writer};

#[derive(Clone)]
struct User {
    name: String,
    verifier: Verifier,
    create_session: bool,
    alter_user: bool,
    create_user: bool,
    all_privileges: bool,
    locked: bool,
}

impl User {
    fn may(&self, privilege: bool) -> bool {
        privilege || self.all_privileges
    }
}

/// A user as the control methods show it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UserView {
    pub name: String,
    pub create_session: bool,
    pub alter_user: bool,
    pub locked: bool,
}

/// What a fault rule does.
#[derive(Clone, Debug)]
pub enum FaultAction {
    /// Answer with this ORA- number and text (without the "ORA-nnnnn: " prefix).
    Error(u32, String),
    /// Close the connection without answering.
    Drop,
    /// Wait, then go on.
    Delay(Duration),
}

/// Fails the next `times` runs of `operation` (`connect`, `logon`, `alter user`,
/// `create user`, `grant`, `select`), `before` its effect or `after` it.
#[derive(Clone, Debug)]
pub struct Fault {
    pub operation: String,
    pub after: bool,
    pub action: FaultAction,
    pub times: u32,
}

#[derive(Default)]
struct State {
    /// By exact (stored) name.
    users: BTreeMap<String, User>,
    /// Service names, upper case.
    services: Vec<String>,
    faults: Vec<Fault>,
    log: Vec<String>,
    next_session: u32,
    latency: Duration,
}

#[derive(Clone)]
pub struct MockOracle {
    state: Arc<Mutex<State>>,
    pub address: String,
}

enum Outcome {
    Go,
    Fail(OraError),
    Drop,
}

/// Where a connection is in its life.
enum Phase {
    /// Before AUTH phase one.
    Connected,
    /// Phase one answered for `user` (None: a user that does not exist).
    Challenged {
        user: String,
        known: bool,
        challenge: Challenge,
    },
    LoggedOn(String),
}

struct Session {
    phase: Phase,
    id: u32,
    cursors: HashMap<u16, String>,
    next_cursor: u16,
    /// A query executed without a fetch, whose row is still to come.
    pending_row: Option<(u16, i64)>,
}

type Closed = std::io::Error;

fn closed() -> Closed {
    std::io::Error::from(std::io::ErrorKind::ConnectionAborted)
}

impl MockOracle {
    /// Serves plain TCP on `listener`. The service `FREEPDB1` exists (Oracle Free's).
    pub fn spawn(listener: TcpListener) -> anyhow::Result<MockOracle> {
        let mock = MockOracle {
            state: Default::default(),
            address: listener.local_addr()?.to_string(),
        };
        {
            let mut state = mock.state();
            state.services.push("FREEPDB1".into());
            state.next_session = 100;
        }
        let server = mock.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                tokio::spawn(async move {
                    let mut t = Transport::new(Box::new(stream));
                    let _ = server.session(&mut t).await;
                });
            }
        });
        Ok(mock)
    }

    /// Also serves TCPS (TLS from the first byte, as an Oracle listener's TCPS endpoint) on
    /// `listener`, presenting the certificate and key (PEM); the same users and services.
    pub fn listen_tcps(
        &self,
        listener: TcpListener,
        cert_pem: &str,
        key_pem: &str,
    ) -> anyhow::Result<String> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let address = listener.local_addr()?.to_string();
        let server = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut t = Transport::new(Box::new(tls));
                    let _ = server.session(&mut t).await;
                });
            }
        });
        Ok(address)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_service(&self, name: &str) {
        self.state().services.push(name.to_uppercase());
    }

    /// Creates (or replaces) a user named exactly `name` with CREATE SESSION; `alter_user`
    /// adds the ALTER USER and CREATE USER system privileges (a rotation's manager).
    pub fn add_user(&self, name: &str, password: &str, alter_user: bool) {
        self.state().users.insert(
            name.into(),
            User {
                name: name.into(),
                verifier: Verifier::new(password),
                create_session: true,
                alter_user,
                create_user: alter_user,
                all_privileges: false,
                locked: false,
            },
        );
    }

    pub fn remove_user(&self, name: &str) {
        self.state().users.remove(name);
    }

    pub fn set_password(&self, name: &str, password: &str) {
        if let Some(user) = self.state().users.get_mut(name) {
            user.verifier = Verifier::new(password);
        }
    }

    pub fn set_create_session(&self, name: &str, granted: bool) {
        if let Some(user) = self.state().users.get_mut(name) {
            user.create_session = granted;
        }
    }

    pub fn set_locked(&self, name: &str, locked: bool) {
        if let Some(user) = self.state().users.get_mut(name) {
            user.locked = locked;
        }
    }

    pub fn users(&self) -> Vec<UserView> {
        self.state()
            .users
            .values()
            .map(|u| UserView {
                name: u.name.clone(),
                create_session: u.may(u.create_session),
                alter_user: u.may(u.alter_user),
                locked: u.locked,
            })
            .collect()
    }

    /// Whether `name` (exact) logs on with `password` now.
    pub fn authenticates(&self, name: &str, password: &str) -> bool {
        let user = self.state().users.get(name).cloned();
        user.is_some_and(|u| !u.locked && u.may(u.create_session) && u.verifier.matches(password))
    }

    pub fn fault(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Latency added before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// The operations run so far, in order (`connect`, `logon`, `alter user`, …).
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
            FaultAction::Error(code, text) => Outcome::Fail(OraError(code, text)),
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

    /// CONNECT, then TTC messages until the client leaves. `Err` ends the connection.
    async fn session(&self, t: &mut Transport) -> std::io::Result<()> {
        let Some(packet) = t.read().await? else {
            return Ok(());
        };
        let Some(connect) = tns::read_connect(t, &packet).await? else {
            return Err(closed());
        };
        self.pause().await;
        match self.check_fault("connect", false).await {
            Outcome::Drop => return Err(closed()),
            Outcome::Fail(e) => return t.refuse(e.0).await,
            Outcome::Go => {}
        }
        let service = tns::descriptor_value(&connect.descriptor, "SERVICE_NAME");
        let sid = tns::descriptor_value(&connect.descriptor, "SID");
        let known = {
            let state = self.state();
            let wanted = service.clone().or(sid).unwrap_or_default().to_uppercase();
            state.services.contains(&wanted)
        };
        if !known {
            return t
                .refuse(if service.is_some() { 12514 } else { 12505 })
                .await;
        }
        t.accept(connect.sdu).await?;

        let id = {
            let mut state = self.state();
            state.next_session += 1;
            state.next_session
        };
        let mut session = Session {
            phase: Phase::Connected,
            id,
            cursors: HashMap::new(),
            next_cursor: 1,
            pending_row: None,
        };
        let mut pending: Vec<u8> = Vec::new();
        while let Some(packet) = t.read().await? {
            match packet.kind {
                tns::DATA if packet.data_flags & tns::DATA_FLAGS_EOF != 0 => return Ok(()),
                tns::DATA => {}
                // A break or reset outside an error exchange: nothing is in flight to stop.
                tns::MARKER => continue,
                _ => return Err(closed()),
            }
            pending.extend_from_slice(&packet.payload);
            let answer = match self.message(&mut session, &pending).await {
                Err(Truncated) => continue,
                Ok(None) => return Err(closed()),
                Ok(Some(answer)) => answer,
            };
            pending.clear();
            self.pause().await;
            if answer.break_first {
                t.write_marker(tns::MARKER_BREAK).await?;
                loop {
                    match t.read().await? {
                        Some(p)
                            if p.kind == tns::MARKER
                                && p.payload.get(2) == Some(&tns::MARKER_RESET) =>
                        {
                            break
                        }
                        Some(_) => continue,
                        None => return Ok(()),
                    }
                }
                t.write_marker(tns::MARKER_RESET).await?;
            }
            t.write_data(&answer.ttc).await?;
            if answer.close {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Answers one client message: `Ok(None)` drops the connection, `Err` asks for more data.
    async fn message(
        &self,
        session: &mut Session,
        data: &[u8],
    ) -> Result<Option<Answer>, Truncated> {
        let mut r = Reader::new(data);
        match r.u8()? {
            ttc::MSG_PROTOCOL => Ok(Some(Answer::plain(protocol_answer()))),
            ttc::MSG_DATA_TYPES => Ok(Some(Answer::plain(data_types_answer(&mut r)?))),
            ttc::MSG_PIGGYBACK | ttc::MSG_FUNCTION => {
                let mut kind = data[0];
                // Piggybacks (only close-cursors is ever sent to this server) come first.
                while kind == ttc::MSG_PIGGYBACK {
                    let function = r.u8()?;
                    r.u8()?; // sequence number
                    if function != ttc::FN_CLOSE_CURSORS {
                        return Ok(None);
                    }
                    r.u8()?; // pointer
                    for _ in 0..r.ub()? {
                        let cursor = r.ub()? as u16;
                        session.cursors.remove(&cursor);
                    }
                    kind = r.u8()?;
                }
                if kind != ttc::MSG_FUNCTION {
                    return Ok(None);
                }
                let function = r.u8()?;
                r.u8()?; // sequence number
                self.function(session, function, &mut r).await
            }
            _ => Ok(None),
        }
    }

    async fn function(
        &self,
        session: &mut Session,
        function: u8,
        r: &mut Reader<'_>,
    ) -> Result<Option<Answer>, Truncated> {
        match function {
            ttc::FN_AUTH_PHASE_ONE | ttc::FN_AUTH_PHASE_TWO => {
                let auth = read_auth(r)?;
                if function == ttc::FN_AUTH_PHASE_ONE {
                    Ok(Some(self.phase_one(session, auth)))
                } else {
                    Ok(self.phase_two(session, auth).await)
                }
            }
            _ if !matches!(session.phase, Phase::LoggedOn(_)) => Ok(None),
            ttc::FN_EXECUTE => {
                let execute = read_execute(r)?;
                let cursor = if execute.cursor != 0 && execute.sql.is_none() {
                    execute.cursor
                } else {
                    let cursor = session.next_cursor;
                    session.next_cursor = session.next_cursor.wrapping_add(1).max(1);
                    cursor
                };
                let sql = match execute.sql {
                    Some(sql) => {
                        session.cursors.insert(cursor, sql.clone());
                        sql
                    }
                    None => match session.cursors.get(&cursor) {
                        Some(sql) => sql.clone(),
                        None => {
                            return Ok(Some(Answer::error(
                                cursor,
                                OraError(1001, "invalid cursor".into()),
                            )))
                        }
                    },
                };
                if execute.binds > 0 {
                    return Ok(Some(Answer::error(
                        cursor,
                        OraError(1036, "illegal variable name/number (Rotary's Oracle protocol server takes no bind variables)".into()),
                    )));
                }
                Ok(self.statement(session, cursor, &sql, execute.rows).await)
            }
            ttc::FN_REEXECUTE | ttc::FN_REEXECUTE_AND_FETCH => {
                let cursor = r.ub()? as u16;
                let rows = r.ub()? as u32;
                let rows = if function == ttc::FN_REEXECUTE_AND_FETCH {
                    rows
                } else {
                    0
                };
                let Some(sql) = session.cursors.get(&cursor).cloned() else {
                    return Ok(Some(Answer::error(
                        cursor,
                        OraError(1001, "invalid cursor".into()),
                    )));
                };
                Ok(self.statement(session, cursor, &sql, rows).await)
            }
            ttc::FN_FETCH => {
                let cursor = r.ub()? as u16;
                let mut w = Writer::default();
                match session.pending_row.take() {
                    Some((c, value)) if c == cursor => {
                        row(&mut w, value);
                        no_more_rows(&mut w, cursor, 1);
                    }
                    _ => no_more_rows(&mut w, cursor, 0),
                }
                Ok(Some(Answer::plain(w.0)))
            }
            ttc::FN_COMMIT | ttc::FN_ROLLBACK | ttc::FN_PING => Ok(Some(Answer::ok())),
            ttc::FN_LOGOFF => {
                session.phase = Phase::Connected;
                Ok(Some(Answer::ok()))
            }
            _ => Ok(Some(Answer::error(
                0,
                OraError(3120, "two-task conversion routine: integer overflow".into()),
            ))),
        }
    }

    fn phase_one(&self, session: &mut Session, auth: Auth) -> Answer {
        let name = logon_name(&auth.user);
        let found = self.state().users.get(&name).map(|u| u.verifier.clone());
        let known = found.is_some();
        // An unknown user gets a challenge like any other, so the answer does not tell
        // whether the user exists.
        let verifier =
            found.unwrap_or_else(|| Verifier::new(&hex::encode(rand::random::<[u8; 16]>())));
        let challenge = Challenge::new(verifier);
        let mut w = Writer::default();
        w.parameters(&[
            ("AUTH_SESSKEY", challenge.server_session_key(), 0),
            (
                "AUTH_VFR_DATA",
                hex::encode_upper(challenge.verifier.salt),
                o5logon::VERIFIER_TYPE_12C,
            ),
            (
                "AUTH_PBKDF2_CSK_SALT",
                hex::encode_upper(challenge.csk_salt),
                0,
            ),
            ("AUTH_PBKDF2_VGEN_COUNT", o5logon::VGEN_COUNT.to_string(), 0),
            ("AUTH_PBKDF2_SDER_COUNT", o5logon::SDER_COUNT.to_string(), 0),
            (
                "AUTH_GLOBALLY_UNIQUE_DBID\0",
                "5C1EC2A4D1F3B0E9A1B2C3D4E5F60718".into(),
                0,
            ),
        ]);
        w.error_info(0, 0, 0, 0, "");
        session.phase = Phase::Challenged {
            user: name,
            known,
            challenge,
        };
        Answer::plain(w.0)
    }

    async fn phase_two(&self, session: &mut Session, auth: Auth) -> Option<Answer> {
        let Phase::Challenged {
            user,
            known,
            challenge,
        } = std::mem::replace(&mut session.phase, Phase::Connected)
        else {
            return None;
        };
        match self.check_fault("logon", false).await {
            Outcome::Drop => return None,
            Outcome::Fail(e) => return Some(Answer::logon_error(e)),
            Outcome::Go => {}
        }
        let denied = || OraError(1017, "invalid username/password; logon denied".into());
        let pair = |key: &str| auth.pairs.get(key).map(String::as_str).unwrap_or_default();
        let proof = challenge.verify(
            pair("AUTH_SESSKEY"),
            pair("AUTH_PBKDF2_SPEEDY_KEY"),
            pair("AUTH_PASSWORD"),
        );
        let checked = {
            let state = self.state();
            match (known, proof, state.users.get(&user)) {
                (true, Some(proof), Some(u)) if proof.password.is_some() => {
                    if u.locked {
                        Err(OraError(28000, "The account is locked.".into()))
                    } else if !u.may(u.create_session) {
                        Err(OraError(
                            1045,
                            format!("user {user} lacks CREATE SESSION privilege; logon denied"),
                        ))
                    } else {
                        Ok(proof)
                    }
                }
                _ => Err(denied()),
            }
        };
        let proof = match checked {
            Ok(proof) => proof,
            Err(e) => return Some(Answer::logon_error(e)),
        };
        match self.check_fault("logon", true).await {
            Outcome::Drop => return None,
            Outcome::Fail(e) => return Some(Answer::logon_error(e)),
            Outcome::Go => {}
        }
        session.phase = Phase::LoggedOn(user.clone());
        let mut w = Writer::default();
        // 19.3.0.0.0 in the 18c-and-later layout (8 bits release, 8 update, 4, 8, 4).
        let version: u32 = (19 << 24) | (3 << 16);
        w.parameters(&[
            ("AUTH_VERSION_NO", version.to_string(), 0),
            ("AUTH_VERSION_STRING", "- Production".into(), 0),
            ("AUTH_VERSION_SQL", "19".into(), 0),
            ("AUTH_SESSION_ID", session.id.to_string(), 0),
            ("AUTH_SERIAL_NUM", (session.id * 7 % 65000).to_string(), 0),
            ("AUTH_SC_SERVICE_NAME", "FREEPDB1".into(), 0),
            ("AUTH_SC_DBUNIQUE_NAME", "ROTARY".into(), 0),
            ("AUTH_INSTANCENAME", "rotary".into(), 0),
            ("AUTH_DBNAME", "FREEPDB1".into(), 0),
            ("AUTH_MAX_OPEN_CURSORS", "300".into(), 0),
            ("AUTH_MAX_IDEN_LENGTH", "128".into(), 0),
            (
                "AUTH_SVR_RESPONSE",
                o5logon::server_response(&proof.combo_key),
                0,
            ),
        ]);
        w.error_info(0, 0, 0, 0, "");
        Some(Answer::plain(w.0))
    }

    /// Runs a statement on `cursor`, fetching up to `rows` rows of a query at once.
    async fn statement(
        &self,
        session: &mut Session,
        cursor: u16,
        sql: &str,
        rows: u32,
    ) -> Option<Answer> {
        let Phase::LoggedOn(user) = &session.phase else {
            return None;
        };
        let user = user.clone();
        let statement = match sql::parse(sql) {
            Ok(s) => s,
            Err(e) => return Some(Answer::error(cursor, e)),
        };
        let operation = match &statement {
            Statement::Select(_) => "select",
            Statement::AlterUser { .. } => "alter user",
            Statement::CreateUser { .. } => "create user",
            Statement::Grant { .. } => "grant",
        };
        match self.check_fault(operation, false).await {
            Outcome::Drop => return None,
            Outcome::Fail(e) => return Some(Answer::error(cursor, e)),
            Outcome::Go => {}
        }
        let result = self.run(&user, &statement);
        match self.check_fault(operation, true).await {
            Outcome::Drop => return None,
            Outcome::Fail(e) => return Some(Answer::error(cursor, e)),
            Outcome::Go => {}
        }
        if let Err(e) = result {
            return Some(Answer::error(cursor, e));
        }
        let mut w = Writer::default();
        if let Statement::Select(value) = statement {
            describe_number_column(&mut w, &value.to_string());
            if rows > 0 {
                row(&mut w, value);
                no_more_rows(&mut w, cursor, 1);
            } else {
                session.pending_row = Some((cursor, value));
                w.error_info(0, cursor, 0, 0, "");
            }
        } else {
            w.error_info(0, cursor, 0, 0, "");
        }
        Some(Answer::plain(w.0))
    }

    fn run(&self, session_user: &str, statement: &Statement) -> Result<(), OraError> {
        let mut state = self.state();
        let me = state
            .users
            .get(session_user)
            .cloned()
            .ok_or_else(insufficient)?;
        match statement {
            Statement::Select(_) => Ok(()),
            Statement::AlterUser {
                name,
                password,
                replace,
                lock,
            } => {
                let own = name == session_user;
                if !own && !me.may(me.alter_user) {
                    return Err(insufficient());
                }
                if lock.is_some() && !me.may(me.alter_user) {
                    return Err(insufficient());
                }
                let Some(user) = state.users.get_mut(name) else {
                    return Err(OraError(1918, format!("user '{name}' does not exist")));
                };
                if let Some(old) = replace {
                    if !user.verifier.matches(old) {
                        return Err(OraError(28008, "invalid old password".into()));
                    }
                }
                if let Some(password) = password {
                    user.verifier = Verifier::new(password);
                }
                if let Some(lock) = lock {
                    user.locked = *lock;
                }
                Ok(())
            }
            Statement::CreateUser { name, password } => {
                if !me.may(me.create_user) {
                    return Err(insufficient());
                }
                if state.users.contains_key(name) {
                    return Err(OraError(
                        1920,
                        format!("user name '{name}' conflicts with another user or role name"),
                    ));
                }
                state.users.insert(
                    name.clone(),
                    User {
                        name: name.clone(),
                        verifier: Verifier::new(password),
                        create_session: false,
                        alter_user: false,
                        create_user: false,
                        all_privileges: false,
                        locked: false,
                    },
                );
                Ok(())
            }
            Statement::Grant { privileges, to } => {
                if !me.all_privileges {
                    return Err(insufficient());
                }
                let Some(user) = state.users.get_mut(to) else {
                    return Err(OraError(
                        1917,
                        format!("user or role '{to}' does not exist"),
                    ));
                };
                for privilege in privileges {
                    match privilege {
                        Privilege::CreateSession => user.create_session = true,
                        Privilege::AlterUser => user.alter_user = true,
                        Privilege::All => user.all_privileges = true,
                    }
                }
                Ok(())
            }
        }
    }

    /// Gives a user every privilege (as `GRANT ALL PRIVILEGES`), e.g. to run a template.
    pub fn grant_all(&self, name: &str) {
        if let Some(user) = self.state().users.get_mut(name) {
            user.all_privileges = true;
        }
    }
}

fn insufficient() -> OraError {
    OraError(1031, "insufficient privileges".into())
}

/// Oracle's rule for the user name of a logon: quoted exact, unquoted upper-cased.
fn logon_name(user: &str) -> String {
    match user.strip_prefix('"').and_then(|u| u.strip_suffix('"')) {
        Some(exact) if !exact.is_empty() => exact.to_string(),
        _ => user.to_uppercase(),
    }
}

struct Answer {
    ttc: Vec<u8>,
    /// Oracle answers a failed statement after a break/reset marker exchange.
    break_first: bool,
    /// Close the connection after the answer (a failed logon).
    close: bool,
}

impl Answer {
    fn plain(ttc: Vec<u8>) -> Answer {
        Answer {
            ttc,
            break_first: false,
            close: false,
        }
    }

    fn ok() -> Answer {
        let mut w = Writer::default();
        w.error_info(0, 0, 0, 0, "");
        Answer::plain(w.0)
    }

    fn error(cursor: u16, e: OraError) -> Answer {
        let mut w = Writer::default();
        w.error_info(0, cursor, 0, e.0, &e.text());
        Answer {
            ttc: w.0,
            break_first: true,
            close: false,
        }
    }

    fn logon_error(e: OraError) -> Answer {
        let mut w = Writer::default();
        w.error_info(0, 0, 0, e.0, &e.text());
        Answer {
            ttc: w.0,
            break_first: false,
            close: true,
        }
    }
}

struct Auth {
    user: String,
    pairs: HashMap<String, String>,
}

/// AUTH phase one and two: the user and the key/value pairs.
fn read_auth(r: &mut Reader<'_>) -> Result<Auth, Truncated> {
    r.u8()?; // pointer (user)
    let user_len = r.ub()?;
    r.ub()?; // auth mode
    r.u8()?; // pointer (pairs)
    let count = r.ub()?;
    r.u8()?; // pointer
    r.u8()?; // pointer
    let user = if user_len > 0 {
        r.bytes_with_length()?
    } else {
        Vec::new()
    };
    let mut pairs = HashMap::new();
    for _ in 0..count {
        let key = if r.ub()? > 0 {
            r.bytes_with_length()?
        } else {
            Vec::new()
        };
        let value = if r.ub()? > 0 {
            r.bytes_with_length()?
        } else {
            Vec::new()
        };
        r.ub()?; // flags
        pairs.insert(
            String::from_utf8_lossy(&key).into_owned(),
            String::from_utf8_lossy(&value).into_owned(),
        );
    }
    Ok(Auth {
        user: String::from_utf8_lossy(&user).into_owned(),
        pairs,
    })
}

struct Execute {
    cursor: u16,
    sql: Option<String>,
    binds: u64,
    rows: u32,
}

/// The execute function (at TTC field version 13: with the 12.2 fields, no token number).
fn read_execute(r: &mut Reader<'_>) -> Result<Execute, Truncated> {
    r.ub()?; // options
    let cursor = r.ub()? as u16;
    let has_sql = r.u8()? != 0;
    r.ub()?; // SQL length
    r.u8()?; // pointer (al8i4)
    r.ub()?; // al8i4 length
    r.u8()?;
    r.u8()?;
    r.ub()?; // prefetch buffer size
    let rows = r.ub()? as u32;
    r.ub()?; // maximum long size
    r.u8()?; // pointer (binds)
    let binds = r.ub()?;
    for _ in 0..5 {
        r.u8()?;
    }
    r.u8()?; // pointer (defines)
    r.ub()?; // number of defines
    r.ub()?; // registration id
    r.u8()?;
    r.u8()?;
    r.u8()?;
    r.ub()?;
    r.u8()?;
    r.ub()?;
    r.ub()?; // registration id (msb)
    r.u8()?; // pointer (DML row counts)
    r.ub()?;
    r.u8()?;
    // 12.2: SQL signature and SQL id; 12.2 ext 1: chunk ids.
    r.u8()?;
    r.ub()?;
    r.u8()?;
    r.ub()?;
    r.u8()?;
    r.u8()?;
    r.ub()?;
    let sql = if has_sql {
        Some(String::from_utf8_lossy(&r.bytes_with_length()?).into_owned())
    } else {
        None
    };
    for _ in 0..13 {
        r.ub()?; // al8i4
    }
    Ok(Execute {
        cursor,
        sql,
        binds,
        rows,
    })
}

/// The answer to the client's protocol message: the server's banner, character sets (AL32UTF8
/// and AL16UTF16) and capabilities: TTC field version 13 (Oracle 19c), 32 KB strings, none of
/// request boundaries, HA readiness or Deep Data Security.
fn protocol_answer() -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(ttc::MSG_PROTOCOL);
    w.u8(6).u8(0); // protocol version, terminator
    w.raw(b"Rotary Oracle protocol server (answers as Oracle Database 19c)")
        .u8(0);
    w.u16le(873); // character set: AL32UTF8
    w.u8(0); // server flags
    w.u16le(0); // character set graph elements
                // FDO: 11 bytes, the national character set (AL16UTF16) at offset 9.
    w.u16be(11);
    w.raw(&[0, 0, 0, 0, 0, 0, 0, 0, 0]);
    w.u16be(2000);
    let mut compile = [0u8; 55];
    compile[0] = 6; // SQL version
    compile[4] = 0x08 | 0x02 | 0x20 | 0x40 | 0x80; // O5LOGON and longer identifiers/passwords
    compile[7] = 13; // TTC field version: 19.1 ext 1
    compile[15] = 0x20 | 0x01 | 0x08;
    compile[17] = 3;
    compile[18] = 7;
    compile[19] = 3;
    compile[21] = 1;
    w.bytes_with_length(&compile);
    let mut runtime = [0u8; 11];
    runtime[0] = 2; // compatibility 8.1
    runtime[6] = 0x01 | 0x04; // zero copy, 32 KB strings
    w.bytes_with_length(&runtime);
    w.0
}

/// The answer to the data-types message: the client's list, as a server that accepts every
/// type's representation.
fn data_types_answer(r: &mut Reader<'_>) -> Result<Vec<u8>, Truncated> {
    r.u16le()?; // character set
    r.u16le()?; // national character set
    r.u8()?; // encoding flags
    r.bytes_with_length()?; // compile capabilities
    r.bytes_with_length()?; // runtime capabilities
    let mut w = Writer::default();
    w.u8(ttc::MSG_DATA_TYPES);
    loop {
        let data_type = r.u16be()?;
        if data_type == 0 {
            break;
        }
        let conversion = r.u16be()?;
        let representation = r.u16be()?;
        r.u16be()?;
        w.u16be(data_type).u16be(conversion);
        if conversion != 0 {
            w.u16be(representation).u16be(0);
        }
    }
    w.u16be(0);
    Ok(w.0)
}

/// Describe information of one NUMBER column named `name` (as `SELECT 1 FROM DUAL` has).
fn describe_number_column(w: &mut Writer, name: &str) {
    w.u8(ttc::MSG_DESCRIBE_INFO);
    w.bytes_with_length(&[]);
    w.ub(22); // maximum row size
    w.ub(1); // columns
    w.u8(1);
    w.u8(ttc::ORA_TYPE_NUMBER);
    w.u8(0); // flags
    w.u8(0); // precision
    w.u8((-127i8) as u8); // scale
    w.ub(22); // buffer size
    w.ub(0); // maximum array elements
    w.ub(0); // continuation flags
    w.bytes_with_double_length(&[]); // OID
    w.ub(0); // version
    w.ub(0); // character set
    w.u8(0); // character set form
    w.ub(22); // maximum size
    w.ub(0); // column id (12.2)
    w.u8(1); // nullable
    w.u8(0); // v7 name length
    w.bytes_with_double_length(name.as_bytes());
    w.bytes_with_double_length(&[]); // schema
    w.bytes_with_double_length(&[]); // type name
    w.ub(1); // column position
    w.ub(0); // UDS flags
    w.bytes_with_double_length(&[]); // current date
    w.ub(0).ub(0).ub(0).ub(0); // dcbflag, dcbmdbz, dcbmnpr, dcbmxpr
    w.bytes_with_double_length(&[]); // dcbqcky
}

fn row(w: &mut Writer, value: i64) {
    w.u8(ttc::MSG_ROW_HEADER);
    w.u8(0); // flags
    w.ub(1); // requests
    w.ub(0); // iteration
    w.ub(1); // iterations
    w.ub(0); // buffer length
    w.ub(0); // bit vector
    w.ub(0); // rxhrid
    w.u8(ttc::MSG_ROW_DATA);
    w.bytes_with_length(&ttc::number(value));
}

/// The end of a fetch: ORA-01403 after the rows.
fn no_more_rows(w: &mut Writer, cursor: u16, rows: u64) {
    w.error_info(0, cursor, rows, 1403, "ORA-01403: no data found");
}

#[cfg(test)]
mod tests {
    #[test]
    fn logon_names_follow_oracles_rule() {
        assert_eq!(super::logon_name("scott"), "SCOTT");
        assert_eq!(super::logon_name("\"scott\""), "scott");
    }
}
