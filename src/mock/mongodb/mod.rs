//! A MongoDB server of Rotary's own, speaking the real wire protocol to the official driver,
//! for `mongodb-credentials`: no MongoDB server can run on these machines. It follows MongoDB's
//! documentation: the wire protocol's OP_MSG (`wire.rs`), the `hello` handshake (and the legacy
//! `isMaster`) with `saslSupportedMechs`, SCRAM-SHA-256 and SCRAM-SHA-1 through `saslStart` /
//! `saslContinue` with `skipEmptyExchange` (RFC 5802, RFC 7677, MongoDB's authentication
//! specification; `scram.rs`), which really verifies a stored user's password, and the commands
//! `ping`, `usersInfo`, `createUser`, `updateUser`, `dropUser`, `endSessions`, with MongoDB's
//! errors: AuthenticationFailed (18) "Authentication failed.", Unauthorized (13) "not authorized
//! on <db> to execute command …" and "command <name> requires authentication", UserNotFound
//! (11), DuplicateKey-style 51003 "User … already exists", CommandNotFound (59).
//!
//! Privileges are a model of MongoDB's built-in roles: `root` and `userAdminAnyDatabase` manage
//! users anywhere, `userAdmin` and `dbOwner` in their database; any other role (`readWrite`,
//! `read`) manages none, not even its own password. Fault rules fail a command before or after
//! its effect, drop the connection, or delay it; the control methods list the users and tell
//! whether a password authenticates. Not modelled: TLS, speculative authentication (the driver
//! then authenticates after `hello`, as with MongoDB 4.2), sessions and `lsid`, replica sets,
//! compression, CRUD commands, `authenticationRestrictions`, custom roles, SASLprep of
//! non-ASCII passwords.

pub mod scram;
pub mod wire;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};

use scram::{Conversation, Mechanism, StoredCredential};

#[derive(Clone)]
pub struct User {
    pub db: String,
    pub name: String,
    /// (role, db).
    pub roles: Vec<(String, String)>,
    sha1: StoredCredential,
    sha256: StoredCredential,
}

impl User {
    fn credential(&self, m: Mechanism) -> &StoredCredential {
        match m {
            Mechanism::Sha1 => &self.sha1,
            Mechanism::Sha256 => &self.sha256,
        }
    }
}

/// A user as the control methods show it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UserView {
    pub db: String,
    pub user: String,
    pub roles: Vec<(String, String)>,
}

/// What a fault rule does.
#[derive(Clone, Debug)]
pub enum FaultAction {
    /// Answer `{ok: 0, code, errmsg}`.
    Error(i32, String),
    /// Close the connection without answering.
    Drop,
    /// Wait, then go on.
    Delay(Duration),
}

/// Fails the next `times` runs of `command` (`before` its effect or `after` it).
#[derive(Clone, Debug)]
pub struct Fault {
    pub command: String,
    pub after: bool,
    pub action: FaultAction,
    pub times: u32,
}

#[derive(Default)]
struct State {
    /// By (db, name).
    users: BTreeMap<(String, String), User>,
    faults: Vec<Fault>,
    /// Commands run, by name (the request log).
    log: Vec<String>,
    next_connection: i64,
    /// Added before every command (benchmarks).
    latency: Duration,
}

#[derive(Clone)]
pub struct MockMongo {
    state: Arc<Mutex<State>>,
    pub address: String,
}

fn error(code: i32, name: &str, message: &str) -> Document {
    doc! {"ok": 0.0, "errmsg": message, "code": code, "codeName": name}
}

/// MongoDB quotes the command (with `pwd` redacted); the mock quotes only its name.
fn unauthorized(db: &str, command: &str) -> Document {
    error(
        13,
        "Unauthorized",
        &format!("not authorized on {db} to execute command {{ {command}: ... }}"),
    )
}

/// What a connection knows: who authenticated, and SASL conversations in flight.
#[derive(Default)]
struct Session {
    user: Option<(String, String)>,
    conversations: HashMap<i32, Conversation>,
    next_conversation: i32,
}

