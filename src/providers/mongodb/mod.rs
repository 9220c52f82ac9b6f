//! MongoDB users' passwords: the `mongodb` app connection (`username-and-password`: a user with
//! `userAdmin` on the database) and the `mongodb-credentials` rotation type (two existing users
//! used alternately, dual-phase, as the SQL types; ../shared/reference/infisical-providers.md
//! §3), through the official driver. Tested against Rotary's own MongoDB protocol server
//! (`crate::mock::mongodb`), not a real MongoDB: none can run on these machines.

pub mod api;
pub mod client;
pub mod connection;
pub mod rotation;
pub mod wire;
