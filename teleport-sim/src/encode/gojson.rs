//! Go `encoding/json` (and jsoniter) output: indentation, HTML escaping and the `[]` quirk of
//! `utils.WriteJSONArray`.

use crate::value::Value;

/// How a Go encoder lays out JSON.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// One indent step.
    pub indent: &'static str,
    /// `encoding/json` escapes `<`, `>` and `&` by default; jsoniter's SafeConfig does not.
    pub escape_html: bool,
}

/// `tctl get`, `tctl nodes ls`, `tctl tokens ls`, `tctl status`: `encoding/json`, 4 spaces.
pub const TCTL: Style = Style { indent: "    ", escape_html: true };

/// `tsh … --format=json` listings: jsoniter, 2 spaces, no HTML escaping.
pub const TSH: Style = Style { indent: "  ", escape_html: false };

/// `tctl requests ls|get --format=json`: `json.MarshalIndent` with 2 spaces, HTML escaped.
pub const TCTL_REQUESTS: Style = Style { indent: "  ", escape_html: true };

/// Marshals one value with `MarshalIndent` (no trailing newline).
pub fn marshal(value: &Value, style: Style) -> String {
    let mut out = String::new();
    write_value(&mut out, value, style, 0);
    out
}

/// What `utils.WriteJSONArray` prints: `[]` with no newline when empty, else the indented
/// array and a newline.
pub fn write_array(items: &[Value], style: Style) -> String {
    if items.is_empty() {
        return "[]".to_owned();
    }
    let mut out = marshal(&Value::Array(items.to_vec()), style);
    out.push('\n');
    out
}

/// What `utils.WriteJSON` prints for an object: indented, then a newline.
pub fn write_object(value: &Value, style: Style) -> String {
    let mut out = marshal(value, style);
    out.push('\n');
    out
}

fn newline(out: &mut String, style: Style, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str(style.indent);
    }
}

fn write_value(out: &mut String, value: &Value, style: Style, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s, style.escape_html),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                write_value(out, item, style, depth + 1);
            }
            newline(out, style, depth);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, style, depth + 1);
                write_string(out, key, style.escape_html);
                out.push_str(": ");
                write_value(out, item, style, depth + 1);
            }
            newline(out, style, depth);
            out.push('}');
        }
    }
}

/// Go's string escaping: short escapes for `\b \f \n \r \t` (Go ≥ 1.22), `\u00XX` for other
/// control characters, and U+2028/U+2029 always escaped because they break JavaScript.
fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::obj;

    #[test]
    fn empty_array_has_no_newline_and_full_array_has_one() {
        assert_eq!(write_array(&[], TCTL), "[]");
        let out = write_array(&[obj! { "kind" => "node" }], TCTL);
        assert_eq!(out, "[\n    {\n        \"kind\": \"node\"\n    }\n]\n");
    }

    #[test]
    fn html_characters_are_escaped_like_encoding_json() {
        let v = obj! { "where" => "a && b < c > d" };
        assert!(marshal(&v, TCTL).contains(r#""a \u0026\u0026 b \u003c c \u003e d""#));
        assert!(marshal(&v, TSH).contains(r#""a && b < c > d""#));
    }

    #[test]
    fn nested_empty_containers_stay_inline() {
        let v = obj! { "a" => obj! {}, "b" => Vec::<Value>::new() };
        assert_eq!(marshal(&v, TSH), "{\n  \"a\": {},\n  \"b\": []\n}");
    }

    #[test]
    fn control_characters_use_go_escapes() {
        let v = Value::from("x\u{1}\u{8}\u{2028}");
        assert_eq!(marshal(&v, TCTL), r#""x\u0001\b\u2028""#);
    }
}
