//! The edge protocol (`/edge/v1/…`): what an `mtcp-edge` agent and the gateway say to each other.
//! The agent only ever makes requests (long polls included), so it works from behind NAT, an HTTP
//! proxy or an ingress; it authenticates with its edge credential (`Authorization: Bearer …`) and
//! names the run it is (`agent_id`, from `register`) in every later request. The gateway answers
//! 401 to a missing, unknown or revoked credential, 409 to an `agent_id` that is not this agent's
//! current run (register again), 400 to a malformed body, 503 when its database is unavailable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{LeaseKind, LeaseTarget};

/// Path prefix of every edge endpoint; the version changes when a message changes incompatibly.
pub const PREFIX: &str = "/edge/v1";

/// Kinds an edge agent starts: the ones that are one `tsh` process announcing a local address.
/// (`proxy_ssh` is a listener inside the worker, `vnet` a machine-wide service.)
pub const EDGE_KINDS: &[LeaseKind] =
    &[LeaseKind::ProxyDb, LeaseKind::ProxyApp, LeaseKind::ProxyMcp, LeaseKind::ProxyKube];

/// `POST /edge/v1/register`: a run of the agent starts. Any earlier run of the same agent is over:
/// its live leases end `failed` (`owner_lost`) — the new run killed their processes first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    pub host: String,
    /// `/proc/sys/kernel/random/boot_id`: with the pid, tells runs apart across reboots.
    pub boot_id: String,
    pub pid: u32,
    pub version: String,
}

/// The answer to [`Register`]: this run's id and the rhythm the gateway expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registered {
    pub agent_id: Uuid,
    /// Send a [`Heartbeat`] at least this often.
    pub heartbeat_interval_ms: u64,
    /// Longest wait of one [`WorkRequest`].
    pub poll_wait_ms: u64,
    /// Unable to reach the gateway for this long, the agent kills every proxy it runs.
    pub fail_closed_after_ms: u64,
}

/// `POST /edge/v1/work`: a long poll for lease starts and stops addressed to this agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkRequest {
    pub agent_id: Uuid,
}

/// What the agent is to do: possibly nothing (the wait ran out).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Work {
    pub starts: Vec<StartOrder>,
    pub stops: Vec<StopOrder>,
}

/// Start a lease's process; report [`Started`] or [`Failed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartOrder {
    pub lease_id: Uuid,
    pub kind: LeaseKind,
    pub target: LeaseTarget,
    /// Loopback `host:port` to listen on (None: `127.0.0.1:0`).
    pub listen_addr: Option<String>,
    /// The agent kills the process at this time even if it hears nothing more.
    pub expires_at: DateTime<Utc>,
}

/// Stop a lease's process (SIGTERM, SIGKILL after the grace) and report [`Ended`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopOrder {
    pub lease_id: Uuid,
    /// `stop_proxy`, `expired`, …: for the agent's log.
    pub reason: String,
}

/// `POST /edge/v1/leases/{lease_id}/started`: the process announced its address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Started {
    pub agent_id: Uuid,
    /// Where it listens, on the agent's host.
    pub listen_addr: String,
    pub pid: i32,
    /// `/proc/<pid>/stat` start time, so a reused pid is never mistaken for the lease's.
    pub pid_start_time: Option<u64>,
    /// `proxy_kube`: the kubeconfig `tsh` wrote, on the agent's host.
    #[serde(default)]
    pub kubeconfig: Option<String>,
}

/// `POST /edge/v1/leases/{lease_id}/failed`: the process did not come up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failed {
    pub agent_id: Uuid,
    /// Teleport's words (redacted at the edge, and again at the gateway).
    pub error: String,
}

/// Why a lease's process is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Stopped on a [`StopOrder`].
    Stopped,
    /// Its expiry came and the agent stopped it on its own.
    Expired,
    /// It exited by itself.
    Exited,
    /// The agent could not reach the gateway for `fail_closed_after` and killed it.
    FailClosed,
}

/// `POST /edge/v1/leases/{lease_id}/ended`: the process is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ended {
    pub agent_id: Uuid,
    pub reason: EndReason,
    #[serde(default)]
    pub exit_code: Option<i32>,
}

/// One line a lease's process printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    pub lease_id: Uuid,
    /// `stdout` or `stderr`.
    pub stream: String,
    pub line: String,
}

/// `POST /edge/v1/logs`: lines since the last batch, oldest first (redacted at the edge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogBatch {
    pub agent_id: Uuid,
    pub lines: Vec<LogLine>,
}

/// `POST /edge/v1/heartbeat`: the agent is alive and runs these leases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub agent_id: Uuid,
    pub lease_ids: Vec<Uuid>,
}

/// The answer to a [`Heartbeat`]: leases the agent runs that are no longer live and theirs (ended,
/// or never theirs): it kills them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    pub not_live: Vec<Uuid>,
}

/// An edge agent's name: what `start_proxy`'s `edge_agent` names, 1-63 of a-z 0-9 . _ -.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err("an edge agent's name is 1-63 of a-z, 0-9, `.`, `_` and `-`, starting with a letter or digit".into())
    }
}
