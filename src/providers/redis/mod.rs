//! Redis ACL users: the `redis` app connection and the `redis-credentials` rotation type
//! (Infisical's model: every rotation creates a new ACL user with a generated name and
//! password, and deletes the user of two rotations ago; ../shared/reference/
//! infisical-providers.md §4), tested against throwaway `redis-server`s the tests start.

pub mod api;
pub mod client;
pub mod connection;
pub mod rotation;
pub mod wire;
