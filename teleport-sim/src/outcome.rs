//! What one invocation produces: the bytes for stdout and stderr and the exit code. Commands
//! build it; only `main` writes it out (or hands it to [`Serve::run`] for a long-running command),
//! so everything else is testable in-process.

use crate::error::SimError;
use crate::serve::Serve;

/// The result of running one command line.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
    /// `hang_after`: once everything is written, sleep until killed instead of exiting.
    pub hang_after: bool,
    /// A long-running command: after printing, serve (see [`Serve::run`]) instead of exiting.
    pub serve: Option<Serve>,
}

impl Outcome {
    /// Success with a payload on stdout.
    pub fn stdout(text: impl Into<String>) -> Self {
        Outcome { stdout: text.into(), ..Self::default() }
    }

    /// Success with a payload on stderr only (e.g. `tsh request review`).
    pub fn stderr(text: impl Into<String>) -> Self {
        Outcome { stderr: text.into(), ..Self::default() }
    }

    /// Failure: the error block on stderr, exit 1.
    pub fn failed(err: &SimError) -> Self {
        Outcome { stderr: err.render(), code: 1, ..Self::default() }
    }
}

impl From<Result<Outcome, SimError>> for Outcome {
    fn from(result: Result<Outcome, SimError>) -> Self {
        result.unwrap_or_else(|err| Outcome::failed(&err))
    }
}
