//! Auth0 application client secrets: the `auth0` app connection (`client-credentials`, a
//! Machine-to-Machine app authorised for the Management API) and the `auth0-client-secret`
//! rotation type (single-phase: Auth0 keeps one secret per client;
//! ../shared/reference/infisical-providers.md §6), tested against the mock tenant of
//! `crate::mock::auth0`.

pub mod api;
pub mod client;
pub mod connection;
pub mod rotation;
pub mod wire;
