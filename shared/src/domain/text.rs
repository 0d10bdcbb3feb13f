//! The one check of what text we accept from callers, tokens and keys: names (actors, roles) and
//! free text (reasons, tickets) may hold no character that makes a recorded text read differently
//! from what it is — controls (Cc), format characters (Cf: bidi overrides and isolates, soft
//! hyphens, zero-width characters, the Mongolian vowel separator), line and paragraph separators
//! (Zl, Zp), private-use and unassigned code points.

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
    text.chars().find(|&c| {
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
    })
}

#[cfg(test)]
mod tests {
    use super::{TextKind, unprintable};

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
}
