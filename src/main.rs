//! The `rotary` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rotary::config::{self, Options, ServeConfig, SettingError};
use rotary::telemetry::{self, LogFormat};

#[derive(Parser)]
#[command(
    name = "rotary",
    version,
    about = "Secret rotation server, wire-compatible with Infisical's API"
)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        env = "ROTARY_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    log_format: LogFormat,
    /// Log level or filter, e.g. `info` or `rotary=debug,info`.
    #[arg(long, env = "ROTARY_LOG_LEVEL", default_value = "info", global = true)]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (applies migrations first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ROTARY_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// The local demo: a throwaway PostgreSQL, the mock Salesforce org and the server in
    /// rotation dev mode, set up and ready, with a walkthrough of curl commands. Ctrl-C stops it.
    Dev {
        /// Where the demo keeps its database, keys and setup between runs.
        #[arg(long, env = "ROTARY_DEV_DIR", default_value = ".rotary-dev")]
        data_dir: std::path::PathBuf,
        /// Delete the data directory first and start over.
        #[arg(long)]
        fresh: bool,
        /// Address of the API server.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Address of the mock Salesforce org.
        #[arg(long, default_value = "127.0.0.1:8787")]
        mock_listen: String,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Set up a new instance: an organization and its admin identity; prints their credentials.
    Bootstrap {
        /// Name of the organization.
        #[arg(long)]
        organization: String,
    },
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Run the mock Salesforce org (for tests, demos and trying Rotary without a real org).
    MockSalesforce {
        /// Address to listen on.
        #[arg(long, env = "MOCK_SALESFORCE_LISTEN", default_value = "127.0.0.1:8787")]
        listen: String,
        /// JSON seed file with the org's users and apps (default: the demo org).
        #[arg(long)]
        seed: Option<std::path::PathBuf>,
        /// Seed for the random generator, for reproducible ids and keys.
        #[arg(long)]
        rng_seed: Option<u64>,
    },
    /// Run a mock provider on its own (try a rotation type without an account): prints its
    /// URL and credentials as one JSON line.
    Mock {
        #[arg(value_enum)]
        provider: MockProvider,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8788")]
        listen: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MockProvider {
    /// An Okta org: an API token and one OIDC app with one client secret.
    Okta,
    /// An Auth0 tenant: a Machine-to-Machine client for the Management API and one
    /// application.
    Auth0,
    /// Microsoft's token endpoint and Graph: a tenant with an app registration that may
    /// manage the others and one to rotate (point ROTARY_AZURE_LOGIN_URL and
    /// ROTARY_AZURE_GRAPH_URL at it).
    Azure,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The server's behaviour settings from the environment.
fn options() -> Result<Options, SettingError> {
    use rotary::rotation::scheduler::{RetryPolicy, SchedulerConfig};
    let number = |name: &'static str, default: i64| config::positive(name, env(name), default);
    let defaults = Options::default();
    Ok(Options {
        allow_internal_urls: config::flag(
            "ROTARY_ALLOW_INTERNAL_URLS",
            env("ROTARY_ALLOW_INTERNAL_URLS"),
        )?,
        rotation_dev_mode: config::flag(
            "ROTARY_ROTATION_DEV_MODE",
            env("ROTARY_ROTATION_DEV_MODE"),
        )?,
        lease_seconds: number("ROTARY_RUN_LEASE_SECONDS", defaults.lease_seconds)?,
        retry: RetryPolicy {
            start: std::time::Duration::from_secs(number("ROTARY_RETRY_START_SECONDS", 30)? as u64),
            attempts: number("ROTARY_RETRY_ATTEMPTS", 5)? as u32,
        },
        scheduler: SchedulerConfig {
            concurrency: number("ROTARY_SCHEDULER_CONCURRENCY", 16)? as usize,
            per_connection: number("ROTARY_SCHEDULER_PER_CONNECTION", 4)? as usize,
            upcoming_notice: std::time::Duration::from_secs(config::non_negative(
                "ROTARY_WEBHOOK_UPCOMING_SECONDS",
                env("ROTARY_WEBHOOK_UPCOMING_SECONDS"),
                3600,
            )? as u64),
            ..SchedulerConfig::default()
        },
        provider_timeout: std::time::Duration::from_secs(number(
            "ROTARY_PROVIDER_TIMEOUT_SECONDS",
            30,
        )? as u64),
        cors_origins: config::cors_origins(env("ROTARY_CORS_ORIGINS"))?,
        metrics_token: config::metrics_token(env("ROTARY_METRICS_TOKEN"))?,
        azure: config::AzureEndpoints {
            login: config::endpoint(
                "ROTARY_AZURE_LOGIN_URL",
                env("ROTARY_AZURE_LOGIN_URL"),
                &defaults.azure.login,
            )?,
            graph: config::endpoint(
                "ROTARY_AZURE_GRAPH_URL",
                env("ROTARY_AZURE_GRAPH_URL"),
                &defaults.azure.graph,
            )?,
        },
        aws: config::aws(
            env("ROTARY_AWS_ENDPOINT_URL"),
            env("ROTARY_AWS_ACCESS_KEY_ID"),
            env("ROTARY_AWS_SECRET_ACCESS_KEY"),
        )?,
        ..defaults
    })
}

/// A bad setting: one line naming it, exit code 2.
fn setting_failure(err: SettingError) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(2)
}

fn failure(err: anyhow::Error) -> ExitCode {
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    rotary::install_crypto_provider();
    match cli.command {
        Command::Openapi => {
            print!("{}", rotary::http::openapi_yaml());
            ExitCode::SUCCESS
        }
        Command::Migrate => {
            telemetry::init(cli.log_format, &cli.log_level);
            let url = match config::database_url(env("DATABASE_URL")) {
                Ok(url) => url,
                Err(e) => return setting_failure(e),
            };
            let result = async {
                let pool = rotary::connect(&url, 2).await?;
                rotary::migrate(&pool).await
            };
            match result.await {
                Ok(()) => {
                    tracing::info!("migrations applied");
                    ExitCode::SUCCESS
                }
                Err(e) => failure(e),
            }
        }
        Command::Bootstrap { organization } => {
            let url = match config::database_url(env("DATABASE_URL")) {
                Ok(url) => url,
                Err(e) => return setting_failure(e),
            };
            let result = async {
                let pool = rotary::connect(&url, 2).await?;
                rotary::migrate(&pool).await?;
                rotary::auth::bootstrap::bootstrap(&pool, organization.trim())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            };
            match result.await {
                Ok(out) => {
                    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => failure(e),
            }
        }
        Command::MockSalesforce {
            listen,
            seed,
            rng_seed,
        } => {
            telemetry::init(cli.log_format, &cli.log_level);
            match mock_salesforce(&listen, seed.as_deref(), rng_seed).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => failure(e),
            }
        }
        Command::Mock { provider, listen } => {
            telemetry::init(cli.log_format, &cli.log_level);
            match mock_provider(provider, &listen).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => failure(e),
            }
        }
        Command::Dev {
            data_dir,
            fresh,
            listen,
            mock_listen,
        } => {
            let opts = match (|| {
                Ok::<_, SettingError>(rotary::dev::DevOptions {
                    data_dir,
                    fresh,
                    listen: config::address("--listen", &listen)?,
                    mock_listen: config::address("--mock-listen", &mock_listen)?,
                    options: options()?,
                    log_format: cli.log_format,
                    log_level: cli.log_level,
                })
            })() {
                Ok(opts) => opts,
                Err(e) => return setting_failure(e),
            };
            match rotary::dev::run(opts).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => failure(e),
            }
        }
        Command::Serve { listen } => {
            let config = match (|| {
                Ok::<_, SettingError>(ServeConfig {
                    database_url: config::database_url(env("DATABASE_URL"))?,
                    root_key: config::root_key(env("ROTARY_ROOT_KEY"))?,
                    listen: config::listen(&listen)?,
                    options: options()?,
                })
            })() {
                Ok(config) => config,
                Err(e) => return setting_failure(e),
            };
            telemetry::init(cli.log_format, &cli.log_level);
            match serve(config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => failure(e),
            }
        }
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let pool = rotary::connect(&config.database_url, 32).await?;
    rotary::migrate(&pool).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (ROTARY_LISTEN): {e}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, root_key_id = %config.root_key.id(), "rotary is serving");
    rotary::run_server(
        pool,
        listener,
        config.root_key,
        config.options,
        rotary::shutdown_signal(),
    )
    .await?;
    Ok(())
}

