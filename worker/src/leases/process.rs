//! The supervisor of a lease run by one `tsh` process (`proxy db|app|mcp|kube`, `vnet`): forwards
//! its output to the logs until it exits by itself (lease `failed`, `exited`) or is told to stop
//! (SIGTERM to its group, SIGKILL after the grace period).

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use mtcp_shared::process_group;
use mtcp_shared::redact::LineRedactor;
use mtcp_shared::teleport::proxy::Started;
use nix::sys::signal::Signal;
use tokio::io::{AsyncBufRead, BufReader, Lines};
use tokio::process::{ChildStderr, ChildStdout};
use tokio::sync::mpsc;

use super::logs::Logs;
use super::{Ending, Lease, LeaseManager};

/// How long the last lines may take to arrive once the process group is gone.
const DRAIN: Duration = Duration::from_millis(500);

enum Outcome {
    Exited(Option<ExitStatus>),
    Stop(Ending),
}

pub(super) async fn supervise(
    mgr: &LeaseManager,
    lease: Lease,
    started: Started,
    logs: Logs,
    mut stops: mpsc::Receiver<Ending>,
) {
    let Started { mut child, pgid, mut stdout, mut stderr, .. } = started;
    let (mut out_open, mut err_open) = (true, true);
    // Per stream: a PEM block printed over several lines is redacted as a whole.
    let mut redactors = (LineRedactor::default(), LineRedactor::default());
    let outcome = loop {
        tokio::select! {
            line = stdout.next_line(), if out_open => match line {
                Ok(Some(line)) => logs.line("stdout", &redactors.0.line(&line)).await,
                _ => out_open = false,
            },
            line = stderr.next_line(), if err_open => match line {
                Ok(Some(line)) => logs.line("stderr", &redactors.1.line(&line)).await,
                _ => err_open = false,
            },
            status = child.wait() => break Outcome::Exited(status.ok()),
            // No sender left means the manager is gone: treat it as a shutdown.
            stop = stops.recv() => break Outcome::Stop(stop.unwrap_or_else(Ending::shutdown)),
        }
    };
    let (ending, exit_code) = match outcome {
        Outcome::Exited(status) => {
            // The leader is gone; anything it started in its group goes with it.
            process_group::kill(pgid);
            drain(&mut stdout, &mut stderr, &logs, &mut redactors).await;
            logs.system(format!("process {pgid} {}", describe(status))).await;
            (Ending::exited(), status.and_then(|s| s.code()))
        }
        Outcome::Stop(ending) => {
            let grace = mgr.config.stop_grace;
            logs.system(format!("stopping process group {pgid}: {} (SIGTERM, SIGKILL after {grace:?})", ending.why))
                .await;
            let status = process_group::stop(&mut child, pgid, grace).await;
            if status.and_then(|s| s.signal()) == Some(Signal::SIGKILL as i32) {
                logs.system(format!("process {pgid} ignored SIGTERM; killed after the {grace:?} grace period")).await;
            }
            drain(&mut stdout, &mut stderr, &logs, &mut redactors).await;
            logs.system(format!("process {pgid} {}", describe(status))).await;
            // The exit code of a lease is the one of a process that ended by itself.
            (ending, None)
        }
    };
    logs.close().await;
    mgr.end(lease, &ending, exit_code).await;
}

/// Forward what is left in the pipes, for a bounded time (a process that escaped the group could
/// hold them open).
async fn drain(
    stdout: &mut Lines<BufReader<ChildStdout>>,
    stderr: &mut Lines<BufReader<ChildStderr>>,
    logs: &Logs,
    redactors: &mut (LineRedactor, LineRedactor),
) {
    let _ = tokio::time::timeout(DRAIN, async {
        forward(stdout, "stdout", logs, &mut redactors.0).await;
        forward(stderr, "stderr", logs, &mut redactors.1).await;
    })
    .await;
}

async fn forward<R: AsyncBufRead + Unpin>(
    lines: &mut Lines<R>,
    stream: &'static str,
    logs: &Logs,
    redactor: &mut LineRedactor,
) {
    while let Ok(Some(line)) = lines.next_line().await {
        logs.line(stream, &redactor.line(&line)).await;
    }
}

/// "exited with code 3", "was killed by SIGKILL".
pub(super) fn describe(status: Option<ExitStatus>) -> String {
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(sig)) => match Signal::try_from(sig) {
                Ok(sig) => format!("was killed by {sig}"),
                Err(_) => format!("was killed by signal {sig}"),
            },
            (None, None) => "ended".to_owned(),
        },
        None => "ended (status unknown)".to_owned(),
    }
}
