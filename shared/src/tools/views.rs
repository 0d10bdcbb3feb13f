//! What the tools the gateway answers itself return (their output schemas).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::db::operations::OperationRow;
use crate::domain::{ActorKind, OperationStatus};
use crate::policy::Constraints;
use crate::teleport::RunEntry;

/// Result of `whoami`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WhoamiView {
    /// The authenticated actor: an API key's name (`alice`), or `oidc:<subject>` for a token.
    pub actor: String,
    pub kind: ActorKind,
    /// Policy role.
    pub role: String,
    /// Capabilities the policy grants this caller.
    pub capabilities: Vec<String>,
    /// Limits that apply to this caller's calls.
    pub constraints: Option<Constraints>,
    /// Version (hash) of the effective policy.
    pub policy_version: String,
}

/// Result of `get_operation`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct OperationView {
    pub op_id: String,
    pub tool: String,
    pub capability: String,
    pub actor: String,
    pub status: OperationStatus,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Attempts made so far.
    pub attempt: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Why it failed, was denied or timed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The tool's result once it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Every `tctl`/`tsh` the operation ran, in order: the exact command line (secrets redacted),
    /// outcome, exit code and duration.
    pub runs: Vec<RunEntry>,
    /// The identical call whose run answered this one (coalesced reads): it ran nothing itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coalesced_into: Option<String>,
    /// When the answer was produced: the start of the run that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
    /// For a call that needed approval: its digest, who may approve, the approvals so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<super::approval_views::ApprovalState>,
}

/// The stored runs of an operation (an unreadable value shows as none).
pub fn runs_of(runs: serde_json::Value) -> Vec<RunEntry> {
    serde_json::from_value(runs).unwrap_or_default()
}

impl From<OperationRow> for OperationView {
    fn from(r: OperationRow) -> Self {
        // A run's own answer dates from its start; a joined run's was stamped when it was shared.
        let as_of = r.as_of.or(if r.result.is_some() { r.started_at } else { None });
        Self {
            op_id: r.op_id.to_string(),
            status: r.status(),
            tool: r.tool,
            capability: r.capability,
            actor: r.actor,
            created_at: r.created_at,
            started_at: r.started_at,
            ended_at: r.ended_at,
            attempt: r.attempt,
            exit_code: r.exit_code,
            error: r.error,
            result: r.result,
            runs: runs_of(r.runs),
            coalesced_into: r.coalesced_into.map(|id| id.to_string()),
            as_of,
            approval: None,
        }
    }
}

/// Result of `check_policy`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PolicyCheckView {
    pub tool: String,
    pub capability: String,
    /// Whether the call would be allowed (arguments included).
    pub allow: bool,
    /// The policy's reason, or what is wrong with the arguments.
    pub reason: String,
    /// Limits that would apply.
    pub constraints: Option<Constraints>,
    pub policy_version: String,
    /// Whether the arguments pass validation (checked only when the policy allows the tool).
    pub arguments_valid: Option<bool>,
    /// The approval the call would wait for before it runs, when the policy asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<crate::policy::ApprovalRule>,
    /// For an allowed `create_access_request`: what the requested roles or resources would make
    /// reachable, read from the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blast_radius: Option<crate::analysis::blast::BlastRadius>,
    /// Why the blast radius could not be read from the cluster (the verdict stands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blast_radius_error: Option<String>,
}

/// One row of `search_operations`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct OperationSummary {
    pub op_id: String,
    pub actor: String,
    pub actor_role: String,
    pub capability: String,
    pub tool: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Redacted arguments.
    pub inputs: serde_json::Value,
    /// The policy's reason for the decision.
    pub decision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The command lines the operation ran (secrets redacted), in order.
    pub argv: Vec<Vec<String>>,
}

/// Result of `search_operations`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct OperationSearchView {
    pub count: usize,
    pub operations: Vec<OperationSummary>,
}
