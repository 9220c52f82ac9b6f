//! Logging: one subscriber for the process, JSON or human-readable, filtered by level.

use std::io::IsTerminal;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Logs to standard error.
pub fn init(format: LogFormat, level: &str) {
    init_with(
        format,
        level,
        std::io::stderr,
        std::io::stderr().is_terminal(),
    );
}

/// Logs to a file (`rotary dev` keeps the terminal for its walkthrough).
pub fn init_to_file(format: LogFormat, level: &str, file: std::fs::File) {
    init_with(format, level, std::sync::Mutex::new(file), false);
}

fn init_with<W>(format: LogFormat, level: &str, writer: W, ansi: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
        LogFormat::Pretty => builder.compact().init(),
    }
}
