//! SCRAM's server side (RFC 5802; SCRAM-SHA-256 per RFC 7677), as MongoDB runs it: a user's
//! stored credentials (salt, iterations, StoredKey, ServerKey), the server-first message, and the
//! check of the client's proof. MongoDB's SCRAM-SHA-1 hashes the password first as
//! `hex(MD5("<user>:mongo:<password>"))` ("MongoDB Authentication" specification); SCRAM-SHA-256
//! takes the password itself after SASLprep, which leaves the printable ASCII Rotary generates
//! as it is (other passwords are taken as given: not modelled).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use md5::Digest;
use ring::{digest, hmac, pbkdf2};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Sha1,
    Sha256,
}

impl Mechanism {
    pub fn parse(name: &str) -> Option<Mechanism> {
        match name {
            "SCRAM-SHA-1" => Some(Mechanism::Sha1),
            "SCRAM-SHA-256" => Some(Mechanism::Sha256),
            _ => None,
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            Mechanism::Sha1 => pbkdf2::PBKDF2_HMAC_SHA1,
            Mechanism::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Mechanism::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Mechanism::Sha256 => hmac::HMAC_SHA256,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Mechanism::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Mechanism::Sha256 => &digest::SHA256,
        }
    }

    fn len(self) -> usize {
        match self {
            Mechanism::Sha1 => 20,
            Mechanism::Sha256 => 32,
        }
    }
}

/// What the server keeps of a password for one mechanism (never the password).
#[derive(Clone)]
pub struct StoredCredential {
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

/// The iteration count the mock uses for both mechanisms: the drivers' minimum (MongoDB's
/// defaults, 10,000 and 15,000, only make each login slower).
pub const ITERATIONS: u32 = 4096;

fn salted_password(m: Mechanism, user: &str, password: &str, salt: &[u8], i: u32) -> Vec<u8> {
    let input = match m {
        Mechanism::Sha1 => hex::encode(md5::Md5::digest(format!("{user}:mongo:{password}"))),
        Mechanism::Sha256 => password.to_string(),
    };
    let mut out = vec![0; m.len()];
    pbkdf2::derive(
        m.pbkdf2(),
        std::num::NonZeroU32::new(i).expect("iterations"),
        salt,
        input.as_bytes(),
        &mut out,
    );
    out
}

fn mac(m: Mechanism, key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(m.hmac(), key), data)
        .as_ref()
        .to_vec()
}

impl StoredCredential {
    pub fn new(m: Mechanism, user: &str, password: &str) -> StoredCredential {
        let salt: [u8; 16] = rand::random();
        let salted = salted_password(m, user, password, &salt, ITERATIONS);
        let client_key = mac(m, &salted, b"Client Key");
        StoredCredential {
            salt: salt.to_vec(),
            iterations: ITERATIONS,
            stored_key: digest::digest(m.digest(), &client_key).as_ref().to_vec(),
            server_key: mac(m, &salted, b"Server Key"),
        }
    }

    /// Whether `password` is the one these credentials were made from.
    pub fn matches(&self, m: Mechanism, user: &str, password: &str) -> bool {
        let salted = salted_password(m, user, password, &self.salt, self.iterations);
        let client_key = mac(m, &salted, b"Client Key");
        digest::digest(m.digest(), &client_key).as_ref() == self.stored_key.as_slice()
    }
}

