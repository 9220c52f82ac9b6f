//! Domain checks shared by several routes, with Infisical's wording.

use crate::error::{ApiError, Issue};

/// Infisical's slug rule: 1–64 lowercase letters, digits and hyphens.
pub fn check_slug(field: &str, value: &str) -> Result<(), ApiError> {
    let issue = |code: &str, message: String| {
        ApiError::Validation(vec![Issue::new(code, &[field], message)])
    };
    if value.is_empty() {
        return Err(issue(
            "too_small",
            format!("{field} field must be at least 1 lowercase character"),
        ));
    }
    if value.chars().count() > 64 {
        return Err(issue(
            "too_big",
            format!("{field} field must be at most 64 lowercase characters"),
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(issue(
            "custom",
            format!("{field} field can only contain lowercase letters, numbers, and hyphens"),
        ));
    }
    Ok(())
}

/// A slug made from a display name: "My Project!" becomes "my-project".
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-')
        .chars()
        .take(48)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Normalizes a folder path: leading slash, no trailing slash, no empty segments. Segments
/// must be folder names (letters, digits, `-`, `_`, `.`).
pub fn normalize_path(field: &str, raw: &str) -> Result<String, ApiError> {
    let segments: Vec<&str> = raw.split('/').filter(|s| !s.is_empty()).collect();
    for segment in &segments {
        check_folder_name(field, segment)?;
    }
    let path = format!("/{}", segments.join("/"));
    if path.len() > MAX_FOLDER_PATH {
        return Err(ApiError::invalid(
            "too_big",
            &[field],
            format!("Folder paths can be at most {MAX_FOLDER_PATH} characters long"),
        ));
    }
    Ok(path)
}

pub fn check_folder_name(field: &str, name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "custom",
            &[field],
            format!(
                "'{name}' is not a valid folder name: use 1 to 64 letters, numbers, dashes, underscores or dots"
            ),
        ))
    }
}

/// What is wrong with a secret name, as (zod code, message): empty, whitespace, longer than
/// 256 characters, or a colon or slash (SDKs and CLIs put names into URL paths unencoded).
/// The secrets API and rotation mappings share it, so a rotation can never create a secret
/// the secrets API could not.
pub fn secret_name_problem(name: &str) -> Option<(&'static str, &'static str)> {
    if name.trim().is_empty() {
        Some(("too_small", "Secret name cannot be empty"))
    } else if name.chars().any(char::is_whitespace) {
        Some(("custom", "Secret name cannot contain spaces."))
    } else if name.chars().count() > MAX_SECRET_NAME {
        Some(("too_big", "Secret name must be at most 256 characters"))
    } else if name.contains(':') || name.contains('/') {
        Some((
            "custom",
            "Secret name cannot contain colon or forward slash.",
        ))
    } else {
        None
    }
}

pub const MAX_SECRET_NAME: usize = 256;

/// `secret_name_problem` as a `validator` rule, for the `secretsMapping` of every type: a name
/// the secrets index cannot hold would otherwise fail the publish after the provider rotated.
pub fn secret_name_rule(name: &str) -> Result<(), validator::ValidationError> {
    match secret_name_problem(name.trim()) {
        Some((code, message)) => {
            let mut e = validator::ValidationError::new(code);
            e.message = Some(message.into());
            Err(e)
        }
        None => Ok(()),
    }
}

/// Secret names: see `secret_name_problem`.
pub fn check_secret_name(name: &str) -> Result<(), ApiError> {
    match secret_name_problem(name) {
        Some((code, message)) => Err(ApiError::invalid(code, &["secretName"], message)),
        None => Ok(()),
    }
}

/// The longest folder path (all segments with their slashes): the unique index on a path
/// holds at most ~2.7 kB, and no real tree is this deep.
pub const MAX_FOLDER_PATH: usize = 1024;

/// A `validator` error with a code and Infisical's message.
pub fn invalid(code: &'static str, message: String) -> validator::ValidationError {
    let mut e = validator::ValidationError::new(code);
    e.message = Some(message.into());
    e
}

/// An optional PEM field as stored: trimmed, blank as none.
pub fn pem_or_none(pem: Option<&str>) -> Option<String> {
    pem.map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

/// zod trims these fields before `min(1)`: whitespace alone is empty.
pub fn not_blank(value: &str) -> Result<(), validator::ValidationError> {
    if !value.is_empty() && value.trim().is_empty() {
        return Err(invalid(
            "too_small",
            "String must contain at least 1 character(s)".into(),
        ));
    }
    Ok(())
}

/// A port: a number, or a string of one (as zod's coerce allows), from 1 to 65535.
pub fn port_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    let n = match &v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(&n) => Ok(n as u16),
        Some(_) => Err(serde::de::Error::custom(
            "Port must be a whole number from 1 to 65535",
        )),
        None => Err(serde::de::Error::custom(
            "Expected number, received ".to_string()
                + match v {
                    serde_json::Value::Null => "null",
                    serde_json::Value::Bool(_) => "boolean",
                    serde_json::Value::String(_) => "string",
                    serde_json::Value::Array(_) => "array",
                    _ => "object",
                },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(check_slug("slug", "prod-eu-1").is_ok());
        assert!(check_slug("slug", "").is_err());
        assert!(check_slug("slug", "Prod").is_err());
        assert!(check_slug("slug", &"a".repeat(65)).is_err());
        assert_eq!(slugify("My Project!"), "my-project");
        assert_eq!(slugify("  --Billing  Sync-- "), "billing-sync");
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn paths() {
        assert_eq!(normalize_path("p", "/").unwrap(), "/");
        assert_eq!(normalize_path("p", "").unwrap(), "/");
        assert_eq!(
            normalize_path("p", "apps//billing/").unwrap(),
            "/apps/billing"
        );
        assert!(normalize_path("p", "/a/../b").is_err());
        assert!(normalize_path("p", "/a b").is_err());
        let deep = format!("/{}", vec!["a".repeat(64); 15].join("/"));
        assert!(normalize_path("p", &deep).is_ok());
        let deeper = format!("/{}", vec!["a".repeat(64); 45].join("/"));
        assert!(normalize_path("p", &deeper).is_err());
    }

    #[test]
    fn secret_names() {
        assert!(check_secret_name("DB_PASSWORD").is_ok());
        assert!(check_secret_name("").is_err());
        assert!(check_secret_name("A B").is_err());
        assert!(check_secret_name("NL\nX").is_err());
        assert!(check_secret_name(&"A".repeat(256)).is_ok());
        assert!(check_secret_name(&"A".repeat(257)).is_err());
        assert!(check_secret_name("../../etc").is_err());
        assert!(check_secret_name("A:B").is_err());
    }
}
