//! `ldap-password` on Infisical's wire (reference §5.2–5.4): `dn`, `rotationMethod` and
//! `passwordRequirements` (the first two immutable), `temporaryParameters.password` for a
//! target-principal create, the `{dn, password}` mapping, the options entry, what it reserves
//! (one rotation per account of a directory), and check-credentials (bind as the target).

use serde_json::Value;

use crate::error::{ApiError, ApiResult, Issue};
use crate::providers::ldap::client::check_bind;
use crate::providers::ldap::connection::APP;
use crate::providers::ldap::rotation::{LdapJournal, LdapPassword, LdapTarget};
use crate::providers::ldap::wire::{
    LdapCredential, LdapMapping, LdapParameters, LdapTemporary, RotationMethod,
};
use crate::rotation::api::RotationApi;
use crate::state::AppState;
use crate::store::app_connections::ConnectionRow;

impl RotationApi for LdapPassword {
    const APP: &'static str = APP;
    const CREATE_DOC: &'static str = "Creates the rotation and sets the account's first password (journaled, sealed, before the change; then verified by binding) before it becomes visible. Single-phase: the account's previous password stops working at once. target-principal needs temporaryParameters.password (the account's current password), used once and never stored in the rotation.";
    const ROTATE_DOC: &'static str = "Changes the account's password and binds with the new one, then publishes it. Single-phase: the previous password stops working when the new one is set. 400 while another run is in flight; 500 with the reason when the directory refuses.";
    const CHECK_DOC: &'static str = "204 when the account binds with its active password; 400 with the reason when not. Reports only; never repairs.";
    const REVOKE_DOC: &'static str = "revokeGeneratedCredentials=true changes the account's password once more, to one nobody keeps, before deleting the rotation (when the account is the connection's own principal, the connection keeps it).";

    type Input = LdapParameters;
    type Mapping = LdapMapping;
    const SECRETS: &'static [(&'static str, &'static str)] =
        &[("dn", "LDAP_DN"), ("password", "LDAP_PASSWORD")];

    fn normalized(input: &LdapParameters) -> Value {
        serde_json::to_value(input.normalized()).unwrap_or_default()
    }

    /// The account in its directory: two rotations of one account would undo each other.
    fn targets(connection: &ConnectionRow, input: &LdapParameters) -> Vec<String> {
        let url = connection.public_config["url"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        vec![format!("{url}/{}", input.dn.trim().to_lowercase())]
    }

    fn target_taken(input: &LdapParameters) -> ApiError {
        ApiError::bad_request(format!(
            "The account \"{}\" is already rotated by another LDAP Password rotation on this directory. Delete the other rotation first.",
            input.dn.trim()
        ))
    }

    fn temporary(
        input: &LdapParameters,
        temporary: Option<&Value>,
    ) -> ApiResult<Option<LdapJournal>> {
        let required = || {
            ApiError::Validation(vec![Issue::new(
                "invalid_type",
                &["temporaryParameters", "password"],
                "Password required".to_string(),
            )])
        };
        if input.method() != RotationMethod::TargetPrincipal {
            return Ok(None);
        }
        let temporary: LdapTemporary =
            serde_json::from_value(temporary.cloned().ok_or_else(required)?)
                .map_err(|_| required())?;
        if temporary.password.is_empty() {
            return Err(required());
        }
        Ok(Some(LdapJournal {
            current: Some(temporary.password.into()),
            resolved: None,
        }))
    }

    fn check_update(stored: &Value, new: &LdapParameters) -> ApiResult<()> {
        let stored_method = stored.get("rotationMethod").and_then(Value::as_str);
        let new_method = new
            .rotation_method
            .map(|m| serde_json::to_value(m).unwrap_or_default());
        let same_method = stored_method == new_method.as_ref().and_then(Value::as_str);
        let same_dn = stored["dn"].as_str() == Some(new.dn.trim());
        if same_method && same_dn {
            Ok(())
        } else {
            Err(ApiError::bad_request("Cannot update rotation method or DN"))
        }
    }

    async fn check(
        state: &AppState,
        client: &LdapTarget,
        active: &LdapCredential,
    ) -> ApiResult<()> {
        check_bind(
            &client.connection,
            &active.dn,
            &active.password,
            state.allow_internal_urls,
        )
        .await
        .map_err(ApiError::from)
    }
}
