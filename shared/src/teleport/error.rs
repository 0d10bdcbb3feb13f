//! Classification of a failed CLI run from its stderr (`ERROR: <message>`, docs/teleport-output.md)
//! into what the caller can act on: access denied, not found, or another failure. Teleport has no
//! distinct exit code for either (always 1), so the message decides.

use std::sync::LazyLock;

use regex::Regex;

use super::runner::RunOutput;
use crate::redact::redact_text;
use crate::terminal::strip_escapes;

/// Longest message kept; Teleport's user messages are short, anything longer is noise.
const MAX_MESSAGE_CHARS: usize = 2000;
/// Lines of stderr used when there is no `ERROR:` line.
const FALLBACK_LINES: usize = 3;

/// `trace.AccessDenied` texts: RBAC (`access denied to perform action …`) and review refusals
/// (`lib/auth/auth.go` `SubmitAccessReview`: `user "x" cannot submit reviews`;
/// `lib/services/local/dynamic_access.go` `ApplyAccessReview`: `user "x" cannot review request "<id>"`).
static ACCESS_DENIED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)access denied|\bcannot review request\b|\bcannot submit reviews\b"#).expect("pattern compiles")
});
/// `trace.NotFound` texts: `… not found`, and `lib/services/access_request.go` `GetAccessRequest`:
/// `no access request matching "<id>"` (what `tsh request show` prints for an unknown id).
static NOT_FOUND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)not found|\bno access request matching\b").expect("pattern compiles"));
static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^ERROR: ?").expect("ERROR pattern compiles"));

/// Why Teleport refused or failed a command (messages are redacted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeleportError {
    /// The service identity lacks the permission (`access denied to perform action …`).
    #[error("Teleport refused; its message:{}", section(message))]
    AccessDenied {
        /// Teleport's message.
        message: String,
    },
    /// The named resource does not exist.
    #[error("Not found in Teleport; its message:{}", section(message))]
    NotFound {
        /// Teleport's message.
        message: String,
    },
    /// Any other failure (bad flags, connection problems, expired identity, …).
    #[error("Teleport command failed{}; its message:{}", exit_suffix(*.exit_code), section(message))]
    Failed {
        /// Teleport's message, or the last stderr lines.
        message: String,
        /// Exit code; `None` when killed by a signal.
        exit_code: Option<i32>,
    },
}

/// Teleport's words quote the cluster (names, reasons): shown inside a marked, escaped section.
fn section(message: &str) -> String {
    crate::tools::untrusted::text_section(message)
}

fn exit_suffix(code: Option<i32>) -> String {
    match code {
        Some(code) => format!(" (exit code {code})"),
        None => " (killed by a signal)".to_owned(),
    }
}

impl TeleportError {
    /// The (redacted) message.
    pub fn message(&self) -> &str {
        match self {
            TeleportError::AccessDenied { message }
            | TeleportError::NotFound { message }
            | TeleportError::Failed { message, .. } => message,
        }
    }
}

/// `None` when the run exited 0; otherwise the classified failure.
pub fn classify(output: &RunOutput) -> Option<TeleportError> {
    if output.exit_code == Some(0) {
        return None;
    }
    let message = redact_text(&error_message(output));
    Some(if ACCESS_DENIED.is_match(&message) {
        TeleportError::AccessDenied { message }
    } else if NOT_FOUND.is_match(&message) {
        TeleportError::NotFound { message }
    } else {
        TeleportError::Failed { message, exit_code: output.exit_code }
    })
}

/// The user-facing error text: after `ERROR: ` (kingpin usage before it dropped), else the last
/// non-empty stderr lines, else a sentence saying there was none.
pub fn error_message(output: &RunOutput) -> String {
    let stderr = strip_escapes(&output.stderr);
    let text = match ERROR_LINE.find(&stderr) {
        Some(m) => stderr[m.end()..].trim().to_owned(),
        None => {
            let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            lines[lines.len().saturating_sub(FALLBACK_LINES)..].join("\n")
        }
    };
    let text = if text.is_empty() {
        match output.exit_code {
            Some(code) => format!("exited with code {code} without an error message"),
            None => "terminated by a signal without an error message".to_owned(),
        }
    } else {
        text
    };
    truncate_chars(text, MAX_MESSAGE_CHARS)
}

fn truncate_chars(mut s: String, max: usize) -> String {
    if let Some((cut, _)) = s.char_indices().nth(max) {
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn failed(stderr: &str) -> TeleportError {
        let output = RunOutput {
            argv: vec!["tsh".into()],
            exit_code: Some(1),
            stdout: String::new(),
            stderr: stderr.into(),
            stdout_truncated: false,
            stderr_truncated: false,
            duration: Duration::ZERO,
        };
        classify(&output).expect("a failure")
    }

    #[test]
    fn teleports_own_texts_classify_and_lose_their_colour() {
        let red = |m: &str| format!("\x1b[31mERROR: \x1b[0m{m}\n\n");
        let id = "c418967c-2127-4f75-a6be-29b7983ceb3b";
        let missing = failed(&red(&format!("no access request matching \"{id}\"")));
        assert_eq!(missing, TeleportError::NotFound { message: format!("no access request matching \"{id}\"") });
        for text in [
            format!("user \"mtcp-bot\" cannot review request \"{id}\""),
            "user \"mtcp-bot\" cannot submit reviews".to_owned(),
            "access denied to perform action \"delete\" on \"access_request\"".to_owned(),
        ] {
            assert_eq!(failed(&red(&text)), TeleportError::AccessDenied { message: text.clone() });
        }
        assert!(matches!(failed(&red("request with ID \"x\" not found")), TeleportError::NotFound { .. }));
        let other = failed(&red("use only one of --expires and --ttl"));
        assert!(matches!(other, TeleportError::Failed { .. }));
        assert!(!other.message().contains('\x1b'));
    }
}
