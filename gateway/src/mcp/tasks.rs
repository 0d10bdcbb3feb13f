//! The MCP tasks extension (`io.modelcontextprotocol/tasks`, 2026-07-28) over the `operations`
//! table: a task is an operation, so a task created through one replica is read or cancelled
//! through any other, and survives a gateway restart. Only the caller sees its tasks (every task when the policy does not
//! limit it to its own objects).

use chrono::{DateTime, SecondsFormat, Utc};
use mtcp_shared::config::Config;
use mtcp_shared::db;
use mtcp_shared::domain::{Actor, OpId, OperationStatus, ToolName, ToolSpec};
use rmcp::model::{CreateTaskResult, DetailedTask, GetTaskResult, JsonObject, Task, TaskPayload, TaskStatus};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::Value;

use crate::state::AppState;

/// Tools that may answer with a task: the ones that can take long.
pub const TASK_TOOLS: &[ToolName] = &[
    ToolName::DetectAuditAnomalies,
    ToolName::RunHealthCheck,
    ToolName::ScanRbac,
    ToolName::SearchAudit,
    ToolName::StartProxy,
];

/// How often a client should poll `tasks/get`.
const POLL_INTERVAL_MS: u64 = 1000;

/// Whether this call gets a task: the tool supports one and the client declared the extension
/// (a task must never reach a client that did not).
pub fn wanted(ctx: &RequestContext<RoleServer>, spec: &ToolSpec) -> bool {
    TASK_TOOLS.contains(&spec.tool) && ctx.client_capabilities().is_some_and(|c| c.supports_tasks())
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ttl_ms(config: &Config) -> u64 {
    u64::try_from(config.reaper.operations_retention.as_millis()).unwrap_or(u64::MAX)
}

/// The task handed back by `tools/call`: the operation id, working (with what it waits for, when
/// it waits for approval).
pub fn created(op_id: OpId, config: &Config, message: Option<String>) -> CreateTaskResult {
    let now = iso(Utc::now());
    let mut task = Task::new(op_id.to_string(), TaskStatus::Working, now.clone(), now)
        .with_ttl_ms(ttl_ms(config))
        .with_poll_interval_ms(POLL_INTERVAL_MS);
    if let Some(message) = message {
        task = task.with_status_message(message);
    }
    CreateTaskResult::new(task)
}

fn not_found(task_id: &str) -> McpError {
    McpError::invalid_params(
        format!("no task {:?} is visible to you", task_id.chars().take(64).collect::<String>()),
        None,
    )
}

/// The caller's operation behind a task id.
async fn visible(st: &AppState, actor: &Actor, task_id: &str) -> Result<db::operations::OperationRow, McpError> {
    let op_id: OpId = task_id.parse().map_err(|_| not_found(task_id))?;
    let row = db::operations::get_settled(&st.pool, op_id).await.map_err(|e| {
        tracing::error!(error = %e, "reading a task's operation");
        McpError::internal_error("the operation store is unavailable; try again", None)
    })?;
    match row {
        Some(row) if row.actor == actor.id || !super::decide::limited_to_own(&st.policy.load(), actor) => Ok(row),
        _ => Err(not_found(task_id)),
    }
}

/// `tasks/get`: status, and once terminal the tool's result inline (a tool error is a completed
/// task whose result has `isError: true`).
pub async fn get(st: &AppState, actor: &Actor, task_id: &str) -> Result<GetTaskResult, McpError> {
    let row = visible(st, actor, task_id).await?;
    let updated = row.ended_at.or(row.started_at).unwrap_or(row.created_at);
    let mut task = Task::new(row.op_id.to_string(), TaskStatus::Working, iso(row.created_at), iso(updated))
        .with_ttl_ms(ttl_ms(&st.config))
        .with_poll_interval_ms(POLL_INTERVAL_MS);
    let payload = match row.status() {
        OperationStatus::AwaitingApproval | OperationStatus::Queued | OperationStatus::Running => {
            if let Some(message) = row.progress.as_ref().and_then(|p| p.get("message")).and_then(Value::as_str) {
                task = task.with_status_message(message.to_owned());
            }
            TaskPayload::Working
        }
        OperationStatus::Cancelled => {
            task = task.with_status_message(row.error.clone().unwrap_or_else(|| "cancelled".into()));
            TaskPayload::Cancelled
        }
        _ => {
            let (_, result) = super::answer::map_outcome(row);
            let result: JsonObject = match serde_json::to_value(result) {
                Ok(Value::Object(o)) => o,
                _ => return Err(McpError::internal_error("a stored result could not be encoded", None)),
            };
            TaskPayload::Completed { result }
        }
    };
    Ok(GetTaskResult::new(DetailedTask::new(task, payload)))
}

/// `tasks/cancel`: cooperative — the operation is marked, its worker stops it.
pub async fn cancel(st: &AppState, actor: &Actor, task_id: &str) -> Result<(), McpError> {
    let row = visible(st, actor, task_id).await?;
    let outcome = db::cancel::request(&st.pool, OpId(row.op_id)).await.map_err(|e| {
        tracing::error!(error = %e, "recording a task cancellation");
        McpError::internal_error("the operation store is unavailable; try again", None)
    })?;
    tracing::info!(op_id = %row.op_id, actor = %actor.id, ?outcome, "task cancellation requested");
    metrics::counter!("mtcp_cancellations_total", "via" => "task").increment(1);
    Ok(())
}
