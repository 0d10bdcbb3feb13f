//! Terminal escape sequences out of CLI text. `tctl`/`tsh` colour `ERROR: ` red on every
//! non-Windows platform, terminal or not (`lib/utils/cli.go`, `UserMessageFromError` writes
//! `Color(Red, "ERROR: ")` unconditionally), and cluster text (labels, reasons) may carry escapes
//! of its own. None of it belongs in a tool result, a log line, a lease log or the database, so the
//! redaction stage every such text passes through strips them first ([`crate::redact`]).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// CSI (`ESC [ … final`), OSC (`ESC ] … BEL|ESC \`), and the other two-byte `ESC x` sequences;
/// then any ESC or C1 CSI left over (a cut-off sequence), so that stripping twice changes nothing.
/// An OSC is whole only with its terminator on the same line (a title has no newline); otherwise
/// only its `ESC ]` goes, so an unterminated one in cluster text swallows nothing after it (a node
/// list would lose its tail, a private key the BEGIN line its redaction keys on). Nor does an OSC
/// run across U+E000, which stands for a redaction marker while [`crate::redact`] strips escapes.
static ESCAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n\x{e000}]*(?:\x07|\x1b\\)|\x1b[0-~]|[\x1b\x{9b}]")
        .expect("escape pattern compiles")
});

/// `s` without terminal escape sequences; borrowed when there were none.
pub fn strip_escapes(s: &str) -> Cow<'_, str> {
    if !s.contains(['\x1b', '\u{9b}']) {
        return Cow::Borrowed(s);
    }
    ESCAPES.replace_all(s, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teleports_red_error_prefix_and_other_escapes_go() {
        assert_eq!(
            strip_escapes("\x1b[31mERROR: \x1b[0mno access request matching \"x\"\n"),
            "ERROR: no access request matching \"x\"\n"
        );
        assert_eq!(strip_escapes("a\x1b]0;title\x07b\x1b[2Jc\x1b7d"), "abcd");
        assert_eq!(strip_escapes("cut \x1b["), "cut ");
        assert_eq!(strip_escapes("a\x1b]open title\nnext line\n"), "aopen title\nnext line\n");
        assert!(matches!(strip_escapes("plain ERROR: text"), Cow::Borrowed(_)));
        for s in ["\x1b\x1b[0m[31m", "\u{9b}31m", "\x1b]\x1b[0m"] {
            let once = strip_escapes(s).into_owned();
            assert!(!once.contains('\x1b') && !once.contains('\u{9b}'), "{s:?} -> {once:?}");
            assert_eq!(strip_escapes(&once), once, "idempotent for {s:?}");
        }
    }
}
