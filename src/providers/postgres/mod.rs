//! PostgreSQL: the `postgres` app connection and the `postgres-credentials` rotation type
//! (Infisical's two-user, dual-phase SQL rotation; ../shared/reference/infisical-providers.md
//! §2), tested against the real PostgreSQL the test scripts start.

pub mod api;
pub mod connection;
pub mod rotation;