impl MockMongo {
    /// Serves on `listener` (one task per connection).
    pub fn spawn(listener: TcpListener) -> MockMongo {
        let mock = MockMongo {
            state: Default::default(),
            address: listener.local_addr().expect("bound").to_string(),
        };
        let server = mock.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let server = server.clone();
                tokio::spawn(async move { server.connection(stream).await });
            }
        });
        mock
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates (or replaces) a user of `db` with a password and roles `(role, db)`.
    pub fn add_user(&self, db: &str, name: &str, password: &str, roles: &[(&str, &str)]) {
        let user = User {
            db: db.into(),
            name: name.into(),
            roles: roles
                .iter()
                .map(|(r, d)| (r.to_string(), d.to_string()))
                .collect(),
            sha1: StoredCredential::new(Mechanism::Sha1, name, password),
            sha256: StoredCredential::new(Mechanism::Sha256, name, password),
        };
        self.state()
            .users
            .insert((db.to_string(), name.to_string()), user);
    }

    pub fn remove_user(&self, db: &str, name: &str) {
        self.state()
            .users
            .remove(&(db.to_string(), name.to_string()));
    }

    pub fn users(&self) -> Vec<UserView> {
        self.state()
            .users
            .values()
            .map(|u| UserView {
                db: u.db.clone(),
                user: u.name.clone(),
                roles: u.roles.clone(),
            })
            .collect()
    }

    /// Whether `name` of `db` logs in with `password` now (SCRAM-SHA-256's credentials).
    pub fn authenticates(&self, db: &str, name: &str, password: &str) -> bool {
        self.state()
            .users
            .get(&(db.to_string(), name.to_string()))
            .is_some_and(|u| u.sha256.matches(Mechanism::Sha256, name, password))
    }

    pub fn fault(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// Latency added before every command.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// The names of the commands run so far, in order.
    pub fn log(&self) -> Vec<String> {
        self.state().log.clone()
    }

    fn take_fault(&self, command: &str, after: bool) -> Option<FaultAction> {
        let mut state = self.state();
        let fault = state
            .faults
            .iter_mut()
            .find(|f| f.command == command && f.after == after && f.times > 0)?;
        fault.times -= 1;
        Some(fault.action.clone())
    }

    async fn connection(&self, mut stream: TcpStream) {
        let connection_id = {
            let mut state = self.state();
            state.next_connection += 1;
            state.next_connection
        };
        let mut session = Session::default();
        let mut reply_id = 0;
        loop {
            let request = match wire::read(&mut stream).await {
                Ok(Some(r)) => r,
                Ok(None) | Err(_) => return,
            };
            let command = request.body.keys().next().cloned().unwrap_or_default();
            let latency = {
                let mut state = self.state();
                state.log.push(command.clone());
                state.latency
            };
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let mut reply = None;
            for after in [false, true] {
                if after {
                    reply = Some(self.run(&mut session, &command, &request.body, connection_id));
                }
                match self.take_fault(&command, after) {
                    Some(FaultAction::Drop) => return,
                    Some(FaultAction::Delay(d)) => tokio::time::sleep(d).await,
                    Some(FaultAction::Error(code, message)) => {
                        reply = Some(error(code, "FaultInjected", &message));
                        break;
                    }
                    None => {}
                }
            }
            if request.flags & wire::MORE_TO_COME != 0 {
                continue;
            }
            reply_id += 1;
            let reply = reply.unwrap_or_else(|| error(1, "InternalError", "no reply"));
            if wire::write(&mut stream, reply_id, request.request_id, &reply)
                .await
                .is_err()
            {
                return;
            }
        }
    }

    /// May the session's user manage the users of `db`?
    fn may_manage_users(&self, session: &Session, db: &str) -> bool {
        let Some(key) = &session.user else {
            return false;
        };
        let state = self.state();
        let Some(user) = state.users.get(key) else {
            return false;
        };
        user.roles.iter().any(|(role, on)| match role.as_str() {
            "root" | "userAdminAnyDatabase" => on == "admin",
            "userAdmin" | "dbOwner" => on == db,
            _ => false,
        })
    }

    fn run(
        &self,
        session: &mut Session,
        command: &str,
        body: &Document,
        connection: i64,
    ) -> Document {
        let db = body.get_str("$db").unwrap_or("admin").to_string();
        match command {
            "hello" | "isMaster" | "ismaster" => self.hello(command, body, connection),
            "ping" | "endSessions" => doc! {"ok": 1.0},
            "buildInfo" | "buildinfo" => {
                doc! {"version": "7.0.0", "versionArray": [7, 0, 0, 0], "ok": 1.0}
            }
            "saslStart" => self.sasl_start(session, &db, body),
            "saslContinue" => self.sasl_continue(session, &db, body),
            _ if session.user.is_none() => error(
                13,
                "Unauthorized",
                &format!("command {command} requires authentication"),
            ),
            "usersInfo" => self.users_info(session, &db, body),
            "createUser" | "updateUser" | "dropUser" => {
                if !self.may_manage_users(session, &db) {
                    return unauthorized(&db, command);
                }
                self.manage_user(command, &db, body)
            }
            other => error(
                59,
                "CommandNotFound",
                &format!("no such command: '{other}'"),
            ),
        }
    }

    /// No `topologyVersion`: with it the driver's monitor sends awaitable hellos, which a
    /// server must hold for `maxAwaitTimeMS`; without it the driver polls every 10 s.
    fn hello(&self, command: &str, body: &Document, connection: i64) -> Document {
        let mut reply = doc! {
            "helloOk": true,
            "isWritablePrimary": true,
            "maxBsonObjectSize": 16_777_216,
            "maxMessageSizeBytes": wire::MAX_MESSAGE as i32,
            "maxWriteBatchSize": 100_000,
            "localTime": bson::DateTime::now(),
            "connectionId": connection,
            "minWireVersion": 0,
            "maxWireVersion": 21,
            "readOnly": false,
            "ok": 1.0,
        };
        if command != "hello" {
            reply.insert("ismaster", true);
        }
        // Mechanism negotiation: the mechanisms a user has.
        if let Ok(name) = body.get_str("saslSupportedMechs") {
            if let Some((db, user)) = name.split_once('.') {
                if self
                    .state()
                    .users
                    .contains_key(&(db.to_string(), user.to_string()))
                {
                    reply.insert("saslSupportedMechs", vec!["SCRAM-SHA-1", "SCRAM-SHA-256"]);
                }
            }
        }
        reply
    }

    fn auth_failed() -> Document {
        error(18, "AuthenticationFailed", "Authentication failed.")
    }

    fn sasl_start(&self, session: &mut Session, db: &str, body: &Document) -> Document {
        let Some(mechanism) = body.get_str("mechanism").ok().and_then(Mechanism::parse) else {
            return error(
                2,
                "BadValue",
                "Received authentication for mechanism which is not supported",
            );
        };
        let Ok(payload) = body.get_binary_generic("payload") else {
            return error(2, "BadValue", "saslStart needs a payload");
        };
        let Ok((bare, user, nonce)) = scram::client_first(payload) else {
            return Self::auth_failed();
        };
        let stored = {
            let state = self.state();
            match state.users.get(&(db.to_string(), user.clone())) {
                Some(u) => u.credential(mechanism).clone(),
                None => return Self::auth_failed(),
            }
        };
        let conversation = Conversation::start(mechanism, &user, &bare, &nonce, &stored);
        session.next_conversation += 1;
        let id = session.next_conversation;
        let server_first = conversation.server_first().as_bytes().to_vec();
        session.conversations.insert(id, conversation);
        doc! {
            "conversationId": id,
            "done": false,
            "payload": Binary { subtype: BinarySubtype::Generic, bytes: server_first },
            "ok": 1.0,
        }
    }

    fn sasl_continue(&self, session: &mut Session, db: &str, body: &Document) -> Document {
        let id = match body.get("conversationId") {
            Some(Bson::Int32(i)) => *i,
            Some(Bson::Int64(i)) => *i as i32,
            _ => return error(2, "BadValue", "saslContinue needs a conversationId"),
        };
        let Some(conversation) = session.conversations.remove(&id) else {
            return error(17, "ProtocolError", "No SASL session state found");
        };
        let payload = body
            .get_binary_generic("payload")
            .cloned()
            .unwrap_or_default();
        let stored = {
            let state = self.state();
            match state
                .users
                .get(&(db.to_string(), conversation.user.clone()))
            {
                Some(u) => u.credential(conversation.mechanism).clone(),
                None => return Self::auth_failed(),
            }
        };
        match conversation.finish(&payload, &stored) {
            Ok(server_final) => {
                session.user = Some((db.to_string(), conversation.user.clone()));
                doc! {
                    "conversationId": id,
                    "done": true,
                    "payload": Binary { subtype: BinarySubtype::Generic, bytes: server_final.into_bytes() },
                    "ok": 1.0,
                }
            }
            Err(_) => Self::auth_failed(),
        }
    }

    fn users_info(&self, session: &Session, db: &str, body: &Document) -> Document {
        let wanted: Option<String> = match body.get("usersInfo") {
            Some(Bson::String(name)) => Some(name.clone()),
            Some(Bson::Document(d)) => d.get_str("user").ok().map(str::to_string),
            _ => None,
        };
        let own = session
            .user
            .as_ref()
            .is_some_and(|(d, n)| d == db && Some(n) == wanted.as_ref());
        if !own && !self.may_manage_users(session, db) {
            return unauthorized(db, "usersInfo");
        }
        let users: Vec<Document> = self
            .state()
            .users
            .values()
            .filter(|u| u.db == db && wanted.as_ref().is_none_or(|w| *w == u.name))
            .map(|u| {
                doc! {
                    "_id": format!("{}.{}", u.db, u.name),
                    "user": &u.name,
                    "db": &u.db,
                    "roles": u.roles.iter().map(|(r, d)| doc! {"role": r, "db": d}).collect::<Vec<_>>(),
                    "mechanisms": ["SCRAM-SHA-1", "SCRAM-SHA-256"],
                }
            })
            .collect();
        doc! {"users": users, "ok": 1.0}
    }

    fn manage_user(&self, command: &str, db: &str, body: &Document) -> Document {
        let Ok(name) = body.get_str(command) else {
            return error(2, "BadValue", &format!("{command} needs a user name"));
        };
        let key = (db.to_string(), name.to_string());
        let exists = self.state().users.contains_key(&key);
        match command {
            "createUser" => {
                if exists {
                    return error(
                        51003,
                        "Location51003",
                        &format!("User \"{name}@{db}\" already exists"),
                    );
                }
                let Ok(password) = body.get_str("pwd") else {
                    return error(2, "BadValue", "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db");
                };
                let roles: Vec<(String, String)> = body
                    .get_array("roles")
                    .map(|r| {
                        r.iter()
                            .filter_map(|role| match role {
                                Bson::String(r) => Some((r.clone(), db.to_string())),
                                Bson::Document(d) => Some((
                                    d.get_str("role").ok()?.to_string(),
                                    d.get_str("db").unwrap_or(db).to_string(),
                                )),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let roles: Vec<(&str, &str)> = roles
                    .iter()
                    .map(|(r, d)| (r.as_str(), d.as_str()))
                    .collect();
                self.add_user(db, name, password, &roles);
                doc! {"ok": 1.0}
            }
            _ if !exists => error(
                11,
                "UserNotFound",
                &format!("User \"{name}@{db}\" not found"),
            ),
            "updateUser" => {
                let Ok(password) = body.get_str("pwd") else {
                    return error(
                        2,
                        "BadValue",
                        "updateUser needs a 'pwd' here (roles are not modelled)",
                    );
                };
                let roles: Vec<(String, String)> = self.state().users[&key].roles.clone();
                let roles: Vec<(&str, &str)> = roles
                    .iter()
                    .map(|(r, d)| (r.as_str(), d.as_str()))
                    .collect();
                self.add_user(db, name, password, &roles);
                doc! {"ok": 1.0}
            }
            _ => {
                self.remove_user(db, name);
                doc! {"ok": 1.0}
            }
        }
    }
}
