//! `spawn_app()`: a Rotary server on 127.0.0.1:0 with its own fresh database, and a client
//! that speaks to it over real HTTP. Logs of every test go to one captured buffer so tests can
//! check that no secret is ever logged.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use reqwest::{Method, StatusCode};
use rotary::config::{Limits, Options};
use rotary::crypto::Key;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_env_filter("debug,hyper=info,h2=info,reqwest=info,rustls=info")
            .json()
            .with_current_span(true)
            .with_writer(|| Capture)
            .init();
    });
}

/// Everything every test has logged so far.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    /// The server's state when it runs in this process.
    pub state: Option<rotary::AppState>,
}

pub struct Response {
    pub status: StatusCode,
    pub body: Value,
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a Postgres server; run the tests with scripts/test.sh")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Limits::default()).await
}

/// A new empty database on the test server; returns its URL.
pub async fn fresh_database() -> String {
    let admin = admin_url();
    // The process id in the name says whose it is: databases of test runs that have ended are
    // dropped by the next run (the first time it makes one), so a developer's cluster does not
    // grow by every run's hundreds of databases.
    let name = format!(
        "rotary_test_{}_{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let admin_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin)
        .await
        .expect("connect to the test server");
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| drop_ended_runs_databases(&admin_pool))
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin_pool)
        .await
        .expect("create the test database");
    admin_pool.close().await;
    let (base_url, _) = admin
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    format!("{base_url}/{name}")
}

/// Drops the test databases of test processes that are gone (and of runs from before the
/// names carried a process id).
async fn drop_ended_runs_databases(admin: &sqlx::PgPool) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'rotary\\_test\\_%'",
    )
    .fetch_all(admin)
    .await
    .unwrap_or_default();
    for name in names {
        let owner = name
            .strip_prefix("rotary_test_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        let alive = owner.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(admin)
                .await;
        }
    }
}

pub async fn spawn_app_with(limits: Limits) -> TestApp {
    let options = Options {
        limits,
        ..test_options()
    };
    let database_url = fresh_database().await;
    spawn_server(&database_url, Key::generate(), options, false).await
}

/// What every test server allows: the mock org on loopback; and where Microsoft is: the
/// process's mock of it (`azure`).
pub fn test_options() -> Options {
    let base = azure().1.clone();
    Options {
        allow_internal_urls: true,
        azure: rotary::config::AzureEndpoints {
            login: base.clone(),
            graph: base,
        },
        aws: rotary::config::AwsSettings {
            endpoint: aws_endpoint(),
            own_key: None,
        },
        ..Options::default()
    }
}

/// moto's URL when the tests run under scripts/with-moto.sh.
pub fn aws_endpoint() -> Option<String> {
    std::env::var("ROTARY_TEST_AWS_URL").ok()
}

/// The mock Microsoft identity platform and Graph every test server of this process points
/// at (Azure's endpoints are settings, not part of a connection), on a thread of its own: a
/// test's runtime ends with its test. Each world makes a tenant of its own in it.
pub fn azure() -> &'static (rotary::mock::azure::MockAzure, String) {
    static AZURE: std::sync::OnceLock<(rotary::mock::azure::MockAzure, String)> =
        std::sync::OnceLock::new();
    AZURE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the Azure mock");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let pair = rotary::mock::azure::spawn(listener).await.unwrap();
                tx.send(pair).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the Azure mock starts")
    })
}

