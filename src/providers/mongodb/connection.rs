//! The `mongodb` app connection (`username-and-password`): where the server is, and the user
//! Rotary logs in as to change the rotated users' passwords (`userAdmin` on the database).
//! Checked by logging in and running `ping`, as Infisical. `mongodb+srv://` (SRV lookup) is
//! refused with a 400: the driver is built without its DNS resolver.

use crate::connections::target::unable_to_validate;
use crate::connections::types::ConnectionType;
use crate::error::{ApiError, ApiResult};
use crate::providers::mongodb::client::ping_as;
use crate::providers::mongodb::wire::{host, MongoConnection, MongoConnectionInput};
use crate::state::AppState;

pub const APP: &str = "mongodb";
pub const USERNAME_AND_PASSWORD: &str = "username-and-password";

pub struct MongoApp;

impl ConnectionType for MongoApp {
    const APP: &'static str = APP;
    const NAME: &'static str = "MongoDB";
    const METHODS: &'static [&'static str] = &[USERNAME_AND_PASSWORD];

    type Input = MongoConnectionInput;
    type Credentials = MongoConnection;

    async fn validate(
        state: &AppState,
        org: uuid::Uuid,
        _method: &str,
        input: &MongoConnectionInput,
    ) -> ApiResult<MongoConnection> {
        if host(&input.host).1 || input.port == 0 {
            return Err(ApiError::bad_request(
                "Unable to validate connection: mongodb+srv (an SRV lookup, or port 0) is not supported: give the host name and port of the server (the primary of a replica set)",
            ));
        }
        let c = input.credentials();
        Self::check(state, org, c.clone()).await?;
        Ok(c)
    }

    async fn check(state: &AppState, _org: uuid::Uuid, c: MongoConnection) -> ApiResult<()> {
        ping_as(&c, &c.username, &c.password, state.allow_internal_urls)
            .await
            .map_err(unable_to_validate)
    }

    fn public(c: &MongoConnection) -> serde_json::Value {
        c.public()
    }
}
