//! Okta OIDC app client secrets: the `okta` app connection (`api-token`) and the
//! `okta-client-secret` rotation type (dual-phase within Okta's two secrets per app;
//! ../shared/reference/infisical-providers.md §7), tested against the mock org of
//! `crate::mock::okta`.

pub mod api;
pub mod client;
pub mod connection;
pub mod rotation;
pub mod wire;
