//! The server's half of O5LOGON with Oracle's 12c password verifier (verifier type 0x4815),
//! the logon python-oracledb's thin mode (`messages/auth.pyx`, `crypto.pyx`) and rust-oracledb
//! (`messages/auth.rs`) perform:
//!
//! - The stored verifier ("T:"): `SHA-512(PBKDF2-HMAC-SHA512(password, salt ‖
//!   "AUTH_PBKDF2_SPEEDY_KEY", 4096, 64) ‖ salt)`, and the salt (AUTH_VFR_DATA). The server
//!   never holds the password.
//! - Phase one: the server sends AES-256-CBC(verifier[..32], part A), the salt, a CSK salt
//!   and the two PBKDF2 counts.
//! - Phase two: the client, having derived the same key from the password, decrypts part A,
//!   sends part B encrypted alike, derives the combo key `PBKDF2-HMAC-SHA512(hex(B ‖ A),
//!   CSK salt, SDER count, 32)` and sends under it the PBKDF2 key ("speedy key", after 16
//!   random bytes) and the password (after 16 random bytes, padded). The server decrypts part
//!   B with its own key, derives the combo key and checks that the speedy key hashes to the
//!   stored verifier: a wrong password gives the client another part A, so another combo key,
//!   so garbage.

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use ring::digest::{digest, SHA512};
use ring::pbkdf2::{derive, PBKDF2_HMAC_SHA512};
use std::num::NonZeroU32;

pub const VERIFIER_TYPE_12C: u32 = 0x4815;
pub const VGEN_COUNT: u32 = 4096;
pub const SDER_COUNT: u32 = 3;

type Enc = cbc::Encryptor<aes::Aes256>;
type Dec = cbc::Decryptor<aes::Aes256>;

/// A user's stored 12c verifier.
#[derive(Clone)]
pub struct Verifier {
    pub salt: [u8; 16],
    pub hash: [u8; 64],
}

fn pbkdf2(secret: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    derive(
        PBKDF2_HMAC_SHA512,
        NonZeroU32::new(iterations.max(1)).expect("non-zero"),
        salt,
        secret,
        out,
    );
}

fn password_key(password: &[u8], salt: &[u8; 16]) -> [u8; 64] {
    let mut s = salt.to_vec();
    s.extend_from_slice(b"AUTH_PBKDF2_SPEEDY_KEY");
    let mut key = [0u8; 64];
    pbkdf2(password, &s, VGEN_COUNT, &mut key);
    key
}

fn hash_key(key: &[u8], salt: &[u8; 16]) -> [u8; 64] {
    let mut input = key.to_vec();
    input.extend_from_slice(salt);
    let mut out = [0u8; 64];
    out.copy_from_slice(digest(&SHA512, &input).as_ref());
    out
}

impl Verifier {
    pub fn new(password: &str) -> Verifier {
        let salt: [u8; 16] = rand::random();
        Verifier::with_salt(password, salt)
    }

    pub fn with_salt(password: &str, salt: [u8; 16]) -> Verifier {
        let key = password_key(password.as_bytes(), &salt);
        Verifier {
            salt,
            hash: hash_key(&key, &salt),
        }
    }

    /// Whether `password` is the one this verifier was made from.
    pub fn matches(&self, password: &str) -> bool {
        Verifier::with_salt(password, self.salt).hash == self.hash
    }

    fn session_key_key(&self) -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(&self.hash[..32]);
        k
    }
}

pub fn encrypt(key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; plain.len()];
    Enc::new(key.into(), &[0u8; 16].into())
        .encrypt_padded_b2b::<NoPadding>(plain, &mut out)
        .expect("whole blocks");
    out
}

/// `None` unless `cipher` is whole AES blocks.
pub fn decrypt(key: &[u8; 32], cipher: &[u8]) -> Option<Vec<u8>> {
    if cipher.is_empty() || !cipher.len().is_multiple_of(16) {
        return None;
    }
    let mut out = vec![0u8; cipher.len()];
    Dec::new(key.into(), &[0u8; 16].into())
        .decrypt_padded_b2b::<NoPadding>(cipher, &mut out)
        .ok()?;
    Some(out)
}

/// One logon in progress: what phase one sent.
pub struct Challenge {
    pub verifier: Verifier,
    part_a: [u8; 32],
    pub csk_salt: [u8; 16],
}

