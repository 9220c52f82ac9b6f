//! `rotationStatement`: Infisical's Handlebars-like template whose only expressions are
//! `{{username}}`, `{{password}}` and `{{database}}`, run one `;`-separated fragment at a
//! time. Values are substituted as they are: the usernames and passwords that may reach it are
//! refused or generated without quotes, backslashes, semicolons, braces or whitespace
//! (`safe_name`, `password`), so they can never end the literal or identifier they sit in.

/// What is wrong with a template, in Infisical's words.
pub fn problem(template: &str) -> Option<&'static str> {
    if template.trim().is_empty() {
        return Some("Rotation Statement Required");
    }
    let mut rest = template;
    let mut seen_user = false;
    let mut seen_password = false;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Some("Invalid expression detected in rotation statement");
        };
        match after[..end].trim() {
            "username" => seen_user = true,
            "password" => seen_password = true,
            "database" => {}
            _ => return Some("Invalid expression detected in rotation statement"),
        }
        rest = &after[end + 2..];
    }
    if !(seen_user && seen_password) {
        return Some("Rotation statement must have username and password template expression");
    }
    None
}

/// The template with its expressions replaced, split into the statements to run in order.
pub fn render(template: &str, username: &str, password: &str, database: &str) -> Vec<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        out.push_str(match after[..end].trim() {
            "username" => username,
            "password" => password,
            _ => database,
        });
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a database username can be put into a statement: no quotes, backslashes,
/// semicolons, braces, whitespace or control characters, at most 63 bytes (Postgres' limit).
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.chars().any(|c| {
            crate::providers::password::FORBIDDEN_SYMBOLS.contains(c)
                || c.is_whitespace()
                || c.is_control()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let t = "ALTER USER \"{{username}}\" WITH PASSWORD '{{password}}'; GRANT x TO \"{{ username }}\";";
        assert_eq!(problem(t), None);
        assert_eq!(
            render(t, "u1", "pw", "db"),
            vec![
                "ALTER USER \"u1\" WITH PASSWORD 'pw'".to_string(),
                "GRANT x TO \"u1\"".to_string()
            ]
        );
        assert_eq!(
            problem("ALTER USER {{username}} {{secret}}"),
            Some("Invalid expression detected in rotation statement")
        );
        assert_eq!(
            problem("ALTER USER {{username}}"),
            Some("Rotation statement must have username and password template expression")
        );
        assert!(safe_name("infisical_user_1"));
        assert!(!safe_name("a\"; DROP ROLE x; --"));
        assert!(!safe_name("o'brien"));
    }
}
