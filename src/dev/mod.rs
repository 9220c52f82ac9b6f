//! `rotary dev`: the local demo in one process. A throwaway PostgreSQL under a data directory
//! (kept between runs; `--fresh` starts over), the mock Salesforce org and the server in
//! rotation dev mode (intervals count minutes), an organization, machine identity, project,
//! Salesforce connection and PostgreSQL connection (to two login roles of the demo's own
//! cluster) set up through the API, and a walkthrough of curl commands to paste. Ctrl-C stops everything; the mock org's credentials are saved so the next start
//! finds the org as it was left.

mod postgres;
mod walkthrough;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::Options;
use crate::crypto::Key;
use crate::mock::salesforce;
use crate::telemetry::{self, LogFormat};

pub use postgres::LocalPostgres;

/// The mock org's random seed: the same apps, ids and first credentials on every start.
pub const MOCK_RNG_SEED: u64 = 20261125;

pub struct DevOptions {
    pub data_dir: PathBuf,
    pub fresh: bool,
    pub listen: SocketAddr,
    pub mock_listen: SocketAddr,
    /// The server's settings from the environment; dev mode and internal URLs are forced on.
    pub options: Options,
    pub log_format: LogFormat,
    pub log_level: String,
}

/// What the first start set up, kept in `setup.json` for the next.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    pub client_id: String,
    pub client_secret: String,
    pub project_id: String,
    pub connection_id: String,
    pub instance_url: String,
    /// The PostgreSQL connection to this demo's own cluster (absent in older setups: made on
    /// the next start), the port it was made for, and its role's password.
    #[serde(default)]
    pub pg_connection_id: String,
    #[serde(default)]
    pub pg_port: u16,
    #[serde(default)]
    pub pg_password: String,
}

/// The demo's PostgreSQL roles: the connection's (CREATEROLE) and the two it rotates.
pub const PG_CONNECTION_ROLE: &str = "rotary_demo";
pub const PG_USERS: [&str; 2] = ["demo_app_1", "demo_app_2"];

pub async fn run(opts: DevOptions) -> anyhow::Result<()> {
    let dir = &opts.data_dir;
    if opts.fresh && dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .context("opening server.log")?;
    telemetry::init_to_file(opts.log_format, &opts.log_level, log);

    eprintln!(
        "Starting PostgreSQL (data in {})...",
        dir.join("pg").display()
    );
    let pg_dir = dir.join("pg");
    let mut pg = tokio::task::spawn_blocking(move || LocalPostgres::start(&pg_dir)).await??;
    let result = run_on(&opts, &pg.url(), pg.port()).await;
    pg.stop();
    eprintln!("Rotary stopped.");
    result
}

async fn run_on(opts: &DevOptions, database_url: &str, pg_port: u16) -> anyhow::Result<()> {
    let dir = &opts.data_dir;
    let root_key = root_key(&dir.join("root-key"))?;
    let pool = crate::connect(&database_url.to_string().into(), 32).await?;
    crate::migrate(&pool).await?;

    let mock_listener = tokio::net::TcpListener::bind(opts.mock_listen)
        .await
        .with_context(|| format!("cannot listen on {} (--mock-listen)", opts.mock_listen))?;
    let (mock, instance_url) = salesforce::spawn(mock_listener, None, Some(MOCK_RNG_SEED)).await?;
    let saved_org = dir.join("mock-org.json");
    if let Ok(text) = std::fs::read_to_string(&saved_org) {
        let saved = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; start over with --fresh",
                saved_org.display()
            )
        })?;
        mock.org().restore_credentials(saved);
    }

    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", opts.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    let options = Options {
        allow_internal_urls: true,
        rotation_dev_mode: true,
        ..opts.options.clone()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::run_server(
        pool.clone(),
        listener,
        root_key,
        options,
        async {
            let _ = stopped.await;
        },
    ));

    let connector = mock
        .seeded_apps()
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("the mock org has no apps"))?;
    let outcome = async {
        let mut setup = set_up(&dir.join("setup.json"), &base, &instance_url, &connector).await?;
        set_up_postgres(
            &dir.join("setup.json"),
            database_url,
            &base,
            pg_port,
            &mut setup,
        )
        .await?;
        println!(
            "{}",
            walkthrough::text(&base, database_url, &dir.display().to_string(), &setup)
        );
        crate::shutdown_signal().await;
        anyhow::Ok(())
    }
    .await;

    let _ = stop.send(());
    let served = server.await;
    let saved = serde_json::to_string(&mock.org().saved_credentials())?;
    write_private(&saved_org, &saved)?;
    pool.close().await;
    outcome?;
    served??;
    Ok(())
}

