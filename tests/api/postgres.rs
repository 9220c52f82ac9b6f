//! `postgres-credentials` on the engine, against the real PostgreSQL the test scripts start
//! (scripts/with-postgres.sh: every role but the superuser logs in with a scram password):
//! a connection role with CREATEROLE and two login roles per test.

use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use rotary::rotation::engine::{self, RunError};
use rotary::store::rotations;

use crate::helpers::{assert_error, fresh_database, spawn_server, test_options, TestApp};

pub struct Pg {
    pub app: TestApp,
    pub token: String,
    pub project: String,
    pub id: Uuid,
    pub connection_id: Uuid,
    pub conn_role: String,
    pub users: [String; 2],
    /// The superuser, for setting up and breaking things.
    pub admin: sqlx::PgPool,
    pub host: String,
    pub port: u16,
    pub database: String,
}

fn parts(url: &str) -> (String, u16, String) {
    let rest = url.split_once('@').unwrap().1;
    let (hostport, database) = rest.split_once('/').unwrap();
    let (host, port) = hostport.split_once(':').unwrap();
    (
        host.to_string(),
        port.parse().unwrap(),
        database.to_string(),
    )
}

impl Pg {
    fn state(&self) -> &rotary::AppState {
        self.app.state.as_ref().unwrap()
    }

    pub async fn run(&self, trigger: &str) -> Result<(), RunError> {
        let mut conn = self.app.pool.acquire().await.unwrap();
        let trigger = match trigger {
            "scheduled" => rotations::Trigger::Scheduled,
            _ => rotations::Trigger::Manual,
        };
        let run = rotations::insert_run(&mut conn, self.id, trigger, engine::worker_id(), 60)
            .await
            .unwrap()
            .expect("no open run");
        drop(conn);
        engine::execute(self.state(), run).await.map(|_| ())
    }

    /// The mapped secrets as an application reads them.
    pub async fn mapped(&self) -> (String, String) {
        self.app
            .read_pair(
                &self.token,
                &self.project,
                ["POSTGRES_DB_USERNAME", "POSTGRES_DB_PASSWORD"],
            )
            .await
    }

    /// Whether a fresh connection with these credentials logs in.
    pub async fn logs_in(&self, username: &str, password: &str) -> bool {
        let options = sqlx::postgres::PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .database(&self.database)
            .username(username)
            .password(password);
        match PgConnection::connect_with(&options).await {
            Ok(conn) => {
                let _ = conn.close().await;
                true
            }
            Err(_) => false,
        }
    }

    /// The slots: (username, password) each, and the active index.
    pub async fn slots(&self) -> (Vec<(String, String)>, usize) {
        let row = rotations::find(&self.app.pool, self.id)
            .await
            .unwrap()
            .unwrap();
        let key = rotary::access::project_key_by_id(self.state(), row.project_id)
            .await
            .unwrap()
            .unwrap();
        let slots = rotary::rotation::journal::open_slots::<
            rotary::providers::postgres::rotation::PostgresCredentials,
        >(&key, &row)
        .unwrap();
        let items = slots
            .items
            .iter()
            .map(|l| {
                use secrecy::ExposeSecret;
                (l.username.clone(), l.password.expose_secret().to_string())
            })
            .collect();
        (items, slots.active_index)
    }

    /// The mapped login works, it is the active slot, and the run is closed.
    pub async fn assert_converged(&self, label: &str) {
        let (user, password) = self.mapped().await;
        assert!(
            self.logs_in(&user, &password).await,
            "{label}: the mapped login works"
        );
        let (slots, active) = self.slots().await;
        assert_eq!(
            slots[active],
            (user, password),
            "{label}: mapped = active slot"
        );
        assert_eq!(
            self.app
                .count("rotation_runs WHERE outcome = 'running'")
                .await,
            0,
            "{label}: a run was left open"
        );
    }
}

/// A server and a fresh database; the roles; a `postgres` connection; a rotation, created.
pub async fn pg_world() -> Pg {
    pg_world_via(None).await
}

/// A connection role (CREATEROLE, password `conn-pw-{tag}`) and two login roles, made by the
/// superuser; `admin` runs statements unlogged (they carry passwords, and the leak scans must
/// see only what Rotary logs).
pub struct Roles {
    pub admin: sqlx::PgPool,
    pub tag: String,
    pub conn_role: String,
    pub users: [String; 2],
}

