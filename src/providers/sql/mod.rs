//! What the SQL rotation types share (postgres, mysql, mssql, oracledb): the wire
//! shapes, the two-user phases and the `rotationStatement` template. Each dialect quotes identifiers
//! and literals itself.

pub mod connection;
pub mod statement;
pub mod two_users;
pub mod wire;
