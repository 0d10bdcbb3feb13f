//! Go's `%q` (`strconv.Quote`), which Teleport uses for reasons in text output: short escapes
//! for the usual controls, `\xNN` for other ASCII controls, `\uNNNN` for other unprintable
//! characters, printable Unicode kept as is.

/// `fmt.Sprintf("%q", s)`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            ' ' => out.push(' '),
            c if c.is_control() || c.is_whitespace() => match c as u32 {
                n if n < 0x10000 => out.push_str(&format!("\\u{n:04x}")),
                n => out.push_str(&format!("\\U{n:08x}")),
            },
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("INC-4711: restart nginx"), "\"INC-4711: restart nginx\"");
        assert_eq!(go_quote("a\"b\\c\nd\u{1b}é"), "\"a\\\"b\\\\c\\nd\\x1bé\"");
        assert_eq!(go_quote("x\u{a0}\u{2028}"), "\"x\\u00a0\\u2028\"");
    }
}
