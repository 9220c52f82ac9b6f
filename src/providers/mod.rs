//! Clients of the systems whose credentials Rotary rotates, one module per provider.

pub mod salesforce;
pub mod url_guard;
