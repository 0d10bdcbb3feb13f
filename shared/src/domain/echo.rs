//! How a refused value is echoed back in an error message: escaped like `{:?}` and cut to a budget
//! of printed characters. Cutting the value before escaping is not enough: one invisible character
//! prints as up to ten (`\u{e0001}`), so 64 of them made a 600-character error.

/// `value` quoted like `{value:?}`, at most `max` printed characters long (escapes and quotes
/// included); a cut is marked with `…` inside the quotes.
pub fn quoted(value: &str, max: usize) -> String {
    format!("\"{}\"", escaped(value, max.saturating_sub(2)))
}

/// `value` escaped like `{value:?}` without the quotes, at most `max` (at least 1) printed
/// characters long; a cut is marked with `…`.
pub fn escaped(value: &str, max: usize) -> String {
    let budget = max.max(1);
    let mut out = String::new();
    let mut used = 0;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        // `{:?}` of a str leaves single quotes alone; `char::escape_debug` would escape them.
        let escape: String = if c == '\'' { c.to_string() } else { c.escape_debug().collect() };
        let width = escape.chars().count();
        // Room for `…` unless this is the last character.
        let reserve = usize::from(chars.peek().is_some());
        if used + width + reserve > budget {
            out.push('…');
            break;
        }
        out.push_str(&escape);
        used += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_print_like_debug() {
        for s in ["", "web-01", "a\"b'c\\d", "tab\there", "ünïcødé"] {
            assert_eq!(quoted(s, 80), format!("{s:?}"));
        }
    }

    #[test]
    fn escapes_count_against_the_budget() {
        let hostile = "\u{e0001}".repeat(64);
        let q = quoted(&hostile, 64);
        assert!(q.chars().count() <= 64, "{} chars: {q}", q.chars().count());
        assert!(q.starts_with("\"\\u{e0001}") && q.ends_with("…\""), "{q}");
        assert_eq!(quoted(&"x".repeat(100), 10), "\"xxxxxxx…\"");
        assert_eq!(quoted("xxxxxxxx", 10), "\"xxxxxxxx\"", "fits exactly: no cut");
        assert_eq!(escaped("a\nb", 80), "a\\nb");
    }
}
