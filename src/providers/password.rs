//! Infisical's password generator (`generatePassword`) and `passwordRequirements`, for SQL,
//! Redis and LDAP passwords and Redis usernames, with one difference: symbols that could end a
//! SQL literal or identifier, split a statement or open a template (`' " \ ; { }`, whitespace,
//! control characters) are refused, so a generated password can always be inlined into a
//! statement safely.

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
pub const DEFAULT_SYMBOLS: &str = "-_.~!*";
/// Symbols a password may never hold (see the module's comment).
pub const FORBIDDEN_SYMBOLS: &str = "'\"\\;{}`";

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Required {
    pub lowercase: u32,
    pub uppercase: u32,
    pub digits: u32,
    pub symbols: u32,
}

/// Infisical's `passwordRequirements` (default: 48 characters, at least one lowercase letter,
/// uppercase letter and digit, no symbols).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordRequirements {
    pub length: u32,
    pub required: Required,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_symbols: Option<String>,
}

impl Default for PasswordRequirements {
    fn default() -> Self {
        PasswordRequirements {
            length: 48,
            required: Required {
                lowercase: 1,
                uppercase: 1,
                digits: 1,
                symbols: 0,
            },
            allowed_symbols: None,
        }
    }
}

impl PasswordRequirements {
    /// What is wrong with these requirements, in Infisical's words where it has them.
    pub fn problem(&self) -> Option<String> {
        if self.length < 1 {
            return Some("Password length must be a positive number".into());
        }
        if self.length >= 250 {
            return Some("Password length must be less than 250".into());
        }
        let r = self.required;
        // In u64: four u32 counts can add past u32::MAX.
        let sum: u64 = [r.lowercase, r.uppercase, r.digits, r.symbols]
            .iter()
            .map(|&n| u64::from(n))
            .sum();
        if sum == 0 {
            return Some("At least one character type must be required".into());
        }
        if sum > u64::from(self.length) {
            return Some("Sum of required characters cannot exceed the total length".into());
        }
        if let Some(symbols) = &self.allowed_symbols {
            if let Some(bad) = symbols
                .chars()
                .find(|c| FORBIDDEN_SYMBOLS.contains(*c) || c.is_whitespace() || c.is_control())
            {
                return Some(format!(
                    "allowedSymbols cannot contain {bad:?}: it could end a quoted SQL value"
                ));
            }
            if !symbols.is_empty() && !symbols.chars().any(|c| c.is_ascii_punctuation()) {
                return Some("Invalid symbols".into());
            }
        }
        None
    }

    fn symbols(&self) -> Vec<char> {
        let set: String = self
            .allowed_symbols
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_SYMBOLS)
            .chars()
            .filter(|c| !FORBIDDEN_SYMBOLS.contains(*c) && !c.is_whitespace() && !c.is_control())
            .collect();
        if set.is_empty() {
            DEFAULT_SYMBOLS.chars().collect()
        } else {
            set.chars().collect()
        }
    }
}

/// `passwordRequirements` as a `validator` rule (the SQL types, Redis, LDAP): `problem`'s
/// message, code `custom`.
pub fn requirements_rule(
    requirements: &PasswordRequirements,
) -> Result<(), validator::ValidationError> {
    match requirements.problem() {
        Some(problem) => Err(crate::validation::invalid("custom", problem)),
        None => Ok(()),
    }
}

/// A password meeting `req`: the required count from each class, the rest from the union of
/// the classes that are required at all, shuffled; from the OS's random source.
pub fn generate(req: &PasswordRequirements) -> String {
    generate_with(&mut rand::rngs::OsRng, req)
}

/// A password nobody is told and only this server can compute again, for `context` alone: the
/// generator seeded with the HMAC of the root key and `context` (a revoke run's id). A revoke
/// that changed a password and crashed before it finished finds the password it set, where a
/// fresh random one would leave it unable to authenticate as the account it must change.
pub fn derived(key: &crate::crypto::Key, context: &str, req: &PasswordRequirements) -> String {
    use rand::SeedableRng;
    let mut seed = [0u8; 32];
    let mac = hex::decode(key.fingerprint(context.as_bytes())).unwrap_or_default();
    for (s, m) in seed.iter_mut().zip(mac) {
        *s = m;
    }
    generate_with(&mut rand::rngs::StdRng::from_seed(seed), req)
}

fn generate_with(rng: &mut impl rand::Rng, req: &PasswordRequirements) -> String {
    let symbols = req.symbols();
    let classes: [(Vec<char>, u32); 4] = [
        (LOWER.chars().collect(), req.required.lowercase),
        (UPPER.chars().collect(), req.required.uppercase),
        (DIGITS.chars().collect(), req.required.digits),
        (symbols, req.required.symbols),
    ];
    let mut out: Vec<char> = Vec::with_capacity(req.length as usize);
    let mut pool: Vec<char> = Vec::new();
    for (chars, count) in &classes {
        for _ in 0..*count {
            out.push(chars[rng.gen_range(0..chars.len())]);
        }
        if *count > 0 {
            pool.extend(chars);
        }
    }
    while out.len() < req.length as usize {
        out.push(pool[rng.gen_range(0..pool.len())]);
    }
    out.shuffle(rng);
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_password_is_the_same_for_its_context_only() {
        let key = crate::crypto::Key::generate();
        let req = PasswordRequirements::default();
        let a = derived(&key, "ldap-revoke:1", &req);
        assert_eq!(a, derived(&key, "ldap-revoke:1", &req));
        assert_ne!(a, derived(&key, "ldap-revoke:2", &req));
        assert_ne!(
            a,
            derived(&crate::crypto::Key::generate(), "ldap-revoke:1", &req)
        );
        assert_eq!(req.problem(), None);
        assert_eq!(a.len(), 48);
        assert!(a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_uppercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn the_default_is_48_letters_and_digits_with_each_class() {
        for _ in 0..100 {
            let p = generate(&PasswordRequirements::default());
            assert_eq!(p.len(), 48);
            assert!(p.chars().all(|c| c.is_ascii_alphanumeric()), "{p}");
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
        }
    }

    #[test]
    fn symbols_come_from_the_allowed_set_and_never_break_a_literal() {
        let req = PasswordRequirements {
            length: 20,
            required: Required {
                lowercase: 0,
                uppercase: 0,
                digits: 0,
                symbols: 20,
            },
            allowed_symbols: Some("!@#".into()),
        };
        assert_eq!(req.problem(), None);
        let p = generate(&req);
        assert!(p.chars().all(|c| "!@#".contains(c)), "{p}");
        for bad in ["'", "\"", "\\", ";", "{", "a b"] {
            let req = PasswordRequirements {
                allowed_symbols: Some(format!("!{bad}")),
                ..req.clone()
            };
            assert!(req.problem().is_some(), "{bad}");
        }
    }

    #[test]
    fn infisical_s_rules() {
        let mut req = PasswordRequirements {
            length: 0,
            ..Default::default()
        };
        assert_eq!(
            req.problem().unwrap(),
            "Password length must be a positive number"
        );
        req.length = 250;
        assert_eq!(
            req.problem().unwrap(),
            "Password length must be less than 250"
        );
        req.length = 2;
        assert_eq!(
            req.problem().unwrap(),
            "Sum of required characters cannot exceed the total length"
        );
        req.required = Required {
            lowercase: 0,
            uppercase: 0,
            digits: 0,
            symbols: 0,
        };
        assert_eq!(
            req.problem().unwrap(),
            "At least one character type must be required"
        );
    }
}
