//! One lease on this host: start its `tsh proxy` (as the worker does, through the shared runner),
//! report how that went, then supervise it — its lines to the gateway, its exit, its expiry, and
//! the stops it is ordered — until the process is gone.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::domain::{LeaseKind, LeaseTarget, parse_listen_addr};
use mtcp_shared::edge::{EDGE_KINDS, EndReason, StartOrder};
use mtcp_shared::process_group;
use mtcp_shared::redact::{LineRedactor, redact_text};
use mtcp_shared::teleport::proxy::{self, StartError, Startup, proxy_args};
use tokio::io::{AsyncBufRead, Lines};
use uuid::Uuid;

use crate::outbox::Report;
use crate::session::{Session, Stop};
use crate::state::Entry;

/// How long a proxy may take to print its startup line (the workers' default `leases.start_timeout`).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the last lines may take to arrive once the process group is gone.
const DRAIN: Duration = Duration::from_millis(500);

/// Carry out a start order (claimed by the caller); reports `started` or `failed`.
pub async fn start(s: Arc<Session>, order: StartOrder) {
    let id = order.lease_id;
    let started = match launch(&s, &order).await {
        Ok(started) => started,
        Err(error) => {
            tracing::warn!(lease_id = %id, kind = order.kind.as_str(), %error, "lease start failed");
            s.unclaim(id);
            s.outbox.report(id, Report::Failed { error: redact_text(&error) });
            return;
        }
    };
    let pid = started.pgid;
    let pid_start_time = proxy::process_start_time(pid);
    if let Some(t) = pid_start_time {
        s.setup.state.add(Entry { lease_id: id, pid, pid_start_time: t });
    }
    let listen_addr = match started.startup {
        Some(Startup::Listening(addr)) => addr.to_string(),
        _ => String::new(),
    };
    tracing::info!(lease_id = %id, kind = order.kind.as_str(), pid, %listen_addr, "lease process started");
    s.outbox.report(id, Report::Started { listen_addr, pid, pid_start_time, kubeconfig: started.kubeconfig.clone() });
    for (stream, line) in &started.early_lines {
        s.outbox.line(id, stream, line.clone());
    }
    let stops = s.supervise(id);
    supervise(&s, id, started, stops, order.expires_at).await;
}

/// Check the order and start the process; the error is the text for the gateway.
async fn launch(s: &Session, order: &StartOrder) -> Result<proxy::Started, String> {
    if !EDGE_KINDS.contains(&order.kind) {
        return Err(format!("edge agents do not run {} leases (only {})", order.kind, kinds()));
    }
    if !target_fits(order.kind, &order.target) {
        return Err(format!("the lease's target is not a {} target", order.kind));
    }
    let listen = parse_listen_addr(order.listen_addr.as_deref().unwrap_or("127.0.0.1:0")).map_err(|e| e.0)?;
    // `tsh proxy` binds 127.0.0.1 with `--port`; the host part of a requested address is loopback anyway.
    let args = proxy_args(&order.target, Some(listen.port()));
    match proxy::start(&s.setup.runner, order.kind, &args, START_TIMEOUT).await {
        Ok(started) => Ok(started),
        Err(StartError::Exited { exit_code, stderr }) => {
            let code = exit_code.map_or_else(|| "a signal".to_owned(), |c| format!("code {c}"));
            Err(format!("tsh exited with {code} before it was ready: {}", stderr.trim()))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn kinds() -> String {
    EDGE_KINDS.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}

fn target_fits(kind: LeaseKind, target: &LeaseTarget) -> bool {
    matches!(
        (kind, target),
        (LeaseKind::ProxyDb, LeaseTarget::Db { .. })
            | (LeaseKind::ProxyApp, LeaseTarget::App { .. })
            | (LeaseKind::ProxyMcp, LeaseTarget::Mcp { .. })
            | (LeaseKind::ProxyKube, LeaseTarget::Kube { .. })
    )
}

enum Outcome {
    Exited(Option<ExitStatus>),
    Stop(Stop),
}

async fn supervise(
    s: &Session,
    id: Uuid,
    started: proxy::Started,
    mut stops: tokio::sync::mpsc::Receiver<Stop>,
    expires_at: chrono::DateTime<chrono::Utc>,
) {
    let proxy::Started { mut child, pgid, mut stdout, mut stderr, .. } = started;
    let (mut out_open, mut err_open) = (true, true);
    // Per stream: a PEM block printed over several lines is redacted as a whole.
    let mut redactors = (LineRedactor::default(), LineRedactor::default());
    let left = (expires_at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    let expiry = tokio::time::sleep(left);
    tokio::pin!(expiry);
    let outcome = loop {
        tokio::select! {
            line = stdout.next_line(), if out_open => match line {
                Ok(Some(line)) => s.outbox.line(id, "stdout", redactors.0.line(&line)),
                _ => out_open = false,
            },
            line = stderr.next_line(), if err_open => match line {
                Ok(Some(line)) => s.outbox.line(id, "stderr", redactors.1.line(&line)),
                _ => err_open = false,
            },
            status = child.wait() => break Outcome::Exited(status.ok()),
            stop = stops.recv() => break Outcome::Stop(stop.unwrap_or(Stop {
                report: Some(EndReason::Stopped), hard: true, why: "the agent is stopping".into(),
            })),
            _ = &mut expiry => break Outcome::Stop(Stop {
                report: Some(EndReason::Expired), hard: false, why: "the lease expired".into(),
            }),
        }
    };
    let report = match outcome {
        Outcome::Exited(status) => {
            // The leader is gone; anything it started in its group goes with it.
            process_group::kill(pgid);
            tracing::warn!(lease_id = %id, pid = pgid, "lease process {}", describe(status));
            Some(Report::Ended { reason: EndReason::Exited, exit_code: status.and_then(|st| st.code()) })
        }
        Outcome::Stop(stop) => {
            let grace = if stop.hard { Duration::ZERO } else { s.setup.stop_grace };
            let status = process_group::stop(&mut child, pgid, grace).await;
            tracing::info!(lease_id = %id, pid = pgid, why = %stop.why, "lease process stopped: {}", describe(status));
            stop.report.map(|reason| Report::Ended { reason, exit_code: None })
        }
    };
    drain(s, id, &mut stdout, &mut stderr, &mut redactors).await;
    s.setup.state.remove(id);
    if let Some(report) = report {
        s.outbox.report(id, report);
    }
    s.gone(id);
}

/// Forward what is left in the pipes, for a bounded time (a process that escaped the group could
/// hold them open).
async fn drain<O: AsyncBufRead + Unpin, E: AsyncBufRead + Unpin>(
    s: &Session,
    id: Uuid,
    stdout: &mut Lines<O>,
    stderr: &mut Lines<E>,
    redactors: &mut (LineRedactor, LineRedactor),
) {
    let _ = tokio::time::timeout(DRAIN, async {
        while let Ok(Some(line)) = stdout.next_line().await {
            s.outbox.line(id, "stdout", redactors.0.line(&line));
        }
        while let Ok(Some(line)) = stderr.next_line().await {
            s.outbox.line(id, "stderr", redactors.1.line(&line));
        }
    })
    .await;
}

/// "exited with code 3", "was killed by signal 9".
fn describe(status: Option<ExitStatus>) -> String {
    match status {
        Some(st) => match (st.code(), st.signal()) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(sig)) => format!("was killed by signal {sig}"),
            (None, None) => "ended".to_owned(),
        },
        None => "ended (status unknown)".to_owned(),
    }
}
