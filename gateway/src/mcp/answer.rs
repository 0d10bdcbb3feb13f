//! How a call's outcome becomes an MCP result: structured content with the value as untrusted
//! data, errors as text, and the op id in `_meta` so a caller can always find the record.

use mtcp_shared::db::operations::OperationRow;
use mtcp_shared::domain::{OpId, OperationStatus};
use mtcp_shared::tools::untrusted;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, MetaObject};
use serde_json::Value;

/// A view as the JSON stored and answered.
pub(super) fn to_json(view: impl serde::Serialize) -> Value {
    serde_json::to_value(view).expect("view serializes")
}

/// A stored outcome as the MCP result: its value, or its error with the status.
pub(super) fn map_outcome(row: OperationRow) -> (&'static str, CallToolResult) {
    let op_id = OpId(row.op_id);
    match (row.status(), row.result) {
        (OperationStatus::Succeeded, Some(result)) => {
            let mut answer = with_op_id(structured(&row.tool, op_id, result), op_id);
            // When the answer was produced, and whose run produced it when it was shared.
            if let Some(meta) = answer.meta.as_mut() {
                if let Some(as_of) = row.as_of.or(row.started_at) {
                    meta.0.insert("mtcp/as_of".into(), Value::String(as_of.to_rfc3339()));
                }
                if let Some(leader) = row.coalesced_into {
                    meta.0.insert("mtcp/coalesced_into".into(), Value::String(leader.to_string()));
                }
            }
            ("succeeded", answer)
        }
        (status, _) => {
            let label = match status {
                OperationStatus::TimedOut => "timed_out",
                OperationStatus::Cancelled => "cancelled",
                OperationStatus::Denied => "denied",
                OperationStatus::Expired => "expired",
                _ => "failed",
            };
            let error = row.error.unwrap_or_else(|| "no error was recorded".into());
            let text = format!("{} {}: {error} (op_id {op_id})", row.tool, status.as_str().replace('_', " "));
            (label, with_op_id(error_text(text), op_id))
        }
    }
}

/// A successful result: the value as structured content, and a text block that states the
/// outcome and shows the value only inside an untrusted-data section (cluster text is data).
pub(super) fn structured(tool: &str, op_id: OpId, value: Value) -> CallToolResult {
    let text = untrusted::result_text(tool, &op_id.to_string(), &value);
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

pub(super) fn error_text(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// Attach the op id so a caller can always find the record of its call.
pub(super) fn with_op_id(result: CallToolResult, op_id: OpId) -> CallToolResult {
    let mut meta = JsonObject::new();
    meta.insert("mtcp/op_id".into(), Value::String(op_id.to_string()));
    result.with_meta(Some(MetaObject(meta)))
}