/// The root key of this demo, made on first start (32 random bytes, base64, mode 0600).
fn root_key(path: &Path) -> anyhow::Result<Key> {
    if !path.exists() {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        write_private(
            path,
            &base64::engine::general_purpose::STANDARD.encode(bytes),
        )?;
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Key::from_base64(&text).map_err(|e| anyhow!("{} is invalid: {e}", path.display()))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// On first start, sets the instance up through its own API, as a user would; afterwards
/// reads what was set up, and points the connection at the mock org if its address changed.
async fn set_up(
    path: &Path,
    base: &str,
    instance_url: &str,
    connector: &salesforce::SeededApp,
) -> anyhow::Result<Setup> {
    let api = Api::new(base);
    let credentials = json!({
        "instanceUrl": instance_url,
        "consumerKey": connector.key,
        "consumerSecret": connector.secret,
    });
    if let Ok(text) = std::fs::read_to_string(path) {
        let mut setup: Setup = serde_json::from_str(&text)
            .with_context(|| format!("{} is damaged; start over with --fresh", path.display()))?;
        if setup.instance_url != instance_url {
            let token = api.login(&setup).await?;
            api.call(
                reqwest::Method::PATCH,
                &format!("/api/v1/app-connections/salesforce/{}", setup.connection_id),
                Some(&token),
                json!({"credentials": credentials}),
            )
            .await?;
            setup.instance_url = instance_url.to_string();
            write_private(path, &serde_json::to_string(&setup)?)?;
        }
        return Ok(setup);
    }
    let admin = api
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/bootstrap",
            None,
            json!({"organization": "Demo"}),
        )
        .await?;
    let ua = &admin["identity"]["credentials"];
    let mut setup = Setup {
        client_id: text(&ua["clientId"])?,
        client_secret: text(&ua["clientSecret"])?,
        project_id: String::new(),
        connection_id: String::new(),
        instance_url: instance_url.to_string(),
        pg_connection_id: String::new(),
        pg_port: 0,
        pg_password: String::new(),
    };
    let token = api.login(&setup).await?;
    let project = api
        .call(
            reqwest::Method::POST,
            "/api/v2/workspace",
            Some(&token),
            json!({"projectName": "Billing", "slug": "billing"}),
        )
        .await?;
    setup.project_id = text(&project["project"]["id"])?;
    let connection = api
        .call(
            reqwest::Method::POST,
            "/api/v1/app-connections/salesforce",
            Some(&token),
            json!({"name": "demo-org", "method": "client-credentials",
                   "projectId": setup.project_id, "credentials": credentials}),
        )
        .await?;
    setup.connection_id = text(&connection["appConnection"]["id"])?;
    write_private(path, &serde_json::to_string(&setup)?)?;
    Ok(setup)
}

/// The PostgreSQL part of the demo: a connection role and two login roles in this demo's own
/// cluster, and a `postgres` connection to it made through the API (on the first start, or
/// the first of this version); afterwards the connection follows the cluster's new port.
async fn set_up_postgres(
    path: &Path,
    database_url: &str,
    base: &str,
    port: u16,
    setup: &mut Setup,
) -> anyhow::Result<()> {
    let api = Api::new(base);
    let credentials = |password: &str| {
        json!({
            "host": "127.0.0.1", "port": port, "database": "postgres",
            "username": PG_CONNECTION_ROLE, "password": password,
            "sslEnabled": false, "sslRejectUnauthorized": false,
        })
    };
    if !setup.pg_connection_id.is_empty() {
        if setup.pg_port != port {
            let token = api.login(setup).await?;
            api.call(
                reqwest::Method::PATCH,
                &format!(
                    "/api/v1/app-connections/postgres/{}",
                    setup.pg_connection_id
                ),
                Some(&token),
                json!({"credentials": credentials(&setup.pg_password)}),
            )
            .await?;
            setup.pg_port = port;
            write_private(path, &serde_json::to_string(setup)?)?;
        }
        return Ok(());
    }
    let password = crate::providers::password::generate(&Default::default());
    // The statements carry passwords: a connection of its own that never logs them.
    let options: sqlx::postgres::PgConnectOptions = database_url.parse()?;
    let mut conn: sqlx::PgConnection = sqlx::Connection::connect_with(
        &sqlx::ConnectOptions::log_statements(options, log::LevelFilter::Off),
    )
    .await?;
    for (role, extra) in [
        (PG_CONNECTION_ROLE, " CREATEROLE"),
        (PG_USERS[0], ""),
        (PG_USERS[1], ""),
    ] {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(role)
                .fetch_one(&mut conn)
                .await?;
        let verb = if exists { "ALTER" } else { "CREATE" };
        // The users' first passwords are thrown away: the rotation sets them.
        let secret = if role == PG_CONNECTION_ROLE {
            password.clone()
        } else {
            crate::providers::password::generate(&Default::default())
        };
        sqlx::query(&format!(
            "{verb} ROLE {role} LOGIN{extra} PASSWORD '{secret}'"
        ))
        .persistent(false)
        .execute(&mut conn)
        .await?;
    }
    for user in PG_USERS {
        sqlx::query(&format!(
            "GRANT {user} TO {PG_CONNECTION_ROLE} WITH ADMIN OPTION"
        ))
        .execute(&mut conn)
        .await?;
    }
    let _ = sqlx::Connection::close(conn).await;
    let token = api.login(setup).await?;
    let connection = api
        .call(
            reqwest::Method::POST,
            "/api/v1/app-connections/postgres",
            Some(&token),
            json!({"name": "demo-db", "method": "username-and-password",
                   "projectId": setup.project_id, "credentials": credentials(&password)}),
        )
        .await?;
    setup.pg_connection_id = text(&connection["appConnection"]["id"])?;
    setup.pg_port = port;
    setup.pg_password = password;
    write_private(path, &serde_json::to_string(setup)?)?;
    Ok(())
}

fn text(value: &Value) -> anyhow::Result<String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("unexpected answer from the server: {value}"))
}

/// A few calls to our own API.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.to_string(),
        }
    }

    async fn login(&self, setup: &Setup) -> anyhow::Result<String> {
        let body = json!({"clientId": setup.client_id, "clientSecret": setup.client_secret});
        let out = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/universal-auth/login",
                None,
                body,
            )
            .await?;
        text(&out["accessToken"])
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("calling {path}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(anyhow!(
                "setting up the demo: {path} answered {status}: {}; if the data directory is from an older run, start over with --fresh",
                body["message"]
            ));
        }
        Ok(body)
    }
}
