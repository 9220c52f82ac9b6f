//! Clients of the systems whose credentials Rotary rotates, one module per provider.

pub mod auth0;
#[cfg(feature = "aws")]
pub mod aws;
pub mod azure;
pub mod http_failure;
pub mod ldap;
pub mod login;
#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "mssql")]
pub mod mssql;
pub mod mysql;
pub mod okta;
#[cfg(feature = "oracle")]
pub mod oracle;
pub mod password;
pub mod postgres;
pub mod redis;
pub mod salesforce;
pub mod sql;
pub mod token_cache;
pub mod url_guard;
