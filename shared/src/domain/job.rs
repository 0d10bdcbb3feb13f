//! The payload of a tool job on the queue.

use serde::{Deserialize, Serialize};

use super::OpId;

/// What a worker needs to run one tool call; everything else is in the operation row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolJob {
    pub op_id: OpId,
    pub tool: String,
    /// Validated arguments.
    pub args: serde_json::Value,
    pub actor: String,
    /// W3C `traceparent` of the gateway's call span when traces are exported, so the worker's
    /// spans join the call's trace. Absent in jobs pushed without it (older gateways, no export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_without_trace_context_still_decodes() {
        let old = r#"{"op_id":"0190f3c2-8d1e-7c2a-9b1e-3f2a1c0d4e5f","tool":"list_nodes","args":{},"actor":"alice"}"#;
        let job: ToolJob = serde_json::from_str(old).unwrap();
        assert_eq!(job.traceparent, None);
        assert!(!serde_json::to_string(&job).unwrap().contains("traceparent"));
    }
}
