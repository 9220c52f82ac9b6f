//! SQL, one module per table family. Rows here are database shapes; the JSON the API returns
//! is built from them in `http/`.

pub mod app_connections;
pub mod identities;
pub mod projects;
pub mod rotations;
pub mod secrets;
