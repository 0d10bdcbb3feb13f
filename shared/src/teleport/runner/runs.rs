//! The runs of one operation: every `tctl`/`tsh` a job starts, with its exact (redacted) argv, is
//! noted in the operation's [`RunLog`] and stored with the operation, so the trail shows what was
//! run, not only what was asked for.
//!
//! A job sets the log for its own task ([`RunLog::scope`]); the runner notes each run in whichever
//! log is in scope, so no job has to thread it through every call. Runs outside a scope (a lease's
//! per-connection `tsh proxy ssh`) are not noted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Runs kept per operation; a job that runs more notes how many were left out.
pub const MAX_RUNS: usize = 100;

tokio::task_local! {
    static RUNS: RunLog;
}

/// One run as kept with its operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunEntry {
    /// The command line exactly as run, secrets redacted, binary name first.
    pub argv: Vec<String>,
    /// `exited`, `timed_out`, `cancelled`, `spawn_failed`, or `started` (a long-running process).
    pub outcome: String,
    /// Exit code when it exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Wall-clock time of the run (0 for a long-running process, noted at start).
    pub duration_ms: u64,
}

/// The runs of one operation so far. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct RunLog(Arc<Mutex<Log>>);

#[derive(Debug, Default)]
struct Log {
    entries: Vec<RunEntry>,
    dropped: usize,
}

impl RunLog {
    /// A new, empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Run `fut` with this log in scope: every run it makes is noted here.
    pub async fn scope<F: std::future::Future>(&self, fut: F) -> F::Output {
        RUNS.scope(self.clone(), fut).await
    }

    /// The runs noted so far, oldest first; when more than [`MAX_RUNS`] ran, the last entry says how
    /// many were left out.
    pub fn entries(&self) -> Vec<RunEntry> {
        let log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = log.entries.clone();
        if log.dropped > 0 {
            out.push(RunEntry {
                argv: Vec::new(),
                outcome: format!("{} more runs not kept", log.dropped),
                exit_code: None,
                duration_ms: 0,
            });
        }
        out
    }

    fn push(&self, entry: RunEntry) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if log.entries.len() < MAX_RUNS {
            log.entries.push(entry);
        } else {
            log.dropped += 1;
        }
    }
}

/// Note a run in the log in scope, if any.
pub(super) fn note(argv: &[String], outcome: &str, exit_code: Option<i32>, duration: Duration) {
    let entry = RunEntry {
        argv: argv.to_vec(),
        outcome: outcome.to_owned(),
        exit_code,
        duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    };
    let _ = RUNS.try_with(|log| log.push(entry));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_are_noted_only_in_scope_and_capped() {
        note(&["tctl".into()], "exited", Some(0), Duration::ZERO);
        let log = RunLog::new();
        log.scope(async {
            for i in 0..MAX_RUNS + 3 {
                note(&["tctl".into(), format!("{i}")], "exited", Some(0), Duration::from_millis(5));
            }
        })
        .await;
        let entries = log.entries();
        assert_eq!(entries.len(), MAX_RUNS + 1);
        assert_eq!(entries[0].argv, ["tctl", "0"]);
        assert_eq!(entries[MAX_RUNS].outcome, "3 more runs not kept");
    }
}
