//! AWS IAM user access keys: the `aws` app connection (`access-key`: an IAM principal's key;
//! `assume-role`: a role Rotary assumes with the organization id as ExternalId) and the
//! `aws-iam-user-secret` rotation type (dual-phase inside IAM's limit of two keys per user;
//! ../shared/reference/infisical-providers.md §9), through the official AWS SDK for Rust.
//! Tested against moto's server mode with its request authentication on (`scripts/with-moto.sh`).
//! `ROTARY_AWS_ENDPOINT_URL` sends every call to such a server instead of AWS.

pub mod api;
pub mod client;
pub mod connection;
pub mod rotation;
pub mod wire;
