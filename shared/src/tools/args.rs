//! The arguments of each tool as callers write them: one struct per tool, which is also its input
//! schema. Parsed strictly (unknown fields are refused); [`super::validate`] checks the rest.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::LeaseKind;

/// Arguments of the tools that take none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Arguments of `get_operation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOperationArgs {
    /// The op_id a previous call returned (a UUID).
    pub op_id: String,
}

/// Arguments of `check_policy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckPolicyArgs {
    /// The tool you are thinking of calling, e.g. `list_nodes`.
    pub tool: String,
    /// The arguments you would pass (checked too, nothing runs).
    #[serde(default)]
    pub arguments: Option<Map<String, Value>>,
}

/// Arguments of `search_operations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchOperationsArgs {
    /// Only operations of this actor.
    #[serde(default)]
    pub actor: Option<String>,
    /// Only this capability, e.g. `inventory.nodes` or `auth.authenticate` (refused authentications).
    #[serde(default)]
    pub capability: Option<String>,
    /// Only this status: denied, awaiting_approval, queued, running, succeeded, failed, timed_out,
    /// cancelled, expired.
    #[serde(default)]
    pub status: Option<String>,
    /// Only calls of this tool, by its exact name, e.g. `list_nodes` or `start_proxy`.
    #[serde(default)]
    pub tool: Option<String>,
    /// Only operations created at or after this time (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Only operations created before this time (RFC 3339); later than `since` when both are given.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// At most this many, newest first (1-500, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Arguments of `run_tsh_command` / `run_tctl_command`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassthroughArgs {
    /// Arguments after the binary name, e.g. ["get", "nodes", "--format=json"]. Identity, proxy,
    /// TLS and login options, and commands that write local files, are refused.
    pub args: Vec<String>,
    /// Why you run it (recorded with the operation).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Arguments of `search_audit` and `detect_audit_anomalies`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditWindowArgs {
    /// How far back to look, in hours (1-720, default 24).
    #[serde(default)]
    pub hours: Option<u32>,
    /// Only events of this configured cluster (list_clusters names them); default: events of every cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

/// Arguments of `list_access_requests`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRequestsArgs {
    /// At most this many, newest first (1-100, default 10).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Arguments of `show_access_request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestIdArgs {
    /// The access request id (a UUID).
    pub request_id: String,
}

/// Arguments of `create_access_request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestArgs {
    /// Role names (e.g. `db-admin`) and/or resource ids, 1-20 entries: `/<cluster>/<kind>/<name>`
    /// (e.g. `/teleport.example.com/node/web-01`); Kubernetes resources as
    /// `/<cluster>/kube:ns:<plural>[.<group>]/<kube_cluster>/<namespace>/<name>` (e.g.
    /// `/teleport.example.com/kube:ns:pods/prod/default/api-0`) or
    /// `/<cluster>/kube:cw:<plural>[.<group>]/<kube_cluster>/<name>` (cluster-wide, e.g. `kube:cw:namespaces`).
    pub resources: Vec<String>,
    /// Why you need the access (recorded, and written into the Teleport request).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Arguments of `review_access_request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequestArgs {
    /// The access request id (a UUID).
    pub request_id: String,
    /// true approves, false denies.
    pub approve: bool,
    /// Why (recorded, and sent to Teleport with the review).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Arguments of `drop_access_request`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropRequestArgs {
    /// The access request id (a UUID).
    pub request_id: String,
    /// Why you withdraw it (every change needs a reason).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
    /// Also revoke access already in use: lock everything granted through the request
    /// (`tctl lock --access-request`). Deleting a request alone leaves certificates issued with it
    /// working until they expire.
    #[serde(default)]
    pub revoke: Option<RevokeArgs>,
}

/// The lock `drop_access_request` places when asked to revoke access in use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeArgs {
    /// Why the access is revoked; Teleport shows it to the locked-out user.
    pub reason: String,
    /// How long the lock lasts, in seconds (at most 30 days). Default: until the request's access
    /// would have expired.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// Arguments of `start_proxy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartProxyArgs {
    /// What to start: proxy_db, proxy_app, proxy_mcp, proxy_kube, proxy_ssh or vnet.
    pub kind: LeaseKind,
    /// What it proxies to, per kind: proxy_db {"db", "db_user"?, "db_name"?}; proxy_app and
    /// proxy_mcp {"app"}; proxy_kube {"kube_cluster"} (required); proxy_ssh {"host": "[login@]host[:port]"};
    /// vnet: none.
    #[serde(default)]
    pub target: Option<Value>,
    /// Loopback address to listen on, e.g. 127.0.0.1:0 (any free port, the default). Not for vnet.
    #[serde(default)]
    pub listen_addr: Option<String>,
    /// Lifetime in seconds; defaults to, and may not exceed, your role's maximum.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// Why you need the proxy (recorded with the operation).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
    /// Run the proxy on this edge agent (list_edge_agents) instead of a worker: its port is then
    /// on the agent's machine. proxy_db, proxy_app, proxy_mcp and proxy_kube only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_agent: Option<String>,
}

/// Arguments of `get_proxy_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseIdArgs {
    /// The lease id start_proxy returned (a UUID).
    pub lease_id: String,
}

/// Arguments of `stop_proxy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopProxyArgs {
    /// The lease id start_proxy returned (a UUID).
    pub lease_id: String,
    /// Why you stop it (optional; recorded).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Arguments of `get_proxy_logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyLogsArgs {
    /// The lease id start_proxy returned (a UUID).
    pub lease_id: String,
    /// How many of the last lines (1-1000, default 200).
    #[serde(default)]
    pub tail: Option<u32>,
}

/// Arguments of `list_proxies_leases`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListLeasesArgs {
    /// Only live leases (starting, active, stopping); default true.
    #[serde(default)]
    pub active_only: Option<bool>,
}

/// Arguments of `list_pending_approvals`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListApprovalsArgs {
    /// At most this many, oldest first (1-200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Arguments of `approve_operation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveArgs {
    /// The op_id of the call awaiting approval.
    pub op_id: String,
    /// The `args_sha256` list_pending_approvals showed with the call: the approval is bound to it.
    pub args_sha256: String,
    /// Why you approve (recorded, and sent with the approval notice).
    pub reason: String,
}

/// Arguments of `deny_operation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyArgs {
    /// The op_id of the call awaiting approval.
    pub op_id: String,
    /// Why you deny it (recorded, and told to the caller).
    pub reason: String,
}
