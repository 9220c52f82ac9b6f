//! LDAP directories: the `ldap` app connection (`simple-bind`) and the `ldap-password`
//! rotation type (one account's password changed in place: single-phase;
//! ../shared/reference/infisical-providers.md §5). Infisical speaks Active Directory only;
//! Rotary also speaks the Password Modify extended operation (RFC 3062) of OpenLDAP-style
//! directories, tested against a throwaway `slapd` over TLS.

pub mod api;
pub mod client;
pub mod connection;
pub mod rotation;
pub mod wire;
