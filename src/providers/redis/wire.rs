//! `redis-credentials` and the `redis` connection on Infisical's wire (reference §4.1–4.2):
//! the required `permissionScope` and optional `passwordRequirements`, and the connection's
//! host, port, ACL user, optional password and TLS settings. Everything that later reaches an
//! `ACL SETUSER` is checked here, before any provider call.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::providers::password::PasswordRequirements;
use crate::rotation::provider::sealed;
use crate::validation::{invalid, not_blank, port_number};

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisParameters {
    /// The ACL rules the issued users get, space-separated, as `ACL SETUSER` takes them
    /// (`~app:* +@read +@write`). Rotary sets the password and switches the user on itself.
    #[validate(custom(function = "check_scope"))]
    pub permission_scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "crate::providers::password::requirements_rule"))]
    pub password_requirements: Option<PasswordRequirements>,
}

impl RedisParameters {
    /// As stored: the scope trimmed (zod trims it).
    pub fn normalized(&self) -> RedisParameters {
        RedisParameters {
            permission_scope: self.permission_scope.trim().to_string(),
            password_requirements: self.password_requirements.clone(),
        }
    }

    /// The scope's rules, one `ACL SETUSER` argument each. Split on any run of whitespace
    /// (Infisical splits on single spaces, so a double space sends an empty rule).
    pub fn rules(&self) -> Vec<&str> {
        self.permission_scope.split_whitespace().collect()
    }
}

/// Rules that would set the user's password or state: Rotary owns those. `nopass` would let
/// anyone in; `>p`/`#h` would add a password no rotation changes; `off` or `reset` would undo
/// what Rotary sets.
pub fn scope_problem(scope: &str) -> Option<String> {
    let scope = scope.trim();
    if scope.is_empty() {
        return Some("Permission scope is required".into());
    }
    for rule in scope.split_whitespace() {
        let lower = rule.to_ascii_lowercase();
        let owned = matches!(
            lower.as_str(),
            "nopass" | "resetpass" | "reset" | "on" | "off"
        ) || rule.starts_with(['>', '<', '#', '!']);
        if owned {
            return Some(format!(
                "The permission scope cannot hold the rule \"{rule}\": Rotary sets each issued user's password and switches it on; give only key, channel and command rules (e.g. \"~* +@all\")"
            ));
        }
    }
    None
}

fn check_scope(scope: &str) -> Result<(), ValidationError> {
    match scope_problem(scope) {
        // zod's `.trim().min(1, …)`.
        Some(problem) if scope.trim().is_empty() => Err(invalid("too_small", problem)),
        Some(problem) => Err(invalid("custom", problem)),
        None => Ok(()),
    }
}

/// The `credentials` of a `redis` app connection (`username-and-password`, reference §4.1).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedisConnectionInput {
    #[validate(
        length(min = 1, message = "Host required"),
        custom(function = "not_blank")
    )]
    pub host: String,
    /// A number, or a string of one (as zod's coerce allows).
    #[serde(deserialize_with = "port_number")]
    #[schema(value_type = u16, example = 6379)]
    pub port: u16,
    /// The ACL user Rotary logs in as; it needs `+acl|setuser +acl|deluser` (and
    /// `+acl|save` when the server keeps users in an ACL file).
    #[validate(
        length(min = 1, message = "Username required"),
        custom(function = "not_blank")
    )]
    pub username: String,
    /// None for a `nopass` user.
    #[serde(default)]
    #[validate(length(min = 1, message = "String must contain at least 1 character(s)"))]
    pub password: Option<String>,
    pub ssl_enabled: bool,
    pub ssl_reject_unauthorized: bool,
    /// PEM of the CA (or certificate) to trust; empty means the system's roots.
    #[serde(default)]
    pub ssl_certificate: Option<String>,
}

/// A `redis` connection's credentials as stored (sealed). The API returns all but
/// `password` (`public`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisConnection {
    pub host: String,
    pub port: u16,
    pub username: String,
    #[serde(serialize_with = "sealed::expose_option", default)]
    pub password: Option<SecretString>,
    pub ssl_enabled: bool,
    pub ssl_reject_unauthorized: bool,
    #[serde(default)]
    pub ssl_certificate: Option<String>,
}

impl RedisConnectionInput {
    /// The credentials to check and seal: trimmed, the host lower-cased (as Infisical), a
    /// blank certificate as none.
    pub fn credentials(&self) -> RedisConnection {
        RedisConnection {
            host: self.host.trim().to_lowercase(),
            port: self.port,
            username: self.username.trim().to_string(),
            password: self.password.clone().map(SecretString::from),
            ssl_enabled: self.ssl_enabled,
            ssl_reject_unauthorized: self.ssl_reject_unauthorized,
            ssl_certificate: crate::validation::pem_or_none(self.ssl_certificate.as_deref()),
        }
    }
}

impl RedisConnection {
    /// What the API shows of it (and `public_config` stores).
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "sslEnabled": self.ssl_enabled,
            "sslRejectUnauthorized": self.ssl_reject_unauthorized,
            "sslCertificate": self.ssl_certificate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::scope_problem;

    #[test]
    fn scopes_may_not_touch_the_password_or_the_state() {
        assert_eq!(scope_problem("~* +@all"), None);
        assert_eq!(scope_problem("  ~app:*   +get  "), None);
        assert_eq!(
            scope_problem("   ").as_deref(),
            Some("Permission scope is required")
        );
        for bad in [
            "nopass",
            "NoPass",
            ">secret",
            "<old",
            "#abc",
            "!abc",
            "off",
            "reset",
            "resetpass",
            "on",
        ] {
            let problem = scope_problem(&format!("~* {bad} +@all")).expect(bad);
            assert!(problem.contains(bad), "{problem}");
        }
    }
}
