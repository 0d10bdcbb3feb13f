//! What the agent has to tell the gateway and has not yet managed to: lease reports (started,
//! failed, ended), kept in order and sent again until the gateway accepts or refuses them, and log
//! lines, sent in batches (every 250 ms or 100 lines) and bounded in memory.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use mtcp_shared::edge::{EndReason, LogLine};
use tokio::sync::Notify;
use uuid::Uuid;

/// A batch is sent at least this often while lines come in.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// ... or as soon as this many lines wait.
pub const FLUSH_LINES: usize = 100;
/// Lines kept while the gateway cannot be reached; older ones are dropped (and counted).
const KEPT_LINES: usize = 10_000;

/// One lease report.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Started { listen_addr: String, pid: i32, pid_start_time: Option<u64>, kubeconfig: Option<String> },
    Failed { error: String },
    Ended { reason: EndReason, exit_code: Option<i32> },
}

impl Report {
    /// The endpoint under `/leases/{lease_id}/`.
    pub fn endpoint(&self) -> &'static str {
        match self {
            Report::Started { .. } => "started",
            Report::Failed { .. } => "failed",
            Report::Ended { .. } => "ended",
        }
    }
}

#[derive(Default)]
struct Queues {
    reports: VecDeque<(Uuid, Report)>,
    lines: VecDeque<LogLine>,
    dropped_lines: u64,
}

/// The queues, shared by the lease supervisors (producers) and the sender.
#[derive(Default)]
pub struct Outbox {
    queues: Mutex<Queues>,
    /// Woken when a report arrives or a full batch of lines waits.
    pub wake: Notify,
}

impl Outbox {
    fn queues(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn report(&self, lease_id: Uuid, report: Report) {
        self.queues().reports.push_back((lease_id, report));
        self.wake.notify_one();
    }

    /// A line the lease's process printed (already redacted).
    pub fn line(&self, lease_id: Uuid, stream: &str, line: String) {
        let mut q = self.queues();
        if q.lines.len() >= KEPT_LINES {
            q.lines.pop_front();
            q.dropped_lines += 1;
        }
        q.lines.push_back(LogLine { lease_id, stream: stream.to_owned(), line });
        if q.lines.len() >= FLUSH_LINES {
            self.wake.notify_one();
        }
    }

    /// The oldest unsent report.
    pub fn next_report(&self) -> Option<(Uuid, Report)> {
        self.queues().reports.front().cloned()
    }

    /// The oldest report was accepted (or refused for good).
    pub fn pop_report(&self) {
        self.queues().reports.pop_front();
    }

    /// Up to one batch of the oldest lines, and how many were dropped since the last batch.
    pub fn next_lines(&self) -> (Vec<LogLine>, u64) {
        let mut q = self.queues();
        let n = q.lines.len().min(FLUSH_LINES);
        (q.lines.iter().take(n).cloned().collect(), std::mem::take(&mut q.dropped_lines))
    }

    /// The `n` oldest lines were accepted (or refused for good).
    pub fn pop_lines(&self, n: usize) {
        let mut q = self.queues();
        let n = n.min(q.lines.len());
        q.lines.drain(..n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_stay_in_order_until_popped_and_lines_are_bounded() {
        let o = Outbox::default();
        let id = Uuid::from_u128(1);
        o.report(id, Report::Failed { error: "no".into() });
        o.report(id, Report::Ended { reason: EndReason::Stopped, exit_code: None });
        assert_eq!(o.next_report().unwrap().1.endpoint(), "failed");
        assert_eq!(o.next_report().unwrap().1.endpoint(), "failed", "a report stays until it is popped");
        o.pop_report();
        assert_eq!(o.next_report().unwrap().1.endpoint(), "ended");
        for i in 0..KEPT_LINES + 5 {
            o.line(id, "stdout", format!("line {i}"));
        }
        let (batch, dropped) = o.next_lines();
        assert_eq!((batch.len(), dropped), (FLUSH_LINES, 5));
        assert_eq!(batch[0].line, "line 5");
        o.pop_lines(FLUSH_LINES);
        assert_eq!(o.next_lines().0[0].line, format!("line {}", 5 + FLUSH_LINES));
    }
}
