//! Salesforce: the REST client for External Client App OAuth credentials.

pub mod api;
pub mod client;
pub mod connection;
pub mod rotation;

pub use client::{SalesforceClient, SfError};