pub async fn roles(database_url: &str, conn_prefix: &str, user_prefix: &str) -> Roles {
    let admin_options = sqlx::ConnectOptions::log_statements(
        database_url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .unwrap(),
        log::LevelFilter::Off,
    );
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(admin_options)
        .await
        .unwrap();
    let tag = Uuid::new_v4().simple().to_string()[..10].to_string();
    let conn_role = format!("{conn_prefix}_{tag}");
    let users = [
        format!("{user_prefix}_1_{tag}"),
        format!("{user_prefix}_2_{tag}"),
    ];
    for sql in [
        format!("CREATE ROLE {conn_role} LOGIN CREATEROLE PASSWORD 'conn-pw-{tag}'"),
        format!("CREATE ROLE {} LOGIN PASSWORD 'initial-1'", users[0]),
        format!("CREATE ROLE {} LOGIN PASSWORD 'initial-2'", users[1]),
        // PostgreSQL 16 and later also want ADMIN OPTION on the roles it changes.
        format!("GRANT {} TO {conn_role} WITH ADMIN OPTION", users[0]),
        format!("GRANT {} TO {conn_role} WITH ADMIN OPTION", users[1]),
    ] {
        sqlx::query(&sql).execute(&admin).await.unwrap();
    }
    Roles {
        admin,
        tag,
        conn_role,
        users,
    }
}

