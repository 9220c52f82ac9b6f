//! What the SQL rotation types share (postgres today; mysql, mssql and oracledb next): the
//! password generator and the `rotationStatement` template. Each dialect quotes identifiers
//! and literals itself.

pub mod connection;
pub mod password;
pub mod statement;
pub mod two_users;
pub mod wire;
