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
    /// The Teleport cluster it ran (or waits to run) on, for a call a worker runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// For a call that needed approval: its digest, who may approve, the approvals so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<super::approval_views::ApprovalState>,
    /// The arguments as recorded (validated, secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<serde_json::Value>,
    /// Why the caller made the call, as it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The change ticket the caller gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The caller's policy role when it made the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_role: Option<String>,
    /// The policy's decision on the call, as recorded when it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionView>,
    /// The operation's timeline: progress steps, log lines and state changes (approvals, requeues),
    /// oldest first; the first 200.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<OperationEvent>,
    /// Teleport audit events recorded while the operation ran (from 2 s before its start to 10 s
    /// after its end, or now while it runs), oldest first; the first 50. Matched by time only:
    /// any actor's event in that window is listed, so an entry is a lead, not proof that this
    /// operation caused it. Shown to callers whose role may search the audit log (`audit.search`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teleport_audit: Option<Vec<AuditRef>>,
}

/// The policy decision recorded with an operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DecisionView {
    /// Whether the policy allowed the call.
    pub allow: bool,
    /// The policy's reason.
    pub reason: String,
    /// Version (hash) of the policy that decided.
    pub policy_version: String,
}

impl DecisionView {
    /// Read a recorded decision leniently: a field that is missing or of another type reads as its
    /// default (records written by older versions, or refused authentications, lack some).
    pub fn from_recorded(v: &serde_json::Value) -> Self {
        let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        Self {
            allow: v.get("allow").and_then(serde_json::Value::as_bool).unwrap_or_default(),
            reason: text("reason"),
            policy_version: text("policy_version"),
        }
    }
}

/// One entry of an operation's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OperationEvent {
    pub at: DateTime<Utc>,
    /// `progress`, `log` or `state`.
    pub kind: String,
    /// What happened, as the step recorded it.
    pub payload: serde_json::Value,
}

impl From<crate::db::operation_detail::EventRow> for OperationEvent {
    fn from(r: crate::db::operation_detail::EventRow) -> Self {
        Self { at: r.at, kind: r.kind, payload: r.payload }
    }
}

/// A Teleport audit event in brief (its full recorded body is not shown here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditRef {
    /// Teleport's id of the event.
    pub uid: String,
    pub time: DateTime<Utc>,
    /// Event type, e.g. `access_request.create`.
    pub event: String,
    /// Teleport's event code, e.g. `T5000I`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The Teleport user the event names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
}

impl From<crate::db::operation_detail::AuditRefRow> for AuditRef {
    fn from(r: crate::db::operation_detail::AuditRefRow) -> Self {
        Self { uid: r.uid, time: r.time, event: r.event, code: r.code, user: r.user, success: r.success }
    }
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
            cluster: r.cluster,
            approval: None,
            decision: Some(DecisionView::from_recorded(&r.decision)),
            inputs: Some(r.inputs),
            reason: r.reason,
            ticket: r.ticket,
            actor_role: Some(r.actor_role),
            events: Vec::new(),
            teleport_audit: None,
        }
    }
}

/// Result of `check_policy`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PolicyCheckView {
    pub tool: String,
    pub capability: String,
    /// The cluster the call would run on (its `cluster` argument, or the default), for a tool that
    /// runs on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_recorded_decision_reads_leniently() {
        let full = json!({ "allow": true, "reason": "role admin grants *", "policy_version": "ab12",
                           "constraints": { "own_objects_only": false } });
        assert_eq!(
            DecisionView::from_recorded(&full),
            DecisionView { allow: true, reason: "role admin grants *".into(), policy_version: "ab12".into() }
        );
        // Missing fields, fields of another type, or no object at all read as defaults.
        let partial = json!({ "reason": "no role", "allow": "yes", "policy_version": 7 });
        assert_eq!(
            DecisionView::from_recorded(&partial),
            DecisionView { allow: false, reason: "no role".into(), policy_version: String::new() }
        );
        assert_eq!(DecisionView::from_recorded(&json!(null)), DecisionView::default());
        assert_eq!(DecisionView::from_recorded(&json!(["allow"])), DecisionView::default());
    }

    #[test]
    fn a_view_without_the_detail_fields_still_reads() {
        let old = json!({ "op_id": "x", "tool": "list_nodes", "capability": "inventory.nodes", "actor": "a",
                          "status": "succeeded", "created_at": "2026-01-01T00:00:00Z", "attempt": 1, "runs": [] });
        let view: OperationView = serde_json::from_value(old).unwrap();
        assert!(view.decision.is_none() && view.events.is_empty() && view.teleport_audit.is_none());
        let back = serde_json::to_value(&view).unwrap();
        assert!(back.get("events").is_none() && back.get("teleport_audit").is_none(), "{back}");
    }
}
