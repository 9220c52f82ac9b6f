//! The `ldap` app connection (`simple-bind`): the directory, its URL, and the principal Rotary
//! binds as (a DN or a UPN), validated by binding over TLS.

use crate::connections::target::unable_to_validate;
use crate::connections::types::ConnectionType;
use crate::error::ApiResult;
use crate::providers::ldap::client::check_bind;
use crate::providers::ldap::wire::{LdapConnection, LdapConnectionInput};
use crate::state::AppState;

pub const APP: &str = "ldap";
pub const SIMPLE_BIND: &str = "simple-bind";

/// The `ldap` connection type.
pub struct LdapApp;

impl ConnectionType for LdapApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "LDAP";
    const METHODS: &'static [&'static str] = &[SIMPLE_BIND];

    type Input = LdapConnectionInput;
    type Credentials = LdapConnection;

    /// Binds as the connection's principal, over TLS (StartTLS for ldap://).
    async fn validate(
        state: &AppState,
        _org: uuid::Uuid,
        _method: &str,
        input: &LdapConnectionInput,
    ) -> ApiResult<LdapConnection> {
        let c = input.credentials();
        check_bind(&c, &c.dn, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)?;
        Ok(c)
    }

    /// Binds with saved credentials (the console's "Check").
    async fn check(state: &AppState, _org: uuid::Uuid, c: LdapConnection) -> ApiResult<()> {
        check_bind(&c, &c.dn, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)
    }

    fn public(c: &LdapConnection) -> serde_json::Value {
        c.public()
    }
}