/// A conversation after the server-first message.
pub struct Conversation {
    pub mechanism: Mechanism,
    pub user: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

/// Parses `n,,n=<user>,r=<nonce>`: the gs2 header must be `n,,` (no channel binding, no authzid).
pub fn client_first(payload: &[u8]) -> Result<(String, String, String), String> {
    let text = std::str::from_utf8(payload).map_err(|_| "payload is not UTF-8".to_string())?;
    let bare = text.strip_prefix("n,,").ok_or_else(|| {
        "unsupported gs2 header: channel binding and authzid are not supported".to_string()
    })?;
    let mut user = None;
    let mut nonce = None;
    for attr in bare.split(',') {
        if let Some(v) = attr.strip_prefix("n=") {
            user = Some(v.replace("=2C", ",").replace("=3D", "="));
        } else if let Some(v) = attr.strip_prefix("r=") {
            nonce = Some(v.to_string());
        }
    }
    match (user, nonce) {
        (Some(u), Some(n)) if !n.is_empty() => Ok((bare.to_string(), u, n)),
        _ => Err("client-first message without a user or a nonce".into()),
    }
}

impl Conversation {
    /// The server-first message `r=<client nonce + server nonce>,s=<salt>,i=<iterations>`.
    pub fn start(
        mechanism: Mechanism,
        user: &str,
        client_first_bare: &str,
        client_nonce: &str,
        stored: &StoredCredential,
    ) -> Conversation {
        let server_nonce = STANDARD.encode(rand::random::<[u8; 24]>());
        let nonce = format!("{client_nonce}{server_nonce}");
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(&stored.salt),
            stored.iterations
        );
        Conversation {
            mechanism,
            user: user.to_string(),
            client_first_bare: client_first_bare.to_string(),
            server_first,
            nonce,
        }
    }

    pub fn server_first(&self) -> &str {
        &self.server_first
    }

    /// Checks `c=biws,r=<nonce>,p=<proof>`: the server-final message `v=<signature>` when the
    /// proof is the password's, else why not.
    pub fn finish(&self, payload: &[u8], stored: &StoredCredential) -> Result<String, String> {
        let m = self.mechanism;
        let text = std::str::from_utf8(payload).map_err(|_| "payload is not UTF-8".to_string())?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| "client-final message without a proof".to_string())?;
        let mut binding = None;
        let mut nonce = None;
        for attr in without_proof.split(',') {
            if let Some(v) = attr.strip_prefix("c=") {
                binding = Some(v);
            } else if let Some(v) = attr.strip_prefix("r=") {
                nonce = Some(v);
            }
        }
        if binding != Some("biws") {
            return Err("channel binding is not supported".into());
        }
        if nonce != Some(self.nonce.as_str()) {
            return Err("the nonce does not match".into());
        }
        let proof = STANDARD
            .decode(proof)
            .map_err(|_| "the proof is not base64".to_string())?;
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let client_signature = mac(m, &stored.stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return Err("the proof has the wrong length".into());
        }
        let client_key: Vec<u8> = proof
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        if digest::digest(m.digest(), &client_key).as_ref() != stored.stored_key.as_slice() {
            return Err("the proof is not the password's".into());
        }
        let server_signature = mac(m, &stored.server_key, auth_message.as_bytes());
        Ok(format!("v={}", STANDARD.encode(server_signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's SCRAM-SHA-256 example: user "user", password "pencil".
    #[test]
    fn the_rfc_7677_exchange_verifies() {
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = salted_password(Mechanism::Sha256, "user", "pencil", &salt, 4096);
        let client_key = mac(Mechanism::Sha256, &salted, b"Client Key");
        let stored = StoredCredential {
            salt,
            iterations: 4096,
            stored_key: digest::digest(&digest::SHA256, &client_key)
                .as_ref()
                .to_vec(),
            server_key: mac(Mechanism::Sha256, &salted, b"Server Key"),
        };
        let conversation = Conversation {
            mechanism: Mechanism::Sha256,
            user: "user".into(),
            client_first_bare: "n=user,r=rOprNGfwEbeRWgbNEkqO".into(),
            server_first: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096".into(),
            nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into(),
        };
        let final_message = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        assert_eq!(
            conversation.finish(final_message, &stored).unwrap(),
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        assert!(stored.matches(Mechanism::Sha256, "user", "pencil"));
        assert!(!stored.matches(Mechanism::Sha256, "user", "pencil2"));
        let wrong = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR=";
        assert!(conversation.finish(wrong, &stored).is_err());
    }
}
