//! Fake providers for tests, demos and users trying Rotary without a real account.

pub mod active_directory;
pub mod auth0;
pub mod azure;
pub mod harness;
#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "mssql")]
pub mod mssql;
pub mod okta;
#[cfg(feature = "oracle")]
pub mod oracle;
pub mod salesforce;
