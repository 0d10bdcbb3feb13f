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
}
