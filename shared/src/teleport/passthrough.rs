//! Raw `tctl`/`tsh` arguments from a caller (`run_tctl_command`, `run_tsh_command`): the check
//! that decides whether they may run, and the run itself.
//!
//! The check is an allow-list first, with a deny-list in front of it for the reasons:
//!
//! - Deny by default. Each binary has a short list of read-only commands (`tctl get`, `tsh ls`, …)
//!   and, per command, the flags and positional shapes it accepts. Anything else is refused, so a
//!   flag Teleport adds next year (or one we never heard of, like `tctl get --with-secrets`) cannot
//!   slip through. A deny-list alone would have to know every dangerous flag of two CLIs.
//! - The deny-list still runs first, over every argument wherever it stands, because its job is
//!   the message: "overrides the control plane's identity" is something an LLM can act on, "not
//!   allowed" is not. It covers identity/proxy/auth/user/cluster/config overrides, `--insecure`,
//!   debug output, log in/out, file writers, session and proxy commands, `--` and `@file`.
//! - The argv is read the way kingpin reads it: `--flag=value` and `--flag value`, short flags
//!   combined (`-dk`) or with a glued value (`-ievil`), flags anywhere on the line. Every letter
//!   of a short cluster is checked, because after a boolean letter the next one is a flag again.
//! - `--` is refused outright: after it every word is positional, so refusing it keeps one
//!   reading of the line, and no allowed command needs a value that starts with `-`.
//! - `@word` is refused: kingpin expands it into arguments read from that file on the worker.
//! - `-l/--login` is refused: it sets the SSH login, i.e. who you become on a node; it only matters
//!   to session commands, which are refused, so allowing it would only widen the surface.
//! - Shell syntax (`$(…)`, backticks, `;`) and `NAME=value` words are refused even though no shell
//!   is involved (the runner passes an argv): they can only be a caller expecting one.
//!
//! The runner adds its own global flags (identity, proxy) before these arguments; nothing here can
//! override them. Output is redacted like every other tool's, with the extra scrubbing of join
//! tokens and CA keys when the command prints those.

mod check;
mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::inventory::{ToolFailure, ToolRun, run_checked};
use super::runner::{Binary, Runner};
use crate::domain::quoted;
use crate::redact::redact_argv;

/// Most arguments accepted in one call.
pub const MAX_ARGS: usize = 64;
/// Longest argument accepted, in bytes.
pub const MAX_ARG_LEN: usize = 1024;
/// Characters of a refused argument echoed back in the error.
const ECHO_CHARS: usize = 80;

/// Why passthrough arguments were refused. The `Display` text is meant for the LLM caller;
/// `index` counts from 0 in the caller's `args` list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassthroughError {
    /// No arguments at all.
    #[error(
        "no arguments given; pass the command and its flags as a list, e.g. [\"get\", \"nodes\", \"--format=json\"]"
    )]
    Empty,
    /// More arguments than allowed.
    #[error("too many arguments; at most {max} are allowed")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// One argument is too long.
    #[error("args[{index}] is longer than {max} bytes")]
    TooLong {
        /// Position in `args`.
        index: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// One argument contains a control or invisible formatting character.
    #[error(
        "args[{index}] contains a control or invisible formatting character (newline, NUL, bidi override, …); pass each value as its own plain argument"
    )]
    ControlCharacter {
        /// Position in `args`.
        index: usize,
    },
    /// One argument is refused by the rules. Echoed within a budget of printed characters: the
    /// escapes of invisible characters would otherwise make an 80-character echo 700 long.
    #[error("args[{index}] ({}) is refused: {why}", quoted(.arg, ECHO_CHARS + 4))]
    Denied {
        /// Position in `args`.
        index: usize,
        /// The argument, redacted and truncated.
        arg: String,
        /// What it would do, or what would be accepted instead.
        why: &'static str,
    },
}

impl PassthroughError {
    /// A denial of `args[index]`, echoing it redacted (in context, so `--token X` hides `X`) and cut short.
    fn denied(args: &[String], index: usize, why: &'static str) -> PassthroughError {
        let redacted = redact_argv(args).into_iter().nth(index).unwrap_or_default();
        let mut arg: String = redacted.chars().take(ECHO_CHARS).collect();
        if redacted.chars().count() > ECHO_CHARS {
            arg.push('…');
        }
        PassthroughError::Denied { index, arg, why }
    }
}

/// What a passthrough command printed, redacted and capped like every run record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PassthroughResult {
    /// Exit code; always 0 (a non-zero exit is reported as a failure).
    pub exit_code: i32,
    /// Standard output, redacted.
    pub stdout: String,
    /// Standard error, redacted.
    pub stderr: String,
    /// Output was cut, by the runner's cap or the record's.
    pub truncated: bool,
}

/// Validate raw arguments a caller wants to pass to `binary` (they go after the runner's own global flags).
pub fn validate_args(binary: Binary, args: &[String]) -> Result<(), PassthroughError> {
    check::check(binary, args).map(|_| ())
}

/// Runs `binary` with `args` after validating them again (the gateway validates first; this is
/// defence in depth). Failures map like the inventory tools': a non-zero exit is
/// [`ToolFailure::Teleport`] with the classified message, plus timeouts, cancellation and spawn
/// errors. Arguments that fail validation are never run: that is reported as
/// [`ToolFailure::Spawn`] with the reason, and without a record, since nothing ran.
pub async fn run_passthrough(
    r: &Runner,
    binary: Binary,
    args: &[String],
    cancel: &CancellationToken,
) -> Result<ToolRun<PassthroughResult>, ToolFailure> {
    let checked = check::check(binary, args).map_err(|error| {
        // Reaching here means a caller skipped `validate_args`; worth a warning, not a panic.
        tracing::warn!(binary = %binary, %error, "passthrough arguments refused at run time");
        ToolFailure::Spawn { message: format!("the passthrough refused to start {binary}: {error}") }
    })?;
    let (_, record) = run_checked(r, binary, args, checked.scrub, cancel).await?;
    let value = PassthroughResult {
        exit_code: record.exit_code.unwrap_or_default(),
        stdout: record.stdout.clone(),
        stderr: record.stderr.clone(),
        truncated: record.truncated,
    };
    Ok(ToolRun { value, record })
}
