//! Clients of the systems whose credentials Rotary rotates, one module per provider.

pub mod mysql;
pub mod postgres;
pub mod salesforce;
pub mod sql;
pub mod url_guard;
