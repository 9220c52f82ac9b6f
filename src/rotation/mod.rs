//! Secret rotations: the schedule formula, the journaled engine, and the Salesforce steps.

pub mod engine;
pub mod liveness;
pub mod schedule;
pub mod scheduler;