/// What phase two proved.
pub struct Proof {
    /// The password the client sent, when its padding was whole.
    pub password: Option<String>,
    pub combo_key: [u8; 32],
}

impl Challenge {
    pub fn new(verifier: Verifier) -> Challenge {
        Challenge {
            verifier,
            part_a: rand::random(),
            csk_salt: rand::random(),
        }
    }

    /// AUTH_SESSKEY of phase one, hex.
    pub fn server_session_key(&self) -> String {
        hex::encode_upper(encrypt(&self.verifier.session_key_key(), &self.part_a))
    }

    /// Checks phase two's AUTH_SESSKEY, AUTH_PBKDF2_SPEEDY_KEY and AUTH_PASSWORD (hex): the
    /// proof, or `None` for a wrong password.
    pub fn verify(&self, session_key: &str, speedy_key: &str, password: &str) -> Option<Proof> {
        let part_b = decrypt(
            &self.verifier.session_key_key(),
            &hex::decode(session_key).ok()?,
        )?;
        if part_b.len() != 32 {
            return None;
        }
        let mut both = part_b;
        both.extend_from_slice(&self.part_a);
        let mut combo_key = [0u8; 32];
        pbkdf2(
            hex::encode_upper(&both).as_bytes(),
            &self.csk_salt,
            SDER_COUNT,
            &mut combo_key,
        );
        let speedy = decrypt(&combo_key, &hex::decode(speedy_key).ok()?)?;
        if speedy.len() != 80 || hash_key(&speedy[16..], &self.verifier.salt) != self.verifier.hash
        {
            return None;
        }
        let password = decrypt(&combo_key, &hex::decode(password).ok()?).and_then(|p| {
            let pad = *p.last()? as usize;
            let end = p.len().checked_sub(pad)?;
            if !(1..=16).contains(&pad) || end < 16 {
                return None;
            }
            String::from_utf8(p[16..end].to_vec()).ok()
        });
        Some(Proof {
            password,
            combo_key,
        })
    }
}

/// AUTH_SVR_RESPONSE: proves to the client that the server knew the verifier.
pub fn server_response(combo_key: &[u8; 32]) -> String {
    let mut plain = rand::random::<[u8; 16]>().to_vec();
    plain.extend_from_slice(b"SERVER_TO_CLIENT");
    hex::encode_upper(encrypt(combo_key, &plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's half, as rust-oracledb's `generate_verifier` computes it.
    fn client(password: &str, challenge: &Challenge, server_key: &str) -> (String, String, String) {
        let key = password_key(password.as_bytes(), &challenge.verifier.salt);
        let hash = hash_key(&key, &challenge.verifier.salt);
        let mut k = [0u8; 32];
        k.copy_from_slice(&hash[..32]);
        let part_a = decrypt(&k, &hex::decode(server_key).unwrap()).unwrap();
        let part_b: [u8; 32] = rand::random();
        let session_key = hex::encode_upper(encrypt(&k, &part_b));
        let mut both = part_b.to_vec();
        both.extend_from_slice(&part_a);
        let mut combo = [0u8; 32];
        pbkdf2(
            hex::encode_upper(&both).as_bytes(),
            &challenge.csk_salt,
            SDER_COUNT,
            &mut combo,
        );
        let mut speedy = [0u8; 80];
        speedy[16..].copy_from_slice(&key);
        let speedy = hex::encode_upper(encrypt(&combo, &speedy));
        let mut pw = vec![9u8; 16];
        pw.extend_from_slice(password.as_bytes());
        let pad = 16 - password.len() % 16;
        pw.extend(std::iter::repeat_n(pad as u8, pad));
        (session_key, speedy, hex::encode_upper(encrypt(&combo, &pw)))
    }

    #[test]
    fn the_right_password_logs_on_and_a_wrong_one_does_not() {
        let challenge = Challenge::new(Verifier::new("Tiger-1"));
        let server_key = challenge.server_session_key();
        let (s, k, p) = client("Tiger-1", &challenge, &server_key);
        let proof = challenge.verify(&s, &k, &p).expect("right password");
        assert_eq!(proof.password.as_deref(), Some("Tiger-1"));
        let (s, k, p) = client("tiger-1", &challenge, &server_key);
        assert!(challenge.verify(&s, &k, &p).is_none());
        assert!(Verifier::new("a").matches("a"));
        assert!(!Verifier::new("a").matches("A"));
    }
}
