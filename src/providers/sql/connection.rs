//! The client of the two-user SQL types: a SQL connection's server and account
//! (`connections::target` opens it).

use crate::connections::target::Target;
use crate::providers::sql::wire::SqlConnection;

pub type SqlTarget = Target<SqlConnection>;
