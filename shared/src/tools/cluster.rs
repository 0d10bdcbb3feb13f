//! Which tools run on a Teleport cluster and how their `cluster` argument is read, and what
//! `list_clusters` answers.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{Execution, ToolName};

/// What a tool's `cluster` argument does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterArg {
    /// Answered from the control plane's own state: no cluster. (`check_policy` reads the one in
    /// the arguments it is asked about.)
    None,
    /// The call runs on the named cluster (default: the configured default). The argument says
    /// where the call runs; it is not one of the tool's own.
    Runs,
    /// The tool reads the control plane's copy of every cluster's audit events: the argument
    /// filters them (unset: every cluster) and says where the call runs.
    Filters,
}

impl ClusterArg {
    /// How `tool` reads `cluster`.
    pub fn of(tool: ToolName) -> ClusterArg {
        match (tool, tool.spec().execution) {
            (_, Execution::Gateway) => ClusterArg::None,
            (ToolName::SearchAudit | ToolName::DetectAuditAnomalies, _) => ClusterArg::Filters,
            _ => ClusterArg::Runs,
        }
    }
}

/// The `cluster` property of the input schema of a tool that runs on a cluster.
pub(super) fn add_to_schema(tool: ToolName, schema: &mut Map<String, Value>) {
    if ClusterArg::of(tool) != ClusterArg::Runs {
        return;
    }
    let property = serde_json::json!({
        "type": "string",
        "description": "The Teleport cluster to run on, by the name list_clusters shows; default: the configured default cluster.",
        "maxLength": 63
    });
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.insert("cluster".into(), property);
    } else {
        schema.insert("properties".into(), serde_json::json!({ "cluster": property }));
    }
}

/// Result of `list_clusters`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClusterList {
    /// The cluster of a call that names none.
    pub default_cluster: String,
    /// The clusters the caller's role may use.
    pub clusters: Vec<ClusterView>,
}

/// One cluster as `list_clusters` shows it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClusterView {
    /// What the `cluster` argument takes.
    pub name: String,
    /// Its own name in Teleport (`cluster_name` of its audit events).
    pub teleport_name: String,
    pub default: bool,
    /// Reached through a root cluster's proxy (`tsh --cluster`; tctl-based tools do not run there).
    pub leaf: bool,
    /// Workers online that serve it: none means its calls wait.
    pub workers_online: i64,
    /// Whether a call can run there now: a worker serving it is online and its last call did not
    /// fail to reach Teleport.
    pub reachable: bool,
    /// Its calls waiting for a worker.
    pub queued: i64,
    /// How its last finished call ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_call: Option<LastCall>,
}

/// The last finished call of a cluster.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct LastCall {
    pub tool: String,
    pub status: String,
    pub ended_at: DateTime<Utc>,
    /// Its error, when it did not succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
