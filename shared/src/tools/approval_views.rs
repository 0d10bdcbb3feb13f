//! What the approval tools return, and the approval part of `get_operation`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::OperationStatus;
use crate::policy::Approvers;

/// A call's approval: what binds it, who may give it, and what was given so far.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalState {
    /// SHA-256 of the call exactly as it will run: an approval must name it.
    pub args_sha256: String,
    /// Who may approve (never the caller itself).
    pub approvers: Approvers,
    pub approvals_required: u32,
    /// Unapproved by then, it ends `expired`.
    pub expires_at: DateTime<Utc>,
    /// Every approval and denial, oldest first.
    pub decisions: Vec<ApprovalEntry>,
    /// When the last approval queued the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<DateTime<Utc>>,
    /// For an access request: what it would make reachable, read from the cluster by a worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<ApprovalImpact>,
}

/// The blast radius preview of a waiting access request: the `check_policy` operation that reads
/// it, and its result once that has run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalImpact {
    pub op_id: String,
    /// `queued`, `running`, `succeeded`, …
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blast_radius: Option<serde_json::Value>,
    /// Why the cluster could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One approver's decision.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalEntry {
    pub approver: String,
    pub approver_role: String,
    /// `approve` or `deny`.
    pub verdict: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// `tool` (an MCP call, with its op_id) or `cli`.
    pub via: String,
}

/// One call waiting for approval.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PendingApproval {
    pub op_id: String,
    pub tool: String,
    pub capability: String,
    /// Who asked.
    pub actor: String,
    pub actor_role: String,
    pub created_at: DateTime<Utc>,
    /// The caller's reason and ticket, as typed by it (a model can write anything here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The call's arguments, secrets redacted.
    pub arguments: serde_json::Value,
    pub approval: ApprovalState,
    /// Whether you may approve or deny it.
    pub you_may_decide: bool,
    /// Why not, when you may not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_not: Option<String>,
}

/// Result of `list_pending_approvals`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalList {
    pub count: usize,
    pub approvals: Vec<PendingApproval>,
}

/// Result of `approve_operation` and `deny_operation`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalDecision {
    pub op_id: String,
    /// The call's status now: `awaiting_approval` (more approvals needed), `queued` (approved: it
    /// runs), `denied`.
    pub status: OperationStatus,
    pub approvals: u32,
    pub approvals_required: u32,
    pub message: String,
}
