//! Fake providers for tests, demos and users trying Rotary without a real account.

pub mod harness;
pub mod salesforce;
