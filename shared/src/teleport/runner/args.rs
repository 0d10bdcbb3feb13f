//! Checks on user-supplied values that become positional arguments, and a low-cardinality
//! subcommand label for logs and metrics.

/// A value that may not be passed as a positional argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// Empty.
    #[error("the {kind} must not be empty")]
    Empty {
        /// What the value names (e.g. "request id").
        kind: String,
    },
    /// Would be read as a flag.
    #[error("the {kind} must not start with '-'")]
    LeadingDash {
        /// What the value names.
        kind: String,
    },
    /// Contains a control character.
    #[error("the {kind} must not contain control characters")]
    ControlCharacter {
        /// What the value names.
        kind: String,
    },
    /// Contains whitespace.
    #[error("the {kind} must not contain whitespace")]
    Whitespace {
        /// What the value names.
        kind: String,
    },
    /// Longer than a DNS name may be.
    #[error("the {kind} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// What the value names.
        kind: String,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// The longest value accepted (the length limit of a DNS name).
pub const MAX_POSITIONAL_LEN: usize = 253;

/// Accepts `value` as a positional argument: non-empty, no leading `-`, no control characters or
/// whitespace, at most 253 characters. The error names `kind` but never echoes the value.
pub fn safe_positional<'a>(kind: &str, value: &'a str) -> Result<&'a str, ArgError> {
    let kind = kind.to_owned();
    if value.is_empty() {
        return Err(ArgError::Empty { kind });
    }
    if value.starts_with('-') {
        return Err(ArgError::LeadingDash { kind });
    }
    if value.chars().any(char::is_control) {
        return Err(ArgError::ControlCharacter { kind });
    }
    if value.chars().any(char::is_whitespace) {
        return Err(ArgError::Whitespace { kind });
    }
    let len = value.chars().count();
    if len > MAX_POSITIONAL_LEN {
        return Err(ArgError::TooLong { kind, len, max: MAX_POSITIONAL_LEN });
    }
    Ok(value)
}

/// The leading command words of `args` (at most two, e.g. `get nodes`, `request ls`) for logs and
/// metrics: it stops at the first flag or at a word that looks like a value (digits, `/`, `.`).
pub fn subcommand(args: &[String]) -> String {
    args.iter()
        .take(2)
        .take_while(|a| {
            !a.is_empty()
                && a.len() <= 32
                && a.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
                && !a.starts_with('-')
        })
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}