async fn mock_provider(provider: MockProvider, listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    match provider {
        MockProvider::Okta => {
            let (org, base) = rotary::mock::okta::spawn(listener).await?;
            let api_token = org.org().add_token();
            let (id, secret) = org.org().add_app("Demo app");
            println!(
                "{}",
                serde_json::json!({"instanceUrl": base, "apiToken": api_token,
                                   "apps": [{"id": id, "label": "Demo app", "clientSecret": secret}]})
            );
        }
        MockProvider::Azure => {
            let (mock, base) = rotary::mock::azure::spawn(listener).await?;
            let mut d = mock.directory();
            let tenant = d.add_tenant();
            let (_, manager, manager_secret) = d.add_app(tenant, "Rotary", true);
            let (object_id, client_id, secret) = d.add_app(tenant, "Demo app", false);
            drop(d);
            println!(
                "{}",
                serde_json::json!({"loginUrl": base, "graphUrl": base, "tenantId": tenant,
                                   "clientId": manager, "clientSecret": manager_secret,
                                   "apps": [{"objectId": object_id, "clientId": client_id, "name": "Demo app", "clientSecret": secret}]})
            );
        }
        MockProvider::Auth0 => {
            let (tenant, base) = rotary::mock::auth0::spawn(listener).await?;
            let (m2m, m2m_secret) = tenant
                .tenant()
                .add_client("Rotary", &["read:clients", "update:client_keys"]);
            let (id, secret) = tenant.tenant().add_client("Demo app", &[]);
            let audience = tenant.tenant().audience();
            println!(
                "{}",
                serde_json::json!({"domain": base, "audience": audience, "clientId": m2m, "clientSecret": m2m_secret,
                                   "apps": [{"clientId": id, "name": "Demo app", "clientSecret": secret}]})
            );
        }
    }
    rotary::shutdown_signal().await;
    Ok(())
}

async fn mock_salesforce(
    listen: &str,
    seed: Option<&std::path::Path>,
    rng_seed: Option<u64>,
) -> anyhow::Result<()> {
    use rotary::mock::salesforce;
    let seed = match seed {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read seed file {}: {e}", path.display()))?;
            Some(
                serde_json::from_str::<salesforce::model::Seed>(&text)
                    .map_err(|e| anyhow::anyhow!("seed file {} is invalid: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let (org, base) = salesforce::spawn(listener, seed.as_ref(), rng_seed).await?;
    // One JSON line with everything a user needs to point a connection at this org.
    println!(
        "{}",
        serde_json::json!({"instanceUrl": base, "apps": org.seeded_apps()})
    );
    rotary::shutdown_signal().await;
    Ok(())
}
