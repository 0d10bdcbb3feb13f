//! Errors as Teleport prints them (`lib/utils/cli.go`, `FatalError`): a red `ERROR: ` prefix on
//! stderr, the message, an empty line, exit code 1.

use std::fmt;

/// A failed command.
#[derive(Debug, Clone, PartialEq)]
pub enum SimError {
    /// A kingpin parse error: usage text first, then the message.
    Usage { usage: String, message: String },
    /// Any other error, printed as Teleport's `trace.UserMessage`.
    Teleport(String),
}

impl SimError {
    /// A plain Teleport error.
    pub fn msg(message: impl Into<String>) -> Self {
        SimError::Teleport(message.into())
    }

    /// `access denied to perform action "<verb>" on "<resource>"` (`CheckAccessToRule`).
    pub fn access_denied(verb: &str, resource: &str) -> Self {
        Self::msg(format!("access denied to perform action \"{verb}\" on \"{resource}\""))
    }

    /// Everything the process writes to stderr for this error.
    pub fn render(&self) -> String {
        match self {
            SimError::Usage { usage, message } => format!("{usage}{}", error_block(message)),
            SimError::Teleport(message) => error_block(message),
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Usage { message, .. } | SimError::Teleport(message) => f.write_str(message),
        }
    }
}

/// The `ERROR:` block: the message already ends in a newline and `Fprintln` adds another.
pub fn error_block(message: &str) -> String {
    let message = if message.is_empty() {
        "please check Teleport's log for more details".to_owned()
    } else {
        escape_control(message)
    };
    format!("\x1b[31mERROR: \x1b[0m{message}\n\n")
}

/// `utils.EscapeControl` with `AllowWhitespace`: control characters other than `\n \t \v`
/// are quoted so a message cannot rewrite the terminal.
fn escape_control(message: &str) -> String {
    message
        .chars()
        .map(|c| match c {
            '\n' | '\t' | '\u{b}' => c.to_string(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_block_has_red_prefix_and_blank_line() {
        let out = SimError::access_denied("list", "node").render();
        assert_eq!(out, "\x1b[31mERROR: \x1b[0maccess denied to perform action \"list\" on \"node\"\n\n");
    }

    #[test]
    fn empty_and_control_messages_are_sanitised() {
        assert!(error_block("").contains("please check Teleport's log"));
        assert!(error_block("a\u{1b}[2Jb").contains("a\\x1b[2Jb"));
    }
}
