//! `ldap-password` and the `ldap` connection on Infisical's wire (reference §5.1–5.2): the
//! connection's directory, URL, principal and TLS settings; the rotated `dn`, how it is
//! rotated, the password requirements, and the target's current password given once in
//! `temporaryParameters` (journaled sealed for the first run, never stored in the rotation).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::providers::password::PasswordRequirements;
use crate::rotation::provider::{sealed, Credential};
use crate::validation::{invalid, not_blank, secret_name_rule};

/// Which directory the connection talks to, and so how a password is changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LdapProvider {
    /// Active Directory: `unicodePwd` (Infisical's only provider).
    ActiveDirectory,
    /// A directory with the Password Modify extended operation (RFC 3062): OpenLDAP, 389 DS,
    /// FreeIPA.
    OpenLdap,
}

/// The `credentials` of an `ldap` app connection (`simple-bind`).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LdapConnectionInput {
    pub provider: LdapProvider,
    /// `ldaps://host:636`, or `ldap://host:389` (Rotary then upgrades with StartTLS: no
    /// password goes over a connection that is not TLS).
    #[validate(custom(function = "check_url"))]
    pub url: String,
    /// The principal Rotary binds as: a DN (`CN=svc,OU=Users,DC=corp,DC=com`) or a UPN
    /// (`svc@corp.com`).
    #[validate(custom(function = "check_dn"))]
    pub dn: String,
    #[validate(
        length(min = 1, message = "Password required"),
        custom(function = "not_blank")
    )]
    #[schema(value_type = String)]
    pub password: String,
    /// Default true.
    #[serde(default)]
    pub ssl_reject_unauthorized: Option<bool>,
    /// PEM of the CA (or certificate) to trust; empty means the system's roots.
    #[serde(default)]
    pub ssl_certificate: Option<String>,
}

fn check_url(url: &str) -> Result<(), ValidationError> {
    let url = url.trim();
    if url.is_empty() {
        return Err(invalid("too_small", "URL required".into()));
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) {
        return Err(invalid("invalid_string", "Invalid LDAP URL".into()));
    }
    match url::Url::parse(url) {
        Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        _ => Err(invalid("invalid_string", "Invalid LDAP URL".into())),
    }
}

/// A DN (`attr=value` parts joined by commas) or a UPN (`user@domain.tld`), as Infisical's
/// `DN/UPN` rule.
pub fn dn_problem(dn: &str) -> Option<(&'static str, &'static str)> {
    let dn = dn.trim();
    if dn.is_empty() {
        return Some(("too_small", "DN/UPN required"));
    }
    let upn = dn.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty()
            && !user.contains([',', '=', ' '])
            && domain.contains('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    let is_dn = !dn.contains('@') || dn.contains('=');
    let rdns_ok = is_dn
        && split_dn(dn).iter().all(|rdn| {
            rdn.split_once('=').is_some_and(|(attr, value)| {
                let attr = attr.trim();
                !attr.is_empty()
                    && attr
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                    && !value.trim().is_empty()
            })
        });
    if upn || rdns_ok {
        None
    } else {
        Some(("invalid_string", "Invalid DN/UPN format"))
    }
}

/// A DN's RDNs, split on the commas that are not escaped.
fn split_dn(dn: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            parts.last_mut().unwrap().push(c);
            escaped = false;
        } else if c == '\\' {
            parts.last_mut().unwrap().push(c);
            escaped = true;
        } else if c == ',' {
            parts.push(String::new());
        } else {
            parts.last_mut().unwrap().push(c);
        }
    }
    parts
}

fn check_dn(dn: &str) -> Result<(), ValidationError> {
    match dn_problem(dn) {
        Some((code, message)) => Err(invalid(code, message.into())),
        None => Ok(()),
    }
}

/// Whether a DN or UPN names the same principal as another (case and spaces around the
/// parts do not matter).
pub fn same_principal(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        split_dn(s.trim())
            .iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) => format!("{}={}", k.trim().to_lowercase(), v.trim().to_lowercase()),
                None => p.trim().to_lowercase(),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    norm(a) == norm(b)
}

