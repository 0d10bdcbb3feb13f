//! Tools the gateway answers from its own state: `whoami` and `get_operation`.

use chrono::{DateTime, Utc};
use mtcp_shared::db::{self, operations::OperationRow};
use mtcp_shared::domain::{Actor, ActorKind, OpId, OperationStatus};
use mtcp_shared::policy::{CallContext, Constraints, Decision};
use mtcp_shared::teleport::RunEntry;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{CheckPolicyArgs, GetOperationArgs, SearchOperationsArgs};
use super::decide::{Verdict, decide};
use crate::state::AppState;

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

pub fn whoami(st: &AppState, actor: &Actor) -> WhoamiView {
    let policy = st.policy.load();
    let probe = policy.evaluate(actor, mtcp_shared::domain::Capability::SelfWhoami, &CallContext::default());
    WhoamiView {
        actor: actor.id.clone(),
        kind: actor.kind,
        role: actor.role.clone(),
        capabilities: policy.capabilities_of(&actor.role).iter().map(|c| c.as_str().to_owned()).collect(),
        constraints: probe.constraints,
        policy_version: policy.version().to_owned(),
    }
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
}

/// The stored runs of an operation (an unreadable value shows as none).
fn runs_of(runs: serde_json::Value) -> Vec<RunEntry> {
    serde_json::from_value(runs).unwrap_or_default()
}

impl From<OperationRow> for OperationView {
    fn from(r: OperationRow) -> Self {
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
        }
    }
}

/// Look up an operation the caller may see: its own, or any for an admin. Another actor's
/// operation is reported exactly like a missing one, so ids of others cannot be probed.
pub async fn get_operation(st: &AppState, actor: &Actor, args: &GetOperationArgs) -> Result<OperationView, String> {
    let op_id: OpId = args.op_id.parse().map_err(|e: mtcp_shared::domain::InvalidOpId| e.to_string())?;
    let row = db::operations::get(&st.pool, op_id).await.map_err(|e| {
        tracing::error!(error = %e, "reading an operation");
        "the operation store is unavailable; try again".to_owned()
    })?;
    match row {
        Some(row) if row.actor == actor.id || actor.role == "admin" => Ok(row.into()),
        _ => Err(format!("no operation {op_id} is visible to you")),
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
}

/// The decision for a call, without making it: the same [`decide`] the call takes, so what this
/// allows is what the call is allowed (only the rate limit and the in-flight count, which change
/// from one moment to the next, are not consulted).
pub async fn check_policy(st: &AppState, actor: &Actor, a: CheckPolicyArgs) -> Result<PolicyCheckView, String> {
    let spec = mtcp_shared::domain::find_tool(&a.tool)
        .ok_or_else(|| format!("unknown tool {:?}; call tools/list for the tools available to you", a.tool))?;
    let policy = st.policy.load_full();
    let verdict = decide(st, &policy, actor, spec, a.arguments.unwrap_or_default()).await;
    let view = |d: &Decision, arguments_valid: Option<bool>| PolicyCheckView {
        tool: spec.name.to_owned(),
        capability: spec.capability.as_str().to_owned(),
        allow: d.allow,
        reason: d.reason.clone(),
        constraints: d.constraints.clone(),
        policy_version: d.policy_version.clone(),
        arguments_valid,
    };
    Ok(match &verdict {
        Verdict::Refused(d) => view(d, None),
        Verdict::Invalid { decision, message } => PolicyCheckView {
            allow: false,
            reason: format!("invalid arguments for {}: {message}", spec.name),
            ..view(decision, Some(false))
        },
        Verdict::Denied { decision, .. } => view(decision, Some(true)),
        Verdict::Allowed { decision, .. } => view(decision, Some(true)),
        Verdict::Unavailable => return Err("the control plane's database is unavailable; try again".into()),
    })
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

/// The trail, filtered (admin-only by policy).
pub async fn search_operations(st: &AppState, a: SearchOperationsArgs) -> Result<OperationSearchView, String> {
    let filter = db::operations::SearchFilter {
        actor: a.actor,
        capability: a.capability,
        status: a.status,
        since: a.since,
        limit: i64::from(a.limit.unwrap_or(50)),
    };
    let rows = db::operations::search(&st.pool, &filter).await.map_err(|e| {
        tracing::error!(error = %e, "searching operations");
        "the operation store is unavailable; try again".to_owned()
    })?;
    let operations: Vec<OperationSummary> = rows
        .into_iter()
        .map(|r| OperationSummary {
            op_id: r.op_id.to_string(),
            decision: r.decision.get("reason").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
            actor: r.actor,
            actor_role: r.actor_role,
            capability: r.capability,
            tool: r.tool,
            status: r.status,
            created_at: r.created_at,
            ended_at: r.ended_at,
            reason: r.reason,
            ticket: r.ticket,
            inputs: r.inputs,
            error: r.error,
            argv: runs_of(r.runs).into_iter().map(|run| run.argv).collect(),
        })
        .collect();
    Ok(OperationSearchView { count: operations.len(), operations })
}
