//! The loops of a run: the long poll for work, the heartbeat, the sender of reports and log lines,
//! and the fail-closed watchdog. Each returns when the run is over.

use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::edge::{EndReason, Ended, Failed, Heartbeat, HeartbeatAck, LogBatch, Started, Work, WorkRequest};
use serde::de::IgnoredAny;

use crate::backoff::Backoff;
use crate::client::CallError;
use crate::outbox::{FLUSH_EVERY, Report};
use crate::session::{Session, Stop};

/// The long poll may take this much longer than the gateway's wait before it counts as lost.
const POLL_SLACK: Duration = Duration::from_secs(10);

/// Sleep, unless the run ends first (then false).
async fn pause(s: &Session, d: Duration) -> bool {
    tokio::select! {
        _ = s.over.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

/// Ask for work and act on it until the run ends.
pub async fn poll(s: Arc<Session>) {
    // Short waits: a gateway that is back must hear from the agent soon (fail-closed counts).
    let mut backoff = Backoff::with(Duration::from_millis(500), Duration::from_secs(10));
    let timeout = Duration::from_millis(s.rhythm.poll_wait_ms) + POLL_SLACK;
    let ask = WorkRequest { agent_id: s.agent_id };
    while !s.over.is_cancelled() {
        let asked = tokio::select! {
            _ = s.over.cancelled() => return,
            r = s.call::<_, Work>("/work", &ask, Some(timeout)) => r,
        };
        match asked {
            Ok(work) => {
                backoff.reset();
                for order in work.stops {
                    let stop = Stop { report: Some(EndReason::Stopped), hard: false, why: order.reason.clone() };
                    match s.stop(order.lease_id, stop) {
                        Some(_) => tracing::info!(lease_id = %order.lease_id, reason = %order.reason, "stop ordered"),
                        // Not running here (ended already, or never started): the gateway still gets its answer.
                        None => s
                            .outbox
                            .report(order.lease_id, Report::Ended { reason: EndReason::Stopped, exit_code: None }),
                    }
                }
                for order in work.starts {
                    if s.claim(order.lease_id) {
                        tokio::spawn(crate::lease::start(s.clone(), order));
                    }
                }
            }
            Err(CallError::Unauthorized | CallError::Superseded) => return,
            Err(e) => {
                let wait = backoff.next_wait();
                tracing::warn!(error = %e, retry_in = ?wait, "asking the gateway for work failed");
                if !pause(&s, wait).await {
                    return;
                }
            }
        }
    }
}

/// Tell the gateway which leases run here; kill those it says are over.
pub async fn heartbeat(s: Arc<Session>) {
    let mut tick = tokio::time::interval(Duration::from_millis(s.rhythm.heartbeat_interval_ms.max(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = s.over.cancelled() => return,
            _ = tick.tick() => {}
        }
        let beat = Heartbeat { agent_id: s.agent_id, lease_ids: s.running() };
        match s.call::<_, HeartbeatAck>("/heartbeat", &beat, None).await {
            Ok(ack) => {
                for id in ack.not_live {
                    let stop = Stop { report: None, hard: false, why: "the gateway says the lease is over".into() };
                    if s.stop(id, stop) == Some(true) {
                        tracing::warn!(lease_id = %id, "the gateway says this lease is no longer live: stopping it");
                    }
                }
            }
            Err(CallError::Unauthorized | CallError::Superseded) => return,
            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
        }
    }
}

/// Send the queued reports (in order) and log lines until the run ends.
pub async fn send(s: Arc<Session>) {
    let mut backoff = Backoff::with(Duration::from_millis(250), Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = s.over.cancelled() => return,
            _ = s.outbox.wake.notified() => {}
            _ = tokio::time::sleep(FLUSH_EVERY) => {}
        }
        match flush(&s).await {
            Ok(()) => backoff.reset(),
            Err(CallError::Unauthorized | CallError::Superseded) => return,
            Err(e) => {
                let wait = backoff.next_wait();
                tracing::debug!(error = %e, retry_in = ?wait, "reports wait for the gateway");
                if !pause(&s, wait).await {
                    return;
                }
            }
        }
    }
}

/// Send what is queued; stops at the first failure that may pass (the queue keeps it).
pub async fn flush(s: &Session) -> Result<(), CallError> {
    while let Some((lease_id, report)) = s.outbox.next_report() {
        let path = format!("/leases/{lease_id}/{}", report.endpoint());
        let agent_id = s.agent_id;
        let sent = match &report {
            Report::Started { listen_addr, pid, pid_start_time, kubeconfig } => {
                let body = Started {
                    agent_id,
                    listen_addr: listen_addr.clone(),
                    pid: *pid,
                    pid_start_time: *pid_start_time,
                    kubeconfig: kubeconfig.clone(),
                };
                s.call::<_, IgnoredAny>(&path, &body, None).await
            }
            Report::Failed { error } => {
                s.call::<_, IgnoredAny>(&path, &Failed { agent_id, error: error.clone() }, None).await
            }
            Report::Ended { reason, exit_code } => {
                let body = Ended { agent_id, reason: *reason, exit_code: *exit_code };
                s.call::<_, IgnoredAny>(&path, &body, None).await
            }
        };
        match sent {
            Ok(_) => s.outbox.pop_report(),
            Err(CallError::Rejected { status, body }) => {
                tracing::warn!(%lease_id, status, error = %body, report = report.endpoint(), "the gateway refused a report");
                s.outbox.pop_report();
                // The gateway does not want this process (stopped or expired while it started).
                if matches!(report, Report::Started { .. }) {
                    let why = format!("the gateway refused its start ({status})");
                    s.stop(lease_id, Stop { report: None, hard: false, why });
                }
            }
            Err(e) => return Err(e),
        }
    }
    loop {
        let (lines, dropped) = s.outbox.next_lines();
        if dropped > 0 {
            tracing::warn!(dropped, "log lines dropped while the gateway could not be reached");
        }
        if lines.is_empty() {
            return Ok(());
        }
        let n = lines.len();
        match s.call::<_, IgnoredAny>("/logs", &LogBatch { agent_id: s.agent_id, lines }, None).await {
            Ok(_) => s.outbox.pop_lines(n),
            Err(CallError::Rejected { status, body }) => {
                tracing::warn!(status, error = %body, lines = n, "the gateway refused a batch of log lines");
                s.outbox.pop_lines(n);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Kill every proxy when the gateway has not answered for `fail_closed_after`: the control plane
/// can no longer stop them, so they must not run on.
pub async fn watchdog(s: Arc<Session>) {
    let limit = Duration::from_millis(s.rhythm.fail_closed_after_ms);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = s.over.cancelled() => return,
            _ = tick.tick() => {}
        }
        let since = s.since_contact();
        if since < limit {
            continue;
        }
        let stop = Stop { report: Some(EndReason::FailClosed), hard: true, why: "fail-closed".into() };
        let killed = s.stop_all(&stop, false);
        if killed > 0 {
            tracing::warn!(
                "could not reach the gateway for {} s: killed {killed} proxies (fail-closed)",
                since.as_secs()
            );
        }
    }
}
