//! The `certificate` method's client assertion (Microsoft identity platform, "certificate
//! credentials"): a JWT signed RS256 with the app registration's private key, its header
//! naming the certificate by `x5t` (base64url of the SHA-1 of its DER), its claims `aud` =
//! the token endpoint, `iss` = `sub` = the client id, a fresh `jti`, `nbf` now and `exp` ten
//! minutes on (as Infisical). Sent as `client_assertion` with `client_assertion_type`
//! `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use serde_json::json;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub const BAD_KEY: &str = "Invalid private key format provided. Expected PEM format private key.";
pub const BAD_CERTIFICATE: &str =
    "Invalid certificate format provided. Expected PEM format certificate.";

/// A certificate and its RSA key, checked to belong together.
pub struct ClientCertificate {
    /// base64url(SHA-1(DER)): how Entra ID finds the certificate among the app's.
    pub x5t: String,
    key: RsaKeyPair,
}

/// The certificate's `x5t`.
pub fn thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        der,
    ))
}

/// The DER of a PEM certificate.
pub fn certificate_der(pem: &str) -> Result<Vec<u8>, String> {
    CertificateDer::from_pem_slice(pem.trim().as_bytes())
        .map(|c| c.as_ref().to_vec())
        .map_err(|_| BAD_CERTIFICATE.to_string())
}

impl ClientCertificate {
    /// From a PEM certificate and a PKCS#8 RSA key, PEM or bare base64 DER (Infisical takes
    /// both). The messages are Infisical's, and never quote the key.
    pub fn parse(certificate: &str, private_key: &str) -> Result<ClientCertificate, String> {
        let der = certificate_der(certificate)?;
        let key_text = private_key.trim();
        let key_der = match PrivatePkcs8KeyDer::from_pem_slice(key_text.as_bytes()) {
            Ok(k) => k.secret_pkcs8_der().to_vec(),
            Err(_) => STANDARD
                .decode(key_text.split_whitespace().collect::<String>())
                .map_err(|_| BAD_KEY.to_string())?,
        };
        let key = RsaKeyPair::from_pkcs8(&key_der).map_err(|_| BAD_KEY.to_string())?;
        let cert_der = CertificateDer::from(der.as_slice());
        let spki =
            webpki::EndEntityCert::try_from(&cert_der).map_err(|_| BAD_CERTIFICATE.to_string())?;
        // The key must be the certificate's: sign a probe and check it with the certificate.
        let probe = b"rotary: does this key belong to this certificate?";
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            probe,
            &mut signature,
        )
        .map_err(|_| BAD_KEY.to_string())?;
        spki.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, probe, &signature)
            .map_err(|_| {
                "The private key does not belong to the certificate: give the key the certificate was made for".to_string()
            })?;
        Ok(ClientCertificate {
            x5t: thumbprint(&der),
            key,
        })
    }

    /// A signed assertion for `client_id` at `token_endpoint`.
    pub fn assertion(&self, client_id: &str, token_endpoint: &str) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = json!({"aud": token_endpoint, "iss": client_id, "sub": client_id,
                            "jti": uuid::Uuid::new_v4(), "nbf": now, "exp": now + 600});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "the client assertion could not be signed".to_string())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}