/// An `ldap` connection's credentials as stored (sealed). The API returns all but `password`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LdapConnection {
    pub provider: LdapProvider,
    pub url: String,
    pub dn: String,
    #[serde(serialize_with = "sealed::expose")]
    pub password: SecretString,
    pub ssl_reject_unauthorized: bool,
    #[serde(default)]
    pub ssl_certificate: Option<String>,
}

impl LdapConnectionInput {
    pub fn credentials(&self) -> LdapConnection {
        LdapConnection {
            provider: self.provider,
            url: self.url.trim().to_string(),
            dn: self.dn.trim().to_string(),
            password: SecretString::from(self.password.trim().to_string()),
            ssl_reject_unauthorized: self.ssl_reject_unauthorized.unwrap_or(true),
            ssl_certificate: crate::validation::pem_or_none(self.ssl_certificate.as_deref()),
        }
    }
}

impl LdapConnection {
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({
            "provider": self.provider,
            "url": self.url,
            "dn": self.dn,
            "sslRejectUnauthorized": self.ssl_reject_unauthorized,
            "sslCertificate": self.ssl_certificate,
        })
    }
}

/// Who changes the target's password.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RotationMethod {
    /// The connection's principal resets it (it needs the right to), or changes its own.
    #[default]
    ConnectionPrincipal,
    /// The target changes its own password, binding with its current one
    /// (`temporaryParameters.password` the first time).
    TargetPrincipal,
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LdapParameters {
    /// The DN or UPN whose password is rotated. Immutable.
    #[validate(custom(function = "check_dn"))]
    pub dn: String,
    /// Default `connection-principal`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_method: Option<RotationMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "crate::providers::password::requirements_rule"))]
    pub password_requirements: Option<PasswordRequirements>,
}

impl LdapParameters {
    pub fn normalized(&self) -> LdapParameters {
        LdapParameters {
            dn: self.dn.trim().to_string(),
            rotation_method: self.rotation_method,
            password_requirements: self.password_requirements.clone(),
        }
    }
    pub fn method(&self) -> RotationMethod {
        self.rotation_method.unwrap_or_default()
    }
}

/// `temporaryParameters` of the create body: the target's current password, for a
/// `target-principal` rotation's first run.
#[derive(Deserialize, Validate, ToSchema)]
pub struct LdapTemporary {
    #[validate(length(min = 1, message = "Password required"))]
    #[schema(value_type = String)]
    pub password: String,
}

#[derive(Clone, Serialize, Deserialize, Validate, ToSchema)]
pub struct LdapMapping {
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub dn: String,
    #[validate(custom(function = "secret_name_rule"))]
    #[schema(max_length = 256)]
    pub password: String,
}

/// The slot: the DN or UPN as given, and its password.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LdapCredential {
    pub dn: String,
    #[serde(serialize_with = "sealed::expose")]
    #[schema(value_type = String)]
    pub password: SecretString,
}

impl Credential for LdapCredential {
    fn secrets(&self) -> Vec<(&'static str, SecretString)> {
        vec![
            ("dn", SecretString::from(self.dn.clone())),
            ("password", self.password.clone()),
        ]
    }
    fn label(&self) -> String {
        self.dn.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_and_upns() {
        for ok in [
            "CN=svc,OU=Users,DC=corp,DC=com",
            "uid=a,ou=people,dc=rotary,dc=test",
            "svc@corp.com",
            "cn=Smith\\, J,dc=x",
        ] {
            assert_eq!(dn_problem(ok), None, "{ok}");
        }
        for bad in ["svc", "cn=,dc=x", "user@localhost", "@corp.com"] {
            assert!(dn_problem(bad).is_some(), "{bad}");
        }
        assert!(same_principal(
            "CN=Svc, DC=Corp,DC=com",
            "cn=svc,dc=corp,dc=com"
        ));
        assert!(!same_principal("cn=a,dc=x", "cn=b,dc=x"));
    }
}
