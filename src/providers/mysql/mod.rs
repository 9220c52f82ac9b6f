//! MySQL and MariaDB: the `mysql` app connection and the `mysql-credentials` rotation type
//! (Infisical's two-user, dual-phase SQL rotation; ../shared/reference/infisical-providers.md
//! §2.6), tested against the throwaway MariaDB of `scripts/with-mariadb.sh`.

pub mod api;
pub mod connection;
pub mod rotation;
