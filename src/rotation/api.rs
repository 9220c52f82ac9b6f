//! What a rotation type shows on Infisical's wire, beside what the engine runs
//! (`provider::RotationType`): the connection app it rotates through, its `parameters` and
//! `secretsMapping` as the API takes them, its options entry, what it reserves so two rotations
//! never rotate the same thing, and check-credentials. One set of handlers
//! (`http::secret_rotations::routes::<T>`) and one OpenAPI builder
//! (`http::secret_rotations::openapi::document::<T>`) serve every type from these.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use validator::Validate;

use crate::error::{ApiError, ApiResult};
use crate::rotation::provider::RotationType;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

/// `(field, secret name)` of a mapping, trimmed, in `RotationApi::SECRETS` order.
pub fn mapped_names<T: RotationApi>(mapping: &T::Mapping) -> Vec<(&'static str, String)> {
    let value = serde_json::to_value(mapping).unwrap_or_default();
    T::SECRETS
        .iter()
        .map(|(field, _)| {
            let name = value[*field]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_string();
            (*field, name)
        })
        .collect()
}

/// The mapping as stored in `secret_rotations.secrets_mapping`: every name trimmed.
pub fn stored_mapping<T: RotationApi>(mapping: &T::Mapping) -> Value {
    let mut out = Map::new();
    for (field, name) in mapped_names::<T>(mapping) {
        out.insert(field.to_string(), Value::String(name));
    }
    Value::Object(out)
}

/// The options entry's `secretsMapping`: each field's default secret name.
pub fn default_mapping<T: RotationApi>() -> Value {
    let mut out = Map::new();
    for (field, name) in T::SECRETS {
        out.insert(field.to_string(), Value::String(name.to_string()));
    }
    Value::Object(out)
}

pub trait RotationApi: RotationType<Credential: ToSchema> {
    /// The app of the connections this type rotates through ("salesforce", "postgres").
    const APP: &'static str;
    /// Whether the type is served and documented (the fake type of the engine tests is not).
    const PUBLIC: bool = true;
    /// Operation descriptions in the OpenAPI document.
    const CREATE_DOC: &'static str = "Creates the rotation and issues its first credential before it becomes visible. If the provider refuses, nothing is created.";
    const ROTATE_DOC: &'static str = "Rotates now, synchronously. 400 while another run of the rotation is in flight; 500 with the reason when the provider fails.";
    const CHECK_DOC: &'static str = "204 when the active credential authenticates at the provider; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true revokes every credential the rotation issued before deleting it.";
    /// Operation ids that predate the per-type naming and stay as published (Salesforce's
    /// `check_credentials` and `runs`): (operation, id).
    const LEGACY_OPERATION_IDS: &'static [(&'static str, &'static str)] = &[];

    /// `parameters` as the API takes them. What is stored is `normalized` of it, which
    /// `RotationType::Parameters` reads back.
    type Input: Serialize + DeserializeOwned + Validate + ToSchema + Clone + Send + Sync;
    /// `secretsMapping` as the API takes it: one secret name per field of `SECRETS`.
    type Mapping: Serialize + DeserializeOwned + Validate + ToSchema + Clone + Send + Sync;
    /// (mapping field, default secret name), in the order the options template lists them;
    /// `Credential::secrets` names the same fields.
    const SECRETS: &'static [(&'static str, &'static str)];

    /// The input as stored: trimmed, defaults filled in.
    fn normalized(input: &Self::Input) -> Value {
        serde_json::to_value(input).unwrap_or_default()
    }

    /// What the rotation rotates at the provider, reserved in `rotation_targets` (one rotation
    /// per target, type and org): two rotations of one app or one user would retire each
    /// other's credentials. Empty: nothing to reserve.
    fn targets(_connection: &ConnectionRow, _input: &Self::Input) -> Vec<String> {
        Vec::new()
    }

    /// The 400 when one of `targets` is taken.
    fn target_taken(_input: &Self::Input) -> ApiError {
        ApiError::bad_request(format!(
            "What this rotation would rotate is already rotated by another {} rotation. Delete the other rotation first.",
            Self::NAME
        ))
    }

    /// The create body's `temporaryParameters` (LDAP's target password, given once): the
    /// first run's journal, sealed with it; never stored in the rotation. Types without
    /// temporary parameters ignore them (zod strips unknown keys).
    fn temporary(
        _input: &Self::Input,
        _temporary: Option<&Value>,
    ) -> ApiResult<Option<Self::Journal>> {
        Ok(None)
    }

    /// PATCH with new `parameters`: what may not change (LDAP's `dn` and `rotationMethod`).
    fn check_update(_stored: &Value, _new: &Self::Input) -> ApiResult<()> {
        Ok(())
    }

    /// The options entry's `template`.
    fn template() -> Value {
        json!({ "secretsMapping": default_mapping::<Self>() })
    }

    /// check-credentials: does the active credential authenticate? The error is the answer.
    fn check(
        state: &AppState,
        client: &Self::Client,
        active: &Self::Credential,
    ) -> impl Future<Output = ApiResult<()>> + Send;
}
