//! Role-name patterns (as in `request.roles`, `review_requests.roles`, `impersonate.roles`) and
//! trait references (`{{internal.logins}}`) as Teleport interprets them.

use regex::Regex;

/// Whether `pattern` selects the role `name`: an exact name, a glob with `*`, or a `^…$` regex.
/// An invalid regex matches nothing (Teleport rejects such roles on write).
pub(crate) fn role_matches(pattern: &str, name: &str) -> bool {
    if pattern == name || pattern == "*" {
        return true;
    }
    let source = if pattern.starts_with('^') && pattern.ends_with('$') {
        pattern.to_owned()
    } else if pattern.contains('*') {
        format!("^{}$", regex::escape(pattern).replace(r"\*", ".*"))
    } else {
        return false;
    };
    Regex::new(&source).is_ok_and(|re| re.is_match(name))
}

/// The trait a login template reads: `{{internal.logins}}` → `logins`, `{{ external.unix }}` →
/// `unix`. `None` for literal logins and for function calls such as `{{email.local(...)}}`.
pub(crate) fn trait_name(template: &str) -> Option<&str> {
    let inner = template.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("internal.").or_else(|| inner.strip_prefix("external."))?;
    let name = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(name);
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_follow_teleport() {
        assert!(role_matches("editor", "editor"));
        assert!(!role_matches("editor", "editors"));
        assert!(role_matches("*", "anything"));
        assert!(role_matches("db-*", "db-admin"));
        assert!(!role_matches("db-*", "xdb-admin"));
        assert!(role_matches("^(admin|editor)$", "editor"));
        assert!(!role_matches("^(admin$", "admin"), "invalid regex matches nothing");
        assert!(role_matches("a.b", "a.b") && !role_matches("a.b", "axb"), "dots are literal in names");
    }

    #[test]
    fn traits_are_recognised() {
        assert_eq!(trait_name("{{internal.logins}}"), Some("logins"));
        assert_eq!(trait_name("{{ external.unix_logins }}"), Some("unix_logins"));
        assert_eq!(trait_name("root"), None);
        assert_eq!(trait_name("{{email.local(external.email)}}"), None);
    }
}
