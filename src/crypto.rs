//! Envelope encryption: a root key from the environment wraps one random data key per project,
//! and the data key seals each secret value with AES-256-GCM. The additional data names the row
//! a ciphertext belongs to, so a ciphertext copied onto another row fails to open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Blob layout: version byte, 12-byte nonce, ciphertext with its 16-byte tag.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("ciphertext does not open under this key (wrong key, wrong row, or tampered)")]
    Open,
}

/// A 256-bit AES key that is wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Key {
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Key(bytes)
    }

    /// Parses the base64 text of exactly 32 bytes (standard or URL-safe alphabet).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
            .map_err(|_| "is not valid base64".to_string())?;
        let decoded = Zeroizing::new(decoded);
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| format!("must decode to 32 bytes, got {}", decoded.len()))?;
        Ok(Key(Zeroizing::new(bytes)))
    }

    fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Malformed)?;
        Ok(Key(Zeroizing::new(bytes)))
    }

    /// A short, non-secret fingerprint that says which root key wrapped a data key.
    pub fn id(&self) -> String {
        let digest = Sha256::digest([b"rotary-key-id:".as_slice(), self.0.as_slice()].concat());
        hex::encode(&digest[..4])
    }

    pub fn seal(&self, plaintext: &[u8], aad: &str) -> Vec<u8> {
        let cipher = Aes256Gcm::new(self.0.as_slice().into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut blob = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        blob.push(FORMAT_V1);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        blob
    }

    pub fn open(&self, blob: &[u8], aad: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if blob.len() < 1 + NONCE_LEN + 16 || blob[0] != FORMAT_V1 {
            return Err(CryptoError::Malformed);
        }
        let cipher = Aes256Gcm::new(self.0.as_slice().into());
        cipher
            .decrypt(
                Nonce::from_slice(&blob[1..1 + NONCE_LEN]),
                Payload {
                    msg: &blob[1 + NONCE_LEN..],
                    aad: aad.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// A keyed fingerprint (HMAC-SHA256, hex): tells whether two values are equal without
    /// revealing them, even when they are guessable.
    pub fn fingerprint(&self, data: &[u8]) -> String {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .expect("HMAC takes any key length");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Wraps a project's data key under this (root) key.
    pub fn wrap(&self, data_key: &Key, project_id: uuid::Uuid) -> Vec<u8> {
        self.seal(data_key.0.as_slice(), &wrap_aad(project_id))
    }

    pub fn unwrap_key(&self, wrapped: &[u8], project_id: uuid::Uuid) -> Result<Key, CryptoError> {
        let raw = self.open(wrapped, &wrap_aad(project_id))?;
        Key::from_slice(&raw)
    }
}

fn wrap_aad(project_id: uuid::Uuid) -> String {
    format!("project-data-key:{project_id}")
}

/// SHA-256 of a high-entropy token (client secret, access token). These are 256-bit random
/// values, so a fast hash is enough: there is nothing to brute-force.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips() {
        let key = Key::generate();
        let blob = key.seal(b"hunter2", "secret:1");
        assert_eq!(key.open(&blob, "secret:1").unwrap().as_slice(), b"hunter2");
        assert!(!blob.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn wrong_aad_wrong_key_or_tampering_fail_without_panicking() {
        let key = Key::generate();
        let blob = key.seal(b"value", "secret:1");
        assert_eq!(key.open(&blob, "secret:2").unwrap_err(), CryptoError::Open);
        assert_eq!(
            Key::generate().open(&blob, "secret:1").unwrap_err(),
            CryptoError::Open
        );
        let mut flipped = blob.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(
            key.open(&flipped, "secret:1").unwrap_err(),
            CryptoError::Open
        );
        assert_eq!(
            key.open(&blob[..10], "secret:1").unwrap_err(),
            CryptoError::Malformed
        );
        let mut other_version = blob;
        other_version[0] = 9;
        assert_eq!(
            key.open(&other_version, "secret:1").unwrap_err(),
            CryptoError::Malformed
        );
    }

    #[test]
    fn data_keys_are_bound_to_their_project() {
        let root = Key::generate();
        let data = Key::generate();
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let wrapped = root.wrap(&data, a);
        let unwrapped = root.unwrap_key(&wrapped, a).unwrap();
        assert_eq!(unwrapped.0.as_slice(), data.0.as_slice());
        assert!(root.unwrap_key(&wrapped, b).is_err());
    }

    #[test]
    fn root_key_parsing_names_the_problem() {
        assert!(Key::from_base64("not base64!")
            .unwrap_err()
            .contains("base64"));
        assert!(Key::from_base64("AAAA").unwrap_err().contains("32 bytes"));
        let text = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(Key::from_base64(&text).is_ok());
        assert!(!format!("{:?}", Key::from_base64(&text).unwrap()).contains('7'));
    }
}
