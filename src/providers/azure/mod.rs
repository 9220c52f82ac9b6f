//! Azure app registration client secrets: the `azure-client-secrets` app connection
//! (`client-secret`: an app registration that may manage the others) and the
//! `azure-client-secret` rotation type (dual-phase: Entra ID keeps many secrets per app;
//! ../shared/reference/infisical-providers.md §8), tested against the mock of
//! `crate::mock::azure`. Microsoft's endpoints are settings (`ROTARY_AZURE_LOGIN_URL`,
//! `ROTARY_AZURE_GRAPH_URL`) so that a mock can stand in.

pub mod api;
pub mod assertion;
pub mod client;
pub mod connection;
pub mod rotation;
pub mod wire;
