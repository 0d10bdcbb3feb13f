//! Classification of a failed CLI run from its stderr (`ERROR: <message>`, docs/teleport-output.md "Errors and exit codes") into
//! what the caller can act on: access denied, not found, or another failure.

use std::sync::LazyLock;

use regex::Regex;

use super::runner::RunOutput;
use crate::redact::redact_text;

/// Longest message kept; Teleport's user messages are short, anything longer is noise.
const MAX_MESSAGE_CHARS: usize = 2000;
/// Lines of stderr used when there is no `ERROR:` line.
const FALLBACK_LINES: usize = 3;

static ANSI: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\x1b\[[0-9;]*[A-Za-z]").expect("ANSI pattern compiles"));
static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^ERROR: ?").expect("ERROR pattern compiles"));

/// Why Teleport refused or failed a command (messages are redacted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeleportError {
    /// The service identity lacks the permission (`access denied to perform action …`).
    #[error("Teleport refused: {message}")]
    AccessDenied {
        /// Teleport's message.
        message: String,
    },
    /// The named resource does not exist.
    #[error("Not found in Teleport: {message}")]
    NotFound {
        /// Teleport's message.
        message: String,
    },
    /// Any other failure (bad flags, connection problems, expired identity, …).
    #[error("Teleport command failed{}: {message}", exit_suffix(*.exit_code))]
    Failed {
        /// Teleport's message, or the last stderr lines.
        message: String,
        /// Exit code; `None` when killed by a signal.
        exit_code: Option<i32>,
    },
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
    let lower = message.to_lowercase();
    Some(if lower.contains("access denied") {
        TeleportError::AccessDenied { message }
    } else if lower.contains("not found") {
        TeleportError::NotFound { message }
    } else {
        TeleportError::Failed { message, exit_code: output.exit_code }
    })
}

/// The user-facing error text: after `ERROR: ` (kingpin usage before it dropped), else the last
/// non-empty stderr lines, else a sentence saying there was none.
pub fn error_message(output: &RunOutput) -> String {
    let stderr = ANSI.replace_all(&output.stderr, "");
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
