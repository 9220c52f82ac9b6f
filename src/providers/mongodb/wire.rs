//! The `mongodb` connection on Infisical's wire (reference §3.1): host (a `mongodb://` prefix
//! is stripped), port, database, username, password, and the TLS fields as Infisical names
//! them for MongoDB (`tls*`, where the SQL types say `ssl*`).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::rotation::provider::sealed;
use crate::validation::{not_blank, port_number};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MongoConnectionInput {
    /// A host name or address (a `mongodb://` prefix is dropped).
    #[validate(
        length(min = 1, message = "Host required"),
        custom(function = "not_blank")
    )]
    pub host: String,
    #[serde(deserialize_with = "port_number")]
    #[schema(value_type = u16, example = 27017)]
    pub port: u16,
    /// Where the connection's user and the rotated users are defined (their authSource).
    #[validate(
        length(min = 1, message = "Database required"),
        custom(function = "not_blank")
    )]
    pub database: String,
    #[validate(
        length(min = 1, message = "Username required"),
        custom(function = "not_blank")
    )]
    pub username: String,
    #[validate(
        length(min = 1, message = "Password required"),
        custom(function = "not_blank")
    )]
    #[schema(value_type = String)]
    pub password: String,
    pub tls_enabled: bool,
    pub tls_reject_unauthorized: bool,
    /// PEM of the CA to trust; empty means the system's roots.
    #[serde(default)]
    pub tls_certificate: Option<String>,
}

/// As stored (sealed); the API shows all but the password.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MongoConnection {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    #[serde(serialize_with = "sealed::expose")]
    pub password: SecretString,
    pub tls_enabled: bool,
    pub tls_reject_unauthorized: bool,
    #[serde(default)]
    pub tls_certificate: Option<String>,
}

/// The host without a scheme, lower-cased (Infisical's), and whether it asked for SRV.
pub fn host(raw: &str) -> (String, bool) {
    let lower = raw.trim().to_lowercase();
    if let Some(rest) = lower.strip_prefix("mongodb+srv://") {
        return (rest.trim_end_matches('/').to_string(), true);
    }
    let rest = lower.strip_prefix("mongodb://").unwrap_or(&lower);
    (rest.trim_end_matches('/').to_string(), false)
}

impl MongoConnectionInput {
    pub fn credentials(&self) -> MongoConnection {
        MongoConnection {
            host: host(&self.host).0,
            port: self.port,
            database: self.database.trim().to_string(),
            username: self.username.trim().to_string(),
            password: SecretString::from(self.password.clone()),
            tls_enabled: self.tls_enabled,
            tls_reject_unauthorized: self.tls_reject_unauthorized,
            tls_certificate: crate::validation::pem_or_none(self.tls_certificate.as_deref()),
        }
    }
}

impl MongoConnection {
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "username": self.username,
            "tlsEnabled": self.tls_enabled,
            "tlsRejectUnauthorized": self.tls_reject_unauthorized,
            "tlsCertificate": self.tls_certificate,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scheme_is_dropped_and_srv_noticed() {
        assert_eq!(
            super::host("MongoDB://DB.example.com/"),
            ("db.example.com".into(), false)
        );
        assert_eq!(
            super::host("mongodb+srv://c.example.net"),
            ("c.example.net".into(), true)
        );
        assert_eq!(super::host(" db "), ("db".into(), false));
    }
}
