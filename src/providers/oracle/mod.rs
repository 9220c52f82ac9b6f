//! Oracle Database users' passwords: the `oracledb` app connection (`username-and-password`:
//! a user with CREATE SESSION and ALTER USER) and the `oracledb-credentials` rotation type (two
//! existing users used alternately, dual-phase, as the other SQL types;
//! ../shared/reference/infisical-providers.md §2.8), through `oracledb`, Oracle's pure-Rust
//! thin driver. Tested against Rotary's own Oracle protocol server (`crate::mock::oracle`),
//! not a real Oracle Database: none can run on these machines.

pub mod api;
pub mod connection;
pub mod rotation;
