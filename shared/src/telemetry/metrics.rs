//! Every Prometheus metric of the control plane, in one table: its kind, unit, labels and help
//! text. [`describe_all`] registers the descriptions at start, so `/metrics` carries HELP and TYPE
//! lines; a test checks that every `metrics::counter!/gauge!/histogram!` in the workspace is
//! listed here, with the kind it is recorded as.
//!
//! Conventions: `mtcp_` prefix, base units (`_seconds`), counters end in `_total`. Label values
//! come from fixed sets only (tool names from the catalog, built-in role names, enum labels),
//! never from op ids, actors or other user input, so every metric has a bounded number of series.

use metrics::Unit;

/// How a metric is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric: name, kind, unit, labels and what it counts.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: Unit,
    /// Label names (each with a bounded set of values).
    pub labels: &'static [&'static str],
    /// Which service records it.
    pub service: &'static str,
    pub help: &'static str,
}

const fn m(
    name: &'static str,
    kind: Kind,
    unit: Unit,
    labels: &'static [&'static str],
    service: &'static str,
    help: &'static str,
) -> Metric {
    Metric { name, kind, unit, labels, service, help }
}

use Kind::{Counter, Gauge, Histogram};
use Unit::{Count, Seconds};

/// The metrics, by service.
#[rustfmt::skip]
pub const METRICS: &[Metric] = &[
    // Gateway: calls, policy, authentication, audit ingest.
    m("mtcp_tool_calls_total", Counter, Count, &["tool", "capability", "outcome"], "gateway",
      "Tool calls answered, by tool, capability and outcome (succeeded, failed, timed_out, cancelled, denied, invalid, rate_limited, error, pending, task)."),
    m("mtcp_tool_call_duration_seconds", Histogram, Seconds, &["tool"], "gateway",
      "End-to-end time of a tool call at the gateway, from the request to its answer."),
    m("mtcp_policy_decisions_total", Counter, Count, &["capability", "decision"], "gateway",
      "Policy evaluations of tool calls, by capability and decision (allow, deny)."),
    m("mtcp_rate_limited_total", Counter, Count, &["role"], "gateway",
      "Tool calls refused by the per-actor rate limit, by role (built-in role names, or custom)."),
    m("mtcp_in_flight_refused_total", Counter, Count, &["role"], "gateway",
      "Tool calls refused because the actor had its role's maximum of calls queued or running, by role (built-in role names, or custom)."),
    m("mtcp_coalesced_calls_total", Counter, Count, &["tool"], "gateway",
      "Tool calls that joined an identical read already queued or running instead of running the CLI again, by tool."),
    m("mtcp_auth_failures_total", Counter, Count, &["reason"], "gateway",
      "Refused credentials on the MCP endpoint, by reason."),
    m("mtcp_console_sign_ins_total", Counter, Count, &["method"], "gateway",
      "Sign-ins to the operations console, by method (api_key, oidc)."),
    m("mtcp_auth_failures_unrecorded_total", Counter, Count, &[], "gateway",
      "Refused credentials only counted, not recorded in the operations trail (over the per-second recording budget)."),
    m("mtcp_cancellations_total", Counter, Count, &["via"], "gateway",
      "Cancellations requested, by how they arrived (disconnect, notification, task)."),
    m("mtcp_policy_reloads_total", Counter, Count, &["result"], "gateway",
      "Policy file reloads, by result (ok, rejected)."),
    m("mtcp_audit_events_ingested_total", Counter, Count, &["result"], "gateway",
      "Audit events received on the ingest endpoint, by result (inserted, duplicate, rejected)."),
    m("mtcp_audit_ingest_refused_total", Counter, Count, &["reason"], "gateway",
      "Audit deliveries refused whole, by reason (unauthorized, malformed, busy, too_large, body_timeout, not_utf8, no_events, unavailable)."),
    m("mtcp_gateway_connections_open", Gauge, Count, &[], "gateway",
      "Connections the gateway holds open now (TLS handshakes included), against service.max_connections."),
    m("mtcp_gateway_connections_refused_total", Counter, Count, &[], "gateway",
      "Connections closed as soon as they were accepted because service.max_connections were open."),
    m("mtcp_approvals_total", Counter, Count, &["event"], "gateway",
      "Approval steps, by event (requested, approved, denied; expired is counted by the reaper)."),
    m("mtcp_approval_decision_seconds", Histogram, Seconds, &["outcome"], "gateway",
      "Time from a call starting to wait for approval to its decision, by outcome (approved, denied; expired: the reaper)."),
    m("mtcp_webhook_deliveries_total", Counter, Count, &["event", "outcome"], "gateway",
      "Approval webhook delivery attempts, by event (approval.requested, approval.approved, approval.denied, approval.expired, else other) and outcome (delivered, retried, failed: given up after approvals.webhook.max_attempts)."),
    // Worker: jobs, queues, Teleport CLI runs, leases.
    m("mtcp_jobs_total", Counter, Count, &["tool", "status", "cluster"], "worker",
      "Jobs a worker ran to an outcome, by tool, final status and the configured cluster it ran on."),
    m("mtcp_job_queue_wait_seconds", Histogram, Seconds, &["queue", "cluster"], "worker",
      "Time from a call being recorded to a worker claiming its job, by queue (tools, leases) and cluster."),
    m("mtcp_job_exec_duration_seconds", Histogram, Seconds, &["tool"], "worker",
      "Time a worker spent running a job, by tool."),
    m("mtcp_worker_claim_errors_total", Counter, Count, &["queue"], "worker",
      "Claims of a lane (tools, leases) that failed on a database error; the lane retries after a pause."),
    m("mtcp_queue_depth", Gauge, Count, &["queue"], "worker",
      "Calls waiting on a lane (tools, leases), as last counted by this worker; every worker reports it, so aggregate with max."),
    m("mtcp_queue_oldest_seconds", Gauge, Seconds, &["queue"], "worker",
      "How long the oldest claimable call of a lane (tools, leases) has waited for a worker, 0 when none waits, as last read by this worker; aggregate with max."),
    m("mtcp_cli_runs_total", Counter, Count, &["binary", "subcommand", "exit"], "worker",
      "tctl/tsh runs, by binary, subcommand (a fixed list, else other) and exit (ok, error, killed, timed_out, cancelled, spawn_failed)."),
    m("mtcp_cli_run_duration_seconds", Histogram, Seconds, &["binary"], "worker",
      "Duration of one tctl/tsh run, by binary."),
    m("mtcp_leases_active", Gauge, Count, &["kind"], "worker",
      "Proxy leases this worker supervises now, by kind."),
    m("mtcp_lease_events_total", Counter, Count, &["kind", "event"], "worker",
      "Proxy lease events, by kind and event (started, start_failed, stopped, expired, exited, owner_lost, worker_shutdown)."),
    m("mtcp_teleport_identity_expiry_seconds", Gauge, Seconds, &["cluster"], "worker",
      "Seconds until the Teleport identity's certificate expires (negative once expired), read from the identity file at each heartbeat."),
    m("mtcp_teleport_identity_lifetime_seconds", Gauge, Seconds, &["cluster"], "worker",
      "The Teleport identity certificate's whole validity (tbot issues an hour by default), to judge the expiry against."),
    m("mtcp_lease_leftovers_killed_total", Counter, Count, &[], "worker",
      "Lease processes of earlier incarnations on this host killed at start."),
    // Reaper.
    m("mtcp_workers_online", Gauge, Count, &[], "reaper",
      "Workers heart-beating, as counted by the leading reaper at its last sweep."),
    m("mtcp_edge_agents_online", Gauge, Count, &[], "reaper",
      "Edge agents (mtcp-edge) with a run heart-beating, as counted by the leading reaper at its last sweep."),
    m("mtcp_edge_leases_live", Gauge, Count, &[], "reaper",
      "Proxy leases starting, active or stopping on edge agents, at the leading reaper's last sweep."),
    m("mtcp_reaper_leader", Gauge, Count, &[], "reaper",
      "1 while this reaper holds the leader lock, else 0."),
    m("mtcp_reaper_actions_total", Counter, Count, &["action"], "reaper",
      "What the leading reaper's sweeps did, by action (agent_offline, lease_expired, lease_owner_lost, lease_never_started, lease_ended_unstarted, op_outcome_unknown, job_requeued, follower_settled, approval_expired, retention_*)."),
    m("mtcp_reaper_sweep_duration_seconds", Histogram, Seconds, &[], "reaper",
      "Duration of one reaper sweep."),
];

/// Register every description with the installed recorder (HELP and TYPE lines on `/metrics`).
pub fn describe_all() {
    for metric in METRICS {
        let (name, unit, help) = (metric.name, metric.unit, metric.help);
        match metric.kind {
            Counter => metrics::describe_counter!(name, unit, help),
            Gauge => metrics::describe_gauge!(name, unit, help),
            Histogram => metrics::describe_histogram!(name, unit, help),
        }
    }
}

/// The table entry of `name`.
pub fn find(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests;
