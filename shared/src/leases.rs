//! What callers see of a proxy lease: the view returned by `start_proxy`, `get_proxy_status`,
//! `stop_proxy` and `list_proxies_leases`, built from the `leases` row.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::db::leases::LeaseRow;

/// One proxy lease.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LeaseView {
    pub lease_id: String,
    /// proxy_ssh, proxy_db, proxy_app, proxy_kube, proxy_mcp or vnet.
    pub kind: String,
    /// starting, active, stopping, stopped, expired or failed.
    pub status: String,
    /// Whether the lease's process may still be running (starting, active, stopping).
    pub live: bool,
    /// The actor that started it.
    pub actor: String,
    /// What it proxies to.
    pub target: serde_json::Value,
    /// The loopback address to connect to, once active (none for vnet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen_addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_listen_addr: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Seconds left before expiry (0 once past, or ended).
    pub expires_in_seconds: i64,
    /// The worker incarnation that owns the process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Why it is stopping or ended: stop_proxy, expired, exited, owner_lost, start_failed, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Exit code of the process when it ended on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The operation that started it (`get_operation`).
    pub op_id: String,
    /// The edge agent that runs it (its port is on that agent's machine); none: a worker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_agent: Option<String>,
    /// The Teleport cluster it runs on (none until a worker takes it, and on an edge agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

impl LeaseView {
    /// The view of a row as of `now`.
    pub fn of(row: LeaseRow, now: DateTime<Utc>) -> Self {
        let live = row.status.is_live();
        let expires_in_seconds = if live { (row.expires_at - now).num_seconds().max(0) } else { 0 };
        Self {
            lease_id: row.lease_id.to_string(),
            kind: row.kind,
            live,
            status: row.status.as_str().to_owned(),
            actor: row.actor,
            target: row.target,
            listen_addr: row.listen_addr,
            requested_listen_addr: row.requested_listen_addr,
            created_at: row.created_at,
            expires_at: row.expires_at,
            expires_in_seconds,
            owner: row.agent_id.map(|a| a.to_string()),
            host: row.host,
            pid: row.pid,
            last_heartbeat_at: row.last_heartbeat_at,
            stop_reason: row.stop_reason,
            ended_at: row.ended_at,
            exit_code: row.exit_code,
            op_id: row.op_id.to_string(),
            edge_agent: row.edge_agent,
            cluster: row.cluster,
        }
    }
}

/// Result of `list_proxies_leases`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LeaseList {
    pub count: usize,
    pub leases: Vec<LeaseView>,
}

/// One line of `get_proxy_logs`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LeaseLogLine {
    pub at: DateTime<Utc>,
    /// stdout, stderr, or system (the lease's own events).
    pub stream: String,
    pub line: String,
}

/// Result of `get_proxy_logs`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LeaseLogs {
    pub lease_id: String,
    pub status: String,
    pub count: usize,
    pub lines: Vec<LeaseLogLine>,
}

/// One edge agent, as `list_edge_agents` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EdgeAgentView {
    /// What `start_proxy`'s `edge_agent` names.
    pub name: String,
    /// The actor it serves (admins may use it too).
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A run of it is connected and heartbeating.
    pub online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// Leases starting, active or stopping on it.
    pub live_leases: i64,
}

/// Result of `list_edge_agents`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EdgeAgentList {
    pub count: usize,
    pub agents: Vec<EdgeAgentView>,
}
