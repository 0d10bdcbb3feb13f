//! The payload of a tool job on the queue.

use serde::{Deserialize, Serialize};

use super::{OpId, ToolName};
use crate::tools::ToolCall;

/// What a worker needs to run one tool call; everything else is in the operation row. On the
/// queue: `{"op_id", "tool", "args", "actor", "traceparent"?}` (`tool` and `args` are the call's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolJob {
    pub op_id: OpId,
    /// The tool and its validated arguments.
    #[serde(flatten)]
    pub call: ToolCall,
    pub actor: String,
    /// The configured cluster it runs on; absent in jobs queued before there were several (they
    /// run on the default cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// W3C `traceparent` of the gateway's call span when traces are exported, so the worker's
    /// spans join the call's trace. Absent in jobs pushed without it (older gateways, no export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl ToolJob {
    /// Which tool the job runs.
    pub fn tool(&self) -> ToolName {
        self.call.tool()
    }

    /// The MCP name of the tool the job runs.
    pub fn tool_name(&self) -> &'static str {
        self.call.name()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::*;
    use crate::tools::{ListAccessRequests, NoArgs, StartProxy};

    const OP: &str = "0190f3c2-8d1e-7c2a-9b1e-3f2a1c0d4e5f";
    const LEASE: &str = "0190f3c2-8d1e-7c2a-9b1e-3f2a1c0d4e60";
    const REQUEST: &str = "7e1c0a52-3b0e-4c59-8f0c-2c3bb1f6a8a1";

    #[test]
    fn a_job_without_trace_context_still_decodes() {
        let old = format!(r#"{{"op_id":"{OP}","tool":"list_nodes","args":{{}},"actor":"alice"}}"#);
        let job: ToolJob = serde_json::from_str(&old).unwrap();
        assert_eq!(job.traceparent, None);
        assert_eq!(job.call, ToolCall::ListNodes(NoArgs {}));
        assert!(!serde_json::to_string(&job).unwrap().contains("traceparent"));
    }

    #[test]
    fn jobs_queued_by_the_previous_release_decode() {
        let list_nodes: ToolJob = serde_json::from_value(
            json!({ "op_id": OP, "tool": "list_nodes", "args": {}, "actor": "alice", "traceparent": "00-x" }),
        )
        .unwrap();
        assert_eq!(list_nodes.tool_name(), "list_nodes");
        assert_eq!(list_nodes.traceparent.as_deref(), Some("00-x"));

        let start: ToolJob = serde_json::from_value(json!({
            "op_id": OP, "tool": "start_proxy", "actor": "alice",
            "args": { "kind": "proxy_db", "target": { "db": "orders" }, "ttl_seconds": 600, "reason": "debug",
                      "_lease_id": LEASE },
        }))
        .unwrap();
        let ToolCall::StartProxy(StartProxy { args, lease_id }) = &start.call else { panic!("{start:?}") };
        assert_eq!(*lease_id, Uuid::parse_str(LEASE).unwrap());
        assert_eq!((args.ttl_seconds, args.reason.as_str()), (Some(600), "debug"));

        let list: ToolJob = serde_json::from_value(json!({
            "op_id": OP, "tool": "list_access_requests", "actor": "bob",
            "args": { "limit": 5, "_own_request_ids": [REQUEST] },
        }))
        .unwrap();
        let ToolCall::ListAccessRequests(ListAccessRequests { args, own_request_ids }) = &list.call else {
            panic!("{list:?}")
        };
        assert_eq!(args.limit, Some(5));
        let own: Vec<&str> = own_request_ids.iter().flatten().map(|r| r.as_str()).collect();
        assert_eq!(own, [REQUEST]);

        let everyone: ToolJob =
            serde_json::from_value(json!({ "op_id": OP, "tool": "list_access_requests", "args": {}, "actor": "root" }))
                .unwrap();
        assert!(matches!(
            everyone.call,
            ToolCall::ListAccessRequests(ListAccessRequests { own_request_ids: None, .. })
        ));
    }

    #[test]
    fn a_job_keeps_its_queue_shape() {
        let job: ToolJob = serde_json::from_value(json!({
            "op_id": OP, "tool": "start_proxy", "actor": "alice",
            "args": { "kind": "vnet", "reason": "r", "_lease_id": LEASE },
        }))
        .unwrap();
        let v = serde_json::to_value(&job).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 4, "{v}");
        for key in ["op_id", "tool", "args", "actor"] {
            assert!(keys.contains(&key), "{v}");
        }
        assert_eq!(v["tool"], "start_proxy");
        // The keys the previous release wrote, so its workers still run jobs during a rolling upgrade.
        assert_eq!(v["args"]["_lease_id"], LEASE);
        assert_eq!(v["args"]["kind"], "vnet");
        // And it reads back as it was.
        assert_eq!(serde_json::from_value::<ToolJob>(v).unwrap(), job);
        let text = serde_json::to_string(&job).unwrap();
        assert!(text.starts_with(&format!(r#"{{"op_id":"{OP}","tool":"start_proxy","args":{{"#)), "{text}");
        let _: Value = serde_json::from_str(&text).unwrap();
    }
}