/// A server on `database_url` (migrated), optionally running the scheduler (polling every
/// 100 ms). Several may share one database: they are replicas.
pub async fn spawn_server(
    database_url: &str,
    root_key: Key,
    options: Options,
    scheduler: bool,
) -> TestApp {
    init_logs();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(database_url)
        .await
        .expect("connect to the test database");
    rotary::migrate(&pool).await.expect("migrations apply");
    let scheduler_config = rotary::rotation::scheduler::SchedulerConfig {
        poll_interval: std::time::Duration::from_millis(100),
        ..options.scheduler.clone()
    };
    let state = rotary::AppState::new(pool.clone(), root_key, options);
    if scheduler {
        rotary::rotation::scheduler::spawn(state.clone(), scheduler_config);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(rotary::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        pool,
        state: Some(state),
    }
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("response is JSON: {text}"))
        };
        Response { status, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }
    pub async fn delete(&self, path: &str, token: &str, body: Option<Value>) -> Response {
        self.call(Method::DELETE, path, Some(token), body).await
    }

    /// The `/api/v2/secret-rotations/options` entry of a rotation type, if listed.
    #[cfg(feature = "crash-points")]
    pub async fn rotation_option(&self, token: &str, slug: &str) -> Option<Value> {
        let options = self.get("/api/v2/secret-rotations/options", token).await;
        options.body["secretRotationOptions"]
            .as_array()?
            .iter()
            .find(|e| e["type"] == slug)
            .cloned()
    }

    /// Bootstraps the instance; returns (clientId, clientSecret, identityId, orgId).
    pub async fn bootstrap(&self) -> (String, String, String, String) {
        let r = self
            .call(
                Method::POST,
                "/api/v1/admin/bootstrap",
                None,
                Some(json!({"organization": "Acme"})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let creds = &r.body["identity"]["credentials"];
        (
            creds["clientId"].as_str().unwrap().to_string(),
            creds["clientSecret"].as_str().unwrap().to_string(),
            r.body["identity"]["id"].as_str().unwrap().to_string(),
            r.body["organization"]["id"].as_str().unwrap().to_string(),
        )
    }

    pub async fn login(&self, client_id: &str, client_secret: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/api/v1/auth/universal-auth/login",
                None,
                Some(json!({"clientId": client_id, "clientSecret": client_secret})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["accessToken"].as_str().unwrap().to_string()
    }

    /// Bootstraps and logs in as the admin identity.
    pub async fn admin_token(&self) -> String {
        let (id, secret, _, _) = self.bootstrap().await;
        self.login(&id, &secret).await
    }

    /// Creates a project as `token`; returns its id.
    pub async fn create_project(&self, token: &str, name: &str) -> String {
        let r = self
            .post("/api/v2/workspace", token, json!({"projectName": name}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["project"]["id"].as_str().unwrap().to_string()
    }

    /// A second identity in the admin's organization, with universal auth; returns (id, token).
    pub async fn new_identity(&self, admin: &str, name: &str, org_role: &str) -> (String, String) {
        let r = self
            .post(
                "/api/v1/identities",
                admin,
                json!({"name": name, "role": org_role}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let id = r.body["identity"]["id"].as_str().unwrap().to_string();
        let r = self
            .post(
                &format!("/api/v1/auth/universal-auth/identities/{id}"),
                admin,
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let client_id = r.body["identityUniversalAuth"]["clientId"]
            .as_str()
            .unwrap()
            .to_string();
        let r = self
            .post(
                &format!("/api/v1/auth/universal-auth/identities/{id}/client-secrets"),
                admin,
                json!({"description": "test"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let secret = r.body["clientSecret"].as_str().unwrap().to_string();
        let token = self.login(&client_id, &secret).await;
        (id, token)
    }

    /// Makes an identity a member of a project with a role (as the project's admin).
    pub async fn add_member(&self, admin: &str, project: &str, identity_id: &str, role: &str) {
        let r = self
            .post(
                &format!("/api/v2/workspace/{project}/identity-memberships/{identity_id}"),
                admin,
                json!({"role": role}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// Two secrets of a project's dev root as an application reads them (empty when missing).
    pub async fn read_pair(
        &self,
        token: &str,
        project: &str,
        names: [&str; 2],
    ) -> (String, String) {
        let r = self
            .get(
                &format!("/api/v3/secrets/raw?workspaceId={project}&environment=dev&secretPath=/"),
                token,
            )
            .await;
        let find = |name: &str| {
            r.body["secrets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["secretKey"] == name)
                .map(|s| s["secretValue"].as_str().unwrap().to_string())
                .unwrap_or_default()
        };
        (find(names[0]), find(names[1]))
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// Asserts an error body is exactly Infisical's shape with these values.
pub fn assert_error(r: &Response, status: u16, error: &str, message: Value) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    let req_id = r.body["reqId"].as_str().expect("reqId is a string");
    assert!(
        req_id.starts_with("req-") && req_id.len() == 18,
        "reqId {req_id}"
    );
    let mut expected = json!({
        "reqId": req_id,
        "statusCode": status,
        "message": message,
        "error": error,
    });
    if let Some(details) = r.body.get("details") {
        expected["details"] = details.clone();
    }
    assert_eq!(r.body, expected);
}

/// Replaces the values of fields that change from run to run (ids, times) with placeholders,
/// so whole bodies can be compared exactly.
pub fn redact(value: &Value, keys: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if keys.contains(&k.as_str()) && !v.is_null() {
                        (k.clone(), json!(format!("<{k}>")))
                    } else {
                        (k.clone(), redact(v, keys))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact(v, keys)).collect()),
        other => other.clone(),
    }
}

/// A `rotary serve` process of the test binary, for tests that kill and restart the server.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts `rotary serve` on a free port against `database_url` and waits until it serves.
    pub fn start(database_url: &str, root_key: &str, env: &[(&str, &str)]) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rotary"));
        cmd.args(["serve", "--log-format", "json"])
            .env("DATABASE_URL", database_url)
            .env("ROTARY_ROOT_KEY", root_key)
            .env("ROTARY_LISTEN", "127.0.0.1:0")
            .env("ROTARY_AZURE_LOGIN_URL", &azure().1)
            .env("ROTARY_AZURE_GRAPH_URL", &azure().1)
            .env("ROTARY_ALLOW_INTERNAL_URLS", "true")
            .env(
                "ROTARY_AWS_ENDPOINT_URL",
                aws_endpoint().unwrap_or_default(),
            )
            .env_remove("ROTARY_CRASH_AFTER")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("rotary starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let address = loop {
            let line = lines.next().expect("the server logs its address").unwrap();
            let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            if entry["message"] == "rotary is serving" {
                break entry["address"].as_str().unwrap().to_string();
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServerProcess {
            child,
            base: format!("http://{address}"),
        }
    }

    /// A `TestApp` that talks to this process.
    pub async fn app(&self, database_url: &str) -> TestApp {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(database_url)
            .await
            .unwrap();
        TestApp {
            base: self.base.clone(),
            client: reqwest::Client::new(),
            pool,
            state: None,
        }
    }

    /// Waits for the process to exit (up to 20 s); its exit code.
    pub async fn wait(&mut self) -> Option<i32> {
        for _ in 0..400 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the server did not exit");
    }

    /// Stops the server with SIGTERM (a graceful shutdown); its exit code.
    pub async fn stop(mut self) -> Option<i32> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.wait().await
    }
}

/// A failing test must not leave a server behind.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A loopback listener that counts the connections it is sent (where nothing should go).
pub async fn trap() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, hits)
}
