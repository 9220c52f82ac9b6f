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
    Ok(format!("/{}", segments.join("/")))
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

/// Secret names: not empty, no whitespace, at most 256 characters.
pub fn check_secret_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid(
            "too_small",
            &["secretName"],
            "Secret name cannot be empty",
        ));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(
            "custom",
            &["secretName"],
            "Secret name cannot contain spaces.",
        ));
    }
    if name.chars().count() > 256 {
        return Err(ApiError::invalid(
            "too_big",
            &["secretName"],
            "Secret name must be at most 256 characters",
        ));
    }
    Ok(())
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
    }

    #[test]
    fn secret_names() {
        assert!(check_secret_name("DB_PASSWORD").is_ok());
        assert!(check_secret_name("").is_err());
        assert!(check_secret_name("A B").is_err());
    }
}
