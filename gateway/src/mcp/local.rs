//! Tools the gateway answers from its own state: `whoami` and `get_operation`.

use chrono::{DateTime, Utc};
use mtcp_shared::db::{self, operations::OperationRow};
use mtcp_shared::domain::{Actor, ActorKind, OpId, OperationStatus};
use mtcp_shared::policy::{CallContext, Constraints};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// Result of `whoami`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WhoamiView {
    /// The authenticated actor.
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
    let probe = st.policy.evaluate(actor, mtcp_shared::domain::Capability::SelfWhoami, &CallContext::default());
    WhoamiView {
        actor: actor.id.clone(),
        kind: actor.kind,
        role: actor.role.clone(),
        capabilities: st.policy.capabilities_of(&actor.role).iter().map(|c| c.as_str().to_owned()).collect(),
        constraints: probe.constraints,
        policy_version: st.policy.version().to_owned(),
    }
}

/// Arguments of `get_operation`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOperationArgs {
    /// The op_id a previous call returned (a UUID).
    pub op_id: String,
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
