//! HTTP integration tests: each test starts its own server on a fresh database and talks to it
//! the way curl and the SDKs do.

mod app_connections;
mod auth;
#[cfg(feature = "crash-points")]
mod auth0;
#[cfg(all(feature = "aws", feature = "crash-points"))]
mod aws;
#[cfg(all(feature = "aws", feature = "crash-points"))]
mod aws_proxy;
#[cfg(feature = "crash-points")]
mod azure;
mod cache;
mod cli;
mod compose;
mod console;
#[cfg(feature = "crash-points")]
mod crash;
mod dashboard;
mod dev;
#[cfg(feature = "crash-points")]
mod engine_fake;
#[cfg(feature = "crash-points")]
mod engine_faults;
mod errors;
mod folders;
mod helpers;
mod identities;
#[cfg(feature = "crash-points")]
mod ldap;
#[cfg(feature = "crash-points")]
mod ldap_server;
mod leaks;
mod mock_salesforce;
#[cfg(all(feature = "mongodb", feature = "crash-points"))]
mod mongodb;
#[cfg(feature = "mongodb")]
mod mongodb_server;
#[cfg(all(feature = "aws", feature = "crash-points"))]
mod moto;
#[cfg(all(feature = "mssql", feature = "crash-points"))]
mod mssql;
#[cfg(feature = "mssql")]
mod mssql_server;
#[cfg(feature = "crash-points")]
mod mysql;
#[cfg(feature = "crash-points")]
mod okta;
mod openapi;
#[cfg(all(feature = "oracle", feature = "crash-points"))]
mod oracle;
#[cfg(feature = "oracle")]
mod oracle_server;
mod postgres;
mod projects;
#[cfg(feature = "crash-points")]
mod redis;
#[cfg(feature = "crash-points")]
mod redis_server;
mod robustness;
mod rotations;
mod salesforce_client;
mod scheduler;
mod secrets;
#[cfg(feature = "crash-points")]
mod suite;
#[cfg(feature = "crash-points")]
mod suite_targets;
#[cfg(any(feature = "crash-points", feature = "mssql", feature = "oracle"))]
mod test_cert;
mod webhooks;
