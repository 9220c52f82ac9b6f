//! The `rotary` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rotary::config::{self, Limits, ServeConfig, SettingError};
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
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
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
        Command::Serve { listen } => {
            let config = match (|| {
                Ok::<_, SettingError>(ServeConfig {
                    database_url: config::database_url(env("DATABASE_URL"))?,
                    root_key: config::root_key(env("ROTARY_ROOT_KEY"))?,
                    listen: config::listen(&listen)?,
                    limits: Limits::default(),
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
    let state = rotary::AppState::new(pool, config.root_key, config.limits);
    rotary::serve(listener, state, rotary::shutdown_signal()).await?;
    Ok(())
}
