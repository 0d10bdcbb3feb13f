//! What a run produced, and how a run can fail to produce a normal exit.

use std::io;
use std::time::Duration;

use crate::redact::Redactor;

/// The outcome of one CLI run. `stdout`/`stderr` are raw (UTF-8 lossy, capped) because parsers
/// need them verbatim; call [`RunOutput::redacted`] before storing or logging them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// Redacted command line, binary file name first.
    pub argv: Vec<String>,
    /// Exit code; `None` when killed by a signal.
    pub exit_code: Option<i32>,
    /// Standard output (capped).
    pub stdout: String,
    /// Standard error (capped).
    pub stderr: String,
    /// Output beyond the cap was discarded.
    pub stdout_truncated: bool,
    /// Output beyond the cap was discarded.
    pub stderr_truncated: bool,
    /// Wall-clock time including termination.
    pub duration: Duration,
}

impl RunOutput {
    pub(super) fn empty(argv: Vec<String>) -> RunOutput {
        RunOutput {
            argv,
            exit_code: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            duration: Duration::ZERO,
        }
    }

    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// A copy with stdout/stderr passed through the default redactor.
    pub fn redacted(&self) -> RunOutput {
        self.redacted_with(&Redactor::default())
    }

    /// A copy with stdout/stderr passed through `redactor` (e.g. one that knows literal secrets).
    pub fn redacted_with(&self, redactor: &Redactor) -> RunOutput {
        RunOutput { stdout: redactor.text(&self.stdout), stderr: redactor.text(&self.stderr), ..self.clone() }
    }
}

/// A run that did not end with the process exiting on its own.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The binary could not be started (missing, not executable).
    #[error("could not start {binary}: {source}")]
    Spawn {
        /// The configured path.
        binary: String,
        /// The OS error.
        source: io::Error,
    },
    /// The run exceeded its timeout; the process group was terminated.
    #[error("{} timed out after {}s and was stopped", program(output), after.as_secs_f64())]
    TimedOut {
        /// The timeout.
        after: Duration,
        /// What was captured before the kill.
        output: RunOutput,
    },
    /// The caller cancelled the run; the process group was terminated.
    #[error("{} was cancelled", program(output))]
    Cancelled {
        /// What was captured before the kill.
        output: RunOutput,
    },
}

fn program(output: &RunOutput) -> &str {
    output.argv.first().map(String::as_str).unwrap_or("the Teleport CLI")
}