/// `pg_world` whose connection reaches the server through `port` (a proxy), when given.
pub async fn pg_world_via(port_override: Option<u16>) -> Pg {
    let url = fresh_database().await;
    let app = spawn_server(&url, rotary::crypto::Key::generate(), test_options(), false).await;
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Databases").await;
    let (host, port, database) = parts(&url);
    let Roles {
        admin,
        tag,
        conn_role,
        users,
    } = roles(&url, "rotary_conn", "app_user").await;
    // The connection, over the API: validated by logging in as the role.
    let r = app
        .post(
            "/api/v1/app-connections/postgres",
            &token,
            json!({
                "name": "pg", "method": "username-and-password", "projectId": project,
                "credentials": {
                    "host": format!(" {host} "), "port": port_override.unwrap_or(port).to_string(),
                    "database": database, "username": conn_role,
                    "password": format!("conn-pw-{tag}"),
                    "sslEnabled": false, "sslRejectUnauthorized": false, "sslCertificate": "  ",
                },
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let connection = &r.body["appConnection"];
    let connection_id = Uuid::parse_str(connection["id"].as_str().unwrap()).unwrap();
    assert_eq!(connection["app"], "postgres");
    assert_eq!(connection["method"], "username-and-password");
    assert_eq!(
        connection["credentials"],
        json!({
            "host": host, "port": port_override.unwrap_or(port), "database": database,
            "username": conn_role, "sslEnabled": false, "sslRejectUnauthorized": false,
            "sslCertificate": null,
        }),
        "trimmed, the port a number, no password"
    );
    // Created over the API, as curl would.
    let r = app
        .post(
            "/api/v2/secret-rotations/postgres-credentials",
            &token,
            json!({
                "name": "my-pg-rotation", "projectId": project, "connectionId": connection_id,
                "environment": "dev", "secretPath": "/", "isAutoRotationEnabled": false,
                "rotationInterval": 30,
                "parameters": {"username1": format!(" {} ", users[0]), "username2": users[1]},
                "secretsMapping": {"username": "POSTGRES_DB_USERNAME", "password": "POSTGRES_DB_PASSWORD"},
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rotation = &r.body["secretRotation"];
    let id = Uuid::parse_str(rotation["id"].as_str().unwrap()).unwrap();
    assert_eq!(rotation["type"], "postgres-credentials");
    assert_eq!(
        rotation["parameters"],
        json!({"username1": users[0], "username2": users[1]}),
        "stored trimmed, nothing added"
    );
    assert_eq!(
        rotation["secretsMapping"],
        json!({"username": "POSTGRES_DB_USERNAME", "password": "POSTGRES_DB_PASSWORD"})
    );
    assert_eq!(
        rotation["connection"],
        json!({"app": "postgres", "name": "pg", "id": connection_id})
    );
    assert_eq!(rotation["activeIndex"], 0);
    assert_eq!(rotation["rotationStatus"], "success");
    let pg = Pg {
        app,
        token,
        project,
        id,
        connection_id,
        conn_role,
        users,
        admin,
        host,
        port,
        database,
    };
    pg.assert_converged("create").await;
    pg
}

#[tokio::test]
async fn the_two_users_alternate_and_the_previous_password_keeps_working() {
    let pg = pg_world().await;
    let first = pg.mapped().await;
    assert_eq!(first.0, pg.users[0]);
    assert_eq!(first.1.len(), 48);
    assert!(
        !pg.logs_in(&pg.users[0], "initial-1").await,
        "the old password is gone"
    );
    pg.run("manual").await.unwrap();
    pg.assert_converged("rotation 1").await;
    let second = pg.mapped().await;
    assert_eq!(second.0, pg.users[1]);
    // Dual-phase: consumers holding the previous login keep working for an interval.
    assert!(pg.logs_in(&first.0, &first.1).await);
    pg.run("manual").await.unwrap();
    pg.assert_converged("rotation 2").await;
    let third = pg.mapped().await;
    assert_eq!(third.0, pg.users[0]);
    assert!(!pg.logs_in(&first.0, &first.1).await, "retired");
    assert!(pg.logs_in(&second.0, &second.1).await);
}

#[tokio::test]
async fn the_server_s_refusals_abandon_the_run_and_leave_the_active_login_alone() {
    let pg = pg_world().await;
    let before = (pg.mapped().await, pg.slots().await);
    // The connection role loses its privilege.
    for sql in [
        format!("ALTER ROLE {} NOCREATEROLE", pg.conn_role),
        format!("REVOKE {} FROM {}", pg.users[1], pg.conn_role),
    ] {
        sqlx::query(&sql).execute(&pg.admin).await.unwrap();
    }
    match pg.run("manual").await {
        Err(RunError::Abandoned(m)) => assert!(
            m.contains(&format!(
                "the connection's role may not change the password of \"{}\"",
                pg.users[1]
            )),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!((pg.mapped().await, pg.slots().await), before);
    pg.assert_converged("privilege lost").await;
    for sql in [
        format!("ALTER ROLE {} CREATEROLE", pg.conn_role),
        format!(
            "GRANT {} TO {} WITH ADMIN OPTION",
            pg.users[1], pg.conn_role
        ),
    ] {
        sqlx::query(&sql).execute(&pg.admin).await.unwrap();
    }
    // The inactive user is dropped.
    sqlx::query(&format!("DROP ROLE {}", pg.users[1]))
        .execute(&pg.admin)
        .await
        .unwrap();
    match pg.run("manual").await {
        Err(RunError::Abandoned(m)) => assert!(
            m.contains(&format!("the role \"{}\" does not exist", pg.users[1])),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    pg.assert_converged("role dropped").await;
    // Back as it was, it rotates again.
    sqlx::query(&format!(
        "CREATE ROLE {} LOGIN PASSWORD 'again'",
        pg.users[1]
    ))
    .execute(&pg.admin)
    .await
    .unwrap();
    sqlx::query(&format!(
        "GRANT {} TO {} WITH ADMIN OPTION",
        pg.users[1], pg.conn_role
    ))
    .execute(&pg.admin)
    .await
    .unwrap();
    pg.run("manual").await.unwrap();
    pg.assert_converged("after the faults").await;
}

/// A TCP proxy in front of the test server that lets `allowed` connections through, then
/// cuts every new one at once: to Rotary, a server that went away.
struct Proxy {
    pub port: u16,
    allowed: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let allowed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
        let budget = allowed.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let left = budget.load(std::sync::atomic::Ordering::SeqCst);
                if left == 0 {
                    drop(inbound);
                    continue;
                }
                budget.store(left.saturating_sub(1), std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) =
                        tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Proxy { port, allowed }
    }

    fn allow(&self, connections: usize) {
        self.allowed
            .store(connections, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn the_server_going_away_after_the_alter_leaves_the_run_to_resume_and_consumers_working() {
    let url = std::env::var("DATABASE_URL").unwrap();
    let (_, port, _) = parts(&url);
    let proxy = Proxy::start(port).await;
    let pg = pg_world_via(Some(proxy.port)).await;
    let before = (pg.mapped().await, pg.slots().await);
    // The ALTER goes through (one connection, as the connection's role); the server is gone
    // when the run logs in as the user to verify.
    proxy.allow(1);
    match pg.run("manual").await {
        Err(RunError::Interrupted(m)) => assert!(m.contains("PostgreSQL"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Nothing was published; the active login (untouched) keeps working.
    assert_eq!((pg.mapped().await, pg.slots().await), before);
    assert!(pg.logs_in(&before.0 .0, &before.0 .1).await);
    let (phase, open): (i16, String) = sqlx::query_as(
        "SELECT phase, outcome FROM rotation_runs WHERE rotation_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(pg.id)
    .fetch_one(&pg.app.pool)
    .await
    .unwrap();
    assert_eq!(
        (phase, open.as_str()),
        (3, "running"),
        "left open after Issued"
    );
    // The server is back; the run is resumed from its journal (the same password: it was
    // applied once and is verified now) and published.
    proxy.allow(usize::MAX);
    sqlx::query("UPDATE rotation_runs SET lease_expires_at = now() - interval '1 second' WHERE outcome = 'running'")
        .execute(&pg.app.pool)
        .await
        .unwrap();
    let run = rotations::take_over_expired(&pg.app.pool, pg.id, "another-worker", 60)
        .await
        .unwrap()
        .expect("taken over");
    engine::execute(pg.state(), run).await.unwrap();
    pg.assert_converged("resumed").await;
    assert_eq!(pg.mapped().await.0, pg.users[1]);
}

const PG: &str = "/api/v2/secret-rotations/postgres-credentials";

/// The wire a curl user sees: refusals before anything reaches the server, then get, list,
/// by name, rotate, generated-credentials, check-credentials, PATCH and delete with revoke.
#[tokio::test]
async fn the_api_serves_postgres_rotations_as_infisical_does() {
    let pg = pg_world().await;
    let (app, token) = (&pg.app, &pg.token);
    let body = |parameters: serde_json::Value| {
        json!({
            "name": "second", "projectId": pg.project, "connectionId": pg.connection_id,
            "environment": "dev", "secretPath": "/", "rotationInterval": 30,
            "parameters": parameters,
            "secretsMapping": {"username": "U2", "password": "P2"},
        })
    };
    // Refused before any statement runs: no run, no rotation, the users' passwords untouched.
    let runs_before = app.count("rotation_runs").await;
    for (parameters, path, code, message) in [
        (json!({"username1": "", "username2": "b"}), "username1", "too_small", "Username1 Required"),
        (json!({"username2": "b"}), "username1", "invalid_type", "Required"),
        (
            json!({"username1": "a\"; DROP ROLE x; --", "username2": "b"}),
            "username1",
            "custom",
            "The username \"a\"; DROP ROLE x; --\" cannot be used in a statement: quotes, backslashes, semicolons, braces, backticks and whitespace are not allowed, and at most 63 bytes",
        ),
        (
            json!({"username1": "a", "username2": "b", "rotationStatement": "ALTER USER {{username}} {{secret}}"}),
            "rotationStatement",
            "custom",
            "Invalid expression detected in rotation statement",
        ),
        (
            json!({"username1": "a", "username2": "b", "rotationStatement": "ALTER USER {{username}}"}),
            "rotationStatement",
            "custom",
            "Rotation statement must have username and password template expression",
        ),
        (
            json!({"username1": "a", "username2": "b", "passwordRequirements": {"length": 4, "required": {"lowercase": 3, "uppercase": 3, "digits": 0, "symbols": 0}}}),
            "passwordRequirements",
            "custom",
            "Sum of required characters cannot exceed the total length",
        ),
        (
            json!({"username1": "a", "username2": "b", "passwordRequirements": {"length": 20, "required": {"lowercase": 1, "uppercase": 1, "digits": 1, "symbols": 1}, "allowedSymbols": "'!"}}),
            "passwordRequirements",
            "custom",
            "allowedSymbols cannot contain '\\'': it could end a quoted SQL value",
        ),
    ] {
        let r = app.post(PG, token, body(parameters.clone())).await;
        assert_error(
            &r,
            422,
            "ValidationFailure",
            json!([{"code": code, "path": ["parameters", path], "message": message}]),
        );
    }
    assert_eq!(app.count("rotation_runs").await, runs_before);
    assert_eq!(app.count("secret_rotations").await, 1);
    // A Salesforce connection cannot serve it.
    let r = app
        .post(
            "/api/v2/secret-rotations/salesforce-oauth-credentials",
            token,
            json!({
                "name": "sf", "projectId": pg.project, "connectionId": pg.connection_id,
                "environment": "dev", "secretPath": "/", "rotationInterval": 30,
                "parameters": {"appId": "0xIal0000004C92CAE", "appName": "x"},
                "secretsMapping": {"consumerKey": "K", "consumerSecret": "S"},
            }),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "postgres Connection with ID {} cannot be used to connect to Salesforce",
            pg.connection_id
        )),
    );

    // Reads.
    let one = format!("{PG}/{}", pg.id);
    let got = app.get(&one, token).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["secretRotation"]["name"], "my-pg-rotation");
    let list = app
        .get(&format!("{PG}?projectId={}", pg.project), token)
        .await;
    assert_eq!(list.body["secretRotations"].as_array().unwrap().len(), 1);
    let sf_list = app
        .get(
            &format!(
                "/api/v2/secret-rotations/salesforce-oauth-credentials?projectId={}",
                pg.project
            ),
            token,
        )
        .await;
    assert_eq!(sf_list.body, json!({"secretRotations": []}));
    let by_name = app
        .get(
            &format!(
                "{PG}/rotation-name/my-pg-rotation?projectId={}&environment=dev&secretPath=/",
                pg.project
            ),
            token,
        )
        .await;
    assert_eq!(by_name.body, got.body);
    let r = app
        .get(
            &format!(
                "/api/v2/secret-rotations/salesforce-oauth-credentials/{}",
                pg.id
            ),
            token,
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "Secret Rotation with ID \"{}\" is not configured for Salesforce OAuth Credentials",
            pg.id
        )),
    );

    // Rotate: the second user, and the first keeps working.
    let first = pg.mapped().await;
    let r = app
        .post(&format!("{one}/rotate-secrets"), token, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["secretRotation"]["activeIndex"], 1);
    let second = pg.mapped().await;
    assert_eq!(second.0, pg.users[1]);
    assert!(pg.logs_in(&first.0, &first.1).await);
    let generated = app
        .get(&format!("{one}/generated-credentials"), token)
        .await;
    assert_eq!(
        generated.body,
        json!({
            "generatedCredentials": [
                {"username": first.0, "password": first.1},
                {"username": second.0, "password": second.1},
            ],
            "activeIndex": 1, "rotationId": pg.id, "type": "postgres-credentials",
        })
    );

    // check-credentials logs in as the active user.
    let r = app
        .post(&format!("{one}/check-credentials"), token, json!({}))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    sqlx::query(&format!(
        "ALTER ROLE {} PASSWORD 'changed-by-hand'",
        pg.users[1]
    ))
    .execute(&pg.admin)
    .await
    .unwrap();
    let r = app
        .post(&format!("{one}/check-credentials"), token, json!({}))
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "PostgreSQL refused the login of \"{}\" (wrong password, or no pg_hba.conf entry allows it)",
            pg.users[1]
        )),
    );
    // Rotating again repairs it: the first user gets a new password and becomes active.
    let r = app
        .post(&format!("{one}/rotate-secrets"), token, json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    pg.assert_converged("after a hand-made change").await;

    // PATCH: a new mapping renames the owned secrets; a bad statement changes nothing.
    let r = app
        .patch(
            &one,
            token,
            json!({"parameters": {"username1": pg.users[0], "username2": pg.users[1], "rotationStatement": "DROP {{x}}"}}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = app
        .patch(
            &one,
            token,
            json!({"secretsMapping": {"username": "DB_USER", "password": "DB_PASSWORD"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (user, password) = app
        .read_pair(token, &pg.project, ["DB_USER", "DB_PASSWORD"])
        .await;
    assert!(pg.logs_in(&user, &password).await);

    // Delete with revoke: both users are locked out, the secrets go.
    let slots = pg.slots().await.0;
    let r = app
        .delete(
            &format!("{one}?revokeGeneratedCredentials=true&deleteSecrets=true"),
            token,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (user, password) in slots {
        assert!(!pg.logs_in(&user, &password).await, "{user} still logs in");
    }
    assert_eq!(app.count("secret_rotations").await, 0);
    let r = app.get(&one, token).await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!(format!(
            "Could not find PostgreSQL Credentials Rotation with ID \"{}\"",
            pg.id
        )),
    );
}

const CONNECTIONS: &str = "/api/v1/app-connections/postgres";

/// Infisical's route set for the `postgres` connection: create refuses what would not work
/// (never quoting the password), get by id and by name, available, PATCH re-validates new
/// credentials, DELETE refuses while a rotation uses it.
#[tokio::test]
async fn postgres_connections_are_validated_by_logging_in() {
    let pg = pg_world().await;
    let (app, token) = (&pg.app, &pg.token);
    let tag = &pg.conn_role["rotary_conn_".len()..];
    let credentials = |password: &str| {
        json!({
            "host": pg.host, "port": pg.port, "database": pg.database, "username": pg.conn_role,
            "password": password, "sslEnabled": false, "sslRejectUnauthorized": false,
        })
    };
    let body = |name: &str, credentials: serde_json::Value| json!({"name": name, "method": "username-and-password", "projectId": pg.project, "credentials": credentials});
    let r = app
        .post(
            CONNECTIONS,
            token,
            body("wrong", credentials("not-the-password")),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "Unable to validate connection: PostgreSQL refused the login of \"{}\" (wrong password, or no pg_hba.conf entry allows it)",
            pg.conn_role
        )),
    );
    let mut no_port = credentials("x");
    no_port["port"] = json!("five");
    let r = app
        .post(CONNECTIONS, token, body("bad-port", no_port))
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "custom", "path": ["credentials", "port"], "message": "Expected number, received string"}]),
    );
    let mut blank = credentials("x");
    blank["host"] = json!("   ");
    let r = app.post(CONNECTIONS, token, body("blank", blank)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["message"][0]["path"], json!(["credentials", "host"]));
    let r = app
        .post(
            CONNECTIONS,
            token,
            json!({"name": "m", "method": "client-credentials", "projectId": pg.project, "credentials": credentials("x")}),
        )
        .await;
    assert_error(
        &r,
        422,
        "ValidationFailure",
        json!([{"code": "invalid_enum_value", "path": ["method"], "message": "Invalid enum value. Expected 'username-and-password', received 'client-credentials'"}]),
    );
    let r = app
        .post(
            CONNECTIONS,
            token,
            body("pg", credentials(&format!("conn-pw-{tag}"))),
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!("An App Connection with the name \"pg\" already exists"),
    );
    assert_eq!(app.count("app_connections").await, 1);

    // Reads.
    let one = format!("{CONNECTIONS}/{}", pg.connection_id);
    let got = app.get(&one, token).await;
    assert_eq!(got.status, 200, "{}", got.body);
    let by_name = app
        .get(
            &format!("{CONNECTIONS}/connection-name/pg?projectId={}", pg.project),
            token,
        )
        .await;
    assert_eq!(by_name.body, got.body);
    let r = app
        .get(
            &format!(
                "{CONNECTIONS}/connection-name/nope?projectId={}",
                pg.project
            ),
            token,
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        json!("Could not find App Connection with name \"nope\""),
    );
    let r = app
        .get(
            &format!("{CONNECTIONS}/available?projectId={}", pg.project),
            token,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"appConnections": [{
            "app": "postgres", "name": "pg", "id": pg.connection_id,
            "projectId": pg.project, "orgId": got.body["appConnection"]["orgId"],
        }]})
    );
    let r = app
        .get(
            &format!(
                "/api/v1/app-connections/salesforce/available?projectId={}",
                pg.project
            ),
            token,
        )
        .await;
    assert_eq!(r.body, json!({"appConnections": []}));
    let r = app
        .get(
            &format!("/api/v1/app-connections/salesforce/{}", pg.connection_id),
            token,
        )
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "App Connection with ID {} is not a Salesforce connection",
            pg.connection_id
        )),
    );

    // PATCH: new credentials are checked first; a wrong password changes nothing.
    let r = app
        .patch(
            &one,
            token,
            json!({"credentials": credentials("wrong-again")}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(!r.body.to_string().contains("wrong-again"));
    let after = app.get(&one, token).await;
    assert_eq!(after.body, got.body);
    sqlx::query(&format!(
        "ALTER ROLE {} PASSWORD 'new-conn-pw-{tag}'",
        pg.conn_role
    ))
    .execute(&pg.admin)
    .await
    .unwrap();
    let r = app
        .patch(
            &one,
            token,
            json!({"credentials": credentials(&format!("new-conn-pw-{tag}")), "description": "rotated by hand"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_ne!(
        r.body["appConnection"]["credentialsHash"],
        got.body["appConnection"]["credentialsHash"]
    );
    // The rotation uses the new credentials at once.
    pg.run("manual").await.unwrap();
    pg.assert_converged("after the connection changed").await;

    let r = app.delete(&one, token, None).await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "App Connection with ID {} is used by 1 secret rotation(s); delete them first",
            pg.connection_id
        )),
    );
    let r = app.delete(&format!("{PG}/{}", pg.id), token, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.delete(&one, token, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.count("app_connections").await, 0);
}

/// A user belongs to one rotation on its server: a second rotation (or a PATCH) naming it is
/// refused before any statement, and deleting the first frees it.
#[tokio::test]
async fn a_user_belongs_to_one_rotation_only() {
    let pg = pg_world().await;
    let (app, token) = (&pg.app, &pg.token);
    let body = |name: &str, u1: &str, u2: &str| {
        json!({
            "name": name, "projectId": pg.project, "connectionId": pg.connection_id,
            "environment": "dev", "secretPath": "/", "rotationInterval": 30,
            "parameters": {"username1": u1, "username2": u2},
            "secretsMapping": {"username": format!("{name}_U"), "password": format!("{name}_P")},
        })
    };
    for sql in [
        format!("CREATE ROLE other_{} LOGIN PASSWORD 'x'", pg.users[0]),
        format!(
            "GRANT other_{} TO {} WITH ADMIN OPTION",
            pg.users[0], pg.conn_role
        ),
    ] {
        sqlx::query(&sql).execute(&pg.admin).await.unwrap();
    }
    let other = format!("other_{}", pg.users[0]);
    let runs = app.count("rotation_runs").await;
    let before = pg.mapped().await;
    let r = app
        .post(PG, token, body("second", &other, &pg.users[1]))
        .await;
    assert_error(
        &r,
        400,
        "BadRequest",
        json!(format!(
            "The user \"{other}\" or \"{}\" is already rotated by another PostgreSQL rotation on this server. A user can belong to one rotation only: two would change each other's passwords. Delete the other rotation first, or use other users.",
            pg.users[1]
        )),
    );
    assert_eq!(app.count("rotation_runs").await, runs, "no run started");
    assert_eq!(pg.mapped().await, before);
    assert!(pg.logs_in(&before.0, &before.1).await);
    // A second rotation of other users is fine; a PATCH onto a taken user is not.
    for sql in [
        format!("CREATE ROLE other2_{} LOGIN PASSWORD 'x'", pg.users[0]),
        format!(
            "GRANT other2_{} TO {} WITH ADMIN OPTION",
            pg.users[0], pg.conn_role
        ),
    ] {
        sqlx::query(&sql).execute(&pg.admin).await.unwrap();
    }
    let other2 = format!("other2_{}", pg.users[0]);
    let r = app.post(PG, token, body("second", &other, &other2)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.body["secretRotation"]["id"].as_str().unwrap().to_string();
    let r = app
        .patch(
            &format!("{PG}/{second}"),
            token,
            json!({"parameters": {"username1": pg.users[0], "username2": other2}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        app.count("rotation_targets").await,
        4,
        "each rotation holds its two users"
    );
    // Deleting the first frees its users.
    let r = app.delete(&format!("{PG}/{}", pg.id), token, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .patch(
            &format!("{PG}/{second}"),
            token,
            json!({"parameters": {"username1": pg.users[0], "username2": other2}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.count("rotation_targets").await, 2);
}
