//! Secret rotations: the schedule formula, the journaled engine, and the Salesforce steps.

pub mod api;
pub mod engine;
#[cfg(all(feature = "crash-points", debug_assertions))]
pub mod fake;
pub mod journal;
pub mod liveness;
pub mod provider;
pub mod registry;
pub mod schedule;
pub mod scheduler;
pub mod service;
