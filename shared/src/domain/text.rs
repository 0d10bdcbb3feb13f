//! The one check of what text we accept from callers, tokens and keys: names (actors, roles) and
//! free text (reasons, tickets) may hold no character that makes a recorded text read differently
//! from what it is — controls (Cc), format characters (Cf: bidi overrides and isolates, soft
//! hyphens, zero-width characters, the Mongolian vowel separator), line and paragraph separators
//! (Zl, Zp), private-use and unassigned code points.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_general_category::{GeneralCategory, get_general_category};

/// What a text is, which decides whether it may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A name or identifier: one line, no tabs.
    Name,
    /// Free text a person wrote: newlines and tabs allowed.
    Free,
}

/// The first character `text` may not hold, if any.
pub fn unprintable(text: &str, kind: TextKind) -> Option<char> {
    text.chars().find(|&c| refused(c, kind))
}

/// Whether text of `kind` may not hold `c`.
fn refused(c: char, kind: TextKind) -> bool {
    if kind == TextKind::Free && matches!(c, '\n' | '\t') {
        return false;
    }
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    )
}

/// `text` with every character [`unprintable`] refuses in free text written out as `\u{…}`, so
/// text from the cluster (a user name chosen by whoever tried to log in, a label, an event type)
/// reads as what it is: no bidi override reorders what follows, no zero-width character hides a
/// difference, no separator starts a line. Newlines and tabs stay (a role's description spans
/// lines); JSON writes them escaped. Borrowed when nothing needed escaping.
pub fn escape_invisible(text: &str) -> Cow<'_, str> {
    if unprintable(text, TextKind::Free).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if refused(c, TextKind::Free) {
            let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`escape_invisible`] on every string of a JSON value, keys included.
pub fn escape_invisible_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if let Cow::Owned(escaped) = escape_invisible(s) {
                *s = escaped;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(escape_invisible_json),
        Value::Object(map) => {
            if map.keys().any(|k| matches!(escape_invisible(k), Cow::Owned(_))) {
                let old = std::mem::take(map);
                for (k, mut item) in old {
                    escape_invisible_json(&mut item);
                    map.insert(escape_invisible(&k).into_owned(), item);
                }
            } else {
                map.values_mut().for_each(escape_invisible_json);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{Cow, TextKind, escape_invisible, escape_invisible_json, unprintable};

    #[test]
    fn refuses_controls_format_and_separators() {
        for c in [
            '\u{0}', '\u{1b}', '\u{7f}', '\u{ad}', '\u{180e}', '\u{200b}', '\u{200e}', '\u{202e}', '\u{2066}',
            '\u{2028}', '\u{2029}', '\u{feff}', '\u{e000}',
        ] {
            let text = format!("a{c}b");
            assert_eq!(unprintable(&text, TextKind::Free), Some(c), "{:?}", c);
            assert_eq!(unprintable(&text, TextKind::Name), Some(c), "{:?}", c);
        }
    }

    #[test]
    fn accepts_what_people_write() {
        for text in ["alice", "Zoë Ölmez", "运维", "CHG-1234", "need db access: incident #42 — see runbook"] {
            assert_eq!(unprintable(text, TextKind::Name), None, "{text}");
        }
        assert_eq!(unprintable("line one\n\tline two", TextKind::Free), None);
        assert_eq!(unprintable("line one\nline two", TextKind::Name), Some('\n'));
    }

    #[test]
    fn invisible_characters_are_written_out_and_the_rest_stays() {
        assert_eq!(escape_invisible("alice"), "alice");
        assert!(matches!(escape_invisible("Zoë\nline\t2"), Cow::Borrowed(_)));
        assert_eq!(escape_invisible("adm\u{202e}nimda\u{1b}[31m\u{200b}x"), "adm\\u{202e}nimda\\u{001b}[31m\\u{200b}x");
        let once = escape_invisible("a\u{2028}b").into_owned();
        assert_eq!(escape_invisible(&once), once, "idempotent");
        let mut v = serde_json::json!({"user": "ev\u{202e}il", "list": ["\u{feff}x"], "k\u{200d}": 1, "n": 2});
        escape_invisible_json(&mut v);
        assert_eq!(v, serde_json::json!({"user": "ev\\u{202e}il", "list": ["\\u{feff}x"], "k\\u{200d}": 1, "n": 2}));
    }
}
