//! The `redis` app connection (`username-and-password`): where the server is, and the ACL
//! user Rotary logs in as to create and delete the rotated users (`+acl|setuser
//! +acl|deluser`, and `+acl|save` when the server keeps an ACL file).

use crate::connections::target::unable_to_validate;
use crate::connections::types::ConnectionType;
use crate::error::ApiResult;
use crate::providers::redis::client::check_login;
use crate::providers::redis::wire::{RedisConnection, RedisConnectionInput};
use crate::state::AppState;

pub const APP: &str = "redis";
pub const USERNAME_AND_PASSWORD: &str = "username-and-password";

/// The `redis` connection type.
pub struct RedisApp;

impl ConnectionType for RedisApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "Redis";
    const METHODS: &'static [&'static str] = &[USERNAME_AND_PASSWORD];

    type Input = RedisConnectionInput;
    type Credentials = RedisConnection;

    /// Connects and authenticates as the connection's user (AUTH), as Infisical does; the
    /// message never holds the password.
    async fn validate(
        state: &AppState,
        _org: uuid::Uuid,
        _method: &str,
        input: &RedisConnectionInput,
    ) -> ApiResult<RedisConnection> {
        let c = input.credentials();
        check_login(
            &c,
            &c.username,
            c.password.as_ref(),
            state.allow_internal_urls,
        )
        .await
        .map_err(unable_to_validate)?;
        Ok(c)
    }

    /// Logs in (AUTH) with saved credentials (the console's "Check").
    async fn check(state: &AppState, _org: uuid::Uuid, c: RedisConnection) -> ApiResult<()> {
        check_login(
            &c,
            &c.username,
            c.password.as_ref(),
            state.allow_internal_urls,
        )
        .await
        .map_err(unable_to_validate)
    }

    fn public(c: &RedisConnection) -> serde_json::Value {
        c.public()
    }
}
