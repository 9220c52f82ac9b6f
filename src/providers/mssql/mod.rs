//! SQL Server logins' passwords: the `mssql` app connection (`username-and-password`: a login
//! with ALTER ANY LOGIN) and the `mssql-credentials` rotation type (two existing logins used
//! alternately, dual-phase, as the other SQL types; ../shared/reference/infisical-providers.md
//! §2.7), through tiberius. Tested against Rotary's own SQL Server protocol server
//! (`crate::mock::mssql`), not a real SQL Server: none can run on these machines.

pub mod api;
pub mod connection;
pub mod rotation;
